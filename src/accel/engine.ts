/**
 * The WebAssembly SIMD engine of one thread: one module (the functions of every operation in
 * ops/, assembled by asm.ts) with its own memory, grown on demand, in which each call lays its
 * operands out after a constant table. The operations' bindings (ops/*.ts) call its methods.
 *
 * Data movement: layers keep plain typed arrays, so each call copies its operands in
 * (TypedArray.set, a memcpy: ~0.04 ns per float when in cache, against ~1 ns for a JS loop)
 * and its results back; slice views are cached so copying allocates nothing.
 * GEMM driver: C (+)= A·B with B packed into 16-column panels; columns in cache blocks (a block
 * of B ≤ 256 KiB stays in a 1 MiB L2 while every pair of rows of A streams through it). gemmNT
 * packs Bᵀ, or — when M (the batch) is the smaller side — computes Cᵀ = B·Aᵀ with Aᵀ packed and
 * transposes back, whichever a cost model finds cheaper. Convolution: the whole batch per
 * product. Optionally a helper thread shares the memory and takes half of the large calls
 * (withHelper, serveHelper), or half of a whole sequence's examples as one list of calls.
 * Resident weights: an array that resident.ts versions (a recurrent layer's W_hh) is packed once
 * into an arena kept between calls (after the base, before each call's regions) and reused by
 * every product that reads it while its version is unchanged; a recurrent layer's whole forward
 * (and a relu/tanh/sigmoid RNN's whole backward) can then run as one call (…Sequence), with no
 * copy per time step.
 */
import { compileModule, SHARED_MAX_PAGES, type FuncDef } from "./asm.ts";
import { CONSTANTS_AT, CONSTANTS_BYTES } from "./lane-math.ts";
import { moduleBytes, moduleConstants } from "./module-bytes.ts";
import { ACTIVATION_FUNCS } from "./ops/activation.ts";
import { CELL_FUNCS } from "./ops/cells.ts";
import { CONV_FUNCS, type ConvGeometry } from "./ops/conv.ts";
import { GATHER_FUNCS } from "./ops/gather.ts";
import { GEMM_FUNCS, INIT_C, INIT_COL_BIAS, INIT_ROW_BIAS, INIT_ZERO } from "./ops/gemm.ts";
import { POOL_FUNCS } from "./ops/pool.ts";
import { REDUCE_FUNCS } from "./ops/reduce.ts";
import { checkingResident, versionOf } from "./resident.ts";
import { UPDATE_CONSTANT_COUNT, UPDATE_FUNCS } from "./ops/update.ts";

/** Every function of the module, in order: GEMM_FUNCS first (product calls functions 0 and 1, tile2 and tile1). */
export const MODULE_FUNCS: readonly FuncDef[] = [...GEMM_FUNCS, ...CONV_FUNCS, ...ACTIVATION_FUNCS, ...CELL_FUNCS, ...POOL_FUNCS, ...REDUCE_FUNCS, ...UPDATE_FUNCS, ...GATHER_FUNCS];
if (MODULE_FUNCS[0].name !== "tile2" || MODULE_FUNCS[1].name !== "tile1") throw new Error("accel: product calls functions 0 and 1, which must be tile2 and tile1");
type Kernel = (...args: number[]) => void;
type Exports = Record<string, Kernel>;

const NAMES = MODULE_FUNCS.map((f) => f.name);
const compiled: Record<"private" | "shared", WebAssembly.Module | null | undefined> = { private: undefined, shared: undefined };
/**
 * The compiled module, or null where the runtime cannot run WebAssembly SIMD (then the
 * reference runs, said once). `shared`: the variant whose memory is shared with a helper thread
 * (SharedArrayBuffer). Throws, naming the function and byte, when an emitter produced code that
 * does not validate.
 */
export function wasmModule(shared = false): WebAssembly.Module | null {
  const key = shared ? "shared" : "private";
  if (compiled[key] === undefined) compiled[key] = compileModule(MODULE_FUNCS, shared, moduleBytes(shared));
  return compiled[key];
}

// --- a helper thread -------------------------------------------------------------------------
// A second thread runs part of a call on the same (shared) memory: a product's columns (or
// rows), a cell step's examples, an elementwise buffer's second half, or (a list job) every step
// of a recurrent pass for half the examples. Each value is still
// computed by the same code in the same order, so results do not depend on the helper.
// Protocol over a shared Int32Array: [0] state, [1] kernel number, [2…] its arguments.

/** What the helper thread needs: postMessage this to it, and call serveHelper there. */
export interface HelperInit { module: WebAssembly.Module; memory: WebAssembly.Memory; control: SharedArrayBuffer }
/** A Worker (browser) or worker_threads Worker (Node): anything that can post the init message. */
export interface HelperPort { postMessage(message: unknown): void }

const IDLE = 0, JOB = 1, DONE = 2, RUNNING = 3;
const CONTROL_INTS = 16;
/** Busy-wait this many polls before sleeping (a training step's calls come µs apart). */
const SPINS = 1 << 16;
/**
 * Polls the main thread waits, its own part done, for the helper to take a job up before it
 * takes the job back and runs it itself (a few µs; the helper takes a job up within ~0.5 µs
 * when its core is free). On a machine whose second core is busy the helper may not run for a
 * whole scheduler time slice (~1 ms): without this, every split call waited that long, and two
 * threads ran 2–10× slower than one.
 */
const RECLAIM_SPINS = 1 << 12;
/**
 * Polls before taking a job back while the helper has missed the jobs before it (a few hundred
 * ns). A helper off its core misses whole runs of jobs, typically during the JIT's warm-up, when
 * V8's compiler threads share the two cores: the row RNN's first ~40 steps took back 75–85 of a
 * step's 85 jobs each, and RECLAIM_SPINS polls on each made such a step 2–3× slower than one
 * thread. The first job the helper takes up again ends the streak.
 */
const RECLAIM_SPINS_MISSING = 1 << 6;

/**
 * The helper thread's loop (never returns): wait for a job, run the kernel, report done.
 * @example // in a worker: onmessage = (e) => serveHelper(e.data)
 */
export function serveHelper(init: HelperInit): void {
  const fns = Object.values(new WebAssembly.Instance(init.module, { env: { mem: init.memory } }).exports) as Kernel[];
  const c = new Int32Array(init.control);
  let ints = new Int32Array(init.memory.buffer);
  for (;;) {
    let spins = 0;
    for (let s = Atomics.load(c, 0); s !== JOB; s = Atomics.load(c, 0)) {
      if (++spins > SPINS) Atomics.wait(c, 0, s);
    }
    // take the job up, unless the main thread has taken it back meanwhile (join)
    if (Atomics.compareExchange(c, 0, JOB, RUNNING) !== JOB) continue;
    if (c[1] === LIST) {
      if (c[2] + LIST_INTS * c[3] > ints.length) ints = new Int32Array(init.memory.buffer); // the main thread grew the memory
      runList(fns, ints, c[2], c[3]);
    } else {
      fns[c[1]](c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]);
    }
    Atomics.store(c, 0, DONE);
    Atomics.notify(c, 0);
  }
}

/**
 * A job that is a list of calls: `count` entries of LIST_INTS ints from int `at` of the memory,
 * each a kernel number and its 14 arguments. A whole sequence's steps for the helper's examples
 * go as one such job, so the two threads meet once per pass, not twice per time step.
 */
const LIST = -1;
const LIST_INTS = 16;
function runList(fns: Kernel[], m: Int32Array, at: number, count: number): void {
  for (let e = at, end = at + LIST_INTS * count; e < end; e += LIST_INTS) {
    fns[m[e]](m[e + 1], m[e + 2], m[e + 3], m[e + 4], m[e + 5], m[e + 6], m[e + 7], m[e + 8], m[e + 9], m[e + 10], m[e + 11], m[e + 12], m[e + 13], m[e + 14]);
  }
}

/** One kernel call, by kernel number, with up to 14 arguments (the rest 0): run now, or written into a list. */
type Emit = (k: number, a0: number, a1?: number, a2?: number, a3?: number, a4?: number, a5?: number, a6?: number, a7?: number, a8?: number, a9?: number, a10?: number, a11?: number, a12?: number, a13?: number) => void;
/** A whole-sequence pass's calls for examples b0…b1−1 of B (WasmEngine.sequence): emitted, so either thread can run them. */
type Steps = (this: WasmEngine, emit: Emit, b0: number, b1: number, B: number, T: number, H: number, wp: number, r0: number, r1: number, r2: number, r3: number, r4: number, r5: number) => void;

