/**
 * Convolution lowered to matrix products (Chellapilla et al. 2006, "High performance
 * convolutional neural networks for document processing"). For one example x [C, H, W], a K×K
 * kernel, stride S and zero padding `pad`, im2col copies every receptive field into a column:
 *   col[r, p] = x[c, oy·S + ky − pad, ox·S + kx − pad]   (0 outside the image)
 *   col [R, P], R = C·K·K (r = (c·K + ky)·K + kx), P = Ho·Wo (p = oy·Wo + ox)
 * so the convolution is Z[F, P] = W[F, R]·col + b, already in the [F, Ho, Wo] layout, and
 *   dW[F, R] += dZ·colᵀ,   dcol[R, P] = Wᵀ·dZ,   dx = col2im(dcol)  (each column added back).
 *
 * Two engines run these steps. The reference is plain TypeScript on top of kernels/gemm.ts (any
 * dtype). For Float32 the conv layer uses ConvSimd: the same steps as WebAssembly SIMD kernels
 * (f32x4; about ten times the multiply-adds per second of the JS kernels on one core), built at
 * load time by the small assembler below. Performance compromises: the SIMD kernels work on
 * padded shapes (F and R rounded up to multiples of 4, P to 8) in a memory of their own, so each
 * example is copied in (inside a zero border, which makes their im2col branch-free) and its
 * result copied out.
 */
import type { FloatArray } from "../tensor.ts";

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
// WebAssembly SIMD engine (Float32 only)
// ---------------------------------------------------------------------------------------------

/**
 * A tiny assembler for the few WebAssembly instructions the kernels use, as an expression tree:
 * each helper returns the bytes of an expression that leaves its value on the stack
 * (WebAssembly core spec 2.0, §5 "Binary format"; SIMD opcodes from the fixed-width SIMD proposal).
 */
type Code = number[];
const uleb = (n: number): Code => { const o: Code = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
const sleb = (n: number): Code => {
  const o: Code = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) { o.push(b); return o; }
    o.push(b | 0x80);
  }
};
const I32 = 0x7f, V128 = 0x7b;
const get = (l: number): Code => [0x20, ...uleb(l)];
const set = (l: number, v: Code): Code => [...v, 0x21, ...uleb(l)];
const i32 = (n: number): Code => [0x41, ...sleb(n)];
const iadd = (a: Code, b: Code): Code => [...a, ...b, 0x6a];
const imul = (a: Code, b: Code): Code => [...a, ...b, 0x6c];
const ige = (a: Code, b: Code): Code => [...a, ...b, 0x4e]; // i32.ge_s
const simd = (op: number): Code => [0xfd, ...uleb(op)];
const memarg = (align: number, offset: number): Code => [align, ...uleb(offset)];
const f32load = (addr: Code): Code => [...addr, 0x2a, ...memarg(2, 0)];
const f32store = (addr: Code, v: Code): Code => [...addr, ...v, 0x38, ...memarg(2, 0)];
const fadd = (a: Code, b: Code): Code => [...a, ...b, 0x92];
const vload = (addr: Code, offset = 0): Code => [...addr, ...simd(0x00), ...memarg(4, offset)];
const vstore = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, ...simd(0x0b), ...memarg(4, offset)];
const vsplat = (addr: Code): Code => [...addr, ...simd(0x09), ...memarg(2, 0)]; // v128.load32_splat
const vzero = (): Code => [...simd(0x0c), ...new Array(16).fill(0)]; // v128.const 0
const vadd = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xe4)]; // f32x4.add
const vmul = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xe6)]; // f32x4.mul
const lane = (v: Code, i: number): Code => [...v, ...simd(0x1f), i]; // f32x4.extract_lane
/** for (l = from; l < to; l += step) body — a block around a loop; br_if 1 leaves, br 0 repeats */
const forLoop = (l: number, from: Code, to: Code, step: number, body: Code): Code => [
  ...set(l, from),
  0x02, 0x40, 0x03, 0x40,
  ...ige(get(l), to), 0x0d, 1,
  ...body,
  ...set(l, iadd(get(l), i32(step))), 0x0c, 0,
  0x0b, 0x0b,
];
/** A function of i32 params with i32 and v128 locals; `body` gets each name's local index. */
function func(params: string[], ints: string[], vecs: string[], body: (L: Record<string, number>) => Code): { params: number; code: Code } {
  const L: Record<string, number> = {};
  [...params, ...ints, ...vecs].forEach((name, i) => { L[name] = i; });
  const locals = [2, ...uleb(ints.length), I32, ...uleb(vecs.length), V128];
  const code = [...locals, ...body(L), 0x0b];
  return { params: params.length, code: [...uleb(code.length), ...code] };
}
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/**
 * splat(M, N, K, a, aRow, aCol, b, c, bias): C[M, N] = A·B + bias with A addressed by strides
 * (so the same kernel reads W or Wᵀ), B and C row-major, bias [M]:
 *   C[m, n] = bias[m] + Σ_k A[a + m·aRow + k·aCol]·B[k, n].
 * Pointers and strides in bytes; M % 4 = 0, N % 8 = 0. Tile: 4 rows × 8 columns of C in eight
 * f32x4 registers; per k, two vector loads of B and four broadcasts of A feed 32 multiply-adds.
 */
