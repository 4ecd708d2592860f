/**
 * General matrix products, the accelerator's "gemmNT", "gemmTN" and "gemmNN" operations: the
 * TypeScript reference, the WebAssembly SIMD kernels, and their binding, side by side.
 *   gemmNT: C[M,N] (+)= A[M,K]·B[N,K]ᵀ   (dense forward: Z = X·Wᵀ)
 *   gemmTN: C[M,N] (+)= A[K,M]ᵀ·B[K,N]   (weight gradient: dW = dZᵀ·X)
 *   gemmNN: C[M,N] (+)= A[M,K]·B[K,N]    (input gradient: dX = dZ·W)
 * Row-major, offsets in elements so callers address a slice (one time step, one image) without
 * a view object; `acc` adds into C, else C is overwritten; a `bias` [N] (only with acc false)
 * starts every row: C[m, n] = bias[n] + Σ_k ….
 *
 * Reference (any dtype). Each loop handles four rows/columns at once so one load of the shared
 * operand feeds four multiply-adds; gemmNT keeps a 3 × 4 tile of C in registers (7 loads per 12
 * multiply-adds; 4 × 4 spills on x64), about 1.6× the 1 × 4 loop. Every C[i, j] is one double
 * sum over k in order, rounded once when stored; the bias is added after the sum.
 *
 * WebAssembly (Float32). One micro-kernel does the multiply-adds, tileR: C = start + A·B with A
 * addressed by two strides (so it reads A or Aᵀ alike) and B packed in panels of 16 columns
 * ([K, 16] each, contiguous: no power-of-two strides, no 4 KiB aliasing). Register tile: 2 rows
 * × 16 columns of C in eight f32x4 accumulators; per k, four vector loads of B and two
 * broadcasts of A feed 32 multiply-adds, which keeps the two multiply and two add pipes of a
 * current x86 core busy (~28 GMAC/s on one core of the 2-vCPU AMD EPYC the benchmarks ran on;
 * 4×8, 6×8, 3×16, 2×20 tiles and a dot-product kernel along k all measured slower —
 * bench/README.md). An odd last row runs the 1-row tile; panels are zero-padded to 16 columns.
 * Every C[m, n] is one float32 sum over k in order, starting from 0, C, or the bias: bit for bit
 * the same whatever the blocking, and within float32 rounding of the reference. Helpers: pack (B
 * or Bᵀ into panels), transpose, copyRows (between padded and plain rows). The driver that
 * copies operands in and picks gemmNT's orientation is engine.ts's.
 * @example
 * accel.gemmNT(B, H, D, x, 0, W, 0, z, 0, false, b); // dense forward: z = x·Wᵀ + b (index.ts wraps these)
 */
import type { FloatArray } from "../../core/tensor.ts";
import {
  call, f32load, f32store, forLoop, func, get, i32, iadd, iand, ieq, igt, ifElse, ilt, imin, imul, ishrU, isub,
  memcopy, memzero, names, set, shuffle4, vadd, vload, vmul, vsplat, vstore, vzero, type Code, type FuncDef,
} from "../asm.ts";
import type { WasmEngine } from "../engine.ts";
import type { AccelOps } from "../registry.ts";

/** A product's signature (reference, WebAssembly binding and dispatcher alike). */
export type Gemm = (M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean, bias?: FloatArray | null) => void;
/** The accelerated product: false when it declined (then the reference runs). */
export type GemmOp = (M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean, bias?: FloatArray | null) => boolean;

// --- reference -----------------------------------------------------------------------------------

