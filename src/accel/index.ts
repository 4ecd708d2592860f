/**
 * The accelerator: gradlab's hot loops (matrix products, activations, recurrent cell steps,
 * convolution, pooling, the optimizer update, reductions, the batch gather) as named operations
 * with a TypeScript reference and a WebAssembly SIMD implementation each (ops/*.ts), the
 * registry that says which implementation runs (registry.ts), and the engine that owns the
 * WebAssembly module and memory (engine.ts). docs/accelerator.md describes it.
 *
 * Dependencies point one way: src/core (layers, optim.ts) and src/data (views.ts) import this
 * module; it imports nothing of theirs at run time (only the types of tensors and activations).
 *
 * The WebAssembly module compiles on first use, not at import (a process that trains nothing, such
 * as `gradlab --version`, never pays for it): at import every operation's name holds a stand-in
 * (lazyOps) whose first call compiles the module and registers the WebAssembly implementations in
 * place of the stand-ins; where the runtime has no SIMD the registry is emptied instead and the
 * reference runs (said once on stderr or the console).
 * Callers either use the wrappers below (operations whose reference lives here), or look the
 * operation up themselves and run their own loop when it is missing or declines:
 *   accel.gemmNT(B, H, D, x, 0, W, 0, z, 0, false, b);           // z = x·Wᵀ + b
 *   if (!accel.ops.lstmStep?.(B, H, …)) { lstm.ts's loop }
 * Whatever is registered, Float64 operands (gradient checks) and products too small to repay
 * the copies take the reference, so a given setting and shape always runs the same code:
 * results are bit-for-bit repeatable, and an example's forward result does not depend on the
 * batch it is in. The WebAssembly products sum in float32 (the reference sums in double and
 * rounds once), so the two differ in the last bits of a GEMM; everything elementwise is identical.
 */
import type { Activation } from "../core/activations.ts";
import type { FloatArray } from "../core/tensor.ts";
import { WasmEngine, type HelperPort } from "./engine.ts";
import { activationOps } from "./ops/activation.ts";
import { cellOps } from "./ops/cells.ts";
import { convOps } from "./ops/conv.ts";
import { gatherOps } from "./ops/gather.ts";
import { gemmOps, gemmRef } from "./ops/gemm.ts";
import { poolOps } from "./ops/pool.ts";
import { hasNonFiniteRef, reduceOps } from "./ops/reduce.ts";
import { updateOps } from "./ops/update.ts";
import { drop, ops, register, type AccelOps, type OpName } from "./registry.ts";

export { ops, drop, registered, WASM_MIN_VALUES, type AccelOps, type OpName } from "./registry.ts";
export { WASM_MIN_NK, type Gemm } from "./ops/gemm.ts";

/** Which implementations are registered: "wasm" (WebAssembly SIMD) or "ts" (none: the reference). */
export type AccelName = "ts" | "wasm";

/** Every operation's WebAssembly implementation on engine `e`. */
export function wasmOpsOf(e: WasmEngine): AccelOps {
  return { ...gemmOps(e), ...activationOps(e), ...cellOps(e), ...convOps(e), ...poolOps(e), ...updateOps(e), ...reduceOps(e), ...gatherOps(e) };
}

let wasm: AccelOps | null | undefined;
/** The WebAssembly implementations, or null where the runtime has no WebAssembly SIMD. */
export function wasmOps(): AccelOps | null {
  if (wasm === undefined) {
    const e = WasmEngine.create();
    wasm = e ? wasmOpsOf(e) : null;
  }
  return wasm;
}

let active: AccelName = "ts";
/** The registered set's name. */
export function accelName(): AccelName { return active; }

/**
 * Register every WebAssembly implementation ("wasm"; throws where unavailable) or none ("ts");
 * returns the previous setting. Layers built before the switch follow it from their next call.
 * @example const before = useAccel("ts"); …; useAccel(before);
 */
export function useAccel(name: AccelName): AccelName {
  const before = active;
  if (name === "wasm") {
    const w = wasmOps();
    if (!w) throw new Error("WebAssembly SIMD is not available in this environment");
    register(w);
  } else {
    drop();
  }
  active = name;
  return before;
}

