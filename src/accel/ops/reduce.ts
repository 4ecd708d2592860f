/**
 * Reductions over a tensor, the accelerator's "sumRows" (the layers' bias gradients: a sum over
 * the batch) and "hasNonFinite" (the trainer's and optimizer's NaN/±Inf check) operations.
 * sumRows's reference is the layers' own loop (dense.ts, recurrent.ts); hasNonFinite's is
 * hasNonFiniteRef below. The WebAssembly non-finite check adds (x − x) over the tensor in
 * float32 lanes: 0 for every finite x, NaN for NaN and ±Inf, so the total is NaN exactly when
 * the tensor holds a NaN or ±Inf; the row sums add in the loops' order and precision.
 */
import type { FloatArray } from "../../core/tensor.ts";
import {
  dadd, forLoop, func, get, i32, iadd, iand, imul, isub, promote, set, vadd, vload, vload32, vload64, vstore,
  vstore32, vstore64, vsub, vzero, type Code, type FuncDef,
} from "../asm.ts";
import type { WasmEngine } from "../engine.ts";
import { WASM_MIN_VALUES, type AccelOps } from "../registry.ts";

/**
 * Whether a[0 … n) holds a NaN or ±Inf, by one summing pass: the sum is non-finite iff an element is
 * NaN or ±Inf, or the sum overflows — which a double sum of float32 values (each ≤ 2^128) cannot.
 * (For float64 tensors an overflowing sum also counts as non-finite: the values are then ~1e308.)
 */
export function hasNonFiniteRef(a: FloatArray, n: number): boolean {
  // Performance: four independent partial sums, so the adds do not wait on each other (about
  // 3× faster than one running sum); a NaN or ±Inf still reaches the total.
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) { s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3]; }
  for (; i < n; i++) s0 += a[i];
  const sum = s0 + s1 + (s2 + s3);
  return sum - sum !== 0;
}

/**
 * nonFinite(n, a, out): out (f32x4) = Σ (a[i] − a[i]) in four float32 lanes: all 0 when every
 * value is finite, a NaN lane otherwise. Four accumulators, 16 values per iteration.
 */
const nonFiniteKernel = func("nonFinite", ["n", "a", "out"], ["i", "q"], ["x", "a0", "a1", "a2", "a3"], (L) => {
  const term = (acc: number, offset: number): Code => [...set(L.x, vload(get(L.q), offset)), ...set(acc, vadd(get(acc), vsub(get(L.x), get(L.x))))];
  return [
    ...set(L.a0, vzero()), ...set(L.a1, vzero()), ...set(L.a2, vzero()), ...set(L.a3, vzero()),
    ...forLoop(L.i, i32(0), isub(get(L.n), i32(15)), 16, [
      ...set(L.q, iadd(get(L.a), imul(get(L.i), i32(4)))),
      ...term(L.a0, 0), ...term(L.a1, 16), ...term(L.a2, 32), ...term(L.a3, 48),
    ]),
    ...set(L.i, iand(get(L.n), i32(-16))),
    ...forLoop(L.i, get(L.i), get(L.n), 1, [
      ...set(L.x, vload32(iadd(get(L.a), imul(get(L.i), i32(4))))),
      ...set(L.a0, vadd(get(L.a0), vsub(get(L.x), get(L.x)))),
    ]),
    ...vstore(get(L.out), vadd(vadd(get(L.a0), get(L.a1)), vadd(get(L.a2), get(L.a3)))),
  ];
});

/**
 * sumRows32(M, N, src, dst) and sumRows64(M, N, src, dst): dst[n] += src[m·N + n] for m = 0 … M−1
 * in that order (bias gradients: a sum over the batch), dst float32 (each add rounded to
 * float32, as a Float32Array's `+=` does) or float64 (src promoted, added in double). Row by row,
 * so src streams in order while dst stays in L1.
 */
function sumRowsKernel(double: boolean): FuncDef {
  return func(double ? "sumRows64" : "sumRows32", ["M", "N", "src", "dst"], ["m", "n", "row", "at"], ["x"], (L) => {
    const step = double ? 2 : 4;
    const dstAt = (n: Code): Code => iadd(get(L.dst), imul(n, i32(double ? 8 : 4)));
    const srcAt = (n: Code): Code => iadd(get(L.row), imul(n, i32(4)));
    const vec = double
      ? [...set(L.at, dstAt(get(L.n))), ...vstore(get(L.at), dadd(vload(get(L.at)), promote(vload64(srcAt(get(L.n))))))]
      : [...set(L.at, dstAt(get(L.n))), ...vstore(get(L.at), vadd(vload(get(L.at)), vload(srcAt(get(L.n)))))];
    const one = double
      ? [...set(L.at, dstAt(get(L.n))), ...vstore64(get(L.at), dadd(vload64(get(L.at)), promote(vload32(srcAt(get(L.n))))))]
      : [...set(L.at, dstAt(get(L.n))), ...vstore32(get(L.at), vadd(vload32(get(L.at)), vload32(srcAt(get(L.n)))))];
    return forLoop(L.m, i32(0), get(L.M), 1, [
      ...set(L.row, iadd(get(L.src), imul(imul(get(L.m), get(L.N)), i32(4)))),
      ...forLoop(L.n, i32(0), isub(get(L.N), i32(step - 1)), step, vec),
      ...set(L.n, iand(get(L.N), i32(-step)) /* N & ~(step − 1) */),
      ...forLoop(L.n, get(L.n), get(L.N), 1, one),
    ]);
  });
}

/** The reductions' WebAssembly functions, in the module's order. */
export const REDUCE_FUNCS = [sumRowsKernel(false), sumRowsKernel(true), nonFiniteKernel] as const;

/** The reductions on engine `e`: Float32 sources of ≥ WASM_MIN_VALUES values (else declined, or the reference's answer). */
export function reduceOps(e: WasmEngine): Pick<AccelOps, "sumRows" | "hasNonFinite"> {
  return {
    sumRows(M: number, N: number, src: FloatArray, sOff: number, dst: FloatArray) {
      if (M * N < WASM_MIN_VALUES || !(src instanceof Float32Array)) return false;
      e.sumRows(M, N, src, sOff, dst);
      return true;
    },
    hasNonFinite(a, n) {
      return n >= WASM_MIN_VALUES && a instanceof Float32Array ? e.hasNonFinite(a, n) : hasNonFiniteRef(a, n);
    },
  };
}
