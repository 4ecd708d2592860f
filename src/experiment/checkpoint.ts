/**
 * Checkpoints, the run lock and atomic files: what lets a run folder survive Ctrl-C, `kill -9`
 * and a second run pointed at the same folder.
 *
 * A checkpoint is one safetensors file, `checkpoint/step-<10 digits>.safetensors`:
 *   model/<name>            every parameter and buffer (F32, the model's shapes)
 *   optimizer.m/<name>, optimizer.v/<name>   the optimizer's slots that it uses (F32)
 *   __metadata__: format "gradlab-checkpoint", version "1", state (JSON: step, epochs, losses,
 *   optimizer step, metrics.jsonl byte length + SHA-256 of that prefix, config hash, and the
 *   shuffling RNG's state now and before this epoch's shuffle) and sha256, the SHA-256 of the
 *   whole file with these 64 hex digits written as zeros.
 * The epoch's order of examples is not stored (60,000 indices would be 96% of the file and of
 * its cost): it is re-derived by shuffling again from the saved pre-shuffle state, and must
 * land on the saved RNG state and the saved SHA-256 of the order, so a change in the shuffle
 * is detected rather than silently resumed.
 * It is written to a temporary name, fsynced and renamed into place, and the folder fsynced;
 * the last two are kept. A checkpoint is untrusted input when read back: size, structure,
 * checksum, every field's type and range, every tensor's name and shape, and the order being a
 * permutation are checked before anything is restored.
 */
import { createHash } from "node:crypto";
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync,
  statSync, unlinkSync, writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { InputError } from "../core/errors.ts";
import type { OptimizerState } from "../core/optim.ts";
import { Rng, type RngState } from "../core/rng.ts";
import { decodeSafetensors, encodeSafetensors, type StInput } from "../data/safetensors.ts";
import type { Config } from "./config.ts";
import type { NonFiniteInfo, Trainer, TrainerSnapshot } from "./trainer.ts";

export const CHECKPOINT_DIR = "checkpoint";
export const LOCK_FILE = "run.lock";
const FORMAT = "gradlab-checkpoint";
const VERSION = "1";
const NAME = /^step-(\d{10})\.safetensors$/;
/** Room for the header (state JSON, names) beyond the tensors when a file's size is checked. */
const MAX_HEADER = 16 * 2 ** 20;
const ZEROS = "0".repeat(64);

// ---------------------------------------------------------------------------------------------
// Atomic files.

/** fsync a folder so a rename inside it survives a power cut (a no-op where folders cannot be fsynced). */
function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try { fd = openSync(dir, "r"); fsyncSync(fd); } catch { /* not supported here */ } finally { if (fd !== null) closeSync(fd); }
}

/** Write `data` to `file` atomically and durably: temporary sibling, fsync, rename, fsync the folder. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = join(file, "..");
  const tmp = join(dir, `.${basename(file)}.tmp-${process.pid}`);
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  try {
    const fd = openSync(tmp, "w");
    try {
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally { closeSync(fd); }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

/** SHA-256 of a canonical config (parseConfig's output, stringified): ties a checkpoint to its run. */
export function configHash(config: Config): string {
  return createHash("sha256").update(JSON.stringify(config)).digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Encoding.

/** Where metrics.jsonl stood at the checkpoint: its byte length, the SHA-256 of those bytes, its lines. */
export interface MetricsMark { bytes: number; sha256: string; records: number }

/** A checkpoint read back and validated, ready to apply. */
export interface Checkpoint {
  step: number;
  snapshot: TrainerSnapshot;
  /** model/<name> → values */
  tensors: Map<string, Float32Array>;
  metrics: MetricsMark;
  /** training seconds before this checkpoint (for samples/s only; not part of the results) */
  seconds: number;
}

/**
 * The JSON part of a checkpoint: the trainer's snapshot as plain data, except the optimizer's
 * moment buffers (stored as tensors, only the step count here) and the epoch's order of examples
 * (re-derived from epochRng on load; only its SHA-256 here), plus what identifies the run.
 */
type State = Omit<TrainerSnapshot, "optimizer" | "order"> & {
  configSha256: string;
  totalSteps: number;
  optimizerT: number;
  orderSha256: string;
  metrics: MetricsMark;
  seconds: number;
};

/** JSON has no NaN or ±Inf: they travel as {"$": "NaN"}. */
const replacer = (_k: string, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? { $: String(v) } : v);
const reviver = (_k: string, v: unknown) =>
  isObject(v) && Object.keys(v).length === 1 && (v.$ === "NaN" || v.$ === "Infinity" || v.$ === "-Infinity") ? Number(v.$) : v;

/** The tensors a checkpoint of `trainer` holds, by name, with their lengths. */
function layout(trainer: Trainer): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const t of [...trainer.model.params, ...trainer.model.buffers]) out.set(`model/${t.name}`, t.shape);
  const slots = trainer.optimizer.state().slots;
  trainer.model.params.forEach((p, i) => {
    if (slots[i].m.length > 0) out.set(`optimizer.m/${p.name}`, [slots[i].m.length]);
    if (slots[i].v.length > 0) out.set(`optimizer.v/${p.name}`, [slots[i].v.length]);
  });
  return out;
}