const splatKernel = func(["M", "N", "K", "a", "aRow", "aCol", "b", "c", "bias"], ["m", "n", "k", "pa", "pb", "pc", "ldb", "aRow2", "aRow3"], [...names("acc", 8), "x0", "x1", "s"], (L) => {
  const acc = (i: number) => L[`acc${i}`];
  const rowOf = [get(L.pa), iadd(get(L.pa), get(L.aRow)), iadd(get(L.pa), get(L.aRow2)), iadd(get(L.pa), get(L.aRow3))];
  return [
    ...set(L.ldb, imul(get(L.N), i32(4))),
    ...set(L.aRow2, imul(get(L.aRow), i32(2))),
    ...set(L.aRow3, imul(get(L.aRow), i32(3))),
    ...forLoop(L.m, i32(0), get(L.M), 4, [
      ...forLoop(L.n, i32(0), get(L.ldb), 32, [
        ...[0, 1, 2, 3].flatMap((i) => [
          ...set(acc(2 * i), vsplat(iadd(get(L.bias), imul(iadd(get(L.m), i32(i)), i32(4))))),
          ...set(acc(2 * i + 1), get(acc(2 * i))),
        ]),
        ...set(L.pa, iadd(get(L.a), imul(get(L.m), get(L.aRow)))),
        ...set(L.pb, iadd(get(L.b), get(L.n))),
        ...forLoop(L.k, i32(0), get(L.K), 1, [
          ...set(L.x0, vload(get(L.pb))),
          ...set(L.x1, vload(get(L.pb), 16)),
          ...[0, 1, 2, 3].flatMap((i) => [
            ...set(L.s, vsplat(rowOf[i])),
            ...set(acc(2 * i), vadd(get(acc(2 * i)), vmul(get(L.s), get(L.x0)))),
            ...set(acc(2 * i + 1), vadd(get(acc(2 * i + 1)), vmul(get(L.s), get(L.x1)))),
          ]),
          ...set(L.pa, iadd(get(L.pa), get(L.aCol))),
          ...set(L.pb, iadd(get(L.pb), get(L.ldb))),
        ]),
        ...set(L.pc, iadd(get(L.c), iadd(imul(get(L.m), get(L.ldb)), get(L.n)))),
        ...[0, 1, 2, 3].flatMap((i) => [
          ...vstore(get(L.pc), get(acc(2 * i))),
          ...vstore(get(L.pc), get(acc(2 * i + 1)), 16),
          ...set(L.pc, iadd(get(L.pc), get(L.ldb))),
        ]),
      ]),
    ]),
  ];
});

/**
 * dot(M, N, K, a, b, c): C[M, N] += A[M, K]·B[N, K]ᵀ, all row-major, pointers in bytes;
 * M % 4 = 0, N % 2 = 0, K % 4 = 0. Tile: 4 rows of A × 2 rows of B, eight f32x4 partial sums
 * over k, each summed across its four lanes at the end.
 */
