// OS errors and bad paths in the real CLI: each errno is injected into a child process by the
// fault-injecting fs preload (test/helpers/fault-fs.mjs), since CI may run as root, where a
// chmod 0555 folder stays writable. Every case must end in exit code 2 and exactly one stderr
// line naming the file and the errno in words, with no temporary or partial file left and the
// user's files byte for byte as they were. The expected wording comes from os-error.ts's table.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../../src/data/safetensors.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { openRun } from "../../src/experiment/run-folder/session.ts";
import { writeReport } from "../../src/report/write.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";
import { filesUnder, gradlabWithFaults, LEFTOVER } from "../helpers/fault-fs.ts";

/** 500 examples, batch 32: 16 steps, every one recorded (≈1.3 KB a line), a checkpoint every 5. */
const RAW = {
  name: "oserr",
  data: { train: 500, test: 100 },
  model: { layers: [{ type: "dense", units: 8, activation: "sigmoid" }, { type: "dense", units: 10 }] },
  optimizer: { type: "sgd", lr: 0.1 },
  train: { epochs: 1, batchSize: 32, seed: 1, checkpointEvery: 5 },
  record: { every: 1, histograms: false },
};

let root = "";
let cfg = "";
/** A finished run written in-process (same engine), with its report: the user's files below. */
let finished = "";

beforeAll(() => {
  root = tempDir("gradlab-oserr-");
  cfg = join(root, "cfg.json");
  writeFileSync(cfg, JSON.stringify(RAW));
  finished = join(root, "finished");
  openRun({ mode: "fresh", config: parseConfig(RAW), outDir: finished }, "test", { finalize: (d) => writeReport(d, { png: false }) }).runSync();
});

/** Exactly one line on stderr, `gradlab: ` then the message. */
function oneLine(stderr: string): string {
  expect(stderr).toMatch(/^gradlab: [^\n]+\n$/);
  return stderr.slice("gradlab: ".length, -1);
}