/** C[M,N] (+)= A[M,K]·B[N,K]ᵀ, each C[i, j] one sum over k in order, in double, rounded once when stored. */
export function gemmNTRef(M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean): void {
  let i = 0;
  for (; i + 2 < M; i += 3) {
    const a0 = aOff + i * K, a1 = a0 + K, a2 = a1 + K;
    const c0 = cOff + i * N, c1 = c0 + N, c2 = c1 + N;
    let j = 0;
    for (; j + 3 < N; j += 4) {
      const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0, s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      for (let k = 0; k < K; k++) {
        const w0 = B[b0 + k], w1 = B[b1 + k], w2 = B[b2 + k], w3 = B[b3 + k];
        let x = A[a0 + k];
        s00 += x * w0; s01 += x * w1; s02 += x * w2; s03 += x * w3;
        x = A[a1 + k];
        s10 += x * w0; s11 += x * w1; s12 += x * w2; s13 += x * w3;
        x = A[a2 + k];
        s20 += x * w0; s21 += x * w1; s22 += x * w2; s23 += x * w3;
      }
      if (acc) {
        C[c0 + j] += s00; C[c0 + j + 1] += s01; C[c0 + j + 2] += s02; C[c0 + j + 3] += s03;
        C[c1 + j] += s10; C[c1 + j + 1] += s11; C[c1 + j + 2] += s12; C[c1 + j + 3] += s13;
        C[c2 + j] += s20; C[c2 + j + 1] += s21; C[c2 + j + 2] += s22; C[c2 + j + 3] += s23;
      } else {
        C[c0 + j] = s00; C[c0 + j + 1] = s01; C[c0 + j + 2] = s02; C[c0 + j + 3] = s03;
        C[c1 + j] = s10; C[c1 + j + 1] = s11; C[c1 + j + 2] = s12; C[c1 + j + 3] = s13;
        C[c2 + j] = s20; C[c2 + j + 1] = s21; C[c2 + j + 2] = s22; C[c2 + j + 3] = s23;
      }
    }
    for (; j < N; j++) {
      const b0 = bOff + j * K;
      let s0 = 0, s1 = 0, s2 = 0;
      for (let k = 0; k < K; k++) { const w = B[b0 + k]; s0 += A[a0 + k] * w; s1 += A[a1 + k] * w; s2 += A[a2 + k] * w; }
      if (acc) { C[c0 + j] += s0; C[c1 + j] += s1; C[c2 + j] += s2; }
      else { C[c0 + j] = s0; C[c1 + j] = s1; C[c2 + j] = s2; }
    }
  }
  for (; i < M; i++) {
    const a = aOff + i * K;
    const c = cOff + i * N;
    let j = 0;
    for (; j + 3 < N; j += 4) {
      const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const x = A[a + k];
        s0 += x * B[b0 + k];
        s1 += x * B[b1 + k];
        s2 += x * B[b2 + k];
        s3 += x * B[b3 + k];
      }
      if (acc) { C[c + j] += s0; C[c + j + 1] += s1; C[c + j + 2] += s2; C[c + j + 3] += s3; }
      else { C[c + j] = s0; C[c + j + 1] = s1; C[c + j + 2] = s2; C[c + j + 3] = s3; }
    }
    for (; j < N; j++) {
      const b0 = bOff + j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a + k] * B[b0 + k];
      if (acc) C[c + j] += s;
      else C[c + j] = s;
    }
  }
}

/** C[M,N] (+)= A[K,M]ᵀ·B[K,N] (a weight gradient), k outermost. */
export function gemmTNRef(M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean): void {
  if (!acc) C.fill(0, cOff, cOff + M * N);
  for (let k = 0; k < K; k++) {
    const a = aOff + k * M;
    const b = bOff + k * N;
    let i = 0;
    for (; i + 3 < M; i += 4) {
      const a0 = A[a + i], a1 = A[a + i + 1], a2 = A[a + i + 2], a3 = A[a + i + 3];
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue; // relu zeros: nothing to add
      const c0 = cOff + i * N, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
      for (let j = 0; j < N; j++) {
        const x = B[b + j];
        C[c0 + j] += a0 * x;
        C[c1 + j] += a1 * x;
        C[c2 + j] += a2 * x;
        C[c3 + j] += a3 * x;
      }
    }
    for (; i < M; i++) {
      const a0 = A[a + i];
      if (a0 === 0) continue;
      const c0 = cOff + i * N;
      for (let j = 0; j < N; j++) C[c0 + j] += a0 * B[b + j];
    }
  }
}