const PAGE = 65536;
/** Products of at least this many multiply-adds are split with the helper thread, when there is one. */
const PARALLEL_MACS = 1 << 18;
/** Elementwise calls of at least this many values (cells: examples × units) are split alike. */
const PARALLEL_VALUES = 1 << 12;
const PRODUCT = NAMES.indexOf("product"), LSTM = NAMES.indexOf("lstm"), GRU = NAMES.indexOf("gru");
const LSTM_BACK = NAMES.indexOf("lstmBackward"), GRU_BACK = NAMES.indexOf("gruBackward");
const SIGMOID = NAMES.indexOf("sigmoid"), TANH = NAMES.indexOf("tanh"), RELU = NAMES.indexOf("relu");
const SIGMOID_BACK = NAMES.indexOf("sigmoidBackward"), TANH_BACK = NAMES.indexOf("tanhBackward"), RELU_BACK = NAMES.indexOf("reluBackward");
/** Panels per column block, so that a block of B (K × 16·sc floats) takes ≤ 256 KiB of a 1 MiB L2. */
const BLOCK_BYTES = 256 * 1024;
/**
 * The cost model that picks gemmNT's orientation: one value moved by a transpose/pack costs
 * about as much as this many multiply-adds in the tile (~25 GMAC/s against ~2 G values/s).
 */
const MACS_PER_MOVE = 12;

/**
 * Views of a typed array's slices, cached so that copying a slice in or out does not allocate a
 * view object per call (training steps allocate nothing). Per array, a few (offset, length) pairs.
 */
class Slices<T extends Float32Array | Int32Array | Float64Array> {
  private readonly cache = new WeakMap<T, T[]>();
  get(a: T, off: number, n: number): T {
    if (off === 0 && n === a.length) return a;
    let list = this.cache.get(a);
    if (!list) { list = []; this.cache.set(a, list); }
    const byteOffset = a.byteOffset + a.BYTES_PER_ELEMENT * off;
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      if (v.byteOffset === byteOffset && v.length === n) return v;
    }
    const v = a.subarray(off, off + n) as T;
    if (list.length >= 64) list.shift(); // bounded: a sequence addresses ≤ T + 1 slices of a buffer
    list.push(v);
    return v;
  }
}

const pad4 = (n: number) => (n + 3) & ~3;    // floats, so every region starts 16-byte aligned
const pad16 = (n: number) => (n + 15) & ~15; // columns of whole panels

// --- bytes the gather reads in place ------------------------------------------------------------
// A dataset read into kernelBytes lives in a WebAssembly memory of its own, never grown (so the
// array is never detached), with room after it for one gather's indices and floats; the gather
// kernel runs there through an instance of the module on that memory. Copying MNIST's 47 MB of
// training images into the engine's memory instead faulted in fresh pages for about 0.2 s.

/** Room after the bytes for one gather call (indices, then floats): 1,336 MNIST images a call. */
const STORE_SCRATCH = 4 << 20;

interface ByteStore {
  memory: WebAssembly.Memory;
  /** the scratch's first float (and int) index, 16-byte aligned */
  scratch: number;
  f32: Float32Array;
  i32: Int32Array;
  slices: Slices<Float32Array>;
  /** the gather kernel on this memory, instantiated on first use */
  gather: Kernel | null;
}
const stores = new WeakMap<ArrayBufferLike, ByteStore>();

/**
 * A zeroed byte array of length n that the batch gather (WasmEngine.gather) reads in place, for
 * any engine: read a dataset's images into it and they are never copied into kernel memory. A
 * plain Uint8Array where WebAssembly is unavailable or the memory cannot be had (the gather then
 * copies, or views.ts's loop runs: the same floats either way).
 * @example const images = kernelBytes(47_040_000); // fill it from the IDX file
 */
export function kernelBytes(n: number): Uint8Array {
  const scratch = pad16(n);
  let memory: WebAssembly.Memory;
  try { memory = new WebAssembly.Memory({ initial: Math.ceil((scratch + STORE_SCRATCH) / PAGE) }); } catch { return new Uint8Array(n); }
  const f32 = new Float32Array(memory.buffer);
  stores.set(memory.buffer, { memory, scratch: scratch / 4, f32, i32: new Int32Array(memory.buffer), slices: new Slices(), gather: null });
  return new Uint8Array(memory.buffer, 0, n);
}

/** Whether `a` lies in bytes from kernelBytes (the gather then reads it in place). */
export function isKernelBytes(a: Uint8Array): boolean {
  return stores.has(a.buffer);
}

/** WasmEngine.gather on images in a byte store, in chunks that fit its scratch. */
function gatherFromStore(s: ByteStore, images: Uint8Array, P: number, order: Int32Array | null, start: number, count: number, x: Float32Array): boolean {
  const chunk = Math.floor((STORE_SCRATCH - 16) / (4 * P + 4));
  const module = chunk >= 1 ? wasmModule() : null;
  if (!module) return false;
  s.gather ??= (new WebAssembly.Instance(module, { env: { mem: s.memory } }).exports as Exports).gather;
  for (let b0 = 0; b0 < count; b0 += chunk) {
    const n = Math.min(chunk, count - b0), idx = s.scratch, out = idx + pad4(n);
    for (let b = 0; b < n; b++) s.i32[idx + b] = order === null ? start + b0 + b : order[start + b0 + b];
    s.gather(n, P, images.byteOffset, 4 * idx, 4 * out);
    x.set(s.slices.get(s.f32, out, n * P), b0 * P);
  }
  return true;
}

/** The arena of resident weights is emptied when it would grow past this many floats (64 MiB). */
const ARENA_MAX_FLOATS = 1 << 24;

/** Where a weight's packed copy lives in the arena, and which version of the array it holds. */
interface WeightSlot { at: number; floats: number; N: number; K: number; version: number; generation: number }
/** A weight's packed copies: as Bᵀ (products C = A·Bᵀ, gemmNT) and as B (C = A·B, gemmNN). */
interface WeightSlots { nt: WeightSlot; nn: WeightSlot }
const emptySlot = (): WeightSlot => ({ at: 0, floats: 0, N: 0, K: 0, version: -1, generation: -1 });

/**
 * The engine. Every method accepts any shape (zero sizes included) and Float32 arrays only.
 * @example
 * const w = WasmEngine.create(); // null without WebAssembly SIMD
 * w?.gemmNT(2, 3, 4, a, 0, b, 0, c, 0, false); // c[2, 3] = a[2, 4]·b[3, 4]ᵀ
 */
export class WasmEngine {
  private readonly mem: WebAssembly.Memory;
  private readonly k: Exports;
  /** the module's functions by number, as the helper calls them (join runs a job taken back) */
  private readonly kernels: Kernel[];
  private heap: Float32Array;
  private heapI32: Int32Array;
  private heapF64: Float64Array;
  private readonly slices = new Slices<Float32Array>();
  private heapSlices = new Slices<Float32Array>();
  private readonly intSlices = new Slices<Int32Array>();
  private heapIntSlices = new Slices<Int32Array>();
  private heapF64Slices = new Slices<Float64Array>();
  private top = 0; // floats in use by the current call
  /** where each call's regions start (floats): after the constants and the resident images */
  private base = (CONSTANTS_AT + CONSTANTS_BYTES) / 4;
  /** the images kept in memory between calls for gather (one array at a time), and their byte address */
  private resident: Uint8Array | null = null;
  private residentAt = 0;
  /** the arena of resident weights: floats [arenaBase, arenaBase + arenaFloats); laid out again when `base` moves */
  private arenaBase = -1;
  private arenaFloats = 0;
  /** bumped whenever the arena is emptied: a slot of an older generation holds nothing */
  private generation = 0;
  private readonly weights = new WeakMap<Float32Array, WeightSlots>();

  private readonly control: Int32Array | null = null;
  /** the helper missed the last job (it was taken back): the next is taken back sooner */
  private helperMissing = false;
  /** where `record` writes the next entry of a list job (ints), and how many it has written */
  private listAt = 0;
  private listCount = 0;
  /** A call run here, now. */
  private readonly run: Emit = (k, a0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0, a9 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0) => {
    this.kernels[k](a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13);
  };
  /** A call written into the list job being built, for the helper. */
  private readonly record: Emit = (k, a0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0, a9 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0) => {
    const m = this.heapI32, e = this.listAt + LIST_INTS * this.listCount++;
    m[e] = k; m[e + 1] = a0; m[e + 2] = a1; m[e + 3] = a2; m[e + 4] = a3; m[e + 5] = a4; m[e + 6] = a5; m[e + 7] = a6;
    m[e + 8] = a7; m[e + 9] = a8; m[e + 10] = a9; m[e + 11] = a10; m[e + 12] = a11; m[e + 13] = a12; m[e + 14] = a13;
  };

  static create(): WasmEngine | null {
    const module = wasmModule();
    return module ? new WasmEngine(module, null) : null;
  }

