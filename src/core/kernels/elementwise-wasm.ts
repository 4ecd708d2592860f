/**
 * Elementwise WebAssembly SIMD kernels: sigmoid and tanh (forward and backward) over a buffer,
 * and the LSTM and GRU cell forward steps, on Float32 data computed in double precision, two
 * values per f64x2 vector; relu (forward and backward, float32 lanes: a select) and max pooling
 * (scalar, with its argmax) alike.
 *
 * They reproduce the TypeScript path bit for bit: exp is fdlibm's e_exp.c and tanh math.ts's
 * (1 − e)/(1 + e) on that exp, transcribed from src/core/math.ts (whose functions every engine
 * computes alike) into branch-free lane arithmetic: every candidate result of fdlibm's branches
 * is computed and the lane's own is selected. The arithmetic is the same sequence of IEEE-754
 * double operations, so each lane gets math.ts's bits; and the cells do the layers' double
 * arithmetic in the layers' order before rounding to float32 once, as the TypeScript loops do.
 */
import { forLoop, func, get, i32, iadd, ifElse, imul, isub, set, uleb, type Code, type FuncDef } from "./wasm-asm.ts";

// --- f64x2 expressions ---------------------------------------------------------------------------
export const op = (o: number): Code => [0xfd, ...uleb(o)];
const bin = (o: number) => (a: Code, b: Code): Code => [...a, ...b, ...op(o)];
export const add = bin(0xf0), sub = bin(0xf1), mul = bin(0xf2), div = bin(0xf3);
const lt = bin(0x49), gt = bin(0x4a), ge = bin(0x4c), eq = bin(0x47), ne = bin(0x48);
const and = bin(0x4e), or = bin(0x50);
const abs = (a: Code): Code => [...a, ...op(0xec)];
const anyTrue = (a: Code): Code => [...a, ...op(0x53)]; // v128.any_true → i32
const trunc = (a: Code): Code => [...a, ...op(0x7a)];
/** lanes of a where the mask is all ones, else b (v128.bitselect) */
const sel = (mask: Code, a: Code, b: Code): Code => [...a, ...b, ...mask, ...op(0x52)];
const shl64 = (a: Code, n: number): Code => [...a, ...i32(n), ...op(0xcb)]; // i64x2.shl
/**
 * The constants the kernels use, as doubles at CONSTANTS_AT (bytes) in the module's memory: the
 * engine writes them there once. A constant is read with v128.load64_splat — one instruction —
 * where a v128.const would be rebuilt from immediates at every use inside the loops.
 */
export const CONSTANTS: number[] = [];
export const CONSTANTS_AT = 0;
export const CONSTANTS_BYTES = 2048;
/** f64x2 (x, x) from the constant table */
const k = (x: number): Code => {
  let i = CONSTANTS.findIndex((c) => Object.is(c, x));
  if (i < 0) { i = CONSTANTS.length; CONSTANTS.push(x); }
  if (8 * CONSTANTS.length > CONSTANTS_BYTES) throw new Error("elementwise-wasm: constant table full");
  return [...i32(CONSTANTS_AT + 8 * i), ...op(0x0a), 3, 0]; // v128.load64_splat
};
const fromHigh = (hi: number): number => { const b = new Uint32Array(2); b[1] = hi; return new Float64Array(b.buffer)[0]; };
const SIGN = (() => { const b = new Uint32Array(2); b[1] = 0x80000000; return new Float64Array(b.buffer)[0]; })(); // −0: the sign bit alone

// Loads and stores of float32 values as doubles: two lanes, or one (the odd last element).
const load2 = (addr: Code): Code => [...addr, ...op(0x5d), 3, 0, ...op(0x5f)];        // v128.load64_zero; f64x2.promote_low_f32x4
const load1 = (addr: Code): Code => [...addr, ...op(0x5c), 2, 0, ...op(0x5f)];        // v128.load32_zero; promote
const store2 = (addr: Code, v: Code): Code => [...addr, ...v, ...op(0x5e), ...op(0x5b), 3, 0, 0]; // demote; v128.store64_lane 0
const store1 = (addr: Code, v: Code): Code => [...addr, ...v, ...op(0x5e), ...op(0x5a), 2, 0, 0]; // demote; v128.store32_lane 0

