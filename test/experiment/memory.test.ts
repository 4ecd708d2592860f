// Memory is estimated before anything is allocated: a config or a dataset that would
// not fit is refused with one line (exit code 2 from the CLI), and nothing written. The seed network's
// estimate is checked against its parts counted by hand.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/experiment/config.ts";
import { estimateMemory, formatSize, parseSize, REPORT_BYTES, RUNTIME_BYTES } from "../../src/experiment/memory.ts";
import { openRun } from "../../src/experiment/run-folder/session.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

const mlp = (units: number, extra: Record<string, unknown> = {}) => ({
  name: "big", data: { train: 1000, test: 100 },
  model: { layers: [{ type: "dense", units }, { type: "dense", units: 10 }] },
  optimizer: { type: "sgd", lr: 0.1 }, ...extra,
});

describe("sizes", () => {
  it("parseSize reads binary units; bad sizes are one clear line", () => {
    expect(parseSize("2GB")).toBe(2 * 1024 ** 3);
    expect(parseSize("512m")).toBe(512 * 1024 ** 2);
    expect(parseSize("1.5G")).toBe(1.5 * 1024 ** 3);
    expect(parseSize("4KiB")).toBe(4096);
    expect(parseSize("1000")).toBe(1000);
    expect(() => parseSize("lots")).toThrow(`--max-memory: expected a size such as 512MB, 2GB or 1.5G; got "lots"`);
    expect(() => parseSize("0")).toThrow("--max-memory: expected a size");
    expect(formatSize(2 * 1024 ** 3)).toBe("2.0 GB");
    expect(formatSize(820 * 1024 ** 2)).toBe("820 MB");
  });

  it("the seed network, term by term: 3,985 parameters, MNIST, the kernels' largest call, 95 records, the runtime and the report", () => {
    const seed = parseConfig({ ...mlp(5), model: { layers: [{ type: "dense", units: 5 }, { type: "dense", units: 5 }, { type: "dense", units: 10 }] }, data: { train: 60000, test: 10000 } });
    const e = estimateMemory(seed, { bytes: 47_040_016 + 60_008 + 7_840_016 + 10_008, rows: 28, cols: 28 });
    // hand derivation from the terms in memory.ts's header
    expect(e.params).toBe(784 * 5 + 5 + 5 * 5 + 5 + 5 * 10 + 10);
    // SGD under "stop": value, gradient, recorder snapshot, non-finite backup
    expect(e.paramBytes).toBe(4 * 4 * e.params);
    // z and y of the 20 outputs plus the 784 inputs in any pass, δ and dx plus the inputs in training,
    // all at the training batch (32: evaluation goes a training batch at a time); the logits (10) of an eval batch (1000)
    expect(e.activationBytes).toBe(4 * (32 * (2 * 20 + 784) + 32 * (2 * 20 + 784) + 1000 * 10));
    // the largest call is the first layer's at the training batch: its weights twice (packed), 784 inputs and 5 outputs per example
    expect(e.kernelBytes).toBe(4 * (2 * 3925 + 32 * (784 + 5)));
    // the four raw files (the images read into the kernels' memory, never copied) and an int32 order per example
    expect(e.dataBytes).toBe(54_950_048 + 4 * 70_000);
    // gzip files are inflated into a buffer, and the kernels copy the 60,000 training images (784 bytes each) once more
    const gz = estimateMemory(seed, { bytes: 47_040_016 + 60_008 + 7_840_016 + 10_008, rows: 28, cols: 28, gzipImages: true });
    expect(gz.dataBytes - e.dataBytes).toBe(60_000 * 784);
    // 5 epochs of 1875 steps recorded every 100 steps: steps 0, 100, …, 9300 and the last (9374) = 95 records,
    // each 100 bytes + 3 layers × (800 + 2 tensors × 350); held twice (the run's and the report's)
    expect(e.steps).toBe(9375);
    expect(e.recordBytes).toBe(2 * 95 * (100 + 3 * 1500));
    // the weights encoded (a Float32 copy and the file) and the report's rendering
    expect(e.outputBytes).toBe(2 * 4 * e.params + REPORT_BYTES);
    expect(e.runtimeBytes).toBe(RUNTIME_BYTES);
    expect(e.bytes).toBe(e.runtimeBytes + e.paramBytes + e.activationBytes + e.kernelBytes + e.dataBytes + e.recordBytes + e.outputBytes);
  });
});