/** Bytes of every file under `dir`, to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(filesUnder(dir).map((f) => [f, readFileSync(join(dir, f)).toString("base64")]));
}

describe("a run failed by the OS: one line, exit 2, the folder as the manifest says", () => {
  it("ENOSPC while appending metrics.jsonl before any checkpoint: nothing kept, the new folder gone", async () => {
    const out = join(root, "enospc-metrics");
    const r = await gradlabWithFaults(["run", cfg, "--out", out, "--quiet", "--no-png"], "ENOSPC:metrics.jsonl:after=4096");
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`${out}/metrics.jsonl: the disk is full (ENOSPC) while writing; nothing was kept`);
    expect(existsSync(out)).toBe(false);
  });

  it("ENOSPC while writing the second checkpoint: the first stays, resumable; --resume then finishes the run", async () => {
    const out = join(root, "enospc-ckpt");  // a name without "checkpoint/", which the fault matches
    // the first checkpoint (step 5) is ≈27 KB; the limit lets it through and stops the one at step 10
    const r = await gradlabWithFaults(["run", cfg, "--out", out, "--quiet", "--no-png"], "ENOSPC:checkpoint/:after=40000");
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`${out}/checkpoint/step-0000000010.safetensors: the disk is full (ENOSPC) while writing; ` +
      `the run is kept up to its checkpoint at step 5; once that is fixed, carry it on with: gradlab run --resume ${out}`);
    expect(filesUnder(out)).toEqual(["checkpoint/step-0000000005.safetensors", "config.json", "metrics.jsonl", "run.json"]);
    const again = gradlab(["run", "--resume", out, "--quiet", "--no-png"]);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).status).toBe("complete");
  });

  it("ENOSPC while writing the report at the end: nothing half-written, the summary and weights removed with the rest", async () => {
    const out = join(root, "enospc-report");
    const r = await gradlabWithFaults(["run", cfg, "--out", out, "--quiet", "--no-png", "--every", "4"], "ENOSPC:report.html:after=10000");
    expect(r.code).toBe(2);
    const line = oneLine(r.stderr);
    expect(line).toMatch(new RegExp(`^${out}/report\\.html: the disk is full \\(ENOSPC\\) while writing; the run is kept up to its checkpoint at step 15; once that is fixed, carry it on with: gradlab run --resume ${out}$`));
    expect(filesUnder(out)).toEqual(["checkpoint/step-0000000010.safetensors", "checkpoint/step-0000000015.safetensors", "config.json", "metrics.jsonl", "run.json"]);
  });

  it("EMFILE when opening summary.json: one line naming it; no summary and no temporary file left", async () => {
    const out = join(root, "emfile");
    const r = await gradlabWithFaults(["run", cfg, "--out", out, "--quiet", "--no-png", "--every", "4"], "EMFILE:summary.json:op=open");
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`^${out}/summary\\.json: too many open files in this process \\(EMFILE\\) while writing; the run is kept up to its checkpoint at step 15`));
    expect(filesUnder(out).filter((f) => LEFTOVER.test(f) || f === "summary.json")).toEqual([]);
  });

  it("a bug (an error that is not the OS's) still shows its stack, exit 1", async () => {
    const out = join(root, "bug");
    const r = await gradlabWithFaults(["run", cfg, "--out", out, "--quiet", "--no-png"], "BUG:metrics.jsonl:after=100");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/BUG: injected fault[\s\S]*\n\s+at /);
  });
});

describe("bad --out paths are refused before any work", () => {
  it("EROFS on the --out folder (a read-only file system): one line naming it, nothing created", async () => {
    const ro = join(root, "ro");
    mkdirSync(ro);
    const r = await gradlabWithFaults(["run", cfg, "--out", join(ro, "run"), "--quiet", "--no-png"], `EROFS:${ro}`);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`${ro}: the file system is read-only (EROFS) while checking --out; expected a folder to write into`);
    expect(filesUnder(ro)).toEqual([]);
  });

  it("EACCES on compare's --out: one line; the compared runs untouched", async () => {
    const denied = join(root, "denied");
    mkdirSync(denied);
    const before = snapshot(finished);
    const r = await gradlabWithFaults(["compare", finished, finished, "--out", join(denied, "cmp"), "--no-png"], `EACCES:${denied}`);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`${denied}: permission denied (EACCES) while checking --out; expected a folder to write into`);
    expect(snapshot(finished)).toEqual(before);
  });

  it("a real chmod 0555 folder when not root (root writes anyway: the fault layer covers CI)", () => {
    if (process.getuid?.() === 0) return;
    const ro = join(root, "ro-real");
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const r = gradlab(["run", cfg, "--out", join(ro, "run"), "--quiet", "--no-png"]);
    chmodSync(ro, 0o755);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`${ro}: permission denied (EACCES) while checking --out; expected a folder to write into`);
  });

  it.runIf(process.platform === "linux")("--out under /proc (a file system that answers ENOENT to mkdir): one line at once, for run, sweep and grads", () => {
    const lines = [
      gradlab(["run", cfg, "--out", "/proc/gradlab-test/run", "--quiet", "--no-png"]),
      gradlab(["sweep", "init", "--epochs", "1", "--train", "50", "--out", "/proc/gradlab-test-sweep", "--quiet"]),
      gradlab(["grads", join(finished, "config.json"), "--weights", join(finished, "weights.safetensors"), "--examples", "0:4", "--out", "/proc/gradlab-test/g.safetensors"]),
    ].map((r) => { expect(r.code).toBe(2); return oneLine(r.stderr); });
    expect(lines).toEqual([
      "/proc/gradlab-test: no such file (ENOENT) while creating the folder; nothing was kept",
      "/proc/gradlab-test-sweep: no such file (ENOENT) while creating the folder",
      "/proc/gradlab-test: no such file (ENOENT) while creating the folder",
    ]);
  });

  it("ENOTDIR: --out through a file; the file untouched", () => {
    const file = join(root, "notes.txt");
    writeFileSync(file, "mine\n");
    const r = gradlab(["run", cfg, "--out", join(file, "sub"), "--quiet", "--no-png"]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`${file}/sub: a part of the path is not a folder (ENOTDIR) while checking --out; expected a folder to write into`);
    expect(readFileSync(file, "utf8")).toBe("mine\n");
  });

  for (const args of [["run", "CFG", "--out", ""], ["compare", "FINISHED", "--out", ""]]) {
    it(`${args[0]} --out '': one line`, () => {
      const r = gradlab(args.map((a) => (a === "CFG" ? cfg : a === "FINISHED" ? finished : a)));
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toBe("--out: expected a path, got an empty string");
    });
  }
});

describe("gradlab report under a full disk", () => {
  it("ENOSPC on metrics.csv: report.html, staged first, is not replaced either; no temporary file", async () => {
    const before = snapshot(finished);
    const r = await gradlabWithFaults(["report", finished, "--no-png"], "ENOSPC:metrics.csv:after=0");
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`${finished}/metrics.csv: the disk is full (ENOSPC) while writing; no file of the folder was changed`);
    expect(snapshot(finished)).toEqual(before);
  });
});

describe("grads --out writes only a regular file", () => {
  const grads = (out: string) => gradlab(["grads", join(finished, "config.json"), "--weights", join(finished, "weights.safetensors"), "--examples", "0:8", "--out", out]);

  it("a folder (EISDIR): refused, no partial file beside it", () => {
    const dir = join(root, "gdir");
    mkdirSync(dir);
    const r = grads(dir);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`${dir}: is a folder, not a regular file (--out: expected a regular file to write; it is left as it is)`);
    expect(filesUnder(root).filter((f) => LEFTOVER.test(f))).toEqual([]);
    expect(filesUnder(dir)).toEqual([]);
  });

  it("/dev/full: refused; the device node is still a character device", () => {
    const r = grads("/dev/full");
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe("/dev/full: is a character device, not a regular file (--out: expected a regular file to write; it is left as it is)");
    expect(statSync("/dev/full").isCharacterDevice()).toBe(true);
  });

  it("a FIFO: refused at once (no writer blocks), still a FIFO", () => {
    const fifo = join(root, "g.fifo");
    execFileSync("mkfifo", [fifo]);
    const r = grads(fifo);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`${fifo}: is a FIFO (named pipe), not a regular file (--out: expected a regular file to write; it is left as it is)`);
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  it("an existing regular file: replaced atomically by the gradients (a new inode, no temporary file)", () => {
    const file = join(root, "g.safetensors");
    writeFileSync(file, "old");
    const ino = statSync(file).ino;
    const r = grads(file);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect([...decodeSafetensors(readFileSync(file), "g").tensors.keys()].sort()).toEqual(["dense1.bias", "dense1.weight", "dense2.bias", "dense2.weight"]);
    expect(statSync(file).ino).not.toBe(ino);  // renamed over, never written in place
    expect(filesUnder(root).filter((f) => LEFTOVER.test(f))).toEqual([]);
  });

  it("ENOSPC while writing the gradients: one line, the old file untouched, no temporary file", async () => {
    const file = join(root, "g2.safetensors");
    writeFileSync(file, "old");
    const r = await gradlabWithFaults(["grads", join(finished, "config.json"), "--weights", join(finished, "weights.safetensors"), "--examples", "0:8", "--out", file], "ENOSPC:g2.safetensors:after=64");
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`${file}: the disk is full (ENOSPC) while writing; the file was not changed`);
    expect(readFileSync(file, "utf8")).toBe("old");
    expect(filesUnder(root).filter((f) => LEFTOVER.test(f))).toEqual([]);
  });
});

describe("a sweep on worker threads", () => {
  it("an OS error while inspecting a run folder (EACCES listing it): one line per run on its worker, the other runs kept, exit 2", async () => {
    // The fault layer is preloaded into the worker threads too (Node passes --import on). The
    // "init" preset's 6 runs: the 3 with init=standard cannot be listed on --resume.
    const out = join(root, "sweep");
    const first = gradlab(["sweep", "init", "--epochs", "1", "--train", "100", "--test", "50", "--out", out, "--workers", "2", "--quiet"]);
    expect(first.code, first.stderr).toBe(0);
    const before = snapshot(out);
    const r = await gradlabWithFaults(["sweep", "init", "--epochs", "1", "--train", "100", "--test", "50", "--out", out, "--workers", "2", "--quiet", "--resume"], "EACCES:init=standard:op=readdir");
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/^\s+at /m);  // no stack trace
    const text = r.stdout + r.stderr;
    const failed = text.split("\n").filter((l) => l.includes(": error: "));
    expect(failed).toHaveLength(3);
    for (const line of failed) expect(line).toMatch(/init=standard: permission denied \(EACCES\) while listing the folder$/);
    expect(text.match(/\(finished before; kept\)/g)).toHaveLength(3);
    for (const [f, bytes] of Object.entries(before)) if (!f.startsWith("compare/") && !f.startsWith("suite")) expect(snapshot(out)[f], f).toBe(bytes);
  }, 120_000);
});

describe("output that cannot be written", () => {
  /** `gradlab args` with stdout sent to /dev/full (every write fails with ENOSPC). */
  function toFull(args: string[]): { code: number | null; stderr: string } {
    const fd = openSync("/dev/full", "w");
    try {
      const r = spawnSync(process.execPath, [join(import.meta.dirname, "..", "..", "bin", "gradlab.js"), ...args], { stdio: ["ignore", fd, "pipe"], encoding: "utf8", timeout: 120_000 });
      return { code: r.status, stderr: r.stderr };
    } finally { closeSync(fd); }
  }
  const LINE = "gradlab: standard output: the disk is full (ENOSPC) while writing; the output from there on was dropped\n";

  it.runIf(existsSync("/dev/full"))("stdout on a full device: the command's work is done, then one line on stderr and exit 2 (no stack)", () => {
    expect(toFull(["presets"])).toEqual({ code: 2, stderr: LINE });
    const out = join(root, "stdout-full");
    const r = toFull(["run", cfg, "--out", out, "--no-png"]);
    expect(r.code).toBe(2);
    expect(r.stderr.endsWith(LINE)).toBe(true);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    // the run folder is whole: the output is a display, the folder the result
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).steps).toBe(16);
    expect(existsSync(join(out, "report.html"))).toBe(true);
  });
});