/**
 * The checkpoint of `trainer` between two steps, as file bytes. The model must be Float32 (the
 * runner's): the file stores F32 and a checkpoint must restore bit for bit.
 */
export function encodeCheckpoint(trainer: Trainer, extra: { configSha256: string; metrics: MetricsMark; seconds: number }): Uint8Array {
  if (trainer.model.dtype !== "f32") throw new Error("encodeCheckpoint: only Float32 models are checkpointed");
  const snap = trainer.snapshot();
  const tensors = new Map<string, StInput>();
  for (const t of [...trainer.model.params, ...trainer.model.buffers]) tensors.set(`model/${t.name}`, { shape: t.shape, data: t.value as Float32Array });
  trainer.model.params.forEach((p, i) => {
    const { m, v } = snap.optimizer.slots[i];
    if (m.length > 0) tensors.set(`optimizer.m/${p.name}`, { shape: [m.length], data: Float32Array.from(m) });
    if (v.length > 0) tensors.set(`optimizer.v/${p.name}`, { shape: [v.length], data: Float32Array.from(v) });
  });
  const state: State = {
    configSha256: extra.configSha256, totalSteps: trainer.totalSteps, step: snap.step, epochs: snap.epochs,
    epochLossSum: snap.epochLossSum, epochLossCount: snap.epochLossCount, recent: snap.recent,
    skippedSteps: snap.skippedSteps, nonFinite: snap.nonFinite, optimizerT: snap.optimizer.t,
    sourceRng: snap.sourceRng, epochRng: snap.epochRng, orderSha256: orderHash(snap.order),
    metrics: extra.metrics, seconds: extra.seconds,
  };
  const bytes = encodeSafetensors(tensors, { format: FORMAT, version: VERSION, state: JSON.stringify(state, replacer), sha256: ZEROS });
  const at = checksumOffset(bytes, ZEROS);
  bytes.set(Buffer.from(createHash("sha256").update(bytes).digest("hex")), at);
  return bytes;
}

/** Byte offset of the 64 hex digits of `"sha256":"<hex>"` in the header; -1 unless exactly one. */
function checksumOffset(bytes: Uint8Array, hex: string): number {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + 8, Math.min(n, bytes.length - 8));
  const needle = Buffer.from(`"sha256":"${hex}"`);
  const first = header.indexOf(needle);
  if (first < 0 || header.indexOf(needle, first + 1) >= 0) return -1;
  return 8 + first + needle.length - 65;
}

// ---------------------------------------------------------------------------------------------
// Decoding: every field checked.

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

class Check {
  constructor(private readonly what: string) {}
  fail(path: string, expected: string): never {
    throw new InputError(`${this.what}: ${path}: expected ${expected}`);
  }
  obj(v: unknown, path: string, keys: string[]): Record<string, unknown> {
    if (!isObject(v)) this.fail(path, "an object");
    const extra = Object.keys(v).find((k) => !keys.includes(k));
    if (extra !== undefined) this.fail(`${path}.${extra}`, "no such field");
    for (const k of keys) if (!Object.hasOwn(v, k)) this.fail(`${path}.${k}`, "a value");
    return v;
  }
  int(v: unknown, path: string, lo: number, hi: number): number {
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) this.fail(path, `an integer in [${lo}, ${hi}]`);
    return v;
  }
  num(v: unknown, path: string): number {
    if (typeof v !== "number") this.fail(path, "a number");
    return v;
  }
  finite(v: unknown, path: string, lo = -Infinity): number {
    if (typeof v !== "number" || !Number.isFinite(v) || v < lo) this.fail(path, lo === -Infinity ? "a finite number" : `a finite number ≥ ${lo}`);
    return v;
  }
  hex(v: unknown, path: string): string {
    if (typeof v !== "string" || !/^[0-9a-f]{64}$/.test(v)) this.fail(path, "64 hex digits");
    return v;
  }
  arr(v: unknown, path: string, length?: number): unknown[] {
    if (!Array.isArray(v) || (length !== undefined && v.length !== length)) this.fail(path, length === undefined ? "an array" : `an array of ${length}`);
    return v;
  }
}