/** C[M,N] (+)= A[M,K]·B[K,N] (an input gradient), four k at a time. */
export function gemmNNRef(M: number, N: number, K: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, acc: boolean): void {
  if (!acc) C.fill(0, cOff, cOff + M * N);
  for (let i = 0; i < M; i++) {
    const a = aOff + i * K;
    const c = cOff + i * N;
    let k = 0;
    for (; k + 3 < K; k += 4) {
      const a0 = A[a + k], a1 = A[a + k + 1], a2 = A[a + k + 2], a3 = A[a + k + 3];
      const b0 = bOff + k * N, b1 = b0 + N, b2 = b1 + N, b3 = b2 + N;
      for (let j = 0; j < N; j++) {
        C[c + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
      }
    }
    for (; k < K; k++) {
      const a0 = A[a + k];
      const b0 = bOff + k * N;
      for (let j = 0; j < N; j++) C[c + j] += a0 * B[b0 + j];
    }
  }
}

/** C[m, n] += bias[n] for the M rows at cOff (the reference adds the bias after the sum). */
function addBias(M: number, N: number, C: FloatArray, cOff: number, bias: FloatArray): void {
  for (let i = 0; i < M; i++) for (let j = 0, o = cOff + i * N; j < N; j++) C[o + j] += bias[j];
}

/**
 * gemmNTRef then addBias for K = 1 (a recurrent layer's input projection on the pixels view,
 * [T·B, 1]·[H, 1]ᵀ + b) in one pass, the same two roundings: the sum 0 + a·b stored (so −0
 * becomes +0, as the reference's sum does), then the bias added to the stored value.
 */
function outerBias(M: number, N: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number, C: FloatArray, cOff: number, bias: FloatArray): void {
  const round = C instanceof Float32Array ? Math.fround : (v: number) => v;
  for (let i = 0; i < M; i++) {
    const x = A[aOff + i];
    for (let j = 0, o = cOff + i * N; j < N; j++) C[o + j] = round(0 + x * B[bOff + j]) + bias[j];
  }
}

/** The references with the bias: what runs where no accelerated product is registered or it declines. */
export const gemmRef: Record<"gemmNT" | "gemmTN" | "gemmNN", Gemm> = {
  gemmNT(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) {
    if (K === 1 && bias && !acc) return outerBias(M, N, A, aOff, B, bOff, C, cOff, bias);
    gemmNTRef(M, N, K, A, aOff, B, bOff, C, cOff, acc);
    if (bias && !acc) addBias(M, N, C, cOff, bias);
  },
  gemmTN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) { gemmTNRef(M, N, K, A, aOff, B, bOff, C, cOff, acc); if (bias && !acc) addBias(M, N, C, cOff, bias); },
  gemmNN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) { gemmNNRef(M, N, K, A, aOff, B, bOff, C, cOff, acc); if (bias && !acc) addBias(M, N, C, cOff, bias); },
};

// --- WebAssembly ---------------------------------------------------------------------------------

/** How a product's accumulators start: 0, the current C, bias[m] for row m, bias[n] for column n. */
export const INIT_ZERO = 0, INIT_C = 1, INIT_ROW_BIAS = 2, INIT_COL_BIAS = 3;
const iEq = (a: Code, n: number): Code => ieq(a, i32(n));

/**
 * tileR(M, S, K, a, aRow, aCol, bp, c, ldc, init, bias, lastV): C[M, 16·S] = start + A·B for R
 * rows at a time (M % R = 0), where
 *   A[m, k] at a + m·aRow + k·aCol (so A or Aᵀ alike),
 *   B packed in panels of 16 columns: B[k, 16s + j] at bp + (s·K + k)·64 + 4j,
 *   C[m, n] at c + m·ldc + 4n,  the start chosen by `init` (bias[m] or bias[n] at `bias`);
 * pointers and strides in bytes. Register tile: R rows × 16 columns (4·R f32x4 accumulators). The
 * last panel computes only its first `lastV` (1–4) vectors of 4 columns: a product whose N is a
 * multiple of 4 then needs neither the padding columns' work nor a padded C (N = 100: 7 panels
 * with the last 4 columns wide, not 112 columns).
 */
