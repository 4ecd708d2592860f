/**
 * Lane arithmetic shared by the elementwise kernels (ops/activation.ts, ops/cells.ts): fdlibm's
 * exp (e_exp.c) as f64x2 code (the sigmoid activation's), math.ts's float32 functions
 * (expNegF32, tanhF32, sigmoidF32) as f32x4 code (tanh, and the LSTM and GRU cells), a
 * constant table read by load64_splat / load32_splat, and the loops over float32 buffers two
 * (pairs) or four (quads) values at a time.
 *
 * They reproduce the TypeScript path bit for bit: the functions are transcribed from
 * src/core/math.ts (whose functions every engine computes alike) into branch-free lane
 * arithmetic: every candidate result of a branch is computed and the lane's own is selected.
 * The arithmetic is the same sequence of IEEE-754 operations, so each lane gets math.ts's bits.
 */
import {
  bitselect, dabs, dadd, ddiv, deq, demote, dgt, dlt, dmul, dne, dsplat, dsub, dtrunc, forLoop, get, i32,
  iadd, iand, ifElse, imul, isub, isub4, promote, set, shl32, shl64, shr32, vabs, vadd, vand, vconstI32, vdiv, vload, vlt, vmin, vmul, vsplat,
  vstore, vsub, vload32, vload64, vor, vstore32, vstore64, anyTrue, type Code,
} from "./asm.ts";
import { F32_MATH } from "../core/math.ts";

/**
 * The constants the kernels use, as doubles at CONSTANTS_AT (bytes) in the module's memory: the
 * engine writes them there once. A constant is read with v128.load64_splat — one instruction —
 * where a v128.const would be rebuilt from immediates at every use inside the loops.
 */
export const CONSTANTS: number[] = [];
export const CONSTANTS_AT = 0;
export const CONSTANTS_BYTES = 2048;
/** The byte address of the table's slot holding the double `x` (added on first use). */
function slotAt(x: number): number {
  let i = CONSTANTS.findIndex((c) => Object.is(c, x));
  if (i < 0) { i = CONSTANTS.length; CONSTANTS.push(x); }
  if (8 * CONSTANTS.length > CONSTANTS_BYTES) throw new Error("accel: the constant table is full");
  return CONSTANTS_AT + 8 * i;
}
/** f64x2 (x, x) from the constant table */
export const k = (x: number): Code => dsplat(i32(slotAt(x)));
/**
 * f32x4 (x, x, x, x) of a float32 x from the same table (v128.load32_splat of its slot's low 4
 * bytes: the slot holds the double whose low word is x's bits), one instruction where a
 * v128.const is several.
 */
export const kf = (x: number): Code => {
  const w = new Uint32Array(2);
  w[0] = new Uint32Array(new Float32Array([x]).buffer)[0];
  return vsplat(i32(slotAt(new Float64Array(w.buffer)[0])));
};
const fromHigh = (hi: number): number => { const b = new Uint32Array(2); b[1] = hi; return new Float64Array(b.buffer)[0]; };
const SIGN = (() => { const b = new Uint32Array(2); b[1] = 0x80000000; return new Float64Array(b.buffer)[0]; })(); // −0: the sign bit alone

// Loads and stores of float32 values as doubles: two lanes, or one (the odd last element).
const load2 = (addr: Code): Code => promote(vload64(addr));
const load1 = (addr: Code): Code => promote(vload32(addr));
const store2 = (addr: Code, v: Code): Code => vstore64(addr, demote(v));
const store1 = (addr: Code, v: Code): Code => vstore32(addr, demote(v));

// fdlibm's constants (src/core/math.ts)
const LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10, INV_LN2 = 1.44269504088896338700e+00;
const HALF_LN2 = fromHigh(0x3fd62e42 + 1), THREE_HALVES_LN2 = fromHigh(0x3ff0a2b2), TWO_M28 = fromHigh(0x3e300000);
const EXP_P = [1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05, -1.65339022054652515390e-06, 4.13813679705723846039e-08];
const TWO_52 = 4503599627370496;

/** Horner: c0 + t·(c1 + t·(c2 + …)) */
const horner = (t: Code, cs: number[]): Code => cs.slice(0, -1).reduceRight<Code>((acc, c) => dadd(k(c), dmul(t, acc)), k(cs[cs.length - 1]));

/** 2^n for integral doubles n with n + 1023 in [1, 2046]: (n + 1023) placed in the exponent field. */
const pow2 = (n: Code): Code => shl64(dadd(n, k(TWO_52 + 1023)), 52);