// fdlibm's constants (src/core/math.ts)
const LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10, INV_LN2 = 1.44269504088896338700e+00;
const HALF_LN2 = fromHigh(0x3fd62e42 + 1), THREE_HALVES_LN2 = fromHigh(0x3ff0a2b2), TWO_M28 = fromHigh(0x3e300000);
const EXP_P = [1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05, -1.65339022054652515390e-06, 4.13813679705723846039e-08];
const TWO_52 = 4503599627370496;

/** Horner: c0 + t·(c1 + t·(c2 + …)) */
const horner = (t: Code, cs: number[]): Code => cs.slice(0, -1).reduceRight<Code>((acc, c) => add(k(c), mul(t, acc)), k(cs[cs.length - 1]));

/** 2^n for integral doubles n with n + 1023 in [1, 2046]: (n + 1023) placed in the exponent field. */
const pow2 = (n: Code): Code => shl64(add(n, k(TWO_52 + 1023)), 52);

/**
 * The statements computing fdlibm exp(x) of local `x` into local `out` (`v` names scratch locals).
 * Branches of e_exp.c as lanes: k = 0 below ln2/2, ±1 below 1.5·ln2, else trunc(x/ln2 ± 1/2);
 * the k = 0 formula is the general one with hi = x, lo = 0 (the same operations); results that
 * leave the normal range are scaled in two steps as math.ts's `scale` does.
 */
function expInto(v: Record<string, number>, x: number, out: number): Code {
  const X = get(x);
  return [
    ...set(v.ax, abs(X)),
    ...set(v.sg, or(and(X, k(SIGN)), k(1))), // ±1 with x's sign
    ...set(v.kd, sel(lt(get(v.ax), k(HALF_LN2)), k(0),
      sel(lt(get(v.ax), k(THREE_HALVES_LN2)), get(v.sg), trunc(add(mul(k(INV_LN2), X), mul(get(v.sg), k(0.5))))))),
    ...set(v.hi, sub(X, mul(get(v.kd), k(LN2_HI)))),
    ...set(v.lo, mul(get(v.kd), k(LN2_LO))),
    ...set(v.r, sub(get(v.hi), get(v.lo))),
    ...set(v.t, mul(get(v.r), get(v.r))),
    ...set(v.c, sub(get(v.r), mul(get(v.t), horner(get(v.t), EXP_P)))),
    ...set(v.y, sub(k(1), sub(sub(get(v.lo), div(mul(get(v.r), get(v.c)), sub(k(2), get(v.c)))), get(v.hi)))),
    ...set(out, mul(get(v.y), pow2(get(v.kd)))), // y·2^k: exact while the result is normal (|x| ≤ 708)
    // The rare lanes, only when a pair has one: results beyond the normal range (scaled in two
    // steps: k2 = k − 1023 above 1023, −1000 below −1021; (y·2^(k−k2))·2^k2), tiny x, x = 1, NaN.
    ...ifElse(anyTrue(or(or(gt(get(v.ax), k(708)), lt(get(v.ax), k(TWO_M28))), or(eq(X, k(1)), ne(X, X)))), [
      ...set(v.k2, sel(gt(get(v.kd), k(1023)), sub(get(v.kd), k(1023)), sel(lt(get(v.kd), k(-1021)), k(-1000), k(0)))),
      ...set(out, mul(mul(get(v.y), pow2(sub(get(v.kd), get(v.k2)))), pow2(get(v.k2)))),
      ...set(out, sel(lt(get(v.ax), k(TWO_M28)), add(k(1), X), get(out))),
      ...set(out, sel(eq(X, k(1)), k(Math.E), get(out))),
      ...set(out, sel(gt(X, k(7.09782712893383973096e+02)), k(Infinity), get(out))),
      ...set(out, sel(lt(X, k(-7.45133219101941108420e+02)), k(0), get(out))),
      ...set(out, sel(ne(X, X), X, get(out))),
    ]),
  ];
}

/**
 * math.ts's tanh of local `x` into `out`: (1 − e)/(1 + e) with e = exp(−2|x|), |x| − |x|³/3 below
 * 2^−12, x's sign; x itself below 2^−28 and for NaN (fixed up only when a pair has one).
 */
