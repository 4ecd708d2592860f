/**
 * How much memory a run will need, estimated from the config and the dataset files' headers
 * before anything is allocated, so that a config asking for a 10⁹-unit layer (or a dataset
 * that cannot fit) is refused with one clear line instead of crashing the process.
 *
 * The estimate is deliberately simple and on the generous side: Float32 tensors; every
 * parameter held as value, gradient, optimizer slots, the recorder's snapshot and the
 * non-finite guard's backup; every layer's per-example output held four times (z, f(z), δ and
 * the gradient it passes down) at the larger of the training and evaluation batch (recurrent
 * layers evaluate in chunks, as src/core/layers/recurrent.ts does); the dataset files as loaded
 * (whole files, decompressed), plus the training images once more (the kernels gather batches
 * from their own copy).
 */
import { existsSync } from "node:fs";
import { totalmem } from "node:os";
import { join } from "node:path";
import { gunzipSync, constants as zlib } from "node:zlib";
import { InputError } from "../core/errors.ts";
import type { Footprint } from "../core/layers/kind.ts";
import { EVAL_CHUNK_ELEMENTS } from "../core/layers/recurrent.ts";
import { kindOf } from "../core/layers/registry.ts";
import type { LayerSpec } from "../core/spec.ts";
import { datasetDir, idxClaimedSize } from "../data/datasets.ts";
import { isGzip } from "../data/idx.ts";
import { readHeadChecked } from "../data/read-file.ts";
import { viewShape } from "../data/views.ts";
import type { Config } from "./config.ts";

export interface MemoryEstimate {
  /** total bytes */
  bytes: number;
  params: number;      // parameter count
  paramBytes: number;  // parameters with gradients, optimizer state, snapshots
  activationBytes: number;
  dataBytes: number;
  /** elements of the largest single tensor (one typed array must hold it) */
  largest: number;
  /** the layer with the most parameters, for the message */
  biggestLayer: { path: string; params: number } | null;
}

/** Copies of each layer output per example: z, y, δ and the gradient passed down. */
const ACT_COPIES = 4;
/** The largest typed array this estimate lets a run ask for (2^31 − 1 elements). */
const MAX_ELEMENTS = 2 ** 31 - 1;

const FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/**
 * Parse a size: a number of bytes with an optional unit K, M, G, T (binary: 1 GB = 1024³ bytes;
 * "KB"/"KiB" spellings accepted). @example parseSize("2GB") // 2147483648
 */
export function parseSize(text: string, what = "--max-memory"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|B)?\s*$/i.exec(text);
  const value = m ? Number(m[1]) * 1024 ** " KMGT".indexOf((m[2] ?? " ").toUpperCase()) : NaN;
  if (!m || !Number.isFinite(value) || value < 1) {
    throw new InputError(`${what}: expected a size such as 512MB, 2GB or 1.5G; got ${JSON.stringify(text)}`);
  }
  return Math.floor(value);
}

/** "1.5 GB", "820 MB", "12 KB": bytes as a reader would say them (binary units). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes)) return "an unbounded amount";
  const units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
  let u = 0;
  let v = bytes;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${Math.round(v)} bytes` : `${v >= 100 ? Math.round(v) : v.toPrecision(2)} ${units[u]}`;
}

/** The default limit: half of the machine's memory (or of the container's, when it is smaller). */
export function defaultMemoryLimit(): number {
  const limit = process.constrainedMemory?.() ?? 0;  // 0 or a huge number when unconstrained
  const total = limit > 0 ? Math.min(limit, totalmem()) : totalmem();
  return Math.floor(total / 2);
}

/** The first bytes of an IDX file (raw or gzip) once inflated, through the checked reader. */
function idxHead(path: string): Uint8Array {
  let head: Uint8Array = readHeadChecked(path, 1 << 16, "expected an IDX file, raw or gzip");
  if (isGzip(head)) head = gunzipSync(head, { finishFlush: zlib.Z_SYNC_FLUSH });
  return head.subarray(0, 20);
}

/**
 * Bytes a file will occupy once read: what its IDX header claims (raw or gzip; a gzip trailer's
 * size is not trusted, since a truncated file has none). Null when the header is unreadable.
 */
function loadedSize(path: string): number | null {
  return idxClaimedSize(idxHead(path));
}

/** [N, rows, cols] from an IDX image file's header (raw or gzip), or null when unreadable. */
function imageDims(path: string): [number, number, number] | null {
  try {
    const head = idxHead(path);
    if (head.length < 16 || head[0] !== 0 || head[1] !== 0 || head[2] !== 8 || head[3] !== 3) return null;
    const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
    return [v.getUint32(4, false), v.getUint32(8, false), v.getUint32(12, false)];
  } catch {
    return null;
  }
}

/** The loader's fence on one file (src/data/datasets.ts): no file is read or inflated beyond it. */
const MAX_FILE = 256 * 2 ** 20;

/**
 * The dataset's files as they will be loaded, and its image size, from the files' IDX headers
 * only (read through the checked reader: a FIFO or a device is skipped here and refused by the
 * loader). A file whose header claims more than the loader's 256 MB fence is refused here,
 * before anything is inflated. Without a readable 3-D image header 28×28 is assumed and the
 * loader reports the real problem.
 */