/** Validate the state JSON against the trainer it is to be restored into. */
function checkState(raw: unknown, trainer: Trainer, configSha256: string, c: Check): State {
  const s = c.obj(raw, "state", [
    "configSha256", "totalSteps", "step", "epochs", "epochLossSum", "epochLossCount", "recent", "skippedSteps",
    "nonFinite", "optimizerT", "sourceRng", "epochRng", "orderSha256", "metrics", "seconds",
  ]);
  if (c.hex(s.configSha256, "state.configSha256") !== configSha256) c.fail("state.configSha256", "the hash of config.json (the config was changed after this checkpoint)");
  c.int(s.totalSteps, "state.totalSteps", trainer.totalSteps, trainer.totalSteps);
  const step = c.int(s.step, "state.step", 0, trainer.totalSteps);
  const nEpochs = Math.floor(step / trainer.stepsPerEpoch);
  const epochs = c.arr(s.epochs, "state.epochs", nEpochs).map((e, i) => {
    const o = c.obj(e, `state.epochs[${i}]`, ["epoch", "trainLoss", "testAccuracy", "testLoss"]);
    c.int(o.epoch, `state.epochs[${i}].epoch`, i + 1, i + 1);
    return { epoch: i + 1, trainLoss: c.num(o.trainLoss, `state.epochs[${i}].trainLoss`), testAccuracy: c.num(o.testAccuracy, `state.epochs[${i}].testAccuracy`), testLoss: c.num(o.testLoss, `state.epochs[${i}].testLoss`) };
  });
  // Steps into the current epoch; at a boundary the finished epoch's sums stay until the next step.
  const inEpoch = step > 0 && step % trainer.stepsPerEpoch === 0 ? trainer.stepsPerEpoch : step % trainer.stepsPerEpoch;
  const epochLossCount = c.int(s.epochLossCount, "state.epochLossCount", 0, inEpoch);
  const epochLossSum = c.num(s.epochLossSum, "state.epochLossSum");
  const recent = c.arr(s.recent, "state.recent", Math.min(100, trainer.totalSteps)).map((v, i) => c.num(v, `state.recent[${i}]`));
  const skippedSteps = c.int(s.skippedSteps, "state.skippedSteps", 0, step);
  const nf = c.obj(s.nonFinite, "state.nonFinite", ["steps", "first"]);
  const steps = c.int(nf.steps, "state.nonFinite.steps", 0, step);
  let first: NonFiniteInfo["first"] = null;
  if (nf.first !== null) {
    const f = c.obj(nf.first, "state.nonFinite.first", ["step", "cause", "tensor", "loss"]);
    const names = trainer.model.params.map((p) => p.name);
    if (f.cause !== "loss" && f.cause !== "gradient" && f.cause !== "weight") c.fail("state.nonFinite.first.cause", "loss, gradient or weight");
    if (f.tensor !== null && !names.includes(f.tensor as string)) c.fail("state.nonFinite.first.tensor", "null or a parameter name");
    first = { step: c.int(f.step, "state.nonFinite.first.step", 0, step - 1), cause: f.cause, tensor: f.tensor as string | null, loss: c.num(f.loss, "state.nonFinite.first.loss") };
  }
  if ((steps === 0) !== (first === null)) c.fail("state.nonFinite", "a first event exactly when steps > 0");
  const optimizerT = c.int(s.optimizerT, "state.optimizerT", 0, step);
  const sourceRng = checkRng(s.sourceRng, "state.sourceRng", c);
  const epochRng = checkRng(s.epochRng, "state.epochRng", c);
  const orderSha256 = c.hex(s.orderSha256, "state.orderSha256");
  const m = c.obj(s.metrics, "state.metrics", ["bytes", "sha256", "records"]);
  const metrics = { bytes: c.int(m.bytes, "state.metrics.bytes", 0, Number.MAX_SAFE_INTEGER), sha256: c.hex(m.sha256, "state.metrics.sha256"), records: c.int(m.records, "state.metrics.records", 0, step + 1) };
  const seconds = c.finite(s.seconds, "state.seconds", 0);
  return {
    configSha256, totalSteps: trainer.totalSteps, step, epochs, epochLossSum, epochLossCount, recent, skippedSteps,
    nonFinite: { steps, first }, optimizerT, sourceRng, epochRng, orderSha256, metrics, seconds,
  };
}

