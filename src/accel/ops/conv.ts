/**
 * Convolution lowered to matrix products (Chellapilla et al. 2006, "High performance
 * convolutional neural networks for document processing"). For one example x [C, H, W], a K×K
 * kernel, stride S and zero padding `pad`, im2col copies every receptive field into a column:
 *   col[r, p] = x[c, oy·S + ky − pad, ox·S + kx − pad]   (0 outside the image)
 *   col [R, P], R = C·K·K (r = (c·K + ky)·K + kx), P = Ho·Wo (p = oy·Wo + ox)
 * so the convolution is Z[F, P] = W[F, R]·col + b, already in the [F, Ho, Wo] layout, and
 *   dW[F, R] += dZ·colᵀ,   dcol[R, P] = Wᵀ·dZ,   dx = col2im(dcol)  (each column added back).
 *
 * The accelerator's "conv2dForward" and "conv2dBackward" operations. Their reference is
 * conv2d.ts's loop over the batch: im2col and col2im below, with the products of ops/gemm.ts.
 * The WebAssembly engine (engine.ts, `conv2dForward` / `conv2dBackward`) lowers a whole batch at once with the kernels at the end
 * of this file: the images are copied in inside a zero border (so im2col is branch-free), the
 * receptive fields of all B examples go side by side into one col [R, B·P], and each step is
 * one product: Z[F, B·P] = W·col + b, [dW | db] += dZ·[col; 1]ᵀ, dcol = Wᵀ·dZ.
 */
import type { FloatArray } from "../../core/tensor.ts";
import {
  f32load, f32store, fadd, forLoop, func, get, i32, iadd, imul, lane, memcopy, memzero, names, set,
  vadd, vload, vmul, vstore, vzero, type Code,
} from "../asm.ts";
import type { WasmEngine } from "../engine.ts";
import type { AccelOps } from "../registry.ts";

/** Geometry of one convolution; Ho, Wo from `convOutSize`. */
export interface ConvGeometry {
  C: number; H: number; W: number; // input [C, H, W]
  K: number; S: number; pad: number; // kernel K×K, stride, zero padding on every side
  Ho: number; Wo: number; // output positions per channel
}

/**
 * Output length along one axis, PyTorch's floor((n + 2·pad − K)/S) + 1.
 * @example convOutSize(28, 3, 1, 1) // 28
 */
export function convOutSize(n: number, K: number, S: number, pad: number): number {
  return Math.floor((n + 2 * pad - K) / S) + 1;
}

/**
 * The output positions ox whose input column ox·S + kx − pad lies inside [0, W) are
 * lo ≤ ox < hi; outside that range col reads padding.
 */
const insideLo = (kx: number, S: number, pad: number, Wo: number) => Math.min(Wo, Math.max(0, Math.ceil((pad - kx) / S)));
const insideHi = (kx: number, S: number, pad: number, W: number, Wo: number) =>
  Math.max(insideLo(kx, S, pad, Wo), Math.min(Wo, Math.floor((W - 1 + pad - kx) / S) + 1));

/**
 * col [R, P] (at colOff) ← the receptive fields of x [C, H, W] (at xOff), padding read as 0.
 * Each (r, oy) is one run along ox: zeros, a copy of an input row (stride S), zeros.
 * @example im2col(x, 0, {C: 1, H: 3, W: 3, K: 2, S: 1, pad: 0, Ho: 2, Wo: 2}, col, 0) // col [4, 4]
 */
export function im2col(x: FloatArray, xOff: number, g: ConvGeometry, col: FloatArray, colOff: number): void {
  const { C, H, W, K, S, pad, Ho, Wo } = g;
  const P = Ho * Wo;
  for (let c = 0, r = 0; c < C; c++) {
    for (let ky = 0; ky < K; ky++) {
      for (let kx = 0; kx < K; kx++, r++) {
        const lo = insideLo(kx, S, pad, Wo), hi = insideHi(kx, S, pad, W, Wo);
        for (let oy = 0; oy < Ho; oy++) {
          const o = colOff + r * P + oy * Wo;
          const iy = oy * S + ky - pad;
          if (iy < 0 || iy >= H) {
            for (let ox = 0; ox < Wo; ox++) col[o + ox] = 0;
            continue;
          }
          const i = xOff + (c * H + iy) * W + kx - pad; // x index of ox = 0
          for (let ox = 0; ox < lo; ox++) col[o + ox] = 0;
          if (S === 1) for (let ox = lo; ox < hi; ox++) col[o + ox] = x[i + ox];
          else for (let ox = lo; ox < hi; ox++) col[o + ox] = x[i + ox * S];
          for (let ox = hi; ox < Wo; ox++) col[o + ox] = 0;
        }
      }
    }
  }
}