export function datasetFootprint(config: Config): { bytes: number; rows: number; cols: number } {
  const spec = config.data.dataset;
  let dir: string;
  try { dir = datasetDir(spec); } catch { return { bytes: 0, rows: 28, cols: 28 }; }  // the loader reports it
  let bytes = 0;
  let dims: [number, number] | null = null;
  for (const base of FILES) {
    const dotted = base.replace(/-idx/, ".idx");
    const path = [base, `${base}.gz`, dotted, `${dotted}.gz`].map((f) => join(dir, f)).find((p) => existsSync(p));
    if (!path) continue;
    let size: number | null;
    try { size = loadedSize(path); } catch { continue; }  // unreadable, a FIFO, a device: the loader reports it
    if (size === null) continue;  // not an IDX header: the loader reports it
    if (size > MAX_FILE) throw new InputError(`${path}: its IDX header claims ${size} bytes, more than the ${MAX_FILE}-byte limit`);
    bytes += size;
    const d = base.startsWith("train-images") ? imageDims(path) : null;
    if (d && d[0] * d[1] * d[2] + 16 === size) dims = [d[1], d[2]];
  }
  const [rows, cols] = dims ?? [28, 28];
  return { bytes, rows, cols };
}

interface Walk { params: number; largest: number; perExample: number; recurrentPerExample: number; biggest: { path: string; params: number } | null }

/**
 * Output shape, parameters and per-example activations of a list of layers (no allocation);
 * each layer's own numbers come from its kind's `estimate` (src/core/layers/registry.ts).
 */
function walk(layers: LayerSpec[], inShape: number[], path: string, acc: Walk): number[] {
  let shape = inShape;
  layers.forEach((l, i) => {
    const at = `${path}[${i}]`;
    const kind = kindOf(l.type);
    // A type the registry does not know cannot get past the config schema; count it as shape-only.
    const f: Footprint = kind ? kind.estimate(l, shape, (specs, s) => walk(specs, s, `${at}.layers`, acc)) : { params: 0, outShape: shape };
    if (f.largest !== undefined) acc.largest = Math.max(acc.largest, f.largest);
    if (f.scratch !== undefined) acc.perExample += f.scratch;
    acc.params += f.params;
    if (f.params > (acc.biggest?.params ?? 0)) acc.biggest = { path: at, params: f.params };
    const outN = f.outShape.reduce((a, b) => a * b, 1);
    acc.largest = Math.max(acc.largest, outN);
    acc.perExample += ACT_COPIES * outN;
    acc.recurrentPerExample += f.recurrent ?? 0;
    shape = f.outShape;
  });
  return shape;
}

/**
 * Estimate the memory a run of `config` needs. Never throws on a valid config, whatever its sizes
 * (they are only multiplied, as doubles).
 *
 * @example estimateMemory(seedConfig).bytes // ≈ 105 MB: 55 MB of MNIST, 47 MB of it again in the kernels, the rest the network
 */
export function estimateMemory(config: Config, data = datasetFootprint(config)): MemoryEstimate {
  const acc: Walk = { params: 0, largest: 0, perExample: 0, recurrentPerExample: 0, biggest: null };
  const inShape = viewShape(config.data.view, data.rows, data.cols);
  walk(config.model.layers, inShape, "model.layers", acc);
  const o = config.optimizer;
  const slots = (o.type === "adam" ? 2 : o.type === "rmsprop" ? 1 : 0) + ((o.momentum ?? 0) > 0 && o.type !== "adam" ? 1 : 0);
  // value, gradient, optimizer slots, recorder snapshot, non-finite backup (of the weights and slots)
  const copies = 2 + slots + 2 + (config.train.onNonFinite === "continue" ? 0 : slots);
  const B = config.train.batchSize, EB = config.train.evalBatchSize;
  const inN = inShape.reduce((a, b) => a * b, 1);
  const evalRec = acc.recurrentPerExample > 0 ? Math.min(EB, Math.max(1, Math.floor(EVAL_CHUNK_ELEMENTS / acc.recurrentPerExample))) : 0;
  const actElements = Math.max(B, EB) * (acc.perExample + inN) + Math.max(B, evalRec) * acc.recurrentPerExample;
  const paramBytes = 4 * copies * acc.params;
  const activationBytes = 4 * actElements;
  // + the shuffle order and friends, + the training images' copy in the WebAssembly kernels' memory (views.ts)
  const dataBytes = data.bytes + 4 * (config.data.train + config.data.test) + config.data.train * data.rows * data.cols;
  return {
    bytes: paramBytes + activationBytes + dataBytes,
    params: acc.params, paramBytes, activationBytes, dataBytes,
    largest: Math.max(acc.largest, B * acc.perExample),
    biggestLayer: acc.biggest,
  };
}

/**
 * Refuse a run whose estimate exceeds `limit` bytes, or whose largest tensor no typed array can
 * hold, with one line naming the sizes and the biggest layer.
 */
export function checkMemory(config: Config, limit: number, data = datasetFootprint(config)): MemoryEstimate {
  const e = estimateMemory(config, data);
  const layer = e.biggestLayer && e.biggestLayer.params * 4 * 4 > e.bytes / 4 ? `; the largest part is ${e.biggestLayer.path} with ${e.biggestLayer.params.toExponential(2)} parameters` : "";
  const parts = `parameters ${formatSize(e.paramBytes)}, activations ${formatSize(e.activationBytes)}, data ${formatSize(e.dataBytes)}`;
  if (e.largest > MAX_ELEMENTS) {
    throw new InputError(`memory: this run needs one array of ${e.largest.toExponential(2)} values; an array holds at most ${MAX_ELEMENTS} (${parts})${layer}`);
  }
  if (!(e.bytes <= limit)) {
    throw new InputError(`memory: this run needs about ${formatSize(e.bytes)} (${parts}), more than the ${formatSize(limit)} limit (--max-memory; the default is half of this machine's memory)${layer}`);
  }
  return e;
}
