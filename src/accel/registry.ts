/**
 * The operations registry: the accelerated implementation of each operation, keyed by the
 * operation's name. A name that is missing (or an implementation that declines a call by
 * returning false, or −1 for update) means the reference path: the TypeScript code the caller
 * runs instead, which is the definition of the operation. So a runtime without WebAssembly SIMD
 * has an empty registry, and a test can drop any one operation (`drop("lstmStep")`) to compare
 * the two paths. index.ts fills the registry with the WebAssembly bindings at start-up.
 *
 * Callers look an operation up once per call, not per element:
 *   if (!ops.lstmStep?.(B, H, …)) { the reference loop }
 * (index.ts's gemmNT, activate, … wrap that for the operations whose reference is in src/accel).
 * @example
 * const restore = drop("gemmNT"); …; restore(); // the reference products meanwhile
 */
import type { Activation } from "../core/activations.ts";
import type { FloatArray } from "../core/tensor.ts";
import type { ConvGeometry } from "./ops/conv.ts";
import type { GemmOp } from "./ops/gemm.ts";

/** Every operation and its signature; `true` (or ≥ 0 for update) when it did the work. */
export interface AccelOps {
  /** C[M,N] (+)= A[M,K]·B[N,K]ᵀ (+ bias[N]) — ops/gemm.ts */
  gemmNT: GemmOp;
  /** C[M,N] (+)= A[K,M]ᵀ·B[K,N] — ops/gemm.ts */
  gemmTN: GemmOp;
  /** C[M,N] (+)= A[M,K]·B[K,N] — ops/gemm.ts */
  gemmNN: GemmOp;
  /** y[i] = f(z[i]) for i < n: the activation's forward pass — ops/activation.ts */
  activate(act: Activation, z: FloatArray, y: FloatArray, n: number): boolean;
  /** dz[i] = dy[i]·f′(z[i]) for i < n: the activation's backward pass — ops/activation.ts */
  activateBackward(act: Activation, z: FloatArray, y: FloatArray, dy: FloatArray, dz: FloatArray, n: number): boolean;
  /** y[yOff + i] = f(z[zOff + i]) for i < n, f = sigmoid | tanh as activations.ts defines them — ops/activation.ts */
  map(f: "sigmoid" | "tanh", n: number, z: FloatArray, zOff: number, y: FloatArray, yOff: number): boolean;
  /**
   * dz[dzOff + i] = dy[dyOff + i]·f′ for i < n, from zOrY[yOff + i]: z for relu ([z > 0]), y = f(z)
   * for sigmoid (y(1 − y)) and tanh (1 − y²), as activations.ts computes them — ops/activation.ts
   */
  mapBackward(f: "relu" | "sigmoid" | "tanh", n: number, zOrY: FloatArray, yOff: number, dy: FloatArray, dyOff: number, dz: FloatArray, dzOff: number): boolean;
  /** pool.ts's max pooling forward over x [planes, H, W] — ops/pool.ts */
  maxpoolForward(planes: number, H: number, W: number, Ho: number, Wo: number, size: number, stride: number, x: FloatArray, y: FloatArray, arg: Int32Array): boolean;
  /** pool.ts's max pooling backward: dx [m] = 0, dx[arg[o]] += dy[o] — ops/pool.ts */
  maxpoolBackward(n: number, arg: Int32Array, dy: FloatArray, dx: FloatArray, m: number): boolean;
  /** lstm.ts's step forward — ops/cells.ts */
  lstmStep(B: number, H: number, a: FloatArray, aOff: number, cs: FloatArray, cPrev: number, cNext: number, tc: FloatArray, tcOff: number, hs: FloatArray, hNext: number): boolean;
  /** gru.ts's step forward — ops/cells.ts */
  gruStep(B: number, H: number, a: FloatArray, aOff: number, hh: FloatArray, bhh: FloatArray, hs: FloatArray, hPrev: number, hn: FloatArray, hnOff: number, hNext: number): boolean;
  /**
   * lstm.ts's forward of all T steps: pre [T, B, 4H] (projections → gates), W = W_hh [4H, H],
   * cs, hs [T + 1, B, H] (slot 0 given), tc [T, B, H] — ops/cells.ts
   */
  lstmSequence(T: number, B: number, H: number, pre: FloatArray, W: FloatArray, cs: FloatArray, tc: FloatArray, hs: FloatArray): boolean;
  /** gru.ts's forward of all T steps: pre [T, B, 3H], W_hh [3H, H], b_hh [3H], hh [B, 3H], hn [T, B, H], hs [T + 1, B, H] — ops/cells.ts */
  gruSequence(T: number, B: number, H: number, pre: FloatArray, W: FloatArray, bhh: FloatArray, hh: FloatArray, hn: FloatArray, hs: FloatArray): boolean;
  /** rnn.ts's forward of all T steps: z [T, B, H] (projections → z_t), W_hh [H, H], hs [T + 1, B, H] — ops/cells.ts */
  rnnSequence(f: "relu" | "sigmoid" | "tanh", T: number, B: number, H: number, z: FloatArray, W: FloatArray, hs: FloatArray): boolean;
  /**
   * lstm.ts's and recurrent.ts's backward through all T steps: dh [T, B, H] (the output's gradient
   * at T − 1 → every ∂L/∂h_t), dc [T, B, H], dA [T, B, 4H], from the gates pre, cs [T + 1, B, H], tc — ops/cells.ts
   */
  lstmSequenceBackward(T: number, B: number, H: number, pre: FloatArray, cs: FloatArray, tc: FloatArray, dh: FloatArray, W: FloatArray, dc: FloatArray, dA: FloatArray): boolean;
  /** gru.ts's and recurrent.ts's backward through all T steps: dh [T, B, H], dA and dHh [T, B, 3H], from pre, hs, hn — ops/cells.ts */
  gruSequenceBackward(T: number, B: number, H: number, pre: FloatArray, hs: FloatArray, hn: FloatArray, dh: FloatArray, W: FloatArray, dA: FloatArray, dHh: FloatArray): boolean;
  /**
   * rnn.ts's and recurrent.ts's backward through all T steps: dh [T, B, H] (the output's gradient
   * at T − 1 → every ∂L/∂h_t), dz [T, B, H] = ∂L/∂z_t, from zOrY at yOff (z for relu, h_t else) — ops/cells.ts
   */
  rnnSequenceBackward(f: "relu" | "sigmoid" | "tanh", T: number, B: number, H: number, zOrY: FloatArray, yOff: number, dh: FloatArray, W: FloatArray, dz: FloatArray): boolean;
  /** conv2d.ts's forward z = conv(x) + b for the whole batch — ops/conv.ts */
  conv2dForward(g: ConvGeometry, F: number, B: number, x: FloatArray, xOff: number, w: FloatArray, bias: FloatArray | null, z: FloatArray, zOff: number): boolean;
  /** conv2d.ts's backward: dW, db += …; dx = … when given — ops/conv.ts */
  conv2dBackward(g: ConvGeometry, F: number, B: number, x: FloatArray, w: FloatArray, dz: FloatArray, dW: FloatArray, db: FloatArray | null, dx: FloatArray | null): boolean;
  /**
   * optim.ts's update of one tensor w, g (and its moment buffers m, v, empty when the rule has
   * none) [n], `mode` one of ops/update.ts's UpdateMode, c the step's doubles (UPDATE_CONSTANTS).
   * Returns −1: declined; else 1 when an updated weight is NaN or ±Inf, + 2 when a value of g is
   * (0: all finite) — ops/update.ts
   */
  update(mode: number, n: number, w: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, c: Float64Array): number;
  /** dst[n] += src[sOff + m·N + n] for m = 0 … M−1 in that order, each add in dst's precision — ops/reduce.ts */
  sumRows(M: number, N: number, src: FloatArray, sOff: number, dst: FloatArray): boolean;
  /** Whether a[0 … n) holds a NaN or ±Inf (the answer, not whether it was done) — ops/reduce.ts */
  hasNonFinite(a: FloatArray, n: number): boolean;
  /** views.ts's gather of a batch: x[b·P + i] = images[order[start + b]·P + i] / 255 (order null: images[(start + b)·P + i]) — ops/gather.ts */
  gather(images: Uint8Array, P: number, order: Int32Array | null, start: number, count: number, x: FloatArray): boolean;
}