/**
 * The statements computing fdlibm exp(x) of local `x` into local `out` (`v` names scratch locals).
 * Branches of e_exp.c as lanes: k = 0 below ln2/2, ±1 below 1.5·ln2, else trunc(x/ln2 ± 1/2);
 * the k = 0 formula is the general one with hi = x, lo = 0 (the same operations); results that
 * leave the normal range are scaled in two steps as math.ts's `scale` does.
 */
export function expInto(v: Record<string, number>, x: number, out: number): Code {
  const X = get(x);
  return [
    ...set(v.ax, dabs(X)),
    ...set(v.sg, vor(vand(X, k(SIGN)), k(1))), // ±1 with x's sign
    ...set(v.kd, bitselect(dlt(get(v.ax), k(HALF_LN2)), k(0),
      bitselect(dlt(get(v.ax), k(THREE_HALVES_LN2)), get(v.sg), dtrunc(dadd(dmul(k(INV_LN2), X), dmul(get(v.sg), k(0.5))))))),
    ...set(v.hi, dsub(X, dmul(get(v.kd), k(LN2_HI)))),
    ...set(v.lo, dmul(get(v.kd), k(LN2_LO))),
    ...set(v.r, dsub(get(v.hi), get(v.lo))),
    ...set(v.t, dmul(get(v.r), get(v.r))),
    ...set(v.c, dsub(get(v.r), dmul(get(v.t), horner(get(v.t), EXP_P)))),
    ...set(v.y, dsub(k(1), dsub(dsub(get(v.lo), ddiv(dmul(get(v.r), get(v.c)), dsub(k(2), get(v.c)))), get(v.hi)))),
    ...set(out, dmul(get(v.y), pow2(get(v.kd)))), // y·2^k: exact while the result is normal (|x| ≤ 708)
    // The rare lanes, only when a pair has one: results beyond the normal range (scaled in two
    // steps: k2 = k − 1023 above 1023, −1000 below −1021; (y·2^(k−k2))·2^k2), tiny x, x = 1, NaN.
    ...ifElse(anyTrue(vor(vor(dgt(get(v.ax), k(708)), dlt(get(v.ax), k(TWO_M28))), vor(deq(X, k(1)), dne(X, X)))), [
      ...set(v.k2, bitselect(dgt(get(v.kd), k(1023)), dsub(get(v.kd), k(1023)), bitselect(dlt(get(v.kd), k(-1021)), k(-1000), k(0)))),
      ...set(out, dmul(dmul(get(v.y), pow2(dsub(get(v.kd), get(v.k2)))), pow2(get(v.k2)))),
      ...set(out, bitselect(dlt(get(v.ax), k(TWO_M28)), dadd(k(1), X), get(out))),
      ...set(out, bitselect(deq(X, k(1)), k(Math.E), get(out))),
      ...set(out, bitselect(dgt(X, k(7.09782712893383973096e+02)), k(Infinity), get(out))),
      ...set(out, bitselect(dlt(X, k(-7.45133219101941108420e+02)), k(0), get(out))),
      ...set(out, bitselect(dne(X, X), X, get(out))),
    ]),
  ];
}

export const SCRATCH = ["ax", "sg", "kd", "hi", "lo", "r", "t", "c", "y", "k2", "hfx", "hxs", "r1", "e", "p2", "pm", "q", "big"];

/**
 * A loop over n float32 values two at a time (then the odd last one): `body(ld, st, at)` gets a
 * load and a store of the current pair (or single) at a byte offset from `at` (the element's
 * byte index, a local).
 */
export function pairs(L: Record<string, number>, n: Code, body: (ld: (base: Code) => Code, st: (base: Code, v: Code) => Code) => Code): Code {
  const at = (base: Code) => iadd(base, imul(get(L.i), i32(4)));
  return [
    ...forLoop(L.i, i32(0), isub(n, i32(1)), 2, body((b) => load2(at(b)), (b, v) => store2(at(b), v))),
    // i = n − (n mod 2) after the loop; one element left when n is odd
    ...set(L.i, iand(n, i32(-2))),
    ...forLoop(L.i, get(L.i), n, 1, body((b) => load1(at(b)), (b, v) => store1(at(b), v))),
  ];
}


// --- float32 lanes: math.ts's expNegF32, tanhF32 and sigmoidF32, four values per f32x4 --------
// The same float32 operations in the same order as math.ts, so each lane gets its bits; where
// math.ts branches, both sides are computed and each lane takes its own.

/** The v128 locals the float32 functions use (a kernel declares them). */
export const F32_SCRATCH = ["fa", "fu", "fp", "fy", "fkb", "fm", "fr", "fn", "fn1", "ft"];

