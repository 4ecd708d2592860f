/**
 * Checkpoints: the codec (encode / decode / apply) and the checkpoint files of a run folder.
 *
 * A checkpoint is one safetensors file, `checkpoint/step-<10 digits>.safetensors`:
 *   model/<name>            every parameter and buffer (F32, the model's shapes)
 *   optimizer.m/<name>, optimizer.v/<name>   the optimizer's slots that it uses (F32)
 *   __metadata__: format "gradlab-checkpoint", version "1", state (JSON: the trainer's snapshot
 *   field by field as trainer.ts's SNAPSHOT_FIELDS lists them, plus the config hash, the run's
 *   total steps, metrics.jsonl's byte length + SHA-256 of that prefix, and the training seconds)
 *   and sha256, the SHA-256 of the whole file with these 64 hex digits written as zeros.
 * Each kind of snapshot field has one codec here (KINDS): how it is stored and how it is read
 * back. The optimizer's moments are stored as the tensors above (the state holds its step count,
 * `optimizerT`); the epoch's order of examples is not stored (60,000 indices would be 96% of the
 * file and of its cost): it is re-derived by shuffling again from the saved pre-shuffle state,
 * and must land on the saved RNG state and the saved SHA-256 of the order (`orderSha256`), so a
 * change in the shuffle is detected rather than silently resumed.
 * Files are written with the one atomic write (atomic.ts); the last two are kept. A checkpoint
 * is untrusted input when read back: size, structure, checksum, every field's type and range,
 * every tensor's name and shape, and the order being a permutation are checked before anything
 * is restored.
 */
import { createHash } from "node:crypto";
import { closeSync, readSync, readdirSync, rmSync } from "node:fs";
import { openChecked, readChecked } from "../../data/read-file.ts";
import { join } from "node:path";
import { InputError } from "../../core/errors.ts";
import type { OptimizerState } from "../../core/optim.ts";
import { Rng, type RngState } from "../../core/rng.ts";
import { decodeSafetensors, encodeSafetensors, type StInput } from "../../data/safetensors.ts";
import type { Config } from "../config.ts";
import { SNAPSHOT_FIELDS, type NonFiniteCause, type NonFiniteInfo, type SnapshotField, type SnapshotKinds, type Trainer, type TrainerSnapshot } from "../trainer.ts";
import { RecordKeep } from "../../instrument/keep.ts";
import { makeFolders, writeFileAtomic } from "./atomic.ts";

export const CHECKPOINT_DIR = "checkpoint";
const FORMAT = "gradlab-checkpoint";
const VERSION = "1";
const NAME = /^step-(\d{10})\.safetensors$/;
/** Room for the header (state JSON, names) beyond the tensors when a file's size is checked. */
const MAX_HEADER = 16 * 2 ** 20;
const ZEROS = "0".repeat(64);

/** SHA-256 of a canonical config (parseConfig's output, stringified): ties a checkpoint to its run. */
export function configHash(config: Config): string {
  return createHash("sha256").update(JSON.stringify(config)).digest("hex");
}

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

/** What identifies the run and its files, stored beside the snapshot's fields. */
interface Extra { configSha256: string; metrics: MetricsMark; seconds: number }

/** JSON has no NaN or ±Inf: they travel as {"$": "NaN"}. */
const replacer = (_k: string, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? { $: String(v) } : v);
const reviver = (_k: string, v: unknown) =>
  isObject(v) && Object.keys(v).length === 1 && (v.$ === "NaN" || v.$ === "Infinity" || v.$ === "-Infinity") ? Number(v.$) : v;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// One codec per kind of snapshot field.

/** Checks of untrusted values: each failure is one InputError naming `what`, the path and what was expected. */
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

/** What reading a field back may use: the trainer, the optimizer's slots (read from the tensors), the fields read before it. */
interface DecodeContext { trainer: Trainer; c: Check; slots: OptimizerState["slots"]; done: Partial<TrainerSnapshot> }

type Kind = keyof SnapshotKinds;