function tanhInto(v: Record<string, number>, x: number, out: number): Code {
  const X = get(x), A = get(v.ax2);
  return [
    ...set(v.ax2, abs(X)),
    ...set(v.u, mul(k(-2), A)),
    ...expInto(v, v.u, v.m),
    ...set(out, sel(lt(A, k(2.44140625e-4)), sub(A, div(mul(mul(A, A), A), k(3))), div(sub(k(1), get(v.m)), add(k(1), get(v.m))))),
    ...set(out, or(get(out), and(X, k(SIGN)))), // the sign of x (the value is ≥ 0 here)
    ...ifElse(anyTrue(or(lt(A, k(3.725290298461914e-9)), ne(X, X))), [
      ...set(out, sel(or(lt(A, k(3.725290298461914e-9)), ne(X, X)), X, get(out))),
    ]),
  ];
}

/** Scratch v128 locals the functions above use. */
const SCRATCH = ["ax", "sg", "kd", "hi", "lo", "r", "t", "c", "y", "k2", "hfx", "hxs", "r1", "e", "p2", "pm", "q", "ax2", "big", "u", "m"];

/**
 * A loop over n float32 values two at a time (then the odd last one): `body(ld, st, at)` gets a
 * load and a store of the current pair (or single) at a byte offset from `at` (the element's
 * byte index, a local).
 */
export function pairs(L: Record<string, number>, n: Code, body: (ld: (base: Code) => Code, st: (base: Code, v: Code) => Code) => Code): Code {
  const at = (base: Code) => iadd(base, imul(get(L.i), i32(4)));
  return [
    ...forLoop(L.i, i32(0), [...n, ...i32(1), 0x6b] /* n − 1 */, 2, body((b) => load2(at(b)), (b, v) => store2(at(b), v))),
    // i = n − (n mod 2) after the loop; one element left when n is odd
    ...set(L.i, [...n, ...i32(-2), 0x71] /* n & ~1 */),
    ...forLoop(L.i, get(L.i), n, 1, body((b) => load1(at(b)), (b, v) => store1(at(b), v))),
  ];
}

/** sigmoid(n, src, dst): dst = σ(src) as activations.ts computes it: 1/(1 + e^−v) for v ≥ 0, e^v/(1 + e^v) below. */
const sigmoidKernel = func(["n", "src", "dst"], ["i"], ["x", "ex", "w", ...SCRATCH], (L) => pairs(L, get(L.n), (ld, st) => [
  ...set(L.x, ld(get(L.src))),
  ...set(L.w, sub(k(0), abs(get(L.x)))), // e^−|v|: the one exponential both forms need
  ...expInto(L, L.w, L.ex),
  ...st(get(L.dst), div(sel(ge(get(L.x), k(0)), k(1), get(L.ex)), add(k(1), get(L.ex)))), // 1 or e^v, over 1 + e
]));

/** tanh(n, src, dst): dst = tanh(src) (fdlibm). */
const tanhKernel = func(["n", "src", "dst"], ["i"], ["x", "th", ...SCRATCH], (L) => pairs(L, get(L.n), (ld, st) => [
  ...set(L.x, ld(get(L.src))),
  ...tanhInto(L, L.x, L.th),
  ...st(get(L.dst), get(L.th)),
]));

/**
 * lstm(B, H, a, cPrev, cNext, tc, hNext): one LSTM step as lstm.ts computes it, per example b
 * and unit h, with a [B, 4H] the pre-activations (overwritten by the gates i, f, g, o):
 *   i, f, o = 1/(1 + e^−a), g = tanh a;  c = f·c_prev + i·g;  th = tanh c;  h = o·th
 * in double, each stored once as float32: cNext = c, tc = th, hNext = h (all [B, H]).
 */