/** An operation's name. */
export type OpName = keyof AccelOps;

/** Elementwise work below this many values stays in the reference loops (the bindings decline it). */
export const WASM_MIN_VALUES = 64;

/**
 * Every name is present from the start (undefined: not registered), so the table keeps one
 * shape while operations come and go and the engine's property loads stay fast.
 */
const table: { [K in OpName]: AccelOps[K] | undefined } = {
  gemmNT: undefined, gemmTN: undefined, gemmNN: undefined, activate: undefined, activateBackward: undefined,
  map: undefined, mapBackward: undefined, maxpoolForward: undefined, maxpoolBackward: undefined, lstmStep: undefined,
  gruStep: undefined, conv2dForward: undefined, conv2dBackward: undefined, update: undefined, sumRows: undefined,
  hasNonFinite: undefined, gather: undefined, lstmSequence: undefined, gruSequence: undefined, rnnSequence: undefined,
  rnnSequenceBackward: undefined, lstmSequenceBackward: undefined, gruSequenceBackward: undefined,
};

/** The registered implementations, by name: read `ops.name?.(…)`; missing means the reference. */
export const ops: Readonly<Partial<AccelOps>> = table;

/** Register these implementations (replacing any of the same names). */
export function register(impl: Partial<AccelOps>): void {
  for (const name of Object.keys(impl) as OpName[]) (table as Record<OpName, unknown>)[name] = impl[name];
}

/**
 * Drop operations (all when none are named): callers then run the reference. Returns a function
 * that puts back what was dropped.
 */
export function drop(...names: OpName[]): () => void {
  const gone = names.length ? names : (Object.keys(table) as OpName[]);
  const saved: Partial<AccelOps> = {};
  for (const name of gone) {
    (saved as Record<OpName, unknown>)[name] = table[name];
    (table as Record<OpName, unknown>)[name] = undefined;
  }
  return () => register(saved);
}

/** The names of the registered operations. */
export function registered(): OpName[] {
  return (Object.keys(table) as OpName[]).filter((name) => table[name] !== undefined);
}
