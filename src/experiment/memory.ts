/**
 * How much memory a run will need, estimated from the config and the dataset files' headers
 * before anything is allocated, so that a config asking for a 10⁹-unit layer (or a dataset
 * that cannot fit) is refused with one clear line instead of crashing the process. The
 * estimate aims at the process's peak resident memory (what the OS counts) within ±25%
 * (test/experiment/memory-rss.test.ts measures it in child processes); its terms, in bytes:
 *
 *   runtime      Node with gradlab's code loaded (modules, the compiled WebAssembly kernels):
 *                a constant, measured (RUNTIME_BYTES)
 *   data         the dataset files as loaded (whole files, decompressed) and the shuffle order;
 *                raw image files are read into the kernels' memory (accel kernelBytes), gzip
 *                ones are inflated into a buffer and the training images copied in once more
 *   parameters   Float32: value, gradient, optimizer slots, the recorder's snapshot and the
 *                non-finite guard's backup (of the weights and slots)
 *   activations  per layer output: z and f(z), δ and the gradient passed down, all at the
 *                training batch (evaluation runs its forward passes a training batch at a time);
 *                the input batch; recurrent [T, B, ·] caches; the logits of an evaluation batch
 *   kernels      the WebAssembly kernels' memory, which grows to the largest single call and
 *                never shrinks: the largest layer's operands (its weights and their packed copy,
 *                its input, output and im2col columns at the training batch)
 *   records      the metrics records held for the report and the diagnosis: at most
 *                RECORD_KEEP of them (RecordKeep), by the run and by the report's reader
 *   output       a checkpoint or weights.safetensors being encoded (two copies of the weights and
 *                slots), and the report's rendering (REPORT_BYTES)
 *
 * Batch sizes are taken as capped at the dataset (config.ts batchSizes): the trainer never builds
 * a batch larger than the set it reads.
 */
import { grouped } from "../core/format.ts";
import { existsSync } from "node:fs";
import { totalmem } from "node:os";
import { join } from "node:path";
import { gunzipSync, constants as zlib } from "node:zlib";
import { InputError } from "../core/errors.ts";
import type { Footprint } from "../core/layers/kind.ts";
import { kindOf } from "../core/layers/registry.ts";
import type { LayerSpec } from "../core/spec.ts";
import { datasetDir, idxClaimedSize } from "../data/datasets.ts";
import { isGzip } from "../data/idx.ts";
import { readHeadChecked } from "../data/read-file.ts";
import { viewShape } from "../data/views.ts";
import { batchSizes, type Config } from "./config.ts";

export interface MemoryEstimate {
  /** total bytes: the sum of the terms below */
  bytes: number;
  params: number;      // parameter count
  /** Node and gradlab's code (RUNTIME_BYTES) */
  runtimeBytes: number;
  paramBytes: number;  // parameters with gradients, optimizer state, snapshots
  activationBytes: number;
  /** the WebAssembly kernels' memory at its largest call */
  kernelBytes: number;
  dataBytes: number;
  /** the metrics records held in memory (at most RECORD_KEEP, twice: the run's and the report's) */
  recordBytes: number;
  /** a checkpoint or the weights file being encoded, and the report's rendering */
  outputBytes: number;
  /** the training and evaluation batch sizes used, capped at the dataset */
  batchSize: number;
  evalBatchSize: number;
  /** steps the run will train (train.epochs × steps per epoch; may exceed 2^53 and be inexact) */
  steps: number;
  /** elements of the largest single tensor (one typed array must hold it) */
  largest: number;
  /** the layer with the most parameters, for the message */
  biggestLayer: { path: string; params: number } | null;
}

/** Copies of each layer output per example in any pass (z and y) and in training only (δ and the gradient passed down). */
const ACT_COPIES_ANY = 2, ACT_COPIES_TRAIN = 2;
/** The largest typed array this estimate lets a run ask for (2^31 − 1 elements). */
const MAX_ELEMENTS = 2 ** 31 - 1;

/** A dataset's size once loaded, its images' size, and whether its training images are a gzip file (then copied into the kernels' memory). */
export interface DatasetFootprint { bytes: number; rows: number; cols: number; gzipImages?: boolean }

/**
 * Node 20 with gradlab's code loaded, before any data: the peak resident memory of a run of a
 * one-layer model on 100 examples (test/experiment/memory-rss.test.ts: 124 MB) less that run's
 * other terms below (its dataset files, 55 MB, and the report, 8 MB), through the bundled command
 * (dist/cli/gradlab.js, what the installed package runs) on x86-64 Linux: about 64 MB. (`gradlab
 * presets`, which loads no report code and compiles no kernels, peaks at 58 MB.) The test
 * measures it again and fails when this constant drifts more than 25% from the measurement.
 */