const dotKernel = func(["M", "N", "K", "a", "b", "c"], ["m", "n", "k", "ld", "a0", "a1", "a2", "a3", "b0", "b1", "pc"], [...names("acc", 8), "y0", "y1", "x"], (L) => {
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
const im2colKernel = func(FIELD_PARAMS, FIELD_LOCALS, [], (L) => fieldLoops(L,
  (colAt, xAt) => f32store(colAt, f32load(xAt)),
  (colAt, xAt) => vstore(colAt, vload(xAt))));

/** col2im(…, dxp, dcol, ld): dxp [C, Hp, Wp] += each entry of dcol at the pixel it reads. */
const col2imKernel = func(FIELD_PARAMS, FIELD_LOCALS, [], (L) => fieldLoops(L,
  (colAt, xAt) => f32store(xAt, fadd(f32load(xAt), f32load(colAt))),
  (colAt, xAt) => vstore(xAt, vadd(vload(xAt), vload(colAt)))));

const KERNELS = { splat: splatKernel, dot: dotKernel, im2col: im2colKernel, col2im: col2imKernel };

/** The module: imports its memory as env.mem, exports the kernels by name. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];
  const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
  const str = (s: string): Code => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const kernels = Object.values(KERNELS);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec(kernels.map((k) => [0x60, ...vec(new Array(k.params).fill([I32])), 0x00]))), // types
    ...section(2, vec([[...str("env"), ...str("mem"), 0x02, 0x00, 0x01]])), // import memory, min 1 page
    ...section(3, vec(kernels.map((_, i) => uleb(i)))), // function i has type i
    ...section(7, vec(Object.keys(KERNELS).map((name, i) => [...str(name), 0x00, ...uleb(i)]))), // exports
    ...section(10, vec(kernels.map((k) => k.code))),
  ]);
}

let compiled: WebAssembly.Module | null | undefined;
/** The compiled module, or null where WebAssembly SIMD is unavailable (then the JS path runs). */
function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = moduleBytes();
    compiled = typeof WebAssembly !== "undefined" && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

type Kernel = (...args: number[]) => void;
const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;
const PAGE = 65536;

/**
 * One conv layer's Float32 engine in its own WebAssembly memory, for one example at a time.
 * Regions (offsets in floats; padded sizes Fp, Rp multiples of 4, Pp of 8; padding stays 0):
 *   w [Fp, Rp], dW [Fp, Rp], bias [Fp], zero [Rp], z [Fp, Pp], dz [Fp, Pp], col [Rp, Pp],
 *   dcol [Rp, Pp], xp [C, Hp, Wp] the input inside a zero border, dxp [C, Hp, Wp]
 * Per batch: setWeights; forward per example; then beginBackward; backward per example;
 * endBackward. The size does not depend on the batch, so the memory never grows.
 * @example const e = ConvSimd.create(8, g); // null without WebAssembly SIMD
 */
export class ConvSimd {
  private readonly R: number;
  private readonly P: number;
  private readonly Fp: number;
  private readonly Rp: number;
  private readonly Pp: number;
  private readonly Hp: number;
  private readonly Wp: number;
  // region offsets, in floats
  private readonly w: number;
  private readonly dW: number;
  private readonly bias: number;
  private readonly zero: number;
  private readonly z: number;
  private readonly dz: number;
  private readonly col: number;
  private readonly dcol: number;
  private readonly xp: number;
  private readonly dxp: number;
  private readonly heap: Float32Array;
  /** views of the F rows of z [Fp, Pp], each P long, to copy out with set() */
  private readonly zRows: Float32Array[];
  private readonly k: Record<keyof typeof KERNELS, Kernel>;

  static create(F: number, g: ConvGeometry): ConvSimd | null {
    const module = simdModule();
    return module ? new ConvSimd(module, F, g) : null;
  }

  private constructor(module: WebAssembly.Module, private readonly F: number, private readonly g: ConvGeometry) {
    const { C, H, W, K, pad, Ho, Wo } = g;
    this.R = C * K * K;
    this.P = Ho * Wo;
    const Fp = (this.Fp = roundUp(F, 4));
    const Rp = (this.Rp = roundUp(this.R, 4));
    const Pp = (this.Pp = roundUp(this.P, 8));
    this.Hp = H + 2 * pad;
    this.Wp = W + 2 * pad;
    const image = roundUp(C * this.Hp * this.Wp, 4); // keeps every region 16-byte aligned
    let end = 0;
    const region = (n: number) => { const at = end; end += n; return at; };
    this.w = region(Fp * Rp);
    this.dW = region(Fp * Rp);
    this.bias = region(Fp);
    this.zero = region(Rp);
    this.z = region(Fp * Pp);
    this.dz = region(Fp * Pp);
    this.col = region(Rp * Pp);
    this.dcol = region(Rp * Pp);
    this.xp = region(image);
    this.dxp = region(image);
    const mem = new WebAssembly.Memory({ initial: Math.ceil((end * 4) / PAGE) });
    this.k = new WebAssembly.Instance(module, { env: { mem } }).exports as ConvSimd["k"];
    this.heap = new Float32Array(mem.buffer);
    this.zRows = Array.from({ length: F }, (_, f) => this.heap.subarray(this.z + f * Pp, this.z + f * Pp + this.P));
  }

  /** Copy w [F, R] and the bias in, once per batch before forward. */
  setWeights(w: FloatArray, bias: FloatArray | null): void {
    const { F, R, Rp, heap: h } = this;
    for (let f = 0; f < F; f++) for (let r = 0; r < R; r++) h[this.w + f * Rp + r] = w[f * R + r];
    for (let f = 0; f < F; f++) h[this.bias + f] = bias ? bias[f] : 0;
  }

  /** col = im2col(x_i), x_i [C, H, W] at xOff, through the zero-bordered copy xp. */
  private im2col(x: FloatArray, xOff: number): void {
    const { Hp, Wp, heap: h } = this;
    const { C, H, W, pad } = this.g;
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        for (let j = 0, s = xOff + (c * H + y) * W, d = this.xp + (c * Hp + y + pad) * Wp + pad; j < W; j++) h[d + j] = x[s + j];
      }
    }
    this.k.im2col(...this.fieldArgs(this.xp, this.col));
  }

  private fieldArgs(image: number, col: number): number[] {
    const { C, K, S, Ho, Wo } = this.g;
    const vecEnd = S === 1 ? Wo - (Wo % 4) : 0;
    return [C, K, S, Ho, Wo, this.Hp, this.Wp, vecEnd, image * 4, col * 4, this.Pp];
  }

  /** z_i [F, P] (at zOff) = W·im2col(x_i) + b */
  forward(x: FloatArray, xOff: number, z: FloatArray, zOff: number): void {
    this.im2col(x, xOff);
    this.k.splat(this.Fp, this.Pp, this.Rp, this.w * 4, this.Rp * 4, 4, this.col * 4, this.z * 4, this.bias * 4);
    for (let f = 0; f < this.F; f++) z.set(this.zRows[f], zOff + f * this.P);
  }

  beginBackward(): void {
    this.heap.fill(0, this.dW, this.dW + this.Fp * this.Rp);
  }

  /**
   * For example i: dW += dz_i·im2col(x_i)ᵀ; db += Σ_p dz_i (summed while dz_i is copied in);
   * and when dx is given, dx_i (at dxOff) = col2im(Wᵀ·dz_i).
   */
  backward(x: FloatArray, xOff: number, dz: FloatArray, dzOff: number, db: FloatArray | null, dx: FloatArray | null, dxOff: number): void {
    const { F, Fp, Rp, Pp, P, Hp, Wp, heap: h } = this;
    const { C, H, W, pad } = this.g;
    for (let f = 0; f < F; f++) {
      let s = 0;
      for (let p = 0, o = dzOff + f * P, q = this.dz + f * Pp; p < P; p++) { const v = dz[o + p]; h[q + p] = v; s += v; }
      if (db) db[f] += s;
    }
    this.im2col(x, xOff);
    this.k.dot(Fp, Rp, Pp, this.dz * 4, this.col * 4, this.dW * 4); // dW += dz·colᵀ
    if (!dx) return;
    this.k.splat(Rp, Pp, Fp, this.w * 4, 4, Rp * 4, this.dz * 4, this.dcol * 4, this.zero * 4); // dcol = Wᵀ·dz
    h.fill(0, this.dxp, this.dxp + C * Hp * Wp);
    this.k.col2im(...this.fieldArgs(this.dxp, this.dcol));
    // the border of dxp is the gradient of the padding: dropped
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        for (let j = 0, d = dxOff + (c * H + y) * W, s = this.dxp + (c * Hp + y + pad) * Wp + pad; j < W; j++) dx[d + j] = h[s + j];
      }
    }
  }

  /** dW [F, R] += the batch's sum. */
  endBackward(dW: FloatArray): void {
    const { F, R, Rp, heap: h } = this;
    for (let f = 0; f < F; f++) for (let r = 0; r < R; r++) dW[f * R + r] += h[this.dW + f * Rp + r];
  }
}