function tileKernel(R: number): FuncDef {
  const V = 4;
  return func(`tile${R}`, ["M", "S", "K", "a", "aRow", "aCol", "bp", "c", "ldc", "init", "bias", "lastV"],
    ["m", "s", "k", "pa", "pb", "pc", "panel"], [...names("s", R * V), ...names("x", V), "t"], (L) => {
      const acc = (i: number, v: number) => L[`s${i * V + v}`];
      const rowC = (i: number): Code => (i === 0 ? get(L.pc) : iadd(get(L.pc), imul(i32(i), get(L.ldc))));
      const rowA = (i: number): Code => (i === 0 ? get(L.pa) : iadd(get(L.pa), imul(i32(i), get(L.aRow))));
      /** one panel of W vectors (4·W columns) */
      const panel = (W: number): Code => {
        const each = (f: (i: number, v: number) => Code): Code => {
          const out: Code = [];
          for (let i = 0; i < R; i++) for (let v = 0; v < W; v++) out.push(...f(i, v));
          return out;
        };
        return [
          ...ifElse(iEq(get(L.init), INIT_ZERO),
            each((i, v) => set(acc(i, v), vzero())),
            ifElse(iEq(get(L.init), INIT_C),
              each((i, v) => set(acc(i, v), vload(rowC(i), 16 * v))),
              ifElse(iEq(get(L.init), INIT_ROW_BIAS),
                each((i, v) => set(acc(i, v), vsplat(iadd(get(L.bias), imul(iadd(get(L.m), i32(i)), i32(4)))))),
                each((i, v) => set(acc(i, v), vload(iadd(get(L.bias), imul(get(L.s), i32(64))), 16 * v)))))),
          ...set(L.pa, iadd(get(L.a), imul(get(L.m), get(L.aRow)))),
          ...set(L.pb, iadd(get(L.bp), imul(get(L.s), get(L.panel)))),
          ...forLoop(L.k, i32(0), get(L.K), 1, [
            ...Array.from({ length: W }, (_, v) => set(L[`x${v}`], vload(get(L.pb), 16 * v))).flat(),
            ...Array.from({ length: R }, (_, i) => [
              ...set(L.t, vsplat(rowA(i))),
              ...Array.from({ length: W }, (_, v) => set(acc(i, v), vadd(get(acc(i, v)), vmul(get(L.t), get(L[`x${v}`]))))).flat(),
            ]).flat(),
            ...set(L.pa, iadd(get(L.pa), get(L.aCol))),
            ...set(L.pb, iadd(get(L.pb), i32(64))),
          ]),
          ...each((i, v) => vstore(rowC(i), get(acc(i, v)), 16 * v)),
        ];
      };
      const narrow = (w: number): Code => (w === 3 ? panel(3) : ifElse(iEq(get(L.lastV), w), panel(w), narrow(w + 1)));
      return [
        ...set(L.panel, imul(get(L.K), i32(64))),
        ...forLoop(L.m, i32(0), get(L.M), R, [
          ...forLoop(L.s, i32(0), get(L.S), 1, [
            ...set(L.pc, iadd(iadd(get(L.c), imul(get(L.m), get(L.ldc))), imul(get(L.s), i32(64)))),
            // the last panel narrower than 16 columns: lastV < 4 and s = S − 1
            ...ifElse(iand(ilt(get(L.lastV), i32(4)), ieq(iadd(get(L.s), i32(1)), get(L.S))),
              narrow(1), panel(4)),
          ]),
        ]),
      ];
    });
}

/**
 * pack(K, N, src, kStride, nStride, dst): B[k, n] = src[k·kStride + n·nStride] (bytes) into the
 * panels tileR reads; the columns of the last panel beyond N are zeros. Three ways, by layout:
 * B row-major (nStride = 4) copies four columns per vector; B stored transposed (kStride = 4:
 * the packing of Aᵀ or Bᵀ for gemmNT) transposes 4 × 4 blocks in registers (i8x16.shuffle), four
 * loads and stores per 16 values; anything else (and the ragged last panel) one value at a time.
 */