const lstmKernel = func(["B", "H", "a", "cPrev", "cNext", "tc", "hNext"], ["b", "i", "row", "cell", "n"],
  ["gi", "gf", "gg", "go", "x", "ex", "cv", "th", ...SCRATCH], (L) => {
    const gate = (g: number) => iadd(get(L.row), imul(get(L.H), i32(4 * g)));
    const sigm = (dst: number, base: Code, ld: (b: Code) => Code): Code => [
      ...set(L.x, sub(k(0), ld(base))),
      ...expInto(L, L.x, L.ex),
      ...set(dst, div(k(1), add(k(1), get(L.ex)))),
    ];
    return [
      ...set(L.n, get(L.H)),
      ...forLoop(L.b, i32(0), get(L.B), 1, [
        ...set(L.row, iadd(get(L.a), imul(imul(get(L.b), get(L.H)), i32(16)))), // &a[b, 0]
        ...set(L.cell, imul(imul(get(L.b), get(L.H)), i32(4))), // byte offset of [b, 0] in [B, H]
        ...pairs(L, get(L.n), (ld, st) => [
          ...sigm(L.gi, gate(0), ld),
          ...sigm(L.gf, gate(1), ld),
          ...set(L.x, ld(gate(2))),
          ...tanhInto(L, L.x, L.gg),
          ...sigm(L.go, gate(3), ld),
          ...st(gate(0), get(L.gi)), ...st(gate(1), get(L.gf)), ...st(gate(2), get(L.gg)), ...st(gate(3), get(L.go)),
          ...set(L.cv, add(mul(get(L.gf), ld(iadd(get(L.cPrev), get(L.cell)))), mul(get(L.gi), get(L.gg)))),
          ...tanhInto(L, L.cv, L.th),
          ...st(iadd(get(L.cNext), get(L.cell)), get(L.cv)),
          ...st(iadd(get(L.tc), get(L.cell)), get(L.th)),
          ...st(iadd(get(L.hNext), get(L.cell)), mul(get(L.go), get(L.th))),
        ]),
      ]),
    ];
  });

/**
 * gru(B, H, a, hh, bhn, hPrev, hn, hNext): one GRU step as gru.ts computes it, with a [B, 3H] the
 * input parts (overwritten by r, z, n), hh [B, 3H] = h_{t−1}·W_hhᵀ, bhn = &b_hh[2H]:
 *   r = σ(a_r + hh_r), z = σ(a_z + hh_z), m = hh_n + b_hn, n = tanh(a_n + r·m), h = (1 − z)·n + z·h_prev
 * (σ(v) = 1/(1 + e^−v)), in double, stored once as float32: hn = m, hNext = h.
 */
const gruKernel = func(["B", "H", "a", "hh", "bhn", "hPrev", "hn", "hNext"], ["b", "i", "row", "cell", "n"],
  ["gr", "gz", "gn", "m", "x", "ex", ...SCRATCH.filter((s) => s !== "m"), "mm"], (L) => {
    const part = (base: Code, g: number) => iadd(base, imul(get(L.H), i32(4 * g)));
    const rowA = get(L.row), rowH = iadd(get(L.hh), imul(imul(get(L.b), get(L.H)), i32(12)));
    const V = { ...L, m: L.mm }; // tanh's scratch "m" (its exp) must not clash with the GRU's m
    const sigm = (dst: number, s: Code): Code => [
      ...set(L.x, sub(k(0), s)),
      ...expInto(V, L.x, L.ex),
      ...set(dst, div(k(1), add(k(1), get(L.ex)))),
    ];
    return [
      ...set(L.n, get(L.H)),
      ...forLoop(L.b, i32(0), get(L.B), 1, [
        ...set(L.row, iadd(get(L.a), imul(imul(get(L.b), get(L.H)), i32(12)))), // &a[b, 0]
        ...set(L.cell, imul(imul(get(L.b), get(L.H)), i32(4))),
        ...pairs(L, get(L.n), (ld, st) => [
          ...sigm(L.gr, add(ld(part(rowA, 0)), ld(part(rowH, 0)))),
          ...sigm(L.gz, add(ld(part(rowA, 1)), ld(part(rowH, 1)))),
          ...set(L.m, add(ld(part(rowH, 2)), ld(part(get(L.bhn), 0)))),
          ...set(L.x, add(ld(part(rowA, 2)), mul(get(L.gr), get(L.m)))),
          ...tanhInto(V, L.x, L.gn),
          ...st(part(rowA, 0), get(L.gr)), ...st(part(rowA, 1), get(L.gz)), ...st(part(rowA, 2), get(L.gn)),
          ...st(iadd(get(L.hn), get(L.cell)), get(L.m)),
          ...st(iadd(get(L.hNext), get(L.cell)),
            add(mul(sub(k(1), get(L.gz)), get(L.gn)), mul(get(L.gz), ld(iadd(get(L.hPrev), get(L.cell)))))),
        ]),
      ]),
    ];
  });

