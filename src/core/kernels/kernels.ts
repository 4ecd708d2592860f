/**
 * The kernel interface the layers call, and its two implementations:
 *   "ts"   — kernels/gemm.ts, plain TypeScript, any dtype: the reference;
 *   "wasm" — kernels/gemm-wasm.ts (and ConvSimd in im2col.ts), WebAssembly SIMD, Float32 only.
 * The WebAssembly one is picked at start-up where it compiles, else "ts"; `useKernels` switches
 * (tests compare the two, the benchmark measures both). Whatever is active, Float64 operands
 * (gradient checks) and products too small to repay the copies take the TypeScript path, so a
 * given implementation and shape always runs the same code: results are bit-for-bit repeatable,
 * and an example's forward result does not depend on the batch it is in.
 *
 * GEMM signatures (row-major, offsets in elements; `acc` adds into C, else C is overwritten):
 *   gemmNT: C[M,N] (+)= A[M,K]·B[N,K]ᵀ   gemmTN: C[M,N] (+)= A[K,M]ᵀ·B[K,N]   gemmNN: C[M,N] (+)= A[M,K]·B[K,N]
 * and, when `bias` [N] is given (only with acc = false), C[m, n] = bias[n] + Σ_k …
 * The WebAssembly products sum in float32 (the reference sums in double and rounds once), so the
 * two implementations differ in the last bits of a GEMM; everything elementwise is identical.
 *
 * Elementwise: `activate` / `activateBackward` are an activation's passes; `map` (sigmoid, tanh), `lstmStep` and
 * `gruStep` are the hot loops of the recurrent layers, which keep their own TypeScript loop as
 * the reference and call these first: they return false where the implementation has no faster
 * path (always for "ts"), true when they did the work — bit for bit what the loop computes
 * (elementwise-wasm.ts).
 * @example
 * kernels.gemmNT(B, H, D, x, 0, W, 0, z, 0, false, b); // dense forward: z = x·Wᵀ + b
 */
import type { Activation } from "../activations.ts";
import type { FloatArray } from "../tensor.ts";
import * as ref from "./gemm.ts";
import type { ConvGeometry } from "./im2col.ts";
import { WasmEngine, type HelperPort } from "./wasm.ts";

export type Gemm = (M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean, bias?: FloatArray | null) => void;

export interface Kernels {
  readonly name: KernelsName;
  readonly gemmNT: Gemm;
  readonly gemmTN: Gemm;
  readonly gemmNN: Gemm;
  /** y[i] = f(z[i]) for i < n: the activation's forward pass */
  activate(act: Activation, z: FloatArray, y: FloatArray, n: number): void;
  /** dz[i] = dy[i]·f′(z[i]) for i < n: the activation's backward pass */
  activateBackward(act: Activation, z: FloatArray, y: FloatArray, dy: FloatArray, dz: FloatArray, n: number): void;
  /** pool.ts's max pooling forward over x [planes, H, W] (see there); false: not done */
  maxpoolForward(planes: number, H: number, W: number, Ho: number, Wo: number, size: number, stride: number, x: FloatArray, y: FloatArray, arg: Int32Array): boolean;
  /** pool.ts's max pooling backward: dx [m] = 0, dx[arg[o]] += dy[o]; false: not done */
  maxpoolBackward(n: number, arg: Int32Array, dy: FloatArray, dx: FloatArray, m: number): boolean;
  /** y[yOff + i] = f(z[zOff + i]) for i < n, f = sigmoid | tanh as activations.ts defines them; false: not done */
  map(f: "sigmoid" | "tanh", n: number, z: FloatArray, zOff: number, y: FloatArray, yOff: number): boolean;
  /**
   * dz[dzOff + i] = dy[dyOff + i]·f′ for i < n, from zOrY[yOff + i]: z for relu ([z > 0]), y = f(z)
   * for sigmoid (y(1 − y)) and tanh (1 − y²), as activations.ts computes them; false: not done
   */
  mapBackward(f: "relu" | "sigmoid" | "tanh", n: number, zOrY: FloatArray, yOff: number, dy: FloatArray, dyOff: number, dz: FloatArray, dzOff: number): boolean;
  /** lstm.ts's step forward (see there); false: not done */
  lstmStep(B: number, H: number, a: FloatArray, aOff: number, cs: FloatArray, cPrev: number, cNext: number, tc: FloatArray, tcOff: number, hs: FloatArray, hNext: number): boolean;
  /** gru.ts's step forward (see there); false: not done */
  gruStep(B: number, H: number, a: FloatArray, aOff: number, hh: FloatArray, bhh: FloatArray, hs: FloatArray, hPrev: number, hn: FloatArray, hnOff: number, hNext: number): boolean;
  /** conv2d.ts's forward z = conv(x) + b for the whole batch (see there); false: not done */
  conv2dForward(g: ConvGeometry, F: number, B: number, x: FloatArray, xOff: number, w: FloatArray, bias: FloatArray | null, z: FloatArray, zOff: number): boolean;
  /** conv2d.ts's backward: dW, db += …; dx = … when given (see there); false: not done */
  conv2dBackward(g: ConvGeometry, F: number, B: number, x: FloatArray, w: FloatArray, dz: FloatArray, dW: FloatArray, db: FloatArray | null, dx: FloatArray | null): boolean;
  /**
   * optim.ts's update of one tensor w, g (and its moment buffers m, v, empty when the rule has
   * none) [n], `mode` one of train-wasm.ts's UpdateMode, c the step's doubles (UPDATE_CONSTANTS).
   * Returns −1: not done; else 1 when an updated weight is NaN or ±Inf, + 2 when a value of g is
   * (0: all finite).
   */
  update(mode: number, n: number, w: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, c: Float64Array): number;
  /**
   * dst[n] += src[sOff + m·N + n] for m = 0 … M−1 in that order, each add in dst's precision (the
   * layers' bias-gradient loops); false: not done.
   */
  sumRows(M: number, N: number, src: FloatArray, sOff: number, dst: FloatArray): boolean;
  /** Whether a[0 … n) holds a NaN or ±Inf. */
  hasNonFinite(a: FloatArray, n: number): boolean;
  /** views.ts's gather of a batch: x[b·P + i] = images[order[start + b]·P + i] / 255 for b < count, i < P; false: not done */
  gather(images: Uint8Array, P: number, order: Int32Array, start: number, count: number, x: FloatArray): boolean;
}
export type KernelsName = "ts" | "wasm";