describe("refused before allocating: one line, nothing written", () => {
  it("a layer of 10¹² units (would be 3 PB) through the CLI: exit 2", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "c.json"), JSON.stringify(mlp(1e12)));
    const r = gradlab(["run", join(dir, "c.json"), "--out", join(dir, "o")]);
    expect(r.code).toBe(2);
    // activations (U = 10¹² units, batch 32, every pass at the training batch): 4 bytes × (32 · 4U
    // for z, y, δ, dx + 2 · 784U for the weights and their packed copy + 32U for the largest call's output) = 6,912U bytes = 6.1 PiB
    expect(r.stderr).toMatch(/^gradlab: memory: this run needs one array of 7\.84e\+14 values; an array holds at most 2147483647 \(parameters 11 PB, activations 6\.1 PB, data \d+ MB, runtime 64 MB, records and output 5\.6 PB\); the largest part is model\.layers\[0\] with 7\.85e\+14 parameters\n$/);
    expect(readdirSync(dir)).toEqual(["c.json"]);
  });

  /** startRun must throw `message` and leave `root` as it was (only the inputs in it). */
  const refuse = (raw: object | ((root: string) => object), message: RegExp, opts: { maxMemory?: number } = {}) => {
    const root = tempDir();
    const config = parseConfig(typeof raw === "function" ? raw(root) : raw);
    const before = readdirSync(root);
    expect(() => openRun({ mode: "fresh", config, outDir: join(root, "o") }, "test", {}, opts)).toThrow(message);
    expect(readdirSync(root)).toEqual(before);
  };

  it("a modest network above --max-memory", () => {
    refuse(mlp(5, { data: { train: 60000, test: 10000 } }), /^memory: this run needs about \d+ MB \(parameters .*, activations .*, data 53 MB, runtime 64 MB, records and output .*\), more than the 20 MB limit \(--max-memory; the default is half of this machine's memory\)$/, { maxMemory: parseSize("20MB") });
  });

  it("an IDX header that claims 2³¹ images of 2¹⁶ × 2¹⁶ pixels", () => {
    const header = (dims: number[]) => { const b = Buffer.alloc(4 + 4 * dims.length); b.writeUInt32BE(0x800 + dims.length, 0); dims.forEach((x, i) => b.writeUInt32BE(x, 4 + 4 * i)); return b; };
    refuse((root: string) => {
      const idx = join(root, "idx");
      mkdirSync(idx);
      writeFileSync(join(idx, "train-images-idx3-ubyte"), Buffer.concat([header([2 ** 31, 2 ** 16, 2 ** 16]), Buffer.alloc(100)]));
      writeFileSync(join(idx, "train-labels-idx1-ubyte"), Buffer.concat([header([4]), Buffer.alloc(4)]));
      writeFileSync(join(idx, "t10k-images-idx3-ubyte"), Buffer.concat([header([1, 28, 28]), Buffer.alloc(784)]));
      writeFileSync(join(idx, "t10k-labels-idx1-ubyte"), Buffer.concat([header([1]), Buffer.alloc(1)]));
      return mlp(5, { data: { dataset: { idx }, train: 4, test: 1 } });
    }, /train-images-idx3-ubyte: its IDX header claims \d+ bytes, more than the 268435456-byte limit$/);
  });

  it("a gzip file whose trailer claims 4 GB is judged by its header, not its trailer", () => {
    refuse((root: string) => {
      const idx = join(root, "idx");
      mkdirSync(idx);
      const gz = gzipSync(Buffer.alloc(1000));
      gz.writeUInt32LE(2 ** 32 - 1, gz.length - 4);  // ISIZE: 4 GB − 1
      for (const f of ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]) writeFileSync(join(idx, f), gz);
      return mlp(5, { data: { dataset: { idx }, train: 4, test: 1 } });
    }, /train-images-idx3-ubyte\.gz: unsupported IDX data type 0x00: expected 0x08/);  // 1000 zeros inflate to no IDX header
  });
});