/** How one kind of snapshot field is stored in the state JSON and read back (type checks here; ranges in checkFits). */
interface KindCodec<K extends Kind> {
  /** its key in the state JSON, from the field's name */
  key(field: string): string;
  encode(v: SnapshotKinds[K]): unknown;
  decode(raw: unknown, path: string, ctx: DecodeContext): SnapshotKinds[K];
}

const sameKey = (field: string) => field;
const MAX_INT = Number.MAX_SAFE_INTEGER;

const KINDS: { [K in Kind]: KindCodec<K> } = {
  count: { key: sameKey, encode: (v) => v, decode: (raw, path, { c }) => c.int(raw, path, 0, MAX_INT) },
  number: { key: sameKey, encode: (v) => v, decode: (raw, path, { c }) => c.num(raw, path) },
  numbers: { key: sameKey, encode: (v) => v, decode: (raw, path, { c }) => c.arr(raw, path).map((v, i) => c.num(v, `${path}[${i}]`)) },
  epochs: {
    key: sameKey,
    encode: (v) => v,
    decode: (raw, path, { c }) => c.arr(raw, path).map((e, i) => {
      const p = `${path}[${i}]`;
      const o = c.obj(e, p, ["epoch", "trainLoss", "testAccuracy", "testLoss"]);
      return { epoch: c.int(o.epoch, `${p}.epoch`, 1, MAX_INT), trainLoss: c.num(o.trainLoss, `${p}.trainLoss`), testAccuracy: c.num(o.testAccuracy, `${p}.testAccuracy`), testLoss: c.num(o.testLoss, `${p}.testLoss`) };
    }),
  },
  nonFinite: {
    key: sameKey,
    encode: (v) => v,
    decode: (raw, path, { c }) => {
      const nf = c.obj(raw, path, ["steps", "first"]);
      const steps = c.int(nf.steps, `${path}.steps`, 0, MAX_INT);
      if (nf.first === null) return { steps, first: null };
      const f = c.obj(nf.first, `${path}.first`, ["step", "cause", "tensor", "loss"]);
      const cause = f.cause as NonFiniteCause, tensor = f.tensor as string | null;
      if (cause !== "loss" && cause !== "gradient" && cause !== "weight") c.fail(`${path}.first.cause`, "loss, gradient or weight");
      if (tensor !== null && typeof tensor !== "string") c.fail(`${path}.first.tensor`, "null or a parameter name");
      const first: NonFiniteInfo["first"] = { step: c.int(f.step, `${path}.first.step`, 0, MAX_INT), cause, tensor, loss: c.num(f.loss, `${path}.first.loss`) };
      return { steps, first };
    },
  },
  // The step count only; the moments are the optimizer.m/ and optimizer.v/ tensors.
  optimizer: { key: (f) => `${f}T`, encode: (v) => v.t, decode: (raw, path, { c, slots }) => ({ t: c.int(raw, path, 0, MAX_INT), slots }) },
  rng: { key: sameKey, encode: (v) => v, decode: (raw, path, { c }) => checkRng(raw, path, c) },
  // The order's SHA-256 only; the order itself is re-derived from the RNG states read before it.
  order: { key: (f) => `${f}Sha256`, encode: (v) => orderHash(v), decode: (raw, path, { c, trainer, done }) => rederiveOrder(done, c.hex(raw, path), trainer.source.n, c) },
};

const FIELDS = Object.keys(SNAPSHOT_FIELDS) as SnapshotField[];
/** The state JSON's keys, in the order they are written. */
const STATE_KEYS = ["configSha256", "totalSteps", ...FIELDS.map((f) => KINDS[SNAPSHOT_FIELDS[f]].key(f)), "metrics", "seconds"];

/** A field's codec, typed by its kind. */
function codecOf(field: SnapshotField): KindCodec<Kind> {
  return KINDS[SNAPSHOT_FIELDS[field]] as KindCodec<Kind>;
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
function rederiveOrder(s: Partial<TrainerSnapshot>, sha256: string, n: number, c: Check): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new Rng(0);
  rng.setState(s.epochRng!);
  if (s.step! > 0) rng.shuffle(order);
  const after = rng.state();
  if (after.spare !== s.sourceRng!.spare || after.s.some((w, i) => w !== s.sourceRng!.s[i])) {
    c.fail("state.epochRng", "the state that shuffles into state.sourceRng (was the shuffle changed?)");
  }
  if (orderHash(order) !== sha256) c.fail("state.orderSha256", "the SHA-256 of the re-derived order (was the shuffle changed?)");
  return order;
}