const packKernel = func("pack", ["K", "N", "src", "kStride", "nStride", "dst"], ["s", "k", "j", "q", "w", "ps", "pd", "K4", "t0", "t1"], [...names("v", 4), ...names("u", 4)], (L) => {
    const V = (i: number) => get(L[`v${i}`]), U = (i: number) => get(L[`u${i}`]);
  const scalarRows = (from: Code): Code => forLoop(L.k, from, get(L.K), 1, [
    ...set(L.ps, iadd(iadd(get(L.src), imul(get(L.k), get(L.kStride))), imul(imul(get(L.s), i32(16)), get(L.nStride)))),
    ...set(L.pd, iadd(iadd(get(L.dst), imul(imul(get(L.s), get(L.K)), i32(64))), imul(get(L.k), i32(64)))),
    ...forLoop(L.j, i32(0), get(L.w), 1,
      f32store(iadd(get(L.pd), imul(get(L.j), i32(4))), f32load(iadd(get(L.ps), imul(get(L.j), get(L.nStride)))))),
  ]);
  return [
    ...set(L.K4, iand(get(L.K), i32(-4))), // K & ~3
    ...forLoop(L.s, i32(0), ishrU(iadd(get(L.N), i32(15)), 4), 1, [
      // w = min(16, N − 16s): the panel's real columns
      ...set(L.w, imin(i32(16), isub(get(L.N), imul(get(L.s), i32(16))), L.t0, L.t1)),
      ...set(L.pd, iadd(get(L.dst), imul(imul(get(L.s), get(L.K)), i32(64)))),
      ...ifElse(ilt(get(L.w), i32(16)), memzero(get(L.pd), imul(get(L.K), i32(64)))),
      ...ifElse(iand(iEq(get(L.nStride), 4), iEq(get(L.w), 16)),
        // row-major: each panel row is 16 consecutive values
        forLoop(L.k, i32(0), get(L.K), 1, [
          ...set(L.ps, iadd(iadd(get(L.src), imul(get(L.k), get(L.kStride))), imul(get(L.s), i32(64)))),
          ...[0, 1, 2, 3].flatMap((v) => vstore(get(L.pd), vload(get(L.ps), 16 * v), 16 * v)),
          ...set(L.pd, iadd(get(L.pd), i32(64))),
        ]),
        ifElse(iand(iEq(get(L.kStride), 4), iEq(get(L.w), 16)),
          [
            // transposed: rows n = 16s + j + q hold B[k…k+3, n] contiguously; 4 × 4 transposes
            ...forLoop(L.k, i32(0), get(L.K4), 4, forLoop(L.j, i32(0), i32(16), 4, [
              ...set(L.ps, iadd(iadd(get(L.src), imul(get(L.k), i32(4))), imul(iadd(imul(get(L.s), i32(16)), get(L.j)), get(L.nStride)))),
              ...[0, 1, 2, 3].flatMap((q) => set(L[`v${q}`], vload(q === 0 ? get(L.ps) : iadd(get(L.ps), imul(i32(q), get(L.nStride)))))),
              // v_q = [B[k, n_q] … B[k+3, n_q]] → u_p = [B[k+p, n_0] … B[k+p, n_3]]
              ...set(L.u0, shuffle4(V(0), V(1), [0, 4, 1, 5])), ...set(L.u1, shuffle4(V(0), V(1), [2, 6, 3, 7])),
              ...set(L.u2, shuffle4(V(2), V(3), [0, 4, 1, 5])), ...set(L.u3, shuffle4(V(2), V(3), [2, 6, 3, 7])),
              ...set(L.v0, shuffle4(U(0), U(2), [0, 1, 4, 5])), ...set(L.v1, shuffle4(U(0), U(2), [2, 3, 6, 7])),
              ...set(L.v2, shuffle4(U(1), U(3), [0, 1, 4, 5])), ...set(L.v3, shuffle4(U(1), U(3), [2, 3, 6, 7])),
              ...set(L.q, iadd(iadd(get(L.pd), imul(get(L.k), i32(64))), imul(get(L.j), i32(4)))),
              ...[0, 1, 2, 3].flatMap((p) => vstore(get(L.q), V(p), 64 * p)),
            ])),
            ...scalarRows(get(L.K4)),
          ],
          scalarRows(i32(0)))),
    ]),
  ];
});

/**
 * transpose(R, C, src, lds, dst, ldd): dst[c, r] = src[r, c] for an R × C block (row strides
 * lds, ldd in bytes): 4 × 4 blocks transposed in registers (four loads, eight shuffles, four
 * stores), then the ragged right and bottom edges one value at a time.
 */