  /**
   * An engine with a helper thread: its memory is shared, and `port` (a Worker running
   * serveHelper on the message) receives the module, the memory and the control block. Null
   * where shared WebAssembly memory is unavailable (no SharedArrayBuffer: a page that is not
   * cross-origin isolated). Performance compromise: V8 copies into and out of shared memory
   * about 4× slower than into private memory (bench/README.md, "A second thread"), so this pays
   * only where the split work outweighs the copies.
   */
  static withHelper(port: HelperPort): WasmEngine | null {
    const module = wasmModule(true);
    if (!module || typeof SharedArrayBuffer === "undefined") return null;
    let mem: WebAssembly.Memory;
    try { mem = new WebAssembly.Memory({ initial: 16, maximum: SHARED_MAX_PAGES, shared: true }); } catch { return null; }
    const control = new SharedArrayBuffer(4 * CONTROL_INTS);
    const engine = new WasmEngine(module, mem, new Int32Array(control));
    port.postMessage({ module, memory: mem, control } satisfies HelperInit);
    return engine;
  }

  private constructor(module: WebAssembly.Module, mem: WebAssembly.Memory | null, control: Int32Array | null = null) {
    this.mem = mem ?? new WebAssembly.Memory({ initial: 16 });
    this.control = control;
    this.k = new WebAssembly.Instance(module, { env: { mem: this.mem } }).exports as Exports;
    this.kernels = Object.values(this.k);
    this.heap = new Float32Array(this.mem.buffer);
    this.heapI32 = new Int32Array(this.mem.buffer);
    this.heapF64 = new Float64Array(this.mem.buffer);
    // the precompiled module's table (module-bytes.ts): its functions' bodies need not be emitted here
    const table = moduleConstants();
    if (8 * table.length > CONSTANTS_BYTES) throw new Error("accel: the constant table is full");
    new Float64Array(this.mem.buffer, CONSTANTS_AT, table.length).set(table);
  }

  /** Regions for one call, in floats after the constants: `alloc` hands them out, `reserve` grows memory once. */
  private begin(): void { this.top = this.callsStart(); }
  /** Where a call's regions start (floats): after the arena, which is emptied if the base has moved under it. */
  private callsStart(): number {
    if (this.arenaBase !== this.base) { this.arenaBase = this.base; this.arenaFloats = 0; this.generation++; }
    return this.base + this.arenaFloats;
  }
  private alloc(n: number): number { const at = this.top; this.top += pad4(n); return at; }
  private reserve(): void { this.ensure(this.top * 4); }
  private ensure(bytes: number): void {
    if (bytes <= this.mem.buffer.byteLength) return;
    this.mem.grow(Math.ceil((bytes - this.mem.buffer.byteLength) / PAGE));
    this.heap = new Float32Array(this.mem.buffer); // growing detached the old views
    this.heapI32 = new Int32Array(this.mem.buffer);
    this.heapF64 = new Float64Array(this.mem.buffer);
    this.heapSlices = new Slices();
    this.heapIntSlices = new Slices();
    this.heapF64Slices = new Slices();
  }

  private copyIn(src: Float32Array, off: number, n: number, at: number): void {
    if (n > 0) this.heap.set(this.slices.get(src, off, n), at);
  }

  private copyOut(at: number, n: number, dst: Float32Array, off: number): void {
    if (n > 0) dst.set(this.heapSlices.get(this.heap, at, n), off);
  }

  /**
   * The address (floats) of weight W packed as a product's right operand — Bᵀ of W [N, K] when
   * `nt` (C = A·Wᵀ), else B = W [K, N] (C = A·W) — copied and packed only when the arena has no
   * copy of W's current version; −1 when W is not a versioned weight (resident.ts) or not N·K
   * long. Call it before a call's begin: it may grow the arena, which moves where calls start.
   */
  private packedWeight(W: Float32Array, N: number, K: number, nt: boolean): number {
    const version = versionOf(W);
    if (version < 0 || W.length !== N * K) return -1;
    let slots = this.weights.get(W);
    if (!slots) { slots = { nt: emptySlot(), nn: emptySlot() }; this.weights.set(W, slots); }
    const slot = nt ? slots.nt : slots.nn, floats = K * pad16(N);
    this.callsStart();
    if (slot.generation === this.generation && slot.N === N && slot.K === K) {
      if (slot.version === version) {
        if (checkingResident()) this.verifyWeight(W, slot, nt);
        return slot.at;
      }
    } else {
      if (this.arenaFloats + floats > ARENA_MAX_FLOATS) { this.arenaFloats = 0; this.generation++; }
      slot.at = this.base + this.arenaFloats; slot.floats = floats; slot.N = N; slot.K = K; slot.generation = this.generation;
      this.arenaFloats += pad4(floats);
    }
    this.begin();
    this.packInto(W, N, K, nt, slot.at);
    slot.version = version;
    return slot.at;
  }

  /** Pack W (see packedWeight) at `at`, through a copy in this call's next region (after begin). */
  private packInto(W: Float32Array, N: number, K: number, nt: boolean, at: number): void {
    const raw = this.alloc(N * K);
    this.reserve();
    this.copyIn(W, 0, N * K, raw);
    if (nt) this.k.pack(K, N, 4 * raw, 4, 4 * K, 4 * at); // Wᵀ[k, n] = W[n, k]
    else this.k.pack(K, N, 4 * raw, 4 * N, 4, 4 * at);
  }

  /** checkResident's comparison: pack W afresh after this call's regions and compare it bit for bit with the slot. */
  private verifyWeight(W: Float32Array, slot: WeightSlot, nt: boolean): void {
    this.begin();
    const fresh = this.alloc(slot.floats);
    this.packInto(W, slot.N, slot.K, nt, fresh);
    const h = this.heapI32;
    for (let i = 0; i < slot.floats; i++) {
      if (h[fresh + i] !== h[slot.at + i]) throw new Error(`accel: the resident copy of a [${nt ? `${slot.N}, ${slot.K}` : `${slot.K}, ${slot.N}`}] weight is stale: it was written during a pass without resident.ts's touch`);
    }
  }

  /**
   * C (at c, row stride ldc floats) = start + A·B for M rows and the 16·(S − 1) + 4·lastV
   * columns of the panels at bp; A[m, k] at a + m·aRow + k·aCol (offsets in floats). Columns in
   * cache blocks, rows two at a time, an odd last row alone.
   */
  private product(M: number, S: number, K: number, a: number, aRow: number, aCol: number, bp: number, c: number, ldc: number, init: number, bias: number, lastV = 4): void {
    const sc = Math.max(1, Math.floor(BLOCK_BYTES / (64 * Math.max(1, K))));
    if (this.control && M * S * 16 * K >= PARALLEL_MACS) {
      if (S >= 2) {
        // columns: the helper takes panels S1…S−1 (the last, maybe narrow, among them)
        const S1 = S >> 1, colBias = init === INIT_COL_BIAS ? 16 * S1 : 0;
        this.post(PRODUCT, M, S - S1, K, 4 * a, 4 * aRow, 4 * aCol, 4 * (bp + S1 * 16 * K), 4 * (c + S1 * 16), 4 * ldc, init, 4 * (bias + colBias), sc, lastV);
        this.k.product(M, S1, K, 4 * a, 4 * aRow, 4 * aCol, 4 * bp, 4 * c, 4 * ldc, init, 4 * bias, sc, 4);
        return this.join();
      }
      if (M >= 4) {
        // rows: the helper takes rows M1…M−1 (M1 even, so the tiles pair rows as without it)
        const M1 = (M >> 2) << 1, rowBias = init === INIT_ROW_BIAS ? M1 : 0;
        this.post(PRODUCT, M - M1, S, K, 4 * (a + M1 * aRow), 4 * aRow, 4 * aCol, 4 * bp, 4 * (c + M1 * ldc), 4 * ldc, init, 4 * (bias + rowBias), sc, lastV);
        this.k.product(M1, S, K, 4 * a, 4 * aRow, 4 * aCol, 4 * bp, 4 * c, 4 * ldc, init, 4 * bias, sc, lastV);
        return this.join();
      }
    }
    this.k.product(M, S, K, 4 * a, 4 * aRow, 4 * aCol, 4 * bp, 4 * c, 4 * ldc, init, 4 * bias, sc, lastV);
  }

  /** Hand kernel number k with these arguments to the helper (unused ones 0; no allocation). */
  private post(k: number, a0: number, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0, a9 = 0, a10 = 0, a11 = 0, a12 = 0): void {
    const c = this.control!;
    c[1] = k; c[2] = a0; c[3] = a1; c[4] = a2; c[5] = a3; c[6] = a4; c[7] = a5; c[8] = a6; c[9] = a7; c[10] = a8; c[11] = a9; c[12] = a10; c[13] = a11; c[14] = a12;
    Atomics.store(c, 0, JOB);
    Atomics.notify(c, 0);
  }