/** C[m, n] += bias[n] for the M rows at cOff (the reference adds the bias after the sum). */
function addBias(M: number, N: number, C: FloatArray, cOff: number, bias: FloatArray): void {
  for (let i = 0; i < M; i++) for (let j = 0, o = cOff + i * N; j < N; j++) C[o + j] += bias[j];
}

/**
 * Whether a holds a NaN or ±Inf, by one summing pass: the sum is non-finite iff an element is
 * NaN or ±Inf, or the sum overflows — which a double sum of float32 values (each ≤ 2^128) cannot.
 * (For float64 tensors an overflowing sum also counts as non-finite: the values are then ~1e308.)
 */
function hasNonFiniteLoop(a: FloatArray, n: number): boolean {
  // Performance: four independent partial sums, so the adds do not wait on each other (about
  // 3× faster than one running sum); a NaN or ±Inf still reaches the total.
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) { s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3]; }
  for (; i < n; i++) s0 += a[i];
  const sum = s0 + s1 + (s2 + s3);
  return sum - sum !== 0;
}

/** The reference: plain TypeScript (gemm.ts) for every dtype and shape. */
export const tsKernels: Kernels = {
  name: "ts",
  gemmNT(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) {
    ref.gemmNT(M, N, K, A, aOff, B, bOff, C, cOff, acc);
    if (bias && !acc) addBias(M, N, C, cOff, bias);
  },
  gemmTN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) {
    ref.gemmTN(M, N, K, A, aOff, B, bOff, C, cOff, acc);
    if (bias && !acc) addBias(M, N, C, cOff, bias);
  },
  gemmNN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) {
    ref.gemmNN(M, N, K, A, aOff, B, bOff, C, cOff, acc);
    if (bias && !acc) addBias(M, N, C, cOff, bias);
  },
  activate(act, z, y, n) { act.forward(z, y, n); },
  activateBackward(act, z, y, dy, dz, n) { act.backward(z, y, dy, dz, n); },
  maxpoolForward: () => false,
  maxpoolBackward: () => false,
  map: () => false,
  mapBackward: () => false,
  lstmStep: () => false,
  gruStep: () => false,
  conv2dForward: () => false,
  conv2dBackward: () => false,
  update: () => -1,
  sumRows: () => false,
  hasNonFinite: hasNonFiniteLoop,
  gather: () => false,
};