/**
 * Give the WebAssembly operations a helper thread: `port` is a worker that calls engine.ts's
 * serveHelper with the first message it receives (src/cli/helper.ts in Node: `gradlab run
 * --threads 2`). Large products and cell steps are then split between the two threads, with
 * results identical to one thread. Returns false (and changes nothing) where shared WebAssembly
 * memory is not available. Whether it pays depends on the machine: bench/README.md measures it.
 */
export function useHelper(port: HelperPort): boolean {
  const e = WasmEngine.withHelper(port);
  if (!e) return false;
  wasm = wasmOpsOf(e);
  if (active === "wasm") register(wasm);
  return true;
}

/**
 * Stand-ins for every operation until the module is compiled. The first call to any of them
 * compiles it (wasmOps), registers the WebAssembly set over all the stand-ins and runs the call
 * there; without WebAssembly SIMD it empties the registry ("ts") and answers as a missing operation
 * does (false, −1 for update, the reference's answer for hasNonFinite), so the caller runs the
 * reference. Either way the stand-ins are gone after one call and each shape runs the same code
 * as an eager start would have.
 */
function lazyOps(): AccelOps {
  const stand = (name: OpName) => (...args: unknown[]): unknown => {
    const w = wasmOps();
    if (w) {
      register(w);
      return (w[name] as (...a: unknown[]) => unknown)(...args);
    }
    drop();
    active = "ts";
    if (name === "hasNonFinite") return hasNonFiniteRef(args[0] as FloatArray, args[1] as number);
    return name === "update" ? -1 : false;
  };
  return Object.fromEntries((Object.keys(ops) as OpName[]).map((name) => [name, stand(name)])) as unknown as AccelOps;
}

register(lazyOps());
active = "wasm";

// --- the operations whose reference lives in src/accel ----------------------------------------------

/** C[M,N] (+)= A[M,K]·B[N,K]ᵀ (+ bias[N] when acc is false): ops/gemm.ts. */
export function gemmNT(M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean, bias: FloatArray | null = null): void {
  if (!ops.gemmNT?.(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias)) gemmRef.gemmNT(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias);
}

/** C[M,N] (+)= A[K,M]ᵀ·B[K,N] (+ bias[N] when acc is false): ops/gemm.ts. */
export function gemmTN(M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean, bias: FloatArray | null = null): void {
  if (!ops.gemmTN?.(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias)) gemmRef.gemmTN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias);
}

/** C[M,N] (+)= A[M,K]·B[K,N] (+ bias[N] when acc is false): ops/gemm.ts. */
export function gemmNN(M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean, bias: FloatArray | null = null): void {
  if (!ops.gemmNN?.(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias)) gemmRef.gemmNN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias);
}

/** y[i] = f(z[i]) for i < n: the activation's forward pass (its reference is act.forward). */
export function activate(act: Activation, z: FloatArray, y: FloatArray, n: number): void {
  if (!ops.activate?.(act, z, y, n)) act.forward(z, y, n);
}

/** dz[i] = dy[i]·f′(z[i]) for i < n: the activation's backward pass (its reference is act.backward). */
export function activateBackward(act: Activation, z: FloatArray, y: FloatArray, dy: FloatArray, dz: FloatArray, n: number): void {
  if (!ops.activateBackward?.(act, z, y, dy, dz, n)) act.backward(z, y, dy, dz, n);
}

/** Whether a[0 … n) holds a NaN or ±Inf: ops/reduce.ts. */
export function hasNonFinite(a: FloatArray, n: number): boolean {
  const f = ops.hasNonFinite;
  return f ? f(a, n) : hasNonFiniteRef(a, n);
}

export { hasNonFiniteRef };
export { gemmNNRef, gemmNTRef, gemmRef, gemmTNRef } from "./ops/gemm.ts";
export { col2im, convOutSize, im2col, type ConvGeometry } from "./ops/conv.ts";
export { UPDATE_CONSTANT_COUNT, UPDATE_CONSTANTS, UpdateMode, WITH_DECAY } from "./ops/update.ts";
export { isKernelBytes, kernelBytes, serveHelper, WasmEngine, type HelperInit, type HelperPort } from "./engine.ts";
export { checkResident, touch } from "./resident.ts";