  /**
   * Wait for the helper's part (spinning first: it usually finishes with ours). A job the helper
   * has not taken up after RECLAIM_SPINS polls is taken back and run here: the same kernel on
   * the same arguments, so the results are the same whichever thread runs it.
   */
  private join(): void {
    const c = this.control!;
    const reclaimAfter = this.helperMissing ? RECLAIM_SPINS_MISSING : RECLAIM_SPINS;
    let spins = 0;
    for (let s = Atomics.load(c, 0); s !== DONE; s = Atomics.load(c, 0)) {
      if (s === JOB && spins > reclaimAfter && Atomics.compareExchange(c, 0, JOB, IDLE) === JOB) {
        this.helperMissing = true;
        if (c[1] === LIST) runList(this.kernels, this.heapI32, c[2], c[3]);
        else this.kernels[c[1]](c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]);
        return;
      }
      if (++spins > SPINS) Atomics.wait(c, 0, s, 1);
    }
    this.helperMissing = false;
    Atomics.store(c, 0, IDLE);
  }

  /**
   * C[M, N] (+)= A·B where B is already packed at bp (pad16(N) columns): the last panel computes
   * only up to Np = pad4(N) columns, through a padded [M, Np] C unless Np = N. `init`:
   * accumulate onto C, or start from bias[n], or from 0.
   */
  private finish(M: number, N: number, K: number, a: number, aRow: number, aCol: number, bp: number, C: Float32Array, cOff: number, acc: boolean, bias: Float32Array | null): void {
    const Np = pad4(N), S = pad16(N) / 16;
    const c = this.alloc(M * N);
    const cp = Np === N ? c : this.alloc(M * Np);
    const bs = bias && !acc ? this.alloc(pad16(N)) : 0;
    this.reserve();
    let init = INIT_ZERO;
    if (acc) {
      init = INIT_C;
      this.copyIn(C, cOff, M * N, c);
      if (cp !== c) this.k.copyRows(M, 4 * N, 4 * c, 4 * N, 4 * cp, 4 * Np);
    } else if (bias) {
      init = INIT_COL_BIAS;
      this.copyIn(bias, 0, N, bs);
    }
    this.product(M, S, K, a, aRow, aCol, bp, cp, Np, init, bs, S > 0 ? (Np - 16 * (S - 1)) / 4 : 4);
    if (cp !== c) this.k.copyRows(M, 4 * N, 4 * cp, 4 * Np, 4 * c, 4 * N);
    this.copyOut(c, M * N, C, cOff);
  }

  /** C[M,N] (+)= A[M,K]·B for a B packed at wp (a resident weight): only A and C are copied. */
  private withPacked(M: number, N: number, K: number, A: Float32Array, aOff: number, wp: number, C: Float32Array, cOff: number, acc: boolean, bias: Float32Array | null): void {
    this.begin();
    const a = this.alloc(M * K);
    this.reserve();
    this.copyIn(A, aOff, M * K, a);
    this.finish(M, N, K, a, K, 1, wp, C, cOff, acc, bias);
  }

  /** C[M,N] (+)= A[M,K]·B[K,N]; without acc, a bias [N] (if given) starts every row. */
  gemmNN(M: number, N: number, K: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number, acc: boolean, bias: Float32Array | null = null): void {
    const wp = bOff === 0 ? this.packedWeight(B, N, K, false) : -1;
    if (wp >= 0) return this.withPacked(M, N, K, A, aOff, wp, C, cOff, acc, bias);
    this.begin();
    const a = this.alloc(M * K), b = this.alloc(K * N), bp = this.alloc(K * pad16(N));
    this.reserve();
    this.copyIn(A, aOff, M * K, a);
    this.copyIn(B, bOff, K * N, b);
    this.k.pack(K, N, 4 * b, 4 * N, 4, 4 * bp);
    this.finish(M, N, K, a, K, 1, bp, C, cOff, acc, bias);
  }

  /** C[M,N] (+)= A[K,M]ᵀ·B[K,N]; without acc, a bias [N] (if given) starts every row. */
  gemmTN(M: number, N: number, K: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number, acc: boolean, bias: Float32Array | null = null): void {
    this.begin();
    const a = this.alloc(K * M), b = this.alloc(K * N), bp = this.alloc(K * pad16(N));
    this.reserve();
    this.copyIn(A, aOff, K * M, a);
    this.copyIn(B, bOff, K * N, b);
    this.k.pack(K, N, 4 * b, 4 * N, 4, 4 * bp);
    this.finish(M, N, K, a, 1, M, bp, C, cOff, acc, bias);
  }

  /**
   * C[M,N] (+)= A[M,K]·B[N,K]ᵀ; without acc, a bias [N] (if given) starts every row. Either Bᵀ
   * is packed (columns N), or — usually better when M is the batch — Cᵀ[N, M] = B·Aᵀ is computed
   * with Aᵀ packed (columns M) and transposed back; the cost model below picks.
   */
  gemmNT(M: number, N: number, K: number, A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number, acc: boolean, bias: Float32Array | null = null): void {
    const macs = M * N * K;
    const viaBt = macs * (pad4(N) / Math.max(1, N)) + MACS_PER_MOVE * (N * K + (pad4(N) === N ? 0 : M * N));
    const viaCt = macs * (pad16(M) / Math.max(1, M)) + MACS_PER_MOVE * (M * K + M * N * (acc ? 2 : 1));
    // a resident weight is packed already: Bᵀ's orientation costs no move (the same sums either way)
    const wp = bOff === 0 ? this.packedWeight(B, N, K, true) : -1;
    if (wp >= 0) return this.withPacked(M, N, K, A, aOff, wp, C, cOff, acc, bias);
    this.begin();
    const a = this.alloc(M * K), b = this.alloc(N * K);
    if (viaBt <= viaCt) {
      const bp = this.alloc(K * pad16(N));
      this.reserve();
      this.copyIn(A, aOff, M * K, a);
      this.copyIn(B, bOff, N * K, b);
      this.k.pack(K, N, 4 * b, 4, 4 * K, 4 * bp); // Bᵀ[k, n] = B[n, k]
      this.finish(M, N, K, a, K, 1, bp, C, cOff, acc, bias);
      return;
    }
    const Mp = pad16(M);
    const ap = this.alloc(K * Mp), c = this.alloc(M * N), ct = this.alloc(N * Mp), bs = this.alloc(N);
    this.reserve();
    this.copyIn(A, aOff, M * K, a);
    this.copyIn(B, bOff, N * K, b);
    this.k.pack(K, M, 4 * a, 4, 4 * K, 4 * ap); // Aᵀ[k, m] = A[m, k]
    let init = INIT_ZERO;
    if (acc) {
      init = INIT_C;
      this.copyIn(C, cOff, M * N, c);
      this.k.transpose(M, N, 4 * c, 4 * N, 4 * ct, 4 * Mp);
    } else if (bias) {
      init = INIT_ROW_BIAS;
      this.copyIn(bias, 0, N, bs);
    }
    this.product(N, Mp / 16, K, b, K, 1, ap, ct, Mp, init, bs);
    this.k.transpose(N, M, 4 * ct, 4 * Mp, 4 * c, 4 * N);
    this.copyOut(c, M * N, C, cOff);
  }

  // --- the training loop's passes (ops/update.ts, ops/reduce.ts, ops/gather.ts) --------------------

  /**
   * One optimizer update of a tensor (ops/update.ts, optim.ts's formulas): w, and the
   * moment buffers m and v where `mode` uses them, are updated in place from g, with the step's
   * doubles c (UPDATE_CONSTANTS). Returns 1 when an updated weight is NaN or ±Inf, + 2 when a
   * gradient value is; 0 when all are finite.
   */
  update(mode: number, n: number, w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: Float64Array): number {
    const usesM = m.length >= n, usesV = v.length >= n;
    this.begin();
    const pc = this.alloc(2 * UPDATE_CONSTANT_COUNT), out = this.alloc(8);
    const pw = this.alloc(n), pg = this.alloc(n), pm = usesM ? this.alloc(n) : 0, pv = usesV ? this.alloc(n) : 0;
    this.reserve();
    this.heapF64.set(c, pc / 2);
    this.copyIn(w, 0, n, pw);
    this.copyIn(g, 0, n, pg);
    if (usesM) this.copyIn(m, 0, n, pm);
    if (usesV) this.copyIn(v, 0, n, pv);
    this.k.update(mode, n, 4 * pw, 4 * pg, 4 * pm, 4 * pv, 4 * pc, 4 * out);
    this.copyOut(pw, n, w, 0);
    if (usesM) this.copyOut(pm, n, m, 0);
    if (usesV) this.copyOut(pv, n, v, 0);
    const h = this.heap;
    return (h[out] + h[out + 1] + h[out + 2] + h[out + 3] === 0 ? 0 : 1) + (h[out + 4] + h[out + 5] + h[out + 6] + h[out + 7] === 0 ? 0 : 2);
  }

  /** dst[n] += src[sOff + m·N + n] for m = 0 … M−1 in order, in dst's precision (ops/reduce.ts). */
  sumRows(M: number, N: number, src: Float32Array, sOff: number, dst: Float32Array | Float64Array): void {
    const double = dst instanceof Float64Array;
    this.begin();
    const pd = this.alloc(double ? 2 * N : N), ps = this.alloc(M * N);
    this.reserve();
    if (double) this.heapF64.set(dst, pd / 2);
    else this.copyIn(dst, 0, N, pd);
    this.copyIn(src, sOff, M * N, ps);
    (double ? this.k.sumRows64 : this.k.sumRows32)(M, N, 4 * ps, 4 * pd);
    if (double) dst.set(this.heapF64Slices.get(this.heapF64, pd / 2, N));
    else this.copyOut(pd, N, dst, 0);
  }

  /** Whether a[0 … n) holds a NaN or ±Inf. */
  hasNonFinite(a: Float32Array, n: number): boolean {
    this.begin();
    const out = this.alloc(4), pa = this.alloc(n);
    this.reserve();
    this.copyIn(a, 0, n, pa);
    this.k.nonFinite(n, 4 * pa, 4 * out);
    const h = this.heap;
    return h[out] + h[out + 1] + h[out + 2] + h[out + 3] !== 0;
  }

  /**
   * x[b·P + i] = images[order[start + b]·P + i] / 255 for b < count, i < P (views.ts's gather);
   * `order` null: the examples start, start + 1, … in turn. Images read into kernelBytes are
   * read where they are, for any order. Other images are copied into this engine's memory on
   * first use and stay there (one array at a time; a subarray of the resident one is found in
   * it), so shuffled batches read them in place; in order (an evaluation's other images) and
   * with a helper thread (copying out of shared memory costs what the JS loop does) such images
   * are declined: false, and views.ts's loop runs.
   */
  gather(images: Uint8Array, P: number, order: Int32Array | null, start: number, count: number, x: Float32Array): boolean {
    const store = stores.get(images.buffer);
    if (store) return gatherFromStore(store, images, P, order, start, count, x);
    if (this.control || order === null) return false;
    const img = this.residentAddress(images);
    this.begin();
    const idx = this.alloc(count), out = this.alloc(count * P);
    this.reserve();
    const hi = this.heapI32;
    for (let b = 0; b < count; b++) hi[idx + b] = order[start + b];
    this.k.gather(count, P, img, 4 * idx, 4 * out);
    this.copyOut(out, count * P, x, 0);
    return true;
  }

  /** The byte address of images[0] in memory, copying them in (at the base, below every call's regions) when they are not there. */
  private residentAddress(images: Uint8Array): number {
    const r = this.resident;
    if (r && images.buffer === r.buffer && images.byteOffset >= r.byteOffset && images.byteOffset + images.length <= r.byteOffset + r.length) {
      return this.residentAt + images.byteOffset - r.byteOffset;
    }
    this.residentAt = CONSTANTS_AT + CONSTANTS_BYTES;
    this.base = (this.residentAt + images.length + 15 & ~15) / 4;
    this.ensure(this.base * 4);
    new Uint8Array(this.mem.buffer, this.residentAt, images.length).set(images);
    this.resident = images;
    return this.residentAt;
  }

  // --- elementwise (double precision inside, bit-for-bit the TypeScript loops) ----------------

  /** dst[dOff + i] = σ(src[sOff + i]) for i < n */
  sigmoid(n: number, src: Float32Array, sOff: number, dst: Float32Array, dOff: number): void {
    this.unary(this.k.sigmoid, n, src, sOff, dst, dOff, SIGMOID);
  }

  /** dst[dOff + i] = tanh(src[sOff + i]) for i < n */
  tanh(n: number, src: Float32Array, sOff: number, dst: Float32Array, dOff: number): void {
    this.unary(this.k.tanh, n, src, sOff, dst, dOff, TANH);
  }

  /** y = relu(z) over n values */
  relu(n: number, z: Float32Array, y: Float32Array): void {
    this.unary(this.k.relu, n, z, 0, y, 0);
  }

  /** dz = dy ⊙ f′ over n values: relu from z, sigmoid and tanh from y = f(z) (activations.ts's formulas) */
  activationBackward(f: "relu" | "sigmoid" | "tanh", n: number, zOrY: Float32Array, dy: Float32Array, dz: Float32Array, yOff = 0, dyOff = 0, dzOff = 0): void {
    this.begin();
    const a = this.alloc(n), d = this.alloc(n), o = this.alloc(n);
    this.reserve();
    this.copyIn(zOrY, yOff, n, a);
    this.copyIn(dy, dyOff, n, d);
    const k = f === "relu" ? this.k.reluBackward : f === "sigmoid" ? this.k.sigmoidBackward : this.k.tanhBackward;
    k(n, 4 * a, 4 * d, 4 * o);
    this.copyOut(o, n, dz, dzOff);
  }

  /** Max pooling of x [planes, H, W] (pool.ts): y [planes, Ho, Wo] and arg, each maximum's index in x. */
  maxpool(planes: number, H: number, W: number, Ho: number, Wo: number, size: number, stride: number, x: Float32Array, y: Float32Array, arg: Int32Array): void {
    const n = planes * Ho * Wo;
    this.begin();
    const px = this.alloc(planes * H * W), py = this.alloc(n), pa = this.alloc(n);
    this.reserve();
    this.copyIn(x, 0, planes * H * W, px);
    if (size === 2 && stride === 2) this.k.maxpool2(planes, H, W, Ho, Wo, 4 * px, 4 * py, 4 * pa);
    else this.k.maxpool(planes, H, W, Ho, Wo, size, stride, 4 * px, 4 * py, 4 * pa);
    this.copyOut(py, n, y, 0);
    arg.set(this.heapIntSlices.get(this.heapI32, pa, n));
  }

  /** dx [m] = 0, then dx[arg[o]] += dy[o] for o < n in order */
  maxpoolBackward(n: number, arg: Int32Array, dy: Float32Array, dx: Float32Array, m: number): void {
    this.begin();
    const pa = this.alloc(n), pd = this.alloc(n), px = this.alloc(m);
    this.reserve();
    this.heapI32.set(this.intSlices.get(arg, 0, n), pa);
    this.copyIn(dy, 0, n, pd);
    this.heap.fill(0, px, px + m);
    this.k.maxpoolBackward(n, 4 * pa, 4 * pd, 4 * px);
    this.copyOut(px, m, dx, 0);
  }

  private unary(f: Kernel, n: number, src: Float32Array, sOff: number, dst: Float32Array, dOff: number, index = -1): void {
    this.begin();
    const x = this.alloc(n), y = this.alloc(n);
    this.reserve();
    this.copyIn(src, sOff, n, x);
    this.unaryAt(f, n, x, y, index);
    this.copyOut(y, n, dst, dOff);
  }

  /** Kernel f from x to y (floats in memory), its second half on the helper when `index` names it and n is large. */
  private unaryAt(f: Kernel, n: number, x: number, y: number, index: number): void {
    if (this.control && index >= 0 && n >= PARALLEL_VALUES) {
      const n1 = (n >> 3) << 2; // an even split point, so the pairs of values fall as without the helper
      this.post(index, n - n1, 4 * (x + n1), 4 * (y + n1));
      f(n1, 4 * x, 4 * y);
      this.join();
    } else {
      f(n, 4 * x, 4 * y);
    }
  }

  /**
   * One LSTM step (see ops/cells.ts): gates a [B, 4H] at aOff (overwritten by i, f, g, o),
   * c_{t−1} = cs[cPrev…], then cs[cNext…] = c_t, tc[tcOff…] = tanh c_t, hs[hNext…] = h_t (each [B, H]).
   */
  lstm(B: number, H: number, a: Float32Array, aOff: number, cs: Float32Array, cPrev: number, cNext: number, tc: Float32Array, tcOff: number, hs: Float32Array, hNext: number): void {
    const n = B * H;
    this.begin();
    const pa = this.alloc(4 * n), pc = this.alloc(n), pcn = this.alloc(n), ptc = this.alloc(n), ph = this.alloc(n);
    this.reserve();
    this.copyIn(a, aOff, 4 * n, pa);
    this.copyIn(cs, cPrev, n, pc);
    this.lstmCell(B, H, pa, pc, pcn, ptc, ph);
    this.copyOut(pa, 4 * n, a, aOff);
    this.copyOut(pcn, n, cs, cNext);
    this.copyOut(ptc, n, tc, tcOff);
    this.copyOut(ph, n, hs, hNext);
  }

  /** The LSTM kernel on regions in memory (floats: gates [B, 4H], c_{t−1}, c_t, tanh c_t, h_t [B, H]); the helper takes half the examples. */
  private lstmCell(B: number, H: number, pa: number, pc: number, pcn: number, ptc: number, ph: number): void {
    if (this.control && B * H >= PARALLEL_VALUES && B >= 2) {
      const B1 = B >> 1, o = 4 * B1 * H; // the helper takes examples B1…B−1
      this.post(LSTM, B - B1, H, 4 * pa + 4 * o, 4 * pc + o, 4 * pcn + o, 4 * ptc + o, 4 * ph + o);
      this.k.lstm(B1, H, 4 * pa, 4 * pc, 4 * pcn, 4 * ptc, 4 * ph);
      this.join();
    } else {
      this.k.lstm(B, H, 4 * pa, 4 * pc, 4 * pcn, 4 * ptc, 4 * ph);
    }
  }

  /**
   * One GRU step (see ops/cells.ts): a [B, 3H] at aOff (overwritten by r, z, n),
   * hh [B, 3H] = h_{t−1}·W_hhᵀ, bhh the [3H] b_hh, h_{t−1} = hs[hPrev…]; writes hn[hnOff…] = W_hn h + b_hn
   * and hs[hNext…] = h_t (each [B, H]).
   */
  gru(B: number, H: number, a: Float32Array, aOff: number, hh: Float32Array, bhh: Float32Array, hs: Float32Array, hPrev: number, hn: Float32Array, hnOff: number, hNext: number): void {
    const n = B * H;
    this.begin();
    const pa = this.alloc(3 * n), phh = this.alloc(3 * n), pb = this.alloc(H), pp = this.alloc(n), pn = this.alloc(n), ph = this.alloc(n);
    this.reserve();
    this.copyIn(a, aOff, 3 * n, pa);
    this.copyIn(hh, 0, 3 * n, phh);
    this.copyIn(bhh, 2 * H, H, pb);
    this.copyIn(hs, hPrev, n, pp);
    this.gruCell(B, H, pa, phh, pb, pp, pn, ph);
    this.copyOut(pa, 3 * n, a, aOff);
    this.copyOut(pn, n, hn, hnOff);
    this.copyOut(ph, n, hs, hNext);
  }

  /** The GRU kernel on regions in memory (floats: a, hh [B, 3H], b_hn [H], h_{t−1}, W_hn h + b_hn, h_t [B, H]); the helper takes half the examples. */
  private gruCell(B: number, H: number, pa: number, phh: number, pb: number, pp: number, pn: number, ph: number): void {
    if (this.control && B * H >= PARALLEL_VALUES && B >= 2) {
      const B1 = B >> 1, o = 4 * B1 * H; // the helper takes examples B1…B−1
      this.post(GRU, B - B1, H, 4 * pa + 3 * o, 4 * phh + 3 * o, 4 * pb, 4 * pp + o, 4 * pn + o, 4 * ph + o);
      this.k.gru(B1, H, 4 * pa, 4 * phh, 4 * pb, 4 * pp, 4 * pn, 4 * ph);
      this.join();
    } else {
      this.k.gru(B, H, 4 * pa, 4 * phh, 4 * pb, 4 * pp, 4 * pn, 4 * ph);
    }
  }

  // --- whole sequences: every time step in memory, the recurrent weight resident ------------------
  // Each runs the per-step calls' kernels on the same values in the same order (gemmNT's Bᵀ
  // orientation, whose sums are those of the other), so the results are those of the steps.
  // With a helper, the examples are split: every step of a sequence depends only on its own
  // example's earlier steps, so the helper runs the whole pass for examples B1…B−1 as one list job
  // while this thread runs it for 0…B1−1. The threads meet once per pass, and neither reads what
  // the other wrote (splitting each step's product by columns and its cell by examples made the
  // two cores trade every step's state through the cache, twice per step).

  /**
   * Run a pass's steps (`steps`, the calls for examples b0…b1−1 of B; T, H, the packed W_hh at wp
   * and up to six more numbers, its regions, passed through) on both threads when there is a
   * helper and the pass has at least PARALLEL_MACS multiply-adds, else here. The helper's list
   * job takes LIST_INTS ints per call at `list` (floats, 2T calls allocated). B1 is even, so a
   * product pairs each thread's rows as it pairs them unsplit. (Methods and numbers, not a
   * closure: a training step allocates nothing.)
   */
  private sequence(B: number, macs: number, list: number, steps: Steps, T: number, H: number, wp: number, r0: number, r1: number, r2: number, r3 = 0, r4 = 0, r5 = 0): void {
    const B1 = this.control && B >= 4 && macs >= PARALLEL_MACS ? (B >> 2) << 1 : B;
    if (B1 === B) return steps.call(this, this.run, 0, B, B, T, H, wp, r0, r1, r2, r3, r4, r5);
    this.listAt = list;
    this.listCount = 0;
    steps.call(this, this.record, B1, B, B, T, H, wp, r0, r1, r2, r3, r4, r5);
    this.post(LIST, list, this.listCount);
    steps.call(this, this.run, 0, B1, B, T, H, wp, r0, r1, r2, r3, r4, r5);
    this.join();
  }

  /** The product C [M, N] (row stride N) init + A [M, K]·P, P packed at bp, for rows b0…b1−1 only, as one emitted call. */
  private productRows(emit: Emit, b0: number, b1: number, N: number, K: number, a: number, bp: number, c: number, init: number): void {
    const S = pad16(N) / 16, sc = Math.max(1, Math.floor(BLOCK_BYTES / (64 * Math.max(1, K))));
    emit(PRODUCT, b1 - b0, S, K, 4 * (a + b0 * K), 4 * K, 4, 4 * bp, 4 * (c + b0 * N), 4 * N, init, 0, sc, S > 0 ? (N - 16 * (S - 1)) / 4 : 4);
  }

  /**
   * A whole LSTM forward (lstm.ts's steps t = 0 … T−1): pre [T, B, 4H] holds the input
   * projections and becomes the gates i, f, g, o; W [4H, H] is W_hh; cs [T + 1, B, H] and
   * hs [T + 1, B, H] hold c₋₁, h₋₁ in slot 0 and get c_t, h_t in slot t + 1; tc [T, B, H] gets
   * tanh c_t. False (nothing done) when W is not a resident weight or H is not a multiple of 4.
   */
  lstmSequence(T: number, B: number, H: number, pre: Float32Array, W: Float32Array, cs: Float32Array, tc: Float32Array, hs: Float32Array): boolean {
    const GH = 4 * H, n = B * H;
    const wp = H % 4 === 0 ? this.packedWeight(W, GH, H, true) : -1;
    if (wp < 0) return false;
    this.begin();
    // pa [T, B, 4H] gates, pc [T + 1, B, H] c, ptc [T, B, H] tanh c, ph [T + 1, B, H] h
    const pa = this.alloc(T * B * GH), pc = this.alloc((T + 1) * n), ptc = this.alloc(T * n), ph = this.alloc((T + 1) * n);
    const list = this.alloc(LIST_INTS * 2 * T);
    this.reserve();
    this.copyIn(pre, 0, T * B * GH, pa);
    this.copyIn(cs, 0, n, pc);
    this.copyIn(hs, 0, n, ph);
    this.sequence(B, T * B * GH * H, list, this.lstmSteps, T, H, wp, pa, pc, ptc, ph);
    this.copyOut(pa, T * B * GH, pre, 0);
    this.copyOut(pc + n, T * n, cs, n);
    this.copyOut(ptc, T * n, tc, 0);
    this.copyOut(ph + n, T * n, hs, n);
    return true;
  }

  private lstmSteps(emit: Emit, b0: number, b1: number, B: number, T: number, H: number, wp: number, pa: number, pc: number, ptc: number, ph: number): void {
    const GH = 4 * H, n = B * H, o = b0 * H, q = b0 * GH;
    for (let t = 0; t < T; t++) {
      const at = pa + t * B * GH;
      if (t > 0) this.productRows(emit, b0, b1, GH, H, ph + t * n, wp, at, INIT_C); // += h_{t−1}·W_hhᵀ
      emit(LSTM, b1 - b0, H, 4 * (at + q), 4 * (pc + t * n + o), 4 * (pc + (t + 1) * n + o), 4 * (ptc + t * n + o), 4 * (ph + (t + 1) * n + o));
    }
  }

  /**
   * A whole GRU forward (gru.ts's steps): pre [T, B, 3H] becomes the gates r, z, n; W [3H, H] is
   * W_hh and bhh [3H] b_hh (its last H, b_hn, is added per step); hh [B, 3H] gets the last step's
   * h_{t−1}·W_hhᵀ, hn [T, B, H] every step's W_hn h_{t−1} + b_hn, hs [T + 1, B, H] h_t in slot t + 1
   * (slot 0 given). False when W is not a resident weight or 3H is not a multiple of 4.
   */
  gruSequence(T: number, B: number, H: number, pre: Float32Array, W: Float32Array, bhh: Float32Array, hh: Float32Array, hn: Float32Array, hs: Float32Array): boolean {
    const GH = 3 * H, n = B * H;
    const wp = GH % 4 === 0 ? this.packedWeight(W, GH, H, true) : -1;
    if (wp < 0) return false;
    this.begin();
    // pa [T, B, 3H] gates, phh [B, 3H] the step's h·W_hhᵀ, pb [H] b_hn, pn [T, B, H] W_hn h + b_hn, ph [T + 1, B, H] h
    const pa = this.alloc(T * B * GH), phh = this.alloc(B * GH), pb = this.alloc(H), pn = this.alloc(T * n), ph = this.alloc((T + 1) * n);
    const list = this.alloc(LIST_INTS * 2 * T);
    this.reserve();
    this.copyIn(pre, 0, T * B * GH, pa);
    this.copyIn(bhh, 2 * H, H, pb);
    this.copyIn(hs, 0, n, ph);
    this.heap.fill(0, phh, phh + B * GH); // step 0's h₋₁·W_hhᵀ, h₋₁ = 0
    this.sequence(B, T * B * GH * H, list, this.gruSteps, T, H, wp, pa, phh, pb, pn, ph);
    this.copyOut(pa, T * B * GH, pre, 0);
    this.copyOut(phh, B * GH, hh, 0);
    this.copyOut(pn, T * n, hn, 0);
    this.copyOut(ph + n, T * n, hs, n);
    return true;
  }

  private gruSteps(emit: Emit, b0: number, b1: number, B: number, T: number, H: number, wp: number, pa: number, phh: number, pb: number, pn: number, ph: number): void {
    const GH = 3 * H, n = B * H, o = b0 * H, q = b0 * GH;
    for (let t = 0; t < T; t++) {
      if (t > 0) this.productRows(emit, b0, b1, GH, H, ph + t * n, wp, phh, INIT_ZERO); // hh = h_{t−1}·W_hhᵀ
      emit(GRU, b1 - b0, H, 4 * (pa + t * B * GH + q), 4 * (phh + q), 4 * pb, 4 * (ph + t * n + o), 4 * (pn + t * n + o), 4 * (ph + (t + 1) * n + o));
    }
  }

  /**
   * A whole Elman RNN forward (rnn.ts's steps): z [T, B, H] holds the input projections and
   * gets z_t; W [H, H] is W_hh; hs [T + 1, B, H] gets h_t = f(z_t) in slot t + 1 (slot 0 given).
   * False when W is not a resident weight or H is not a multiple of 4.
   */
  rnnSequence(f: "relu" | "sigmoid" | "tanh", T: number, B: number, H: number, z: Float32Array, W: Float32Array, hs: Float32Array): boolean {
    const n = B * H;
    const wp = H % 4 === 0 ? this.packedWeight(W, H, H, true) : -1;
    if (wp < 0) return false;
    this.begin();
    // pz [T, B, H] z, ph [T + 1, B, H] h
    const pz = this.alloc(T * n), ph = this.alloc((T + 1) * n);
    const list = this.alloc(LIST_INTS * 2 * T);
    this.reserve();
    this.copyIn(z, 0, T * n, pz);
    this.copyIn(hs, 0, n, ph);
    const kernel = f === "relu" ? RELU : f === "sigmoid" ? SIGMOID : TANH;
    this.sequence(B, T * B * H * H, list, this.rnnSteps, T, H, wp, pz, ph, kernel);
    this.copyOut(pz, T * n, z, 0);
    this.copyOut(ph + n, T * n, hs, n);
    return true;
  }

  private rnnSteps(emit: Emit, b0: number, b1: number, B: number, T: number, H: number, wp: number, pz: number, ph: number, kernel: number): void {
    const n = B * H, o = b0 * H;
    for (let t = 0; t < T; t++) {
      if (t > 0) this.productRows(emit, b0, b1, H, H, ph + t * n, wp, pz + t * n, INIT_C); // z_t += h_{t−1}·W_hhᵀ
      emit(kernel, (b1 - b0) * H, 4 * (pz + t * n + o), 4 * (ph + (t + 1) * n + o));
    }
  }

  /**
   * A whole LSTM backward through time (lstm.ts's stepBackward and recurrent.ts's dh[t − 1] +=
   * dA_t·W_hh, t = T−1 … 0): pre [T, B, 4H] the gates, cs [T + 1, B, H] (slot t: c_{t−1}),
   * tc [T, B, H]; dh [T, B, H] holds the output's gradient (at T − 1 only) and gets every ∂L/∂h_t;
   * dc [T, B, H] gets ∂L/∂c_t, dA [T, B, 4H] the gates' pre-activation gradients. W [4H, H] is W_hh.
   * False when W is not a resident weight or H is not a multiple of 4.
   */
  lstmSequenceBackward(T: number, B: number, H: number, pre: Float32Array, cs: Float32Array, tc: Float32Array, dh: Float32Array, W: Float32Array, dc: Float32Array, dA: Float32Array): boolean {
    const GH = 4 * H, n = B * H, g = B * GH;
    const wp = H % 4 === 0 ? this.packedWeight(W, H, GH, false) : -1;
    if (wp < 0) return false;
    this.begin();
    // pa, pA [T, B, 4H] gates and their gradient; pc (c_{t−1}), ptc, pd (∂L/∂h), pdc (∂L/∂c) [T, B, H]
    const pa = this.alloc(T * g), pc = this.alloc(T * n), ptc = this.alloc(T * n), pd = this.alloc(T * n), pdc = this.alloc(T * n), pA = this.alloc(T * g);
    const list = this.alloc(LIST_INTS * 2 * T);
    this.reserve();
    this.copyIn(pre, 0, T * g, pa);
    this.copyIn(cs, 0, T * n, pc);
    this.copyIn(tc, 0, T * n, ptc);
    this.copyIn(dh, 0, T * n, pd);
    this.sequence(B, T * B * GH * H, list, this.lstmBackSteps, T, H, wp, pa, pc, ptc, pd, pdc, pA);
    this.copyOut(pd, T * n, dh, 0);
    this.copyOut(pdc, T * n, dc, 0);
    this.copyOut(pA, T * g, dA, 0);
    return true;
  }

  private lstmBackSteps(emit: Emit, b0: number, b1: number, B: number, T: number, H: number, wp: number, pa: number, pc: number, ptc: number, pd: number, pdc: number, pA: number): void {
    const GH = 4 * H, n = B * H, g = B * GH, o = b0 * H, q = b0 * GH;
    for (let t = T - 1; t >= 0; t--) {
      const last = t === T - 1 ? 1 : 0, next = last ? t : t + 1; // step t + 1's gates and ∂L/∂c (unread at the last step)
      emit(LSTM_BACK, b1 - b0, H, 4 * (pa + t * g + q), 4 * (pc + t * n + o), 4 * (ptc + t * n + o), 4 * (pd + t * n + o), 4 * (pdc + next * n + o), 4 * (pa + next * g + q), 4 * (pdc + t * n + o), 4 * (pA + t * g + q), last);
      if (t > 0) this.productRows(emit, b0, b1, H, GH, pA + t * g, wp, pd + (t - 1) * n, INIT_C); // dh_{t−1} += dA_t·W_hh
    }
  }

  /**
   * A whole GRU backward through time (gru.ts's stepBackward, then dh[t − 1] += dHh_t·W_hh):
   * pre [T, B, 3H] the gates, hs [T + 1, B, H] (slot t: h_{t−1}), hn [T, B, H]; dh [T, B, H] holds
   * the output's gradient (at T − 1 only) and gets every ∂L/∂h_t; dA, dHh [T, B, 3H] get the input
   * and recurrent parts' gradients. W [3H, H] is W_hh. False when W is not a resident weight or 3H
   * is not a multiple of 4.
   */
  gruSequenceBackward(T: number, B: number, H: number, pre: Float32Array, hs: Float32Array, hn: Float32Array, dh: Float32Array, W: Float32Array, dA: Float32Array, dHh: Float32Array): boolean {
    const GH = 3 * H, n = B * H, g = B * GH;
    const wp = GH % 4 === 0 && H % 4 === 0 ? this.packedWeight(W, H, GH, false) : -1;
    if (wp < 0) return false;
    this.begin();
    // pa, pA, pHh [T, B, 3H] gates and gradients; ph (h_{t−1}), pn, pd (∂L/∂h) [T, B, H]
    const pa = this.alloc(T * g), ph = this.alloc(T * n), pn = this.alloc(T * n), pd = this.alloc(T * n), pA = this.alloc(T * g), pHh = this.alloc(T * g);
    const list = this.alloc(LIST_INTS * 2 * T);
    this.reserve();
    this.copyIn(pre, 0, T * g, pa);
    this.copyIn(hs, 0, T * n, ph);
    this.copyIn(hn, 0, T * n, pn);
    this.copyIn(dh, 0, T * n, pd);
    this.sequence(B, T * B * GH * H, list, this.gruBackSteps, T, H, wp, pa, ph, pn, pd, pA, pHh);
    this.copyOut(pd, T * n, dh, 0);
    this.copyOut(pA, T * g, dA, 0);
    this.copyOut(pHh, T * g, dHh, 0);
    return true;
  }

  private gruBackSteps(emit: Emit, b0: number, b1: number, B: number, T: number, H: number, wp: number, pa: number, ph: number, pn: number, pd: number, pA: number, pHh: number): void {
    const GH = 3 * H, n = B * H, g = B * GH, o = b0 * H, q = b0 * GH;
    for (let t = T - 1; t >= 0; t--) {
      const first = t === 0 ? 1 : 0;
      emit(GRU_BACK, b1 - b0, H, 4 * (pa + t * g + q), 4 * (ph + t * n + o), 4 * (pn + t * n + o), 4 * (pd + t * n + o), 4 * (pA + t * g + q), 4 * (pHh + t * g + q), 4 * (pd + (first ? t : t - 1) * n + o), first);
      if (t > 0) this.productRows(emit, b0, b1, H, GH, pHh + t * g, wp, pd + (t - 1) * n, INIT_C); // dh_{t−1} += dHh_t·W_hh
    }
  }

  /**
   * A whole Elman RNN backward through time (rnn.ts's steps and recurrent.ts's dh[t − 1] +=
   * dz_t·W_hh, t = T−1 … 0): dh [T, B, H] holds the output's gradient (at T − 1 only) and gets
   * the total ∂L/∂h_t; dz [T, B, H] gets ∂L/∂z_t; zOrY at yOff: z (relu) or h_t (sigmoid, tanh),
   * [T, B, H]. False when W is not a resident weight or H is not a multiple of 4.
   */
  rnnSequenceBackward(f: "relu" | "sigmoid" | "tanh", T: number, B: number, H: number, zOrY: Float32Array, yOff: number, dh: Float32Array, W: Float32Array, dz: Float32Array): boolean {
    const n = B * H;
    const wp = H % 4 === 0 ? this.packedWeight(W, H, H, false) : -1;
    if (wp < 0) return false;
    this.begin();
    // py (z or h), pd (∂L/∂h), po (∂L/∂z) [T, B, H]
    const py = this.alloc(T * n), pd = this.alloc(T * n), po = this.alloc(T * n);
    const list = this.alloc(LIST_INTS * 2 * T);
    this.reserve();
    this.copyIn(zOrY, yOff, T * n, py);
    this.copyIn(dh, 0, T * n, pd);
    const kernel = f === "relu" ? RELU_BACK : f === "sigmoid" ? SIGMOID_BACK : TANH_BACK;
    this.sequence(B, T * B * H * H, list, this.rnnBackSteps, T, H, wp, py, pd, po, kernel);
    this.copyOut(pd, T * n, dh, 0);
    this.copyOut(po, T * n, dz, 0);
    return true;
  }

  private rnnBackSteps(emit: Emit, b0: number, b1: number, B: number, T: number, H: number, wp: number, py: number, pd: number, po: number, kernel: number): void {
    const n = B * H, o = b0 * H;
    for (let t = T - 1; t >= 0; t--) {
      emit(kernel, (b1 - b0) * H, 4 * (py + t * n + o), 4 * (pd + t * n + o), 4 * (po + t * n + o));
      if (t > 0) this.productRows(emit, b0, b1, H, H, po + t * n, wp, pd + (t - 1) * n, INIT_C); // dh_{t−1} += dz_t·W_hh
    }
  }

  // --- convolution: the whole batch per product (ops/conv.ts) -----------------------------------

  /** x [B, C, H, W] at xOff → xp [B·C, Hp, Wp] (zero border) → col [R, ld] (example b at columns b·P…). */
  private lower(g: ConvGeometry, B: number, x: Float32Array, xOff: number, xs: number, xp: number, col: number, ld: number): void {
    const { C, H, W, K, S, pad, Ho, Wo } = g;
    const Hp = H + 2 * pad, Wp = W + 2 * pad, P = Ho * Wo;
    this.copyIn(x, xOff, B * C * H * W, xs);
    this.k.pad(B * C, H, W, pad, 4 * xs, 4 * xp);
    const vecEnd = S === 1 ? Wo - (Wo % 4) : 0;
    for (let b = 0; b < B; b++) this.k.im2col(C, K, S, Ho, Wo, Hp, Wp, vecEnd, 4 * (xp + b * C * Hp * Wp), 4 * (col + b * P), ld);
  }

  /**
   * z [B, F, P] (at zOff) = conv(x [B, C, H, W] at xOff) + bias, P = Ho·Wo, W [F, R], R = C·K·K:
   * Z[F, B·P] = W·col + b in one product, then each example's rows to z.
   */
  conv2dForward(g: ConvGeometry, F: number, B: number, x: Float32Array, xOff: number, w: Float32Array, bias: Float32Array | null, z: Float32Array, zOff: number): void {
    const { C, H, W, K, pad, Ho, Wo } = g;
    const R = C * K * K, P = Ho * Wo, N = B * P, Np = pad16(N);
    this.begin();
    const xs = this.alloc(B * C * H * W), xp = this.alloc(B * C * (H + 2 * pad) * (W + 2 * pad));
    const col = this.alloc(R * N), bp = this.alloc(R * Np), pw = this.alloc(F * R), bs = this.alloc(F);
    const zp = this.alloc(F * Np), zs = this.alloc(B * F * P);
    this.reserve();
    this.lower(g, B, x, xOff, xs, xp, col, N);
    this.k.pack(R, N, 4 * col, 4 * N, 4, 4 * bp);
    this.copyIn(w, 0, F * R, pw);
    if (bias) this.copyIn(bias, 0, F, bs);
    else this.heap.fill(0, bs, bs + F);
    this.product(F, Np / 16, R, pw, R, 1, bp, zp, Np, INIT_ROW_BIAS, bs);
    for (let f = 0; f < F; f++) this.k.copyRows(B, 4 * P, 4 * (zp + f * Np), 4 * P, 4 * (zs + f * P), 4 * F * P);
    this.copyOut(zs, B * F * P, z, zOff);
  }

  /**
   * For dz [B, F, P]: dW [F, R] += dZ·colᵀ and db [F] += Σ dZ, as one dot-product pass
   * [dW | db] += dZ·[col; 1]ᵀ over the k = B·P columns; and, when dx is given,
   * dx [B, C, H, W] = col2im(Wᵀ·dZ) (overwritten).
   */
  conv2dBackward(g: ConvGeometry, F: number, B: number, x: Float32Array, w: Float32Array, dz: Float32Array, dW: Float32Array, db: Float32Array | null, dx: Float32Array | null): void {
    const { C, H, W, K, S, pad, Ho, Wo } = g;
    const Hp = H + 2 * pad, Wp = W + 2 * pad;
    const R = C * K * K, P = Ho * Wo, N = B * P;
    const Kp = (N + 3) & ~3, Fp = (F + 3) & ~3, Rq = (R + 2) & ~1; // the dot kernel's multiples; Rq ≥ R + 1 (the ones row)
    const Np = pad16(N);
    this.begin();
    const xs = this.alloc(B * C * H * W), xp = this.alloc(B * C * Hp * Wp);
    const col = this.alloc(Rq * Kp), dZ = this.alloc(Fp * Kp), dWx = this.alloc(Fp * Rq), dzs = this.alloc(B * F * P);
    const pw = dx ? this.alloc(F * R) : 0, bp = dx ? this.alloc(F * Np) : 0, dcol = dx ? this.alloc(R * Np) : 0;
    const dxp = dx ? this.alloc(B * C * Hp * Wp) : 0;
    this.reserve();
    const h = this.heap;
    // col [Rq, Kp]: the receptive fields, a row of ones (for db), zeros elsewhere
    h.fill(0, col, col + Rq * Kp);
    this.lower(g, B, x, 0, xs, xp, col, Kp);
    h.fill(1, col + R * Kp, col + R * Kp + N);
    // dZ [Fp, Kp]: channel f of every example side by side, zeros elsewhere
    h.fill(0, dZ, dZ + Fp * Kp);
    this.copyIn(dz, 0, B * F * P, dzs);
    for (let f = 0; f < F; f++) this.k.copyRows(B, 4 * P, 4 * (dzs + f * P), 4 * F * P, 4 * (dZ + f * Kp), 4 * P);
    h.fill(0, dWx, dWx + Fp * Rq);
    this.k.dot(Fp, Rq, Kp, 4 * dZ, 4 * col, 4 * dWx);
    for (let f = 0; f < F; f++) {
      for (let r = 0; r < R; r++) dW[f * R + r] += h[dWx + f * Rq + r];
      if (db) db[f] += h[dWx + f * Rq + R];
    }
    if (!dx) return;
    // dcol [R, Np] = Wᵀ·dZ: A[r, f] = W[f, r] read by strides; dZ packed as the right operand
    this.copyIn(w, 0, F * R, pw);
    this.k.pack(F, N, 4 * dZ, 4 * Kp, 4, 4 * bp);
    this.product(R, Np / 16, F, pw, 1, R, bp, dcol, Np, INIT_ZERO, 0);
    h.fill(0, dxp, dxp + B * C * Hp * Wp);
    const vecEnd = S === 1 ? Wo - (Wo % 4) : 0;
    for (let b = 0; b < B; b++) this.k.col2im(C, K, S, Ho, Wo, Hp, Wp, vecEnd, 4 * (dxp + b * C * Hp * Wp), 4 * (dcol + b * P), Np);
    this.k.unpad(B * C, H, W, pad, 4 * dxp, 4 * xs); // xs is free again: the unpadded dx goes there
    this.copyOut(xs, B * C * H * W, dx, 0);
  }
}