/**
 * Products with N·K below this take the TypeScript path: there the copies and calls of the
 * WebAssembly path cost more than the loops. The test is on N·K, not M·N·K, because M is the
 * batch of the forward products (gemmNT, gemmNN): a row of C then depends on N and K only, so
 * splitting a batch into chunks (evaluation does) never changes which code computes an example.
 */
export const WASM_MIN_NK = 512;

/** Examples per WebAssembly convolution forward (bounds its memory for large evaluation batches). */
const CONV_CHUNK = 64;

/** Elementwise work below this many values stays in the TypeScript loops. */
export const WASM_MIN_VALUES = 64;

/** WebAssembly SIMD for Float32 products with N·K ≥ WASM_MIN_NK, else the reference. */
function wasmKernels(g: WasmEngine): Kernels {
  const f32 = (A: FloatArray, B: FloatArray, C: FloatArray, bias: FloatArray | null | undefined): boolean =>
    A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array && (!bias || bias instanceof Float32Array);
  return {
    name: "wasm",
    gemmNT(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) {
      if (N * K >= WASM_MIN_NK && f32(A, B, C, bias)) g.gemmNT(M, N, K, A as Float32Array, aOff, B as Float32Array, bOff, C as Float32Array, cOff, acc, acc ? null : (bias as Float32Array | null) ?? null);
      else tsKernels.gemmNT(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias);
    },
    gemmTN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) {
      if (N * K >= WASM_MIN_NK && f32(A, B, C, bias)) g.gemmTN(M, N, K, A as Float32Array, aOff, B as Float32Array, bOff, C as Float32Array, cOff, acc, acc ? null : (bias as Float32Array | null) ?? null);
      else tsKernels.gemmTN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias);
    },
    gemmNN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) {
      if (N * K >= WASM_MIN_NK && f32(A, B, C, bias)) g.gemmNN(M, N, K, A as Float32Array, aOff, B as Float32Array, bOff, C as Float32Array, cOff, acc, acc ? null : (bias as Float32Array | null) ?? null);
      else tsKernels.gemmNN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias);
    },
    activate(act, z, y, n) {
      if ((act.name === "sigmoid" || act.name === "tanh") && this.map(act.name, n, z, 0, y, 0)) return;
      if (act.name === "relu" && n >= WASM_MIN_VALUES && z instanceof Float32Array && y instanceof Float32Array) { g.relu(n, z, y); return; }
      act.forward(z, y, n);
    },
    activateBackward(act, z, y, dy, dz, n) {
      const f = act.name;
      if ((f === "relu" || f === "sigmoid" || f === "tanh") && n >= WASM_MIN_VALUES &&
        z instanceof Float32Array && y instanceof Float32Array && dy instanceof Float32Array && dz instanceof Float32Array) {
        g.activationBackward(f, n, f === "relu" ? z : y, dy, dz);
        return;
      }
      act.backward(z, y, dy, dz, n);
    },
    maxpoolForward(planes, H, W, Ho, Wo, size, stride, x, y, arg) {
      if (!(x instanceof Float32Array && y instanceof Float32Array)) return false;
      g.maxpool(planes, H, W, Ho, Wo, size, stride, x, y, arg);
      return true;
    },
    maxpoolBackward(n, arg, dy, dx, m) {
      if (!(dy instanceof Float32Array && dx instanceof Float32Array)) return false;
      g.maxpoolBackward(n, arg, dy, dx, m);
      return true;
    },
    map(f, n, z, zOff, y, yOff) {
      if (n < WASM_MIN_VALUES || !(z instanceof Float32Array) || !(y instanceof Float32Array)) return false;
      if (f === "sigmoid") g.sigmoid(n, z, zOff, y, yOff);
      else g.tanh(n, z, zOff, y, yOff);
      return true;
    },
    mapBackward(f, n, zOrY, yOff, dy, dyOff, dz, dzOff) {
      if (n < WASM_MIN_VALUES || !(zOrY instanceof Float32Array && dy instanceof Float32Array && dz instanceof Float32Array)) return false;
      g.activationBackward(f, n, zOrY, dy, dz, yOff, dyOff, dzOff);
      return true;
    },
    lstmStep(B, H, a, aOff, cs, cPrev, cNext, tc, tcOff, hs, hNext) {
      if (B * H < WASM_MIN_VALUES || !(a instanceof Float32Array && cs instanceof Float32Array && tc instanceof Float32Array && hs instanceof Float32Array)) return false;
      g.lstm(B, H, a, aOff, cs, cPrev, cNext, tc, tcOff, hs, hNext);
      return true;
    },
    gruStep(B, H, a, aOff, hh, bhh, hs, hPrev, hn, hnOff, hNext) {
      if (B * H < WASM_MIN_VALUES || !(a instanceof Float32Array && hh instanceof Float32Array && bhh instanceof Float32Array && hs instanceof Float32Array && hn instanceof Float32Array)) return false;
      g.gru(B, H, a, aOff, hh, bhh, hs, hPrev, hn, hnOff, hNext);
      return true;
    },
    conv2dForward(geo, F, B, x, xOff, w, bias, z, zOff) {
      if (!(x instanceof Float32Array && w instanceof Float32Array && z instanceof Float32Array && (!bias || bias instanceof Float32Array))) return false;
      // in chunks of CONV_CHUNK examples, so the memory of evaluation batches stays bounded
      // (an example's output does not depend on its chunk: each is one sum per output value)
      const inSize = geo.C * geo.H * geo.W, outSize = F * geo.Ho * geo.Wo;
      for (let b0 = 0; b0 < B; b0 += CONV_CHUNK) {
        g.conv2dForward(geo, F, Math.min(CONV_CHUNK, B - b0), x, xOff + b0 * inSize, w, bias as Float32Array | null, z, zOff + b0 * outSize);
      }
      return true;
    },
    conv2dBackward(geo, F, B, x, w, dz, dW, db, dx) {
      if (!(x instanceof Float32Array && w instanceof Float32Array && dz instanceof Float32Array && dW instanceof Float32Array && (!db || db instanceof Float32Array) && (!dx || dx instanceof Float32Array))) return false;
      g.conv2dBackward(geo, F, B, x, w, dz, dW, db as Float32Array | null, dx as Float32Array | null);
      return true;
    },
    update(mode, n, w, gr, m, v, c) {
      if (n < WASM_MIN_VALUES || !(w instanceof Float32Array && gr instanceof Float32Array && m instanceof Float32Array && v instanceof Float32Array)) return -1;
      return g.update(mode, n, w, gr, m, v, c);
    },
    sumRows(M, N, src, sOff, dst) {
      if (M * N < WASM_MIN_VALUES || !(src instanceof Float32Array)) return false;
      g.sumRows(M, N, src, sOff, dst);
      return true;
    },
    hasNonFinite(a, n) {
      return n >= WASM_MIN_VALUES && a instanceof Float32Array ? g.hasNonFinite(a, n) : hasNonFiniteLoop(a, n);
    },
    gather(images, P, order, start, count, x) {
      return count * P >= WASM_MIN_VALUES && x instanceof Float32Array && g.gather(images, P, order, start, count, x);
    },
  };
}