/** sigmoidBackward(n, y, dy, dz): dz = dy·y·(1 − y) (activations.ts, in double, that order). */
const sigmoidBackKernel = func(["n", "y", "dy", "dz"], ["i"], ["s"], (L) => pairs(L, get(L.n), (ld, st) => [
  ...set(L.s, ld(get(L.y))),
  ...st(get(L.dz), mul(mul(ld(get(L.dy)), get(L.s)), sub(k(1), get(L.s)))),
]));

/** tanhBackward(n, y, dy, dz): dz = dy·(1 − y²). */
const tanhBackKernel = func(["n", "y", "dy", "dz"], ["i"], ["t"], (L) => pairs(L, get(L.n), (ld, st) => [
  ...set(L.t, ld(get(L.y))),
  ...st(get(L.dz), mul(ld(get(L.dy)), sub(k(1), mul(get(L.t), get(L.t))))),
]));

// relu works on float32 lanes directly: v > 0 ? v : 0 selects, so no rounding is involved.
const f32gt = (a: Code, b: Code): Code => [...a, ...b, ...op(0x44)];
const vload = (addr: Code): Code => [...addr, ...op(0x00), 4, 0];
const vstore = (addr: Code, v: Code): Code => [...addr, ...v, ...op(0x0b), 4, 0];
const vzero = (): Code => [...op(0x0c), ...new Array(16).fill(0)];
/** A loop over n float32 values four at a time, then one at a time (the same body on lane 0). */
function quads(L: Record<string, number>, n: Code, body: (ld: (base: Code) => Code, st: (base: Code, v: Code) => Code) => Code): Code {
  const at = (base: Code) => iadd(base, imul(get(L.i), i32(4)));
  const ld1 = (b: Code): Code => [...at(b), ...op(0x5c), 2, 0]; // v128.load32_zero
  const st1 = (b: Code, v: Code): Code => [...at(b), ...v, ...op(0x5a), 2, 0, 0]; // v128.store32_lane 0
  return [
    ...forLoop(L.i, i32(0), [...n, ...i32(3), 0x6b] /* n − 3 */, 4, body((b) => vload(at(b)), (b, v) => vstore(at(b), v))),
    ...set(L.i, [...n, ...i32(-4), 0x71] /* n & ~3 */),
    ...forLoop(L.i, get(L.i), n, 1, body(ld1, st1)),
  ];
}

/** relu(n, z, y): y = z > 0 ? z : 0 */
const reluKernel = func(["n", "z", "y"], ["i"], ["v"], (L) => quads(L, get(L.n), (ld, st) => [
  ...set(L.v, ld(get(L.z))),
  ...st(get(L.y), sel(f32gt(get(L.v), vzero()), get(L.v), vzero())),
]));

/** reluBackward(n, z, dy, dz): dz = z > 0 ? dy : 0 */
const reluBackKernel = func(["n", "z", "dy", "dz"], ["i"], [], (L) => quads(L, get(L.n), (ld, st) => [
  ...st(get(L.dz), sel(f32gt(ld(get(L.z)), vzero()), ld(get(L.dy)), vzero())),
]));

// scalar f32 / i32 loads and stores (align 4, offset 0); one float32 into / out of lane 0
const fLoad = (addr: Code): Code => [...addr, 0x2a, 2, 0];
const fStore = (addr: Code, v: Code): Code => [...addr, ...v, 0x38, 2, 0];
const iLoad = (addr: Code): Code => [...addr, 0x28, 2, 0];
const iStore = (addr: Code, v: Code): Code => [...addr, ...v, 0x36, 2, 0];
const lane0 = (addr: Code): Code => [...addr, ...op(0x5c), 2, 0];                // v128.load32_zero
const store1f = (addr: Code, v: Code): Code => [...addr, ...v, ...op(0x5a), 2, 0, 0]; // v128.store32_lane 0
const ishr = (a: Code, n: number): Code => [...a, ...i32(n), 0x75]; // i32.shr_s
const vconstI32 = (xs: number[]): Code => [...op(0x0c), ...Array.from(new Uint8Array(new Int32Array(xs).buffer))];