function checkRng(v: unknown, path: string, c: Check): RngState {
  const rng = c.obj(v, path, ["s", "spare"]);
  const words = c.arr(rng.s, `${path}.s`, 4).map((w, i) => c.int(w, `${path}.s[${i}]`, 0, 2 ** 32 - 1));
  if (words.every((w) => w === 0)) c.fail(`${path}.s`, "not all zero (xoshiro's one forbidden state)");
  const spare = rng.spare === null ? null : c.finite(rng.spare, `${path}.spare`);
  return { s: words as [number, number, number, number], spare };
}

/** SHA-256 of an order of example indices (as little-endian int32). */
function orderHash(order: Int32Array): string {
  return createHash("sha256").update(Buffer.from(order.buffer, order.byteOffset, order.byteLength)).digest("hex");
}

/**
 * The epoch's order, re-derived as BatchSource.shuffle() made it: identity, then Fisher–Yates
 * from the pre-shuffle state. Before the first step nothing has been shuffled: identity.
 */
function rederiveOrder(state: State, n: number, c: Check): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new Rng(0);
  rng.setState(state.epochRng);
  if (state.step > 0) rng.shuffle(order);
  const after = rng.state();
  if (after.spare !== state.sourceRng.spare || after.s.some((w, i) => w !== state.sourceRng.s[i])) {
    c.fail("state.epochRng", "the state that shuffles into state.sourceRng (was the shuffle changed?)");
  }
  if (orderHash(order) !== state.orderSha256) c.fail("state.orderSha256", "the SHA-256 of the re-derived order (was the shuffle changed?)");
  return order;
}

/** The most bytes a checkpoint of `trainer` can have: its tensors plus a generous header. */
function maxBytes(trainer: Trainer): number {
  let n = 0;
  for (const shape of layout(trainer).values()) n += 4 * shape.reduce((a, b) => a * b, 1);
  return 8 + MAX_HEADER + n;
}

/**
 * Decode and validate checkpoint bytes for `trainer` (same config: `configSha256`). Throws
 * InputError naming `what` and the first problem; nothing is restored here (see applyCheckpoint).
 */
