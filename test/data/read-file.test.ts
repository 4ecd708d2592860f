// The checked reader (src/data/read-file.ts) and every reader that goes through it: a character
// device (/dev/zero, whose stat size is 0 and which never ends), a FIFO (whose read would block
// until a writer appears) and a folder are refused before any read, in one line naming the path
// and what it is; a regular file is read no further than its cap. The CLI cases spawn the real
// `gradlab` with a timeout: a child that hangs or grows is killed, and its null exit code fails
// the test. Before this reader, each of these grew to gigabytes or blocked forever.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { datasetDir, loadDataset } from "../../src/data/datasets.ts";
import { CAPS, openChecked, readChecked, readHeadChecked, readSafetensorsChecked } from "../../src/data/read-file.ts";
import { encodeSafetensors } from "../../src/data/safetensors.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { listCheckpoints } from "../../src/experiment/run-folder/checkpoint.ts";
import { openRun, type RunSession } from "../../src/experiment/run-folder/session.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

/** A FIFO at a fresh path (mkfifo(1); Node has no mkfifo). */
function fifo(dir: string, name: string): string {
  const p = join(dir, name);
  execFileSync("mkfifo", [p]);
  return p;
}

/** A CLI refusal: exit code 2 (not killed by the timeout) and exactly one line on stderr. */
function expectRefused(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

/** The CLI with a 60 s timeout: on this shared machine startup alone takes a few seconds. */
const cli = (args: string[], cwd?: string) => gradlab(args, { cwd, timeout: 60_000 });

/** A small run's config on an IDX folder (100 examples, 1 epoch). */
function idxConfig(dir: string, idx: string): string {
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({
    name: "idx", data: { dataset: { idx }, view: "flat", train: 100, test: 100 },
    model: { layers: [{ type: "dense", units: 10 }] }, optimizer: { type: "sgd", lr: 0.1 }, train: { epochs: 1 },
  }));
  return file;
}

/** A copy of MNIST's four files in a new folder, without `except`. */
function mnistCopy(except: string): string {
  const src = datasetDir("mnist");
  const dir = join(tempDir(), "idx");
  mkdirSync(dir);
  for (const f of readdirSync(src)) if (f.startsWith(except) === false && f.includes("ubyte")) copyFileSync(join(src, f), join(dir, f));
  return dir;
}

describe("readChecked: only regular files, never past the cap", () => {
  const dir = tempDir();

  it("refuses a character device, a FIFO and a folder before reading, naming what it is", () => {
    expect(() => readChecked("/dev/zero", { cap: 100, expected: "expected a test file" }))
      .toThrow(/^\/dev\/zero: is a character device, not a regular file \(expected a test file\)$/);
    const p = fifo(dir, "pipe");
    const t0 = Date.now();
    expect(() => readChecked(p, { cap: 100, expected: "expected a test file" })).toThrow(/pipe: is a FIFO \(named pipe\), not a regular file/);
    expect(() => readHeadChecked(p, 8, "expected a test file")).toThrow(InputError);
    expect(Date.now() - t0).toBeLessThan(1000); // opened without blocking: no writer ever appears
    expect(() => openChecked(dir, "expected a test file")).toThrow(/: is a folder, not a regular file/);
    expect(() => openChecked(join(dir, "none"), "expected a test file")).toThrow(/none: no such file \(expected a test file\)/);
  });

  it("follows links to regular files, and refuses links to devices", () => {
    writeFileSync(join(dir, "real"), "hello");
    symlinkSync(join(dir, "real"), join(dir, "link"));
    symlinkSync("/dev/zero", join(dir, "zero"));
    expect(readChecked(join(dir, "link"), { cap: 5, expected: "x" }).toString()).toBe("hello");
    expect(() => readChecked(join(dir, "zero"), { cap: 5, expected: "x" })).toThrow(/zero: is a character device/);
  });

  it("reads a file of exactly the cap and refuses one byte more, naming the cap", () => {
    writeFileSync(join(dir, "ten"), "0123456789");
    expect(readChecked(join(dir, "ten"), { cap: 10, expected: "x" }).length).toBe(10);
    expect(() => readChecked(join(dir, "ten"), { cap: 9, expected: "x" })).toThrow(/ten: larger than the 9 bytes limit/);
  });

  it("reads a .safetensors file no further than its header declares", () => {
    // encodeSafetensors writes header + 2 float32 = 8 data bytes; one byte appended is refused.
    const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
    writeFileSync(join(dir, "w.safetensors"), bytes);
    expect(readSafetensorsChecked(join(dir, "w.safetensors"), "x").equals(Buffer.from(bytes))).toBe(true);
    writeFileSync(join(dir, "w.safetensors"), Buffer.concat([bytes, Buffer.from([0])]));
    expect(() => readSafetensorsChecked(join(dir, "w.safetensors"), "x")).toThrow(/trailing bytes: its header declares \d+ bytes in all/);
  });
});