const transposeKernel = func("transpose", ["R", "C", "src", "lds", "dst", "ldd"], ["r", "c", "r4", "c4", "ps", "pd"], [...names("v", 4), ...names("u", 4)], (L) => {
  const from = (r: Code, c: Code): Code => iadd(iadd(get(L.src), imul(r, get(L.lds))), imul(c, i32(4)));
  const to = (c: Code, r: Code): Code => iadd(iadd(get(L.dst), imul(c, get(L.ldd))), imul(r, i32(4)));
  const copy = (r: Code, c: Code): Code => f32store(to(c, r), f32load(from(r, c)));
  const V = (i: number) => get(L[`v${i}`]), U = (i: number) => get(L[`u${i}`]);
  return [
    ...set(L.r4, imul(ishrU(get(L.R), 2), i32(4))),
    ...set(L.c4, imul(ishrU(get(L.C), 2), i32(4))),
    ...forLoop(L.r, i32(0), get(L.r4), 4, [
      ...forLoop(L.c, i32(0), get(L.c4), 4, [
        ...set(L.ps, from(get(L.r), get(L.c))),
        ...set(L.pd, to(get(L.c), get(L.r))),
        // v_i = src[r + i, c…c+3] → u_j = src[r…r+3, c + j] = dst[c + j, r…r+3]
        ...[0, 1, 2, 3].flatMap((i) => set(L[`v${i}`], vload(i === 0 ? get(L.ps) : iadd(get(L.ps), imul(i32(i), get(L.lds)))))),
        ...set(L.u0, shuffle4(V(0), V(1), [0, 4, 1, 5])), ...set(L.u1, shuffle4(V(0), V(1), [2, 6, 3, 7])),
        ...set(L.u2, shuffle4(V(2), V(3), [0, 4, 1, 5])), ...set(L.u3, shuffle4(V(2), V(3), [2, 6, 3, 7])),
        ...set(L.v0, shuffle4(U(0), U(2), [0, 1, 4, 5])), ...set(L.v1, shuffle4(U(0), U(2), [2, 3, 6, 7])),
        ...set(L.v2, shuffle4(U(1), U(3), [0, 1, 4, 5])), ...set(L.v3, shuffle4(U(1), U(3), [2, 3, 6, 7])),
        ...[0, 1, 2, 3].flatMap((j) => vstore(j === 0 ? get(L.pd) : iadd(get(L.pd), imul(i32(j), get(L.ldd))), V(j))),
      ]),
      ...forLoop(L.c, get(L.c4), get(L.C), 1, [0, 1, 2, 3].flatMap((i) => copy(iadd(get(L.r), i32(i)), get(L.c)))),
    ]),
    ...forLoop(L.r, get(L.r4), get(L.R), 1, forLoop(L.c, i32(0), get(L.C), 1, copy(get(L.r), get(L.c)))),
  ];
});

/** copyRows(R, n, src, lds, dst, ldd): R rows of n bytes from stride lds to stride ldd (memory.copy). */
const copyRowsKernel = func("copyRows", ["R", "n", "src", "lds", "dst", "ldd"], ["r"], [], (L) => [
  ...forLoop(L.r, i32(0), get(L.R), 1, memcopy(iadd(get(L.dst), imul(get(L.r), get(L.ldd))), iadd(get(L.src), imul(get(L.r), get(L.lds))), get(L.n))),
]);

/**
 * product(M, S, K, a, aRow, aCol, bp, c, ldc, init, bias, sc, lastV): the driver of the tiles,
 * C = start + A·B over M rows and S panels, the last one lastV vectors wide (tileR): panels in cache blocks of sc (a block of B, K × 16·sc floats,
 * stays in L2 while every pair of rows of A streams through it), rows two at a time (tile2), an
 * odd last row alone (tile1). Calls functions 0 and 1 of the module: tile2 and tile1 must come first.
 */