export function decodeCheckpoint(bytes: Uint8Array, trainer: Trainer, configSha256: string, what: string): Checkpoint {
  if (bytes.length > maxBytes(trainer)) throw new InputError(`${what}: ${bytes.length} bytes, more than a checkpoint of this model can have`);
  const { tensors, metadata } = decodeSafetensors(bytes, what);
  const c: Check = new Check(what);
  if (metadata.format !== FORMAT) c.fail("__metadata__.format", `"${FORMAT}" (this is not a gradlab checkpoint)`);
  if (metadata.version !== VERSION) c.fail("__metadata__.version", `"${VERSION}"`);
  const sum = c.hex(metadata.sha256, "__metadata__.sha256");
  const at = checksumOffset(bytes, sum);
  if (at < 0) c.fail("__metadata__.sha256", "exactly one checksum in the header");
  const zeroed = Uint8Array.from(bytes);
  zeroed.set(Buffer.from(ZEROS), at);
  if (createHash("sha256").update(zeroed).digest("hex") !== sum) {
    throw new InputError(`${what}: checksum mismatch: the file is corrupt (truncated, or changed after it was written)`);
  }
  if (typeof metadata.state !== "string") c.fail("__metadata__.state", "a JSON string");
  let raw: unknown;
  try { raw = JSON.parse(metadata.state, reviver); } catch { c.fail("__metadata__.state", "valid JSON"); }
  const state = checkState(raw, trainer, configSha256, c);

  const want = layout(trainer);
  for (const name of tensors.keys()) if (!want.has(name)) c.fail(`tensor "${name}"`, "only this model's tensors");
  const got = new Map<string, Float32Array>();
  for (const [name, shape] of want) {
    const t = tensors.get(name);
    if (!t) c.fail(`tensor "${name}"`, "to be present");
    if (t.dtype !== "F32" || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) c.fail(`tensor "${name}"`, `F32 [${shape.join(", ")}]`);
    got.set(name, t.data as Float32Array);
  }
  const order = rederiveOrder(state, trainer.source.n, c);
  const slots: OptimizerState["slots"] = trainer.model.params.map((p, i) => {
    const cur = trainer.optimizer.state().slots[i];
    const m = cur.m.length > 0 ? Array.from(got.get(`optimizer.m/${p.name}`)!) : [];
    const v = cur.v.length > 0 ? Array.from(got.get(`optimizer.v/${p.name}`)!) : [];
    return { m, v };
  });
  const model = new Map<string, Float32Array>();
  for (const [name, data] of got) if (name.startsWith("model/")) model.set(name.slice("model/".length), data);
  return {
    step: state.step,
    snapshot: {
      step: state.step, epochs: state.epochs, epochLossSum: state.epochLossSum, epochLossCount: state.epochLossCount,
      recent: state.recent, skippedSteps: state.skippedSteps, nonFinite: state.nonFinite,
      optimizer: { t: state.optimizerT, slots },
      sourceRng: state.sourceRng,
      epochRng: state.epochRng,
      order,
    },
    tensors: model,
    metrics: state.metrics,
    seconds: state.seconds,
  };
}

/** Put a decoded checkpoint into the trainer: the model's tensors, then the training state. */
export function applyCheckpoint(trainer: Trainer, ck: Checkpoint): void {
  trainer.restore(ck.snapshot);
  for (const t of [...trainer.model.params, ...trainer.model.buffers]) t.value.set(ck.tensors.get(t.name)!);
}

// ---------------------------------------------------------------------------------------------
// Checkpoint files.

/** The checkpoint files of a run folder, newest first. */
export function listCheckpoints(runDir: string): { step: number; file: string }[] {
  const dir = join(runDir, CHECKPOINT_DIR);
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  return names.flatMap((f) => { const m = NAME.exec(f); return m ? [{ step: Number(m[1]), file: join(dir, f) }] : []; })
    .sort((a, b) => b.step - a.step);
}

/** Write a checkpoint file atomically and keep only the newest `keep`. */
export function saveCheckpoint(runDir: string, step: number, bytes: Uint8Array, keep = 2): void {
  const dir = join(runDir, CHECKPOINT_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, `step-${String(step).padStart(10, "0")}.safetensors`), bytes);
  for (const old of listCheckpoints(runDir).slice(keep)) rmSync(old.file, { force: true });
}

/** SHA-256 of the first `bytes` bytes of a file, read in chunks. */
function prefixHash(file: string, bytes: number): string {
  const h = createHash("sha256");
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let pos = 0; pos < bytes;) {
      const got = readSync(fd, buf, 0, Math.min(buf.length, bytes - pos), pos);
      if (got === 0) break;
      h.update(buf.subarray(0, got));
      pos += got;
    }
  } finally { closeSync(fd); }
  return h.digest("hex");
}

/** Check that metrics.jsonl still starts with exactly what the checkpoint saw. */
function checkMetrics(metricsFile: string, mark: MetricsMark, what: string): void {
  let size = 0;
  try { size = statSync(metricsFile).size; } catch { /* missing: size 0 */ }
  if (size < mark.bytes) throw new InputError(`${what}: metrics.jsonl has ${size} bytes, fewer than the ${mark.bytes} this checkpoint recorded`);
  if (mark.bytes > 0 && prefixHash(metricsFile, mark.bytes) !== mark.sha256) {
    throw new InputError(`${what}: metrics.jsonl was changed before byte ${mark.bytes} since this checkpoint`);
  }
}

/**
 * The newest checkpoint of `runDir` that is valid for `trainer` and agrees with metrics.jsonl;
 * problems with newer ones are returned as one-line notes. Null when the folder has no
 * checkpoint at all (the run restarts from step 0, a pure function of its config); an
 * InputError when it has some but none is usable.
 */