/**
 * The ranges that tie a snapshot to `trainer`: counts bounded by the step, one result per
 * finished epoch, the ring's length, the first non-finite event before the step.
 */
function checkFits(s: TrainerSnapshot, trainer: Trainer, c: Check): void {
  const { totalSteps, stepsPerEpoch } = trainer;
  if (s.step > totalSteps) c.fail("state.step", `an integer in [0, ${totalSteps}]`);
  const nEpochs = Math.floor(s.step / stepsPerEpoch);
  // The trainer keeps every epoch's results up to its limit, then an even selection (RecordKeep).
  const kept = RecordKeep.positions(nEpochs, trainer.keepEpochs);
  if (s.epochs.length !== kept.length) c.fail("state.epochs", `an array of ${kept.length}`);
  s.epochs.forEach((e, i) => { if (e.epoch !== kept[i] + 1) c.fail(`state.epochs[${i}].epoch`, `an integer in [${kept[i] + 1}, ${kept[i] + 1}]`); });
  // Steps into the current epoch; at a boundary the finished epoch's sums stay until the next step.
  const inEpoch = s.step > 0 && s.step % stepsPerEpoch === 0 ? stepsPerEpoch : s.step % stepsPerEpoch;
  if (s.epochLossCount > inEpoch) c.fail("state.epochLossCount", `an integer in [0, ${inEpoch}]`);
  const ring = Math.min(100, totalSteps);
  if (s.recent.length !== ring) c.fail("state.recent", `an array of ${ring}`);
  if (s.skippedSteps > s.step) c.fail("state.skippedSteps", `an integer in [0, ${s.step}]`);
  const { steps, first } = s.nonFinite;
  if (steps > s.step) c.fail("state.nonFinite.steps", `an integer in [0, ${s.step}]`);
  if (first !== null) {
    if (first.step > s.step - 1) c.fail("state.nonFinite.first.step", `an integer in [0, ${s.step - 1}]`);
    if (first.tensor !== null && !trainer.model.params.some((p) => p.name === first.tensor)) c.fail("state.nonFinite.first.tensor", "null or a parameter name");
  }
  if ((steps === 0) !== (first === null)) c.fail("state.nonFinite", "a first event exactly when steps > 0");
  if (s.optimizer.t > s.step) c.fail("state.optimizerT", `an integer in [0, ${s.step}]`);
}