describe("IDX files: a FIFO or a device is refused, a gzip file inflates only what its header claims", () => {
  it("a truncated .gz image file says truncated", () => {
    const dir = mnistCopy("train-images");
    const raw = gzipSync(Buffer.from([0, 0, 8, 3, 0, 0, 0, 100, 0, 0, 0, 28, 0, 0, 0, 28, ...new Uint8Array(100 * 784).fill(7)]));
    writeFileSync(join(dir, "train-images-idx3-ubyte.gz"), raw.subarray(0, raw.length - 30));
    expect(() => loadDataset({ idx: dir }, { train: 10, test: 10 })).toThrow(/train-images-idx3-ubyte\.gz: truncated gzip data/);
  });

  it("a .gz whose data inflates past its header's claim is refused as trailing bytes", () => {
    const dir = mnistCopy("train-images");
    // header says 10×28×28 = 7840 bytes of data; the gzip stream holds 7841
    writeFileSync(join(dir, "train-images-idx3-ubyte.gz"), gzipSync(Buffer.from([0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28, ...new Uint8Array(7841)])));
    expect(() => loadDataset({ idx: dir }, { train: 10, test: 10 })).toThrow(/trailing bytes in IDX file: gzip data decompresses to more than the 7856 bytes its header claims/);
  });

  it("gradlab run: an image file linked to /dev/zero is refused in one line", () => {
    const idx = mnistCopy("train-images");
    symlinkSync("/dev/zero", join(idx, "train-images-idx3-ubyte"));
    expectRefused(cli(["run", idxConfig(tempDir(), idx), "--out", join(tempDir(), "r")]), /train-images-idx3-ubyte: is a character device, not a regular file \(expected an IDX file/);
  });

  it("gradlab run: an image file that is a FIFO is refused, never blocks", () => {
    const idx = mnistCopy("train-images");
    fifo(idx, "train-images-idx3-ubyte");
    expectRefused(cli(["run", idxConfig(tempDir(), idx), "--out", join(tempDir(), "r")]), /train-images-idx3-ubyte: is a FIFO \(named pipe\), not a regular file/);
  });
});

describe("gradlab's commands refuse devices and FIFOs in one line, exit 2", () => {
  it("/dev/zero and a FIFO as config", () => {
    expectRefused(cli(["run", "/dev/zero"]), /^gradlab: \/dev\/zero: is a character device, not a regular file \(expected a JSON config file\)$/);
    const dir = tempDir();
    fifo(dir, "c.json");
    expectRefused(cli(["run", "c.json"], dir), /^gradlab: c\.json: is a FIFO \(named pipe\), not a regular file \(expected a JSON config file\)$/);
  });

  it("a config file larger than the 16 MB cap is refused naming the cap", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "big.json"), Buffer.alloc(CAPS.config + 1, 0x20));
    expectRefused(cli(["run", "big.json"], dir), /^gradlab: big\.json: larger than the 16 MB \(16777216 bytes\) limit for this file \(expected a JSON config file\)$/);
  });

  it("grads --weights /dev/zero", () => {
    const out = join(tempDir(), "g.safetensors");
    expectRefused(cli(["grads", "seed", "--weights", "/dev/zero", "--out", out]), /\/dev\/zero: is a character device, not a regular file \(expected a \.safetensors file/);
    expect(() => readdirSync(join(out, ".."))).not.toThrow();
    expect(readdirSync(join(out, ".."))).toEqual([]); // nothing half-written
  });

  /** A run folder interrupted at step 7 (checkpoints at 5 and 7), made in-process. */
  function interrupted(): string {
    const config = parseConfig({
      name: "cp", data: { train: 320, test: 100 }, model: { layers: [{ type: "dense", units: 10 }] },
      optimizer: { type: "sgd", lr: 0.1 }, train: { epochs: 1, checkpointEvery: 5 }, record: { every: 2 },
    });
    const dir = join(tempDir(), "run");
    const s: RunSession = openRun({ mode: "fresh", config, outDir: dir }, "test", {}, { interrupt: () => (s.trainer.step >= 7 ? "test" : null) });
    s.runSync();
    return dir;
  }

  it("run --resume: checkpoints linked to /dev/zero or FIFOs are refused, never read", () => {
    const dir = interrupted();
    const [latest, previous] = listCheckpoints(dir).map((c) => c.file);
    rmSync(latest);
    symlinkSync("/dev/zero", latest);
    rmSync(previous);
    execFileSync("mkfifo", [previous]);
    expectRefused(cli(["run", "--resume", dir]),
      /no usable checkpoint \(.*step-0000000007\.safetensors: is a character device, not a regular file.*; .*step-0000000005\.safetensors: is a FIFO \(named pipe\), not a regular file/);
  });

  it("report: metrics.jsonl linked to /dev/zero", () => {
    const dir = interrupted();
    rmSync(join(dir, "metrics.jsonl"));
    symlinkSync("/dev/zero", join(dir, "metrics.jsonl"));
    expectRefused(cli(["report", dir]), /metrics\.jsonl: is a character device, not a regular file/);
  });
});