export function loadLatestCheckpoint(runDir: string, trainer: Trainer, configSha256: string, metricsFile: string): { checkpoint: Checkpoint; file: string; notes: string[] } | null {
  const files = listCheckpoints(runDir);
  if (files.length === 0) return null;
  const notes: string[] = [];
  const limit = maxBytes(trainer);
  for (const { file } of files) {
    try {
      const size = statSync(file).size;
      if (size > limit) throw new InputError(`${file}: ${size} bytes, more than a checkpoint of this model can have`);
      const checkpoint = decodeCheckpoint(readFileSync(file), trainer, configSha256, file);
      checkMetrics(metricsFile, checkpoint.metrics, file);
      return { checkpoint, file, notes };
    } catch (e) {
      if (!(e instanceof InputError) && (e as NodeJS.ErrnoException).code === undefined) throw e;
      notes.push(e instanceof InputError ? e.message : `${file}: cannot read (${(e as NodeJS.ErrnoException).code})`);
    }
  }
  throw new InputError(`${join(runDir, CHECKPOINT_DIR)}: no usable checkpoint (${notes.join("; ")}); delete that folder to start the run over from step 0`);
}

// ---------------------------------------------------------------------------------------------
// The run lock: run.lock, created exclusively (O_EXCL), holding {pid, host, started}.

export interface LockHolder { pid: number; host: string; started: string }

function readHolder(file: string): LockHolder | null {
  try {
    const v = JSON.parse(readFileSync(file, "utf8"));
    return isObject(v) && Number.isSafeInteger(v.pid) && typeof v.host === "string" && typeof v.started === "string" ? (v as unknown as LockHolder) : null;
  } catch { return null; }
}

/** Whether the process holding a lock is still running (on another host: assumed so). */
function alive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  try { process.kill(h.pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === "EPERM"; }
}

/**
 * Who holds `runDir`'s lock, if a live process does; a lock whose process is gone (kill -9) is
 * stale and reported as null. An unreadable lock younger than 10 s is being written: held.
 */
export function lockHolder(runDir: string): LockHolder | null {
  const file = join(runDir, LOCK_FILE);
  if (!existsSync(file)) return null;
  const h = readHolder(file);
  if (h) return alive(h) ? h : null;
  try {
    const age = Date.now() - statSync(file).mtimeMs;
    return age < 10_000 ? { pid: 0, host: "?", started: "just now" } : null;
  } catch { return null; }
}

function inUse(runDir: string, h: LockHolder): InputError {
  return new InputError(`${runDir}: in use by another gradlab run (pid ${h.pid} on ${h.host}, since ${h.started}); two runs never share a folder (if no such run exists, delete ${join(runDir, LOCK_FILE)})`);
}

/** A held lock; release() removes it if it is still ours. */
export class RunLock {
  constructor(readonly file: string, private readonly content: string) {}
  release(): void {
    try { if (readFileSync(this.file, "utf8") === this.content) unlinkSync(this.file); } catch { /* already gone */ }
  }
}

/**
 * Take `runDir`'s lock (the folder must exist), breaking a stale one. Throws InputError when a
 * live run holds it.
 */
export function acquireLock(runDir: string): RunLock {
  const file = join(runDir, LOCK_FILE);
  const content = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }) + "\n";
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx");
      try { writeSync(fd, content); } finally { closeSync(fd); }
      return new RunLock(file, content);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = lockHolder(runDir);
    if (holder) throw inUse(runDir, holder);
    // Stale: move it aside under a name of our own, and check that what we moved is what we judged
    // (another process may have replaced it in between; then put it back and yield to it).
    let before: string;
    try { before = readFileSync(file, "utf8"); } catch { continue; }  // gone meanwhile: try again
    const aside = `${file}.stale-${process.pid}`;
    try { renameSync(file, aside); } catch { continue; }
    const moved = readFileSync(aside, "utf8");
    if (moved !== before) {
      try { renameSync(aside, file); } catch { /* it is theirs; ours to lose */ }
      const h = readHolder(file);
      if (h) throw inUse(runDir, h);
    }
    rmSync(aside, { force: true });
  }
  throw new InputError(`${runDir}: could not take ${LOCK_FILE}; another run is starting in this folder`);
}