/** the bits of MAGIC (1.5·2^23): kb = MAGIC + n has n in its low bits */
const MAGIC_BITS = new Int32Array(new Float32Array([F32_MATH.MAGIC]).buffer)[0];
const i4 = (x: number): Code => vconstI32([x, x, x, x]);
/** f32x4 Horner: cs[0] + u·(cs[1] + u·(…)), as math.ts's loops (u·p, then + c) */
const horner4 = (u: Code, cs: readonly number[]): Code =>
  cs.slice(0, -1).reduceRight<Code>((p, c) => vadd(vmul(u, p), kf(c)), kf(cs[cs.length - 1]));

/**
 * out = expNegF32(y) lane by lane (y ≥ 0 or NaN); v names F32_SCRATCH's locals. `small`: the
 * caller guarantees y ≤ 18.5 (tanh's clamp), so n ≤ 27 and 2^−n is one exact factor: the same
 * bits as math.ts's two (both are exact scalings), without the clamp and the second factor.
 */
export function expNegF32Into(v: Record<string, number>, y: number, out: number, small = false): Code {
  const C = F32_MATH;
  const yv = small ? get(y) : get(v.fy);
  const pow2 = (k: Code): Code => shl32(isub4(i4(127), k), 23); // 2^−k in the exponent field
  return [
    ...(small ? [] : set(v.fy, vmin(get(y), kf(C.EXP_Y_MAX)))),
    ...set(v.fkb, vadd(vmul(yv, kf(C.LOG2E)), kf(C.MAGIC))),
    ...set(v.fm, vsub(get(v.fkb), kf(C.MAGIC))),
    ...set(v.fr, vsub(vsub(yv, vmul(get(v.fm), kf(C.LN2_HI))), vmul(get(v.fm), kf(C.LN2_LO)))),
    ...set(v.fn, isub4(get(v.fkb), i4(MAGIC_BITS))), // n as integers
    ...(small
      ? set(out, vmul(horner4(get(v.fr), C.E), pow2(get(v.fn))))
      : [ // q·2^−⌊n/2⌋·2^−⌈n/2⌉
        ...set(v.fn1, shr32(get(v.fn), 1)),
        ...set(out, vmul(vmul(horner4(get(v.fr), C.E), pow2(get(v.fn1))), pow2(isub4(get(v.fn), get(v.fn1))))),
      ]),
  ];
}

/** out = tanhF32(x) lane by lane; v names F32_SCRATCH's locals (x and out may not be among them). */
export function tanhF32Into(v: Record<string, number>, x: number, out: number): Code {
  const C = F32_MATH;
  return [
    ...set(v.fa, vabs(get(x))),
    // |x| < T: x + x·u·P(u), u = x²
    ...set(v.fu, vmul(get(v.fa), get(v.fa))),
    ...set(v.fp, vadd(get(v.fa), vmul(vmul(get(v.fa), get(v.fu)), horner4(get(v.fu), C.P)))),
    // else (1 − t)/(1 + t), t = e^−min(2|x|, Y_MAX)
    ...set(v.ft, vmin(vadd(get(v.fa), get(v.fa)), kf(C.Y_MAX))),
    ...expNegF32Into(v, v.ft, v.ft, true),
    ...set(v.ft, vdiv(vsub(kf(1), get(v.ft)), vadd(kf(1), get(v.ft)))),
    // each lane its branch, then x's sign bit
    ...set(out, vor(bitselect(vlt(get(v.fa), kf(C.T)), get(v.fp), get(v.ft)), vand(get(x), i4(-0x80000000)))),
  ];
}

/** out = sigmoidF32(x) lane by lane: (x ≥ 0 ? 1 : t)/(1 + t), t = e^−|x|; v names F32_SCRATCH's locals. */
export function sigmoidF32Into(v: Record<string, number>, x: number, out: number): Code {
  return [
    ...set(v.fa, vabs(get(x))),
    ...expNegF32Into(v, v.fa, v.ft),
    ...set(out, vdiv(bitselect(vlt(get(x), kf(0)), get(v.ft), kf(1)), vadd(kf(1), get(v.ft)))),
  ];
}

/**
 * A loop over n float32 values four at a time, then one at a time (the same body on lane 0 of
 * a vector whose other lanes are 0): `body(ld, st)` loads and stores a vector at base + 4·i.
 */
export function quads(L: Record<string, number>, n: Code, body: (ld: (base: Code) => Code, st: (base: Code, v: Code) => Code) => Code): Code {
  const at = (base: Code) => iadd(base, imul(get(L.i), i32(4)));
  const ld1 = (b: Code): Code => vload32(at(b));
  const st1 = (b: Code, v: Code): Code => vstore32(at(b), v);
  return [
    ...forLoop(L.i, i32(0), isub(n, i32(3)), 4, body((b) => vload(at(b)), (b, v) => vstore(at(b), v))),
    ...set(L.i, iand(n, i32(-4))),
    ...forLoop(L.i, get(L.i), n, 1, body(ld1, st1)),
  ];
}