export const RUNTIME_BYTES = 64 * 2 ** 20;

/**
 * Rendering the report (report.html and its charts' SVG, src/report/svg.ts) on top of the run:
 * the growth of the peak resident memory across writeReport, measured on the seed preset's
 * network (1,000 examples, /proc/self/status VmHWM before and after): 5 MB, taken as 8. The PNG export
 * (`--png`, off by default) adds about 60 MB more (resvg and its fonts), which this estimate
 * leaves out (docs/memory.md).
 */
export const REPORT_BYTES = 8 * 2 ** 20;

/** The most metrics records a run keeps in memory for the report and the diagnosis (RecordKeep's limit); the rest are only in metrics.jsonl. */
export const RECORD_KEEP = 4096;

/**
 * In-memory bytes of one recorded layer's share of a record, as JavaScript objects (about the
 * length of its JSON): name, type, δ, gain, activation statistics and histograms; each parameter
 * tensor's statistics; a recurrent layer's two numbers per time step (‖∂ℓ/∂h_t‖, ‖∂ℓ/∂c_t‖).
 * From metrics.jsonl: the seed net's dense layers take 750 bytes each, a 784-step LSTM 31 KB.
 */
const RECORD_LAYER_BYTES = 800, RECORD_PARAM_BYTES = 350, RECORD_TIME_STEP_BYTES = 40;

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
export function datasetFootprint(config: Config): DatasetFootprint {
  const spec = config.data.dataset;
  let dir: string;
  try { dir = datasetDir(spec); } catch { return { bytes: 0, rows: 28, cols: 28, gzipImages: false }; }  // the loader reports it
  let bytes = 0, gzipImages = false;
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
    if (base.startsWith("train-images")) gzipImages = path.endsWith(".gz");
  }
  const [rows, cols] = dims ?? [28, 28];
  return { bytes, rows, cols, gzipImages };
}

/** One layer's numbers, for the kernels' largest call and the records. */
interface LayerFootprint { params: number; inN: number; outN: number; scratch: number; recurrent: number; steps: number }

interface Walk {
  params: number; largest: number;
  /** per-example output elements of every layer */
  outputs: number;
  /** per-example scratch (im2col and its gradient) */
  scratch: number;
  recurrentPerExample: number;
  layers: LayerFootprint[];
  biggest: { path: string; params: number } | null;
}

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
    acc.scratch += f.scratch ?? 0;
    acc.params += f.params;
    if (f.params > (acc.biggest?.params ?? 0)) acc.biggest = { path: at, params: f.params };
    const inN = shape.reduce((a, b) => a * b, 1);
    const outN = f.outShape.reduce((a, b) => a * b, 1);
    acc.largest = Math.max(acc.largest, outN);
    acc.outputs += outN;
    acc.recurrentPerExample += f.recurrent ?? 0;
    // a recurrent layer reads [T, D]: T time steps
    acc.layers.push({ params: f.params, inN, outN, scratch: f.scratch ?? 0, recurrent: f.recurrent ?? 0, steps: f.recurrent ? shape[0] ?? 1 : 0 });
    shape = f.outShape;
  });
  return shape;
}

/**
 * Estimate the peak memory of a run of `config` (the terms are in the header). Never throws on a
 * valid config, whatever its sizes (they are only multiplied, as doubles); `train.epochs` enters
 * only through the number of records, which RECORD_KEEP bounds.
 *
 * @example estimateMemory(seedConfig).bytes // ≈ 125 MB: 64 MB of runtime, 55 MB of MNIST, 8 MB for the report, the rest the network
 */