/**
 * maxpool(planes, H, W, Ho, Wo, size, stride, x, y, arg): pool.ts's max pooling over
 * [planes, H, W]: y = the window's largest value, scanned row by row with a strict >, so the
 * first of ties wins; arg (int32) = its index in x (in floats from x). One window at a time,
 * branch-free: the comparison is an f32x4 lane mask (V8 compiles scalar f32 max/select to
 * data-dependent branches, which mispredict on real data: ~15 ns a window measured).
 */
const maxpoolKernel = func(["planes", "H", "W", "Ho", "Wo", "size", "stride", "x", "y", "arg"],
  ["pl", "oy", "ox", "ky", "kx", "row", "start", "best", "r", "o", "sb", "wb", "at"], ["max", "v", "m"], (L) => [
    ...set(L.o, i32(0)),
    ...set(L.sb, imul(get(L.stride), i32(4))), // bytes between windows along a row
    ...set(L.wb, imul(get(L.W), i32(4))),      // bytes per input row
    ...forLoop(L.pl, i32(0), get(L.planes), 1,
      forLoop(L.oy, i32(0), get(L.Ho), 1, [
        // row = &x[pl, oy·stride, 0]
        ...set(L.row, iadd(get(L.x), imul(iadd(imul(get(L.pl), get(L.H)), imul(get(L.oy), get(L.stride))), get(L.wb)))),
        ...forLoop(L.ox, i32(0), get(L.Wo), 1, [
          ...set(L.start, iadd(get(L.row), imul(get(L.ox), get(L.sb)))),
          ...set(L.best, get(L.start)),
          ...set(L.max, lane0(get(L.start))),
          ...forLoop(L.ky, i32(0), get(L.size), 1, [
            ...set(L.r, iadd(get(L.start), imul(get(L.ky), get(L.wb)))),
            ...forLoop(L.kx, i32(0), get(L.size), 1, [
              ...set(L.at, iadd(get(L.r), imul(get(L.kx), i32(4)))),
              ...set(L.v, lane0(get(L.at))),
              ...set(L.m, f32gt(get(L.v), get(L.max))),
              ...set(L.max, sel(get(L.m), get(L.v), get(L.max))),
              ...set(L.best, [...get(L.at), ...get(L.best), ...get(L.m), ...op(0x1b), 0 /* i32x4.extract_lane 0 */, 0x1b /* select */]),
            ]),
          ]),
          ...store1f(iadd(get(L.y), imul(get(L.o), i32(4))), get(L.max)),
          ...iStore(iadd(get(L.arg), imul(get(L.o), i32(4))), [...isub(get(L.best), get(L.x)), ...i32(2), 0x75] /* (best − x) >> 2 */),
          ...set(L.o, iadd(get(L.o), i32(1))),
        ]),
      ])),
  ]);

/**
 * maxpool2(planes, H, W, Ho, Wo, x, y, arg): the same for 2 × 2 windows with stride 2, four
 * windows per step: two rows of 8 values split into even and odd columns (i8x16.shuffle), then
 * the window's four positions in scan order with lane masks; the last Wo mod 4 windows go
 * through the same steps on lane 0.
 */