/**
 * dx [C, H, W] (at dxOff) += col2im(dcol [R, P] at dcolOff): the adjoint of im2col, each entry
 * added back to the input pixel it was copied from (entries that read padding are dropped).
 */
export function col2im(dcol: FloatArray, dcolOff: number, g: ConvGeometry, dx: FloatArray, dxOff: number): void {
  const { C, H, W, K, S, pad, Ho, Wo } = g;
  const P = Ho * Wo;
  for (let c = 0, r = 0; c < C; c++) {
    for (let ky = 0; ky < K; ky++) {
      for (let kx = 0; kx < K; kx++, r++) {
        const lo = insideLo(kx, S, pad, Wo), hi = insideHi(kx, S, pad, W, Wo);
        for (let oy = 0; oy < Ho; oy++) {
          const iy = oy * S + ky - pad;
          if (iy < 0 || iy >= H) continue;
          const o = dcolOff + r * P + oy * Wo;
          const i = dxOff + (c * H + iy) * W + kx - pad;
          if (S === 1) for (let ox = lo; ox < hi; ox++) dx[i + ox] += dcol[o + ox];
          else for (let ox = lo; ox < hi; ox++) dx[i + ox * S] += dcol[o + ox];
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// WebAssembly SIMD kernels (Float32), driven by engine.ts
// ---------------------------------------------------------------------------------------------

/**
 * dot(M, N, K, a, b, c): C[M, N] += A[M, K]·B[N, K]ᵀ, all row-major, pointers in bytes;
 * M % 4 = 0, N % 2 = 0, K % 4 = 0. Tile: 4 rows of A × 2 rows of B, eight f32x4 partial sums
 * over k, each summed across its four lanes at the end.
 */
const dotKernel = func("dot", ["M", "N", "K", "a", "b", "c"], ["m", "n", "k", "ld", "a0", "a1", "a2", "a3", "b0", "b1", "pc"], [...names("acc", 8), "y0", "y1", "x"], (L) => {
  const acc = (i: number) => L[`acc${i}`];
  const hsum = (v: Code): Code => fadd(fadd(lane(v, 0), lane(v, 1)), fadd(lane(v, 2), lane(v, 3)));
  return [
    ...set(L.ld, imul(get(L.K), i32(4))),
    ...forLoop(L.m, i32(0), get(L.M), 4, [
      ...set(L.a0, iadd(get(L.a), imul(get(L.m), get(L.ld)))),
      ...set(L.a1, iadd(get(L.a0), get(L.ld))),
      ...set(L.a2, iadd(get(L.a1), get(L.ld))),
      ...set(L.a3, iadd(get(L.a2), get(L.ld))),
      ...forLoop(L.n, i32(0), get(L.N), 2, [
        ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => set(acc(i), vzero())),
        ...set(L.b0, iadd(get(L.b), imul(get(L.n), get(L.ld)))),
        ...set(L.b1, iadd(get(L.b0), get(L.ld))),
        ...forLoop(L.k, i32(0), get(L.ld), 16, [
          ...set(L.y0, vload(iadd(get(L.b0), get(L.k)))),
          ...set(L.y1, vload(iadd(get(L.b1), get(L.k)))),
          ...[0, 1, 2, 3].flatMap((i) => [
            ...set(L.x, vload(iadd(get(L[`a${i}`]), get(L.k)))),
            ...set(acc(2 * i), vadd(get(acc(2 * i)), vmul(get(L.x), get(L.y0)))),
            ...set(acc(2 * i + 1), vadd(get(acc(2 * i + 1)), vmul(get(L.x), get(L.y1)))),
          ]),
        ]),
        // C[m + i, n + j] += the four lanes of acc(2i + j)
        ...set(L.pc, iadd(get(L.c), imul(iadd(imul(get(L.m), get(L.N)), get(L.n)), i32(4)))),
        ...[0, 1, 2, 3].flatMap((i) => [
          ...f32store(get(L.pc), fadd(f32load(get(L.pc)), hsum(get(acc(2 * i))))),
          ...f32store(iadd(get(L.pc), i32(4)), fadd(f32load(iadd(get(L.pc), i32(4))), hsum(get(acc(2 * i + 1))))),
          ...set(L.pc, iadd(get(L.pc), imul(get(L.N), i32(4)))),
        ]),
      ]),
    ]),
  ];
});

/**
 * Shared loop nest of im2col and col2im on a zero-bordered input xp [C, Hp, Wp] (Hp = H + 2·pad,
 * Wp = W + 2·pad), so no bounds checks: for each r = (c, ky, kx) and output row oy, the run
 * ox = 0..Wo−1 pairs col[r, oy·Wo + ox] with xp[c, oy·S + ky, ox·S + kx]. `run(colAt, xAt)`
 * emits the body for one element (scalar) given the two addresses; `vrun` the same for four
 * consecutive ox, used for ox < vecEnd (Wo rounded down to 4 when S = 1, else 0).
 */
function fieldLoops(L: Record<string, number>, run: (colAt: Code, xAt: Code) => Code, vrun: (colAt: Code, xAt: Code) => Code): Code {
  const colAt = iadd(get(L.dst), imul(get(L.ox), i32(4)));
  return [
    ...set(L.rowStart, get(L.col)),
    ...forLoop(L.c, i32(0), get(L.C), 1, [
      ...forLoop(L.ky, i32(0), get(L.K), 1, [
        ...forLoop(L.kx, i32(0), get(L.K), 1, [
          ...set(L.dst, get(L.rowStart)),
          ...forLoop(L.oy, i32(0), get(L.Ho), 1, [
            // src = &xp[c, oy·S + ky, kx]
            ...set(L.src, iadd(get(L.xp), imul(iadd(imul(iadd(imul(get(L.c), get(L.Hp)), iadd(imul(get(L.oy), get(L.S)), get(L.ky))), get(L.Wp)), get(L.kx)), i32(4)))),
            ...forLoop(L.ox, i32(0), get(L.vecEnd), 4, vrun(colAt, iadd(get(L.src), imul(get(L.ox), i32(4))))),
            ...forLoop(L.ox, get(L.vecEnd), get(L.Wo), 1, run(colAt, iadd(get(L.src), imul(imul(get(L.ox), get(L.S)), i32(4))))),
            ...set(L.dst, iadd(get(L.dst), imul(get(L.Wo), i32(4)))),
          ]),
          ...set(L.rowStart, iadd(get(L.rowStart), imul(get(L.ld), i32(4)))),
        ]),
      ]),
    ]),
  ];
}
const FIELD_PARAMS = ["C", "K", "S", "Ho", "Wo", "Hp", "Wp", "vecEnd", "xp", "col", "ld"];
const FIELD_LOCALS = ["c", "ky", "kx", "oy", "ox", "src", "dst", "rowStart"];

/** im2col(…, xp, col, ld): col [C·K·K, ld] ← receptive fields of xp (pointers in bytes). */
const im2colKernel = func("im2col", FIELD_PARAMS, FIELD_LOCALS, [], (L) => fieldLoops(L,
  (colAt, xAt) => f32store(colAt, f32load(xAt)),
  (colAt, xAt) => vstore(colAt, vload(xAt))));

/** col2im(…, dxp, dcol, ld): dxp [C, Hp, Wp] += each entry of dcol at the pixel it reads. */
const col2imKernel = func("col2im", FIELD_PARAMS, FIELD_LOCALS, [], (L) => fieldLoops(L,
  (colAt, xAt) => f32store(xAt, fadd(f32load(xAt), f32load(colAt))),
  (colAt, xAt) => vstore(xAt, vadd(vload(xAt), vload(colAt)))));

/**
 * pad(planes, H, W, p, src, dst): dst [planes, H + 2p, W + 2p] = src [planes, H, W] inside a
 * zero border of width p (pointers in bytes).
 */
const padKernel = func("pad", ["planes", "H", "W", "p", "src", "dst"], ["i", "y", "Hp", "Wp", "to"], [], (L) => [
  ...set(L.Hp, iadd(get(L.H), imul(get(L.p), i32(2)))),
  ...set(L.Wp, iadd(get(L.W), imul(get(L.p), i32(2)))),
  ...memzero(get(L.dst), imul(imul(imul(get(L.planes), get(L.Hp)), get(L.Wp)), i32(4))),
  ...forLoop(L.i, i32(0), get(L.planes), 1, [
    // to = &dst[i, p, p]
    ...set(L.to, iadd(get(L.dst), imul(iadd(imul(iadd(imul(get(L.i), get(L.Hp)), get(L.p)), get(L.Wp)), get(L.p)), i32(4)))),
    ...forLoop(L.y, i32(0), get(L.H), 1, [
      ...memcopy(get(L.to), get(L.src), imul(get(L.W), i32(4))),
      ...set(L.to, iadd(get(L.to), imul(get(L.Wp), i32(4)))),
      ...set(L.src, iadd(get(L.src), imul(get(L.W), i32(4)))),
    ]),
  ]),
]);

/** unpad(planes, H, W, p, src, dst): dst [planes, H, W] = the interior of src [planes, H + 2p, W + 2p]. */
const unpadKernel = func("unpad", ["planes", "H", "W", "p", "src", "dst"], ["i", "y", "Hp", "Wp", "from"], [], (L) => [
  ...set(L.Hp, iadd(get(L.H), imul(get(L.p), i32(2)))),
  ...set(L.Wp, iadd(get(L.W), imul(get(L.p), i32(2)))),
  ...forLoop(L.i, i32(0), get(L.planes), 1, [
    ...set(L.from, iadd(get(L.src), imul(iadd(imul(iadd(imul(get(L.i), get(L.Hp)), get(L.p)), get(L.Wp)), get(L.p)), i32(4)))),
    ...forLoop(L.y, i32(0), get(L.H), 1, [
      ...memcopy(get(L.dst), get(L.from), imul(get(L.W), i32(4))),
      ...set(L.from, iadd(get(L.from), imul(get(L.Wp), i32(4)))),
      ...set(L.dst, iadd(get(L.dst), imul(get(L.W), i32(4)))),
    ]),
  ]),
]);

/** The convolution's WebAssembly functions; engine.ts assembles them into its module. */
export const CONV_FUNCS = [dotKernel, im2colKernel, col2imKernel, padKernel, unpadKernel] as const;

// ---------------------------------------------------------------------------------------------
// binding
// ---------------------------------------------------------------------------------------------

/** Examples per WebAssembly convolution forward (bounds its memory for large evaluation batches). */
const CONV_CHUNK = 64;

/** conv2d.ts's forward and backward for a whole batch on engine `e`, Float32 only (else declined). */
export function convOps(e: WasmEngine): Pick<AccelOps, "conv2dForward" | "conv2dBackward"> {
  return {
    conv2dForward(geo, F, B, x, xOff, w, bias, z, zOff) {
      if (!(x instanceof Float32Array && w instanceof Float32Array && z instanceof Float32Array && (!bias || bias instanceof Float32Array))) return false;
      // in chunks of CONV_CHUNK examples, so the memory of evaluation batches stays bounded
      // (an example's output does not depend on its chunk: each is one sum per output value)
      const inSize = geo.C * geo.H * geo.W, outSize = F * geo.Ho * geo.Wo;
      for (let b0 = 0; b0 < B; b0 += CONV_CHUNK) {
        e.conv2dForward(geo, F, Math.min(CONV_CHUNK, B - b0), x, xOff + b0 * inSize, w, bias as Float32Array | null, z, zOff + b0 * outSize);
      }
      return true;
    },
    conv2dBackward(geo, F, B, x, w, dz, dW, db, dx) {
      if (!(x instanceof Float32Array && w instanceof Float32Array && dz instanceof Float32Array && dW instanceof Float32Array && (!db || db instanceof Float32Array) && (!dx || dx instanceof Float32Array))) return false;
      e.conv2dBackward(geo, F, B, x, w, dz, dW, db as Float32Array | null, dx as Float32Array | null);
      return true;
    },
  };
}