// ---------------------------------------------------------------------------------------------
// Encoding and decoding.

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
export function encodeCheckpoint(trainer: Trainer, extra: Extra): Uint8Array {
  if (trainer.model.dtype !== "f32") throw new Error("encodeCheckpoint: only Float32 models are checkpointed");
  const snap = trainer.snapshot();
  const tensors = new Map<string, StInput>();
  for (const t of [...trainer.model.params, ...trainer.model.buffers]) tensors.set(`model/${t.name}`, { shape: t.shape, data: t.value as Float32Array });
  trainer.model.params.forEach((p, i) => {
    const { m, v } = snap.optimizer.slots[i];
    if (m.length > 0) tensors.set(`optimizer.m/${p.name}`, { shape: [m.length], data: Float32Array.from(m) });
    if (v.length > 0) tensors.set(`optimizer.v/${p.name}`, { shape: [v.length], data: Float32Array.from(v) });
  });
  const state: Record<string, unknown> = { configSha256: extra.configSha256, totalSteps: trainer.totalSteps };
  for (const f of FIELDS) state[codecOf(f).key(f)] = codecOf(f).encode(snap[f]);
  state.metrics = extra.metrics;
  state.seconds = extra.seconds;
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

  // The tensors: exactly this model's, with their shapes.
  const want = layout(trainer);
  for (const name of tensors.keys()) if (!want.has(name)) c.fail(`tensor "${name}"`, "only this model's tensors");
  const got = new Map<string, Float32Array>();
  for (const [name, shape] of want) {
    const t = tensors.get(name);
    if (!t) c.fail(`tensor "${name}"`, "to be present");
    if (t.dtype !== "F32" || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) c.fail(`tensor "${name}"`, `F32 [${shape.join(", ")}]`);
    got.set(name, t.data as Float32Array);
  }
  const slots: OptimizerState["slots"] = trainer.model.params.map((p, i) => {
    const cur = trainer.optimizer.state().slots[i];
    const m = cur.m.length > 0 ? Array.from(got.get(`optimizer.m/${p.name}`)!) : [];
    const v = cur.v.length > 0 ? Array.from(got.get(`optimizer.v/${p.name}`)!) : [];
    return { m, v };
  });

  // The state: what identifies the run, then the snapshot field by field, then its ranges.
  const s = c.obj(raw, "state", STATE_KEYS);
  if (c.hex(s.configSha256, "state.configSha256") !== configSha256) c.fail("state.configSha256", "the hash of config.json (the config was changed after this checkpoint)");
  c.int(s.totalSteps, "state.totalSteps", trainer.totalSteps, trainer.totalSteps);
  const done: Partial<TrainerSnapshot> = {};
  const ctx: DecodeContext = { trainer, c, slots, done };
  for (const f of FIELDS) {
    const key = codecOf(f).key(f);
    (done as Record<string, unknown>)[f] = codecOf(f).decode(s[key], `state.${key}`, ctx);
  }
  const snapshot = done as TrainerSnapshot;
  checkFits(snapshot, trainer, c);
  const m = c.obj(s.metrics, "state.metrics", ["bytes", "sha256", "records"]);
  const metrics = { bytes: c.int(m.bytes, "state.metrics.bytes", 0, MAX_INT), sha256: c.hex(m.sha256, "state.metrics.sha256"), records: c.int(m.records, "state.metrics.records", 0, snapshot.step + 1) };
  const seconds = c.finite(s.seconds, "state.seconds", 0);

  const model = new Map<string, Float32Array>();
  for (const [name, data] of got) if (name.startsWith("model/")) model.set(name.slice("model/".length), data);
  return { step: snapshot.step, snapshot, tensors: model, metrics, seconds };
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
  makeFolders(dir);
  writeFileAtomic(join(dir, `step-${String(step).padStart(10, "0")}.safetensors`), bytes);
  for (const old of listCheckpoints(runDir).slice(keep)) rmSync(old.file, { force: true });
}

/** SHA-256 of the first `bytes` bytes of a file, read in chunks. */
function prefixHash(file: string, bytes: number): string {
  const h = createHash("sha256");
  const { fd } = openChecked(file, "expected the run's metrics.jsonl");
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

/** The size of a regular file, through the checked open (a FIFO or a device is refused). */
function openSize(file: string): number {
  const { fd, size } = openChecked(file, "expected the run's metrics.jsonl");
  closeSync(fd);
  return size;
}

/** Check that metrics.jsonl still starts with exactly what the checkpoint saw. */
function checkMetrics(metricsFile: string, mark: MetricsMark, what: string): void {
  let size = 0;
  try { size = openSize(metricsFile); } catch (e) { if (e instanceof InputError && !e.message.includes("no such file")) throw e; /* missing: size 0 */ }
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
      const bytes = readChecked(file, {
        cap: limit, expected: "expected a gradlab checkpoint (.safetensors)",
        tooBig: () => `${file}: more than the ${limit} bytes a checkpoint of this model can have`,
      });
      const checkpoint = decodeCheckpoint(bytes, trainer, configSha256, file);
      checkMetrics(metricsFile, checkpoint.metrics, file);
      return { checkpoint, file, notes };
    } catch (e) {
      if (!(e instanceof InputError) && (e as NodeJS.ErrnoException).code === undefined) throw e;
      notes.push(e instanceof InputError ? e.message : `${file}: cannot read (${(e as NodeJS.ErrnoException).code})`);
    }
  }
  throw new InputError(`${join(runDir, CHECKPOINT_DIR)}: no usable checkpoint (${notes.join("; ")}); delete that folder to start the run over from step 0`);
}