const maxpool2Kernel = func(["planes", "H", "W", "Ho", "Wo", "x", "y", "arg"],
  ["pl", "oy", "ox", "row", "o", "wb", "w4", "start", "r0"], ["max", "v", "m", "best", "ia"], (L) => {
    const evens = (a: Code, b: Code): Code => [...a, ...b, ...op(0x0d), ...[0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]];
    const odds = (a: Code, b: Code): Code => [...a, ...b, ...op(0x0d), ...[4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31]];
    const iadd4 = (a: Code, b: Code): Code => [...a, ...b, ...op(0xae)]; // i32x4.add
    const isplat = (a: Code): Code => [...a, ...op(0x11)];               // i32x4.splat
    const steps = (load: (dy: number, dx: number) => Code, index: (dy: number, dx: number) => Code): Code => [
      ...set(L.max, load(0, 0)),
      ...set(L.best, index(0, 0)),
      ...[[0, 1], [1, 0], [1, 1]].flatMap(([dy, dx]) => [
        ...set(L.v, load(dy, dx)),
        ...set(L.m, f32gt(get(L.v), get(L.max))),
        ...set(L.max, sel(get(L.m), get(L.v), get(L.max))),
        ...set(L.best, sel(get(L.m), index(dy, dx), get(L.best))),
      ]),
    ];
    return [
      ...set(L.o, i32(0)),
      ...set(L.wb, imul(get(L.W), i32(4))),
      ...set(L.w4, [...get(L.Wo), ...i32(-4), 0x71]), // Wo & ~3
      ...forLoop(L.pl, i32(0), get(L.planes), 1,
        forLoop(L.oy, i32(0), get(L.Ho), 1, [
          // row = &x[pl, 2·oy, 0]; start (in floats from x) of window ox is (row − x)/4 + 2·ox
          ...set(L.row, iadd(get(L.x), imul(iadd(imul(get(L.pl), get(L.H)), imul(get(L.oy), i32(2))), get(L.wb)))),
          ...forLoop(L.ox, i32(0), get(L.w4), 4, [
            ...set(L.start, iadd(ishr(isub(get(L.row), get(L.x)), 2), imul(get(L.ox), i32(2)))),
            ...set(L.ia, iadd4(isplat(get(L.start)), vconstI32([0, 2, 4, 6]))),
            ...set(L.r0, iadd(get(L.row), imul(get(L.ox), i32(8)))),
            ...steps(
              (dy, dx) => (dx === 0 ? evens : odds)(vload(iadd(get(L.r0), imul(i32(dy), get(L.wb)))), [...iadd(get(L.r0), imul(i32(dy), get(L.wb))), ...op(0x00), 4, 16]),
              (dy, dx) => iadd4(get(L.ia), isplat(iadd(imul(i32(dy), get(L.W)), i32(dx))))),
            ...vstore(iadd(get(L.y), imul(get(L.o), i32(4))), get(L.max)),
            ...vstore(iadd(get(L.arg), imul(get(L.o), i32(4))), get(L.best)),
            ...set(L.o, iadd(get(L.o), i32(4))),
          ]),
          ...forLoop(L.ox, get(L.w4), get(L.Wo), 1, [
            ...set(L.start, iadd(ishr(isub(get(L.row), get(L.x)), 2), imul(get(L.ox), i32(2)))),
            ...set(L.ia, isplat(get(L.start))),
            ...set(L.r0, iadd(get(L.row), imul(get(L.ox), i32(8)))),
            ...steps(
              (dy, dx) => lane0(iadd(iadd(get(L.r0), imul(i32(dy), get(L.wb))), i32(4 * dx))),
              (dy, dx) => iadd4(get(L.ia), isplat(iadd(imul(i32(dy), get(L.W)), i32(dx))))),
            ...store1f(iadd(get(L.y), imul(get(L.o), i32(4))), get(L.max)),
            ...[...iadd(get(L.arg), imul(get(L.o), i32(4))), ...get(L.best), ...op(0x5a), 2, 0, 0], // v128.store32_lane 0
            ...set(L.o, iadd(get(L.o), i32(1))),
          ]),
        ])),
    ];
  });
/** maxpoolBackward(n, arg, dy, dx): dx[arg[o]] += dy[o] for o < n, in order (dx zeroed by the caller). */
const maxpoolBackKernel = func(["n", "arg", "dy", "dx"], ["o", "at"], [], (L) => [
  ...forLoop(L.o, i32(0), get(L.n), 1, [
    ...set(L.at, iadd(get(L.dx), imul(iLoad(iadd(get(L.arg), imul(get(L.o), i32(4)))), i32(4)))),
    ...fStore(get(L.at), [...fLoad(get(L.at)), ...fLoad(iadd(get(L.dy), imul(get(L.o), i32(4)))), 0x92]),
  ]),
]);

export const ELEMENTWISE_KERNELS: Record<string, FuncDef> = {
  sigmoid: sigmoidKernel,
  tanh: tanhKernel,
  sigmoidBackward: sigmoidBackKernel,
  tanhBackward: tanhBackKernel,
  relu: reluKernel,
  reluBackward: reluBackKernel,
  lstm: lstmKernel,
  gru: gruKernel,
  maxpool: maxpoolKernel,
  maxpool2: maxpool2Kernel,
  maxpoolBackward: maxpoolBackKernel,
};