let wasm: Kernels | null | undefined;
/** The WebAssembly implementation, or null where it does not compile (no SIMD, a CSP, …). */
export function wasmKernelsOrNull(): Kernels | null {
  if (wasm === undefined) {
    const g = WasmEngine.create();
    wasm = g ? wasmKernels(g) : null;
  }
  return wasm;
}

/** The active implementation: WebAssembly where available, else TypeScript. */
export let kernels: Kernels = wasmKernelsOrNull() ?? tsKernels;

/**
 * Give the WebAssembly kernels a helper thread: `port` is a worker that calls wasm.ts's
 * serveHelper with the first message it receives (src/cli/helper.ts in Node: `gradlab run --threads 2`). Large
 * products and cell steps are then split between the two threads, with results identical to
 * one thread. Returns false (and changes nothing) where shared WebAssembly memory is not
 * available. Whether it pays depends on the machine: bench/README.md measures it.
 */
export function useHelper(port: HelperPort): boolean {
  const engine = WasmEngine.withHelper(port);
  if (!engine) return false;
  const active = kernels === wasm;
  wasm = wasmKernels(engine);
  if (active) kernels = wasm;
  return true;
}

/**
 * Switch implementation; returns the previous one's name. "wasm" throws where it is unavailable.
 * Layers built before the switch follow it from their next forward.
 * @example const before = useKernels("ts"); …; useKernels(before);
 */
export function useKernels(name: KernelsName): KernelsName {
  const before = kernels.name;
  if (name === "wasm") {
    const w = wasmKernelsOrNull();
    if (!w) throw new Error("WebAssembly SIMD kernels are not available in this environment");
    kernels = w;
  } else {
    kernels = tsKernels;
  }
  return before;
}