const productKernel = func("product", ["M", "S", "K", "a", "aRow", "aCol", "bp", "c", "ldc", "init", "bias", "sc", "lastV"], ["M2", "s0", "ss", "b0", "c0", "bias0", "t0", "t1", "lv"], [], (L) => [
  ...set(L.M2, iand(get(L.M), i32(-2))), // M & ~1
  ...forLoop(L.s0, i32(0), get(L.S), get(L.sc), [
    ...set(L.ss, imin(get(L.sc), isub(get(L.S), get(L.s0)), L.t0, L.t1)),
    ...set(L.b0, iadd(get(L.bp), imul(imul(get(L.s0), get(L.K)), i32(64)))),
    ...set(L.c0, iadd(get(L.c), imul(get(L.s0), i32(64)))),
    ...set(L.bias0, get(L.bias)),
    ...ifElse(iEq(get(L.init), INIT_COL_BIAS), set(L.bias0, iadd(get(L.bias), imul(get(L.s0), i32(64))))),
    // only the block holding the last panel passes lastV on
    ...set(L.lv, i32(4)),
    ...ifElse(ieq(iadd(get(L.s0), get(L.ss)), get(L.S)), set(L.lv, get(L.lastV))),
    ...ifElse(igt(get(L.M2), i32(0)), // M2 > 0
      call(0, get(L.M2), get(L.ss), get(L.K), get(L.a), get(L.aRow), get(L.aCol), get(L.b0), get(L.c0), get(L.ldc), get(L.init), get(L.bias0), get(L.lv))),
    ...ifElse(igt(get(L.M), get(L.M2)), // M > M2: the odd last row
      call(1, i32(1), get(L.ss), get(L.K), iadd(get(L.a), imul(get(L.M2), get(L.aRow))), get(L.aRow), get(L.aCol), get(L.b0),
        iadd(get(L.c0), imul(get(L.M2), get(L.ldc))), get(L.ldc), get(L.init),
        // the row bias of row M2 is 4·M2 bytes on: (init == ROW) · 4·M2
        iadd(get(L.bias0), imul(iEq(get(L.init), INIT_ROW_BIAS), imul(get(L.M2), i32(4)))), get(L.lv))),
  ]),
]);

/** The products' functions, in the module's order: tile2 and tile1 first (product calls functions 0 and 1). */
export const GEMM_FUNCS = [tileKernel(2), tileKernel(1), productKernel, packKernel, transposeKernel, copyRowsKernel] as const;

// --- binding -------------------------------------------------------------------------------------

/**
 * Products with N·K below this take the reference: there the copies and calls of the
 * WebAssembly path cost more than the loops. The test is on N·K, not M·N·K, because M is the
 * batch of the forward products (gemmNT, gemmNN): a row of C then depends on N and K only, so
 * splitting a batch into chunks (evaluation does) never changes which code computes an example.
 */
export const WASM_MIN_NK = 512;

/** The WebAssembly products of engine `e`: Float32 operands with N·K ≥ WASM_MIN_NK, else declined. */
export function gemmOps(e: WasmEngine): Pick<AccelOps, "gemmNT" | "gemmTN" | "gemmNN"> {
  const f32 = (A: FloatArray, B: FloatArray, C: FloatArray, bias: FloatArray | null | undefined): boolean =>
    A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array && (!bias || bias instanceof Float32Array);
  return {
    gemmNT(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) {
      if (N * K < WASM_MIN_NK || !f32(A, B, C, bias)) return false;
      e.gemmNT(M, N, K, A as Float32Array, aOff, B as Float32Array, bOff, C as Float32Array, cOff, acc, acc ? null : (bias as Float32Array | null) ?? null);
      return true;
    },
    gemmTN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) {
      if (N * K < WASM_MIN_NK || !f32(A, B, C, bias)) return false;
      e.gemmTN(M, N, K, A as Float32Array, aOff, B as Float32Array, bOff, C as Float32Array, cOff, acc, acc ? null : (bias as Float32Array | null) ?? null);
      return true;
    },
    gemmNN(M, N, K, A, aOff, B, bOff, C, cOff, acc, bias) {
      if (N * K < WASM_MIN_NK || !f32(A, B, C, bias)) return false;
      e.gemmNN(M, N, K, A as Float32Array, aOff, B as Float32Array, bOff, C as Float32Array, cOff, acc, acc ? null : (bias as Float32Array | null) ?? null);
      return true;
    },
  };
}