export function estimateMemory(config: Config, data = datasetFootprint(config)): MemoryEstimate {
  const acc: Walk = { params: 0, largest: 0, outputs: 0, scratch: 0, recurrentPerExample: 0, layers: [], biggest: null };
  const inShape = viewShape(config.data.view, data.rows, data.cols);
  const outN = walk(config.model.layers, inShape, "model.layers", acc).reduce((a, b) => a * b, 1);
  const o = config.optimizer;
  const slots = (o.type === "adam" ? 2 : o.type === "rmsprop" ? 1 : 0) + ((o.momentum ?? 0) > 0 && o.type !== "adam" ? 1 : 0);
  // value, gradient, optimizer slots, recorder snapshot, non-finite backup (of the weights and slots)
  const copies = 2 + slots + 2 + (config.train.onNonFinite === "continue" ? 0 : slots);
  const { batchSize: B, evalBatchSize: EB } = batchSizes(config);
  const inN = inShape.reduce((a, b) => a * b, 1);
  // evaluation runs its forward passes a training batch at a time (trainer.ts's evaluate), so
  // every layer's buffers are at most B examples; only the logits of an evaluation batch are EB
  const actElements = B * (ACT_COPIES_ANY * acc.outputs + inN) + B * (ACT_COPIES_TRAIN * acc.outputs + inN) + B * acc.recurrentPerExample + EB * outN;
  // the kernels' largest call: a weight matrix and its packed copy, the input, output and
  // im2col columns of a batch
  let kernelElements = 0;
  for (const l of acc.layers) kernelElements = Math.max(kernelElements, 2 * l.params + B * (l.inN + l.outN + l.scratch / 2));
  const paramBytes = 4 * copies * acc.params;
  const activationBytes = 4 * actElements;
  const kernelBytes = 4 * kernelElements;
  // + the shuffle order and friends, + for gzip files the training images' copy in the kernels' memory (views.ts)
  const dataBytes = data.bytes + 4 * (config.data.train + config.data.test) + (data.gzipImages ? config.data.train * data.rows * data.cols : 0);
  // records: steps 0, every, 2·every, … and the last; the run and the report's reader keep RECORD_KEEP each
  const steps = Math.ceil(config.data.train / B) * config.train.epochs;
  const records = Math.min(RECORD_KEEP, Math.floor((steps - 1) / config.record.every) + 2);
  let perRecord = 100;
  for (const l of acc.layers) {
    if (l.params === 0 && l.recurrent === 0) continue;
    perRecord += RECORD_LAYER_BYTES + RECORD_PARAM_BYTES * (l.recurrent > 0 ? 4 : 2) + RECORD_TIME_STEP_BYTES * l.steps;
  }
  const recordBytes = 2 * records * perRecord;
  // a checkpoint (weights and slots) or weights.safetensors: a Float32 copy and the encoded file
  const outputBytes = 2 * 4 * (1 + slots) * acc.params + REPORT_BYTES;
  return {
    bytes: RUNTIME_BYTES + paramBytes + activationBytes + kernelBytes + dataBytes + recordBytes + outputBytes,
    params: acc.params, runtimeBytes: RUNTIME_BYTES, paramBytes, activationBytes, kernelBytes, dataBytes, recordBytes, outputBytes,
    batchSize: B, evalBatchSize: EB, steps,
    largest: Math.max(acc.largest, B * acc.scratch, B * acc.outputs),
    biggestLayer: acc.biggest,
  };
}

/**
 * The run's length and memory in a few words, for the line the CLI prints before a run. A run of
 * any length needs bounded memory (records are kept up to RECORD_KEEP), so a long run reads long.
 * @example runSize(seedConfig) // "9,375 steps, about 125 MB of memory"
 * @example runSize(configWithEpochs1e12) // "1.57e+14 steps (a very long run), about 125 MB of memory"
 */
export function runSize(config: Config, data = datasetFootprint(config)): string {
  const e = estimateMemory(config, data);
  const steps = e.steps < 1e9 ? `${grouped(e.steps)} steps` : `${e.steps.toExponential(2)} steps (a very long run)`;
  return `${steps}, about ${formatSize(e.bytes)} of memory`;
}

/**
 * Refuse a run whose estimate exceeds `limit` bytes, or whose largest tensor no typed array can
 * hold, with one line naming the sizes and the biggest layer.
 */
export function checkMemory(config: Config, limit: number, data = datasetFootprint(config)): MemoryEstimate {
  const e = estimateMemory(config, data);
  const layer = e.biggestLayer && e.biggestLayer.params * 4 * 4 > e.bytes / 4 ? `; the largest part is ${e.biggestLayer.path} with ${e.biggestLayer.params.toExponential(2)} parameters` : "";
  const parts = `parameters ${formatSize(e.paramBytes)}, activations ${formatSize(e.activationBytes + e.kernelBytes)}, data ${formatSize(e.dataBytes)}, runtime ${formatSize(e.runtimeBytes)}, records and output ${formatSize(e.recordBytes + e.outputBytes)}`;
  if (e.largest > MAX_ELEMENTS) {
    throw new InputError(`memory: this run needs one array of ${e.largest.toExponential(2)} values; an array holds at most ${MAX_ELEMENTS} (${parts})${layer}`);
  }
  if (!(e.bytes <= limit)) {
    throw new InputError(`memory: this run needs about ${formatSize(e.bytes)} (${parts}), more than the ${formatSize(limit)} limit (--max-memory; the default is half of this machine's memory)${layer}`);
  }
  return e;
}
