/**
 * Portable elementary functions: the same bits on every JavaScript engine. ECMAScript leaves
 * Math.exp, log, expm1, tanh, sin, cos and pow "implementation-approximated", and engines do
 * differ: Node 20's V8 and Chromium 156's V8 disagree in the last bit for about one argument in
 * ten of exp (measured), so the same run would record different numbers in the CLI and in the
 * browser. These ports of fdlibm (Sun Microsystems, 1993; the library Java's StrictMath
 * specifies) use only IEEE-754 double arithmetic, which every engine performs exactly alike,
 * so the engine computes identical results everywhere. Each is within 1 ulp of the true value,
 * except tanh, which is built on exp for speed and is within 1e-12 relative (see there); and
 * tanhF32 and sigmoidF32, float32 tensors' tanh and σ in float32 arithmetic, within 2 float32 ulps.
 * sqrt needs no port: IEEE-754 requires it correctly rounded.
 */

// The high 32 bits of a double (sign, exponent, top of the mantissa), read through a shared buffer.
const F64 = new Float64Array(1);
const I32 = new Int32Array(F64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // little-endian: word 1
const LO = 1 - HI;

function highWord(x: number): number {
  F64[0] = x;
  return I32[HI];
}

function withHighWord(x: number, hi: number): number {
  F64[0] = x;
  I32[HI] = hi;
  return F64[0];
}

function fromWords(hi: number, lo: number): number {
  I32[HI] = hi;
  I32[LO] = lo;
  return F64[0];
}

/** 2^k for k in [−1074, 1023], exactly (built by halving and doubling, which are exact). */
const POW2 = new Float64Array(2098);
{
  POW2[1074] = 1;
  for (let k = 1; k <= 1023; k++) POW2[1074 + k] = POW2[1073 + k] * 2;
  for (let k = 1; k <= 1074; k++) POW2[1074 - k] = POW2[1075 - k] / 2;
}

/** y·2^k, rounding once (as fdlibm's exponent arithmetic does) also where the result is subnormal. */
function scale(y: number, k: number): number {
  if (k > 1023) return y * POW2[1074 + 1023] * POW2[1074 + k - 1023];
  if (k >= -1021) return y * POW2[1074 + k];
  return y * POW2[1074 + k + 1000] * POW2[1074 - 1000];
}

/**
 * fdlibm compares the high word of |x| with thresholds; `hx ≥ H` is exactly |x| ≥ at(H) and
 * `hx > H` is |x| ≥ at(H + 1), which spares the hot paths a trip through memory.
 */
const at = (hi: number) => fromWords(hi, 0);
const HALF_LN2 = at(0x3fd62e42 + 1);          // |x| > ln2/2
const THREE_HALVES_LN2 = at(0x3ff0a2b2);       // |x| < 1.5·ln2
const TWO_M28 = at(0x3e300000);                // 2^−28
const TWO_M54 = at(0x3c900000);                // 2^−54
const LN2_56 = at(0x4043687a);                 // 56·ln2
const EXP_BIG = at(0x40862e42);                // 709.78

const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700e+00;

/**
 * e^x (fdlibm e_exp.c): x = k·ln2 + r with |r| ≤ ln2/2, then a minimax polynomial for e^r.
 * A wrapper of expInto, whose loop is the one implementation.
 * @example exp(1) // 2.718281828459045
 */
export function exp(x: number): number {
  ONE_IN[0] = x;
  expInto(ONE_IN, 0, 1, NO_SHIFT, 0, ONE_OUT, 0);
  return ONE_OUT[0];
}
const ONE_IN = new Float64Array(1);
const ONE_OUT = new Float64Array(1);
const NO_SHIFT = new Float64Array(1);

/**
 * out[outOff + i] = e^(x[xOff + i] − shift[shiftAt]) for i < n, as exp() computes it. Hot loops
 * call this rather than exp(): V8 does not inline exp, and a call that is not inlined boxes its
 * double arguments and result on the heap (5.6 kB a step in the seed network's loss before
 * this); hence also the shift read from an array rather than passed as a number.
 * @example expInto(Float64Array.of(1, 2), 0, 2, Float64Array.of(1), 0, out, 0) // out = [1, e]
 */
export function expInto(x: ArrayLike<number>, xOff: number, n: number, shift: ArrayLike<number>, shiftAt: number, out: { [i: number]: number }, outOff: number): void {
  const s = shift[shiftAt];
  for (let i = 0; i < n; i++) {
    let v = x[xOff + i] - s;
    // The special cases store and move on: a result variable that may hold the global Infinity
    // or Math.E is kept tagged by V8, which then boxes every ordinary result too.
    if (v === 1) { out[outOff + i] = Math.E; continue; } // correctly rounded, where fdlibm is 1 ulp high (V8 special-cases it too)
    if (v > 7.09782712893383973096e+02) { out[outOff + i] = Infinity; continue; }
    let r: number;
    if (v !== v) r = v;
    else if (v < -7.45133219101941108420e+02) r = 0;
    else {
      const av = v < 0 ? -v : v;
      let k = 0, hi = 0, lo = 0;
      if (av >= HALF_LN2) {
        // |k| ≤ 1075 here, so `| 0` truncates exactly as fdlibm's (int) cast, and keeps k an
        // int32 (a k that is sometimes a double gets boxed on every element)
        k = av < THREE_HALVES_LN2 ? (v < 0 ? -1 : 1) : (INV_LN2 * v + (v < 0 ? -0.5 : 0.5)) | 0;
        hi = v - k * LN2_HI;
        lo = k * LN2_LO;
        v = hi - lo;
      }
      if (k === 0 && av < TWO_M28) r = 1 + v;
      else {
        const t = v * v;
        const c = v - t * (1.66666666666666019037e-01 + t * (-2.77777777770155933842e-03 + t * (6.61375632143793436117e-05 + t * (-1.65339022054652515390e-06 + t * 4.13813679705723846039e-08))));
        if (k === 0) r = 1 - ((v * c) / (c - 2) - v);
        else {
          const y = 1 - ((lo - (v * c) / (2 - c)) - hi);
          // y·2^k, inlined from scale() so nothing is boxed
          r = k > 1023 ? y * POW2[1074 + 1023] * POW2[1074 + k - 1023] : k >= -1021 ? y * POW2[1074 + k] : y * POW2[1074 + k + 1000] * POW2[1074 - 1000];
        }
      }
    }
    out[outOff + i] = r;
  }
}

/**
 * e^x − 1, accurate near 0 (fdlibm s_expm1.c).
 * @example expm1(1e-10) // 1.00000000005e-10
 */
export function expm1(x: number): number {
  if (x !== x) return x;
  const negative = x < 0;
  const ax = negative ? -x : x;
  if (ax >= LN2_56) {
    if (ax >= EXP_BIG && x > 7.09782712893383973096e+02) return Infinity;
    if (negative) return -1;
  }
  let k = 0, c = 0;
  if (ax >= HALF_LN2) {
    let hi: number, lo: number;
    if (ax < THREE_HALVES_LN2) {
      if (!negative) { hi = x - LN2_HI; lo = LN2_LO; k = 1; } else { hi = x + LN2_HI; lo = -LN2_LO; k = -1; }
    } else {
      k = Math.trunc(INV_LN2 * x + (negative ? -0.5 : 0.5));
      hi = x - k * LN2_HI;
      lo = k * LN2_LO;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (ax < TWO_M54) {
    return x;
  }
  const hfx = 0.5 * x;
  const hxs = x * hfx;
  const r1 = 1 + hxs * (-3.33333333333331316428e-02 + hxs * (1.58730158725481460165e-03 + hxs * (-7.93650757867487942473e-05 + hxs * (4.00821782732936239552e-06 + hxs * -2.01099218183624371326e-07))));
  const t = 3 - r1 * hfx;
  let e = hxs * ((r1 - t) / (6 - x * t));
  if (k === 0) return x - (x * e - hxs);
  e = x * (e - c) - c;
  e -= hxs;
  if (k === -1) return 0.5 * (x - e) - 0.5;
  if (k === 1) return x < -0.25 ? -2 * (e - (x + 0.5)) : 1 + 2 * (x - e);
  if (k <= -2 || k > 56) return scale(1 - (e - x), k) - 1;
  if (k < 20) return scale((1 - POW2[1074 - k]) - (e - x), k);
  return scale((x - (e + POW2[1074 - k])) + 1, k);
}

/**
 * Natural logarithm (fdlibm e_log.c): x = 2^k·(1 + f), log(1 + f) by a minimax series in s = f/(2 + f).
 * A wrapper of logInto, whose loop is the one implementation.
 * @example log(Math.E) // 1
 */
export function log(x: number): number {
  ONE_IN[0] = x;
  logInto(ONE_IN, 0, 1, ONE_OUT, 0);
  return ONE_OUT[0];
}

/**
 * out[outOff + i] = log(xs[xOff + i]) for i < n, without boxing a double per element (see
 * expInto); every case stores its result and moves on, so no result variable turns tagged.
 */
export function logInto(xs: ArrayLike<number>, xOff: number, n: number, out: { [i: number]: number }, outOff: number): void {
  for (let i = 0; i < n; i++) {
    let x = xs[xOff + i];
    F64[0] = x;
    let hx = I32[HI];
    const lx = I32[LO];
    let k = 0;
    if (hx < 0x00100000) { // x < 2^−1022
      if (((hx & 0x7fffffff) | lx) === 0) { out[outOff + i] = -Infinity; continue; }
      if (hx < 0) { out[outOff + i] = NaN; continue; }
      k -= 54;
      x *= 1.80143985094819840000e+16; // 2^54: make a subnormal normal
      hx = highWord(x);
    }
    if (hx >= 0x7ff00000) { out[outOff + i] = x + x; continue; }
    k += (hx >> 20) - 1023;
    hx &= 0x000fffff;
    const half = (hx + 0x95f64) & 0x100000; // fdlibm's i
    x = withHighWord(x, hx | (half ^ 0x3ff00000)); // x or x/2, in [√2/2, √2)
    k += half >> 20;
    const f = x - 1;
    const dk = k;
    if ((0x000fffff & (2 + hx)) < 3) { // |f| < 2^−20
      if (f === 0) { out[outOff + i] = k === 0 ? 0 : dk * LN2_HI + dk * LN2_LO; continue; }
      const R = f * f * (0.5 - 0.33333333333333333 * f);
      out[outOff + i] = k === 0 ? f - R : dk * LN2_HI - ((R - dk * LN2_LO) - f);
      continue;
    }
    const s = f / (2 + f);
    const z = s * s;
    const w = z * z;
    const t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    const t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    const R = t2 + t1;
    if (((hx - 0x6147a) | (0x6b851 - hx)) > 0) {
      const hfsq = 0.5 * f * f;
      out[outOff + i] = k === 0 ? f - (hfsq - s * (hfsq + R)) : dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
      continue;
    }
    out[outOff + i] = k === 0 ? f - s * (f - R) : dk * LN2_HI - ((s * (f - R) - dk * LN2_LO) - f);
  }
}

/**
 * Hyperbolic tangent for the engine: (1 − e)/(1 + e) with e = exp(−2|x|) (the fdlibm exp above),
 * x − x³/3 below 2^−12 (the next term is 2x⁵/15: 4e-16 relative there), x itself below 2^−28,
 * with x's sign. Not fdlibm's s_tanh.c: that computes expm1 and costs twice as much in the
 * vector kernels, for accuracy float32 results cannot hold. Relative error below 1e-12 (the
 * cancellation in 1 − e just above 2^−12 is the worst case; a float32 ulp is 6e-8), so the
 * float32 values the layers store are almost always the correctly rounded tanh. The
 * WebAssembly kernels compute the same operations in the same order (src/accel/lane-math.ts).
 * @example tanh(0.5) // 0.4621171572600098
 */
export function tanh(x: number): number {
  if (x !== x) return x;
  const ax = x < 0 ? -x : x;
  if (ax < 3.725290298461914e-9) return x; // |x| < 2^−28: tanh x = x (and −0 stays −0)
  let z: number;
  if (ax < 2.44140625e-4) z = ax - ax * ax * ax / 3; // |x| < 2^−12
  else { const e = exp(-2 * ax); z = (1 - e) / (1 + e); }
  return x < 0 ? -z : z;
}

/**
 * The constants of the float32 functions (expNegF32, tanhF32, sigmoidF32), each a float32
 * value: e^−r's Taylor coefficients to r⁷ for the reduced argument |r| ≤ ln2/2 (truncation
 * 1.4e-8), and tanh's odd polynomial below T (a minimax fit of (tanh x / x − 1)/x² on [0, 0.625]
 * in x², scripts/fit-tanh.py). The WebAssembly kernels (src/accel/lane-math.ts) read them here.
 */
export const F32_MATH = {
  LOG2E: Math.fround(1.4426950408889634),
  /** ln 2 in two parts: n·LN2_HI is exact for the n ≤ 159 that occur */
  LN2_HI: Math.fround(0.693359375),
  LN2_LO: Math.fround(-2.1219444005469057e-4),
  /** 1.5·2^23: v + MAGIC − MAGIC rounds v to the nearest integer, ties to even, in float32 */
  MAGIC: Math.fround(12582912),
  /** e^−r = Σ E[i]·r^i, i ≤ 7 */
  E: [1, -1, 1 / 2, -1 / 6, 1 / 24, -1 / 120, 1 / 720, -1 / 5040].map(Math.fround),
  /** expNegF32's argument is clamped here: e^−110 rounds to 0 in float32 */
  EXP_Y_MAX: Math.fround(110),
  /** tanh: below T the polynomial, from it the exponential form */
  T: Math.fround(0.625),
  /** tanh x = x + x·u·P(u), u = x², coefficients of u⁰ … u⁵ */
  P: [-0.3333333134651184, 0.1333320587873459, -0.05394676327705383, 0.021700704470276833, -0.008177400566637516, 0.0021429636981338263].map(Math.fround),
  /** tanh clamps 2|x| here: e^−18.5 = 9e-9, and tanh is 1 in float32 from |x| = 9.01 */
  Y_MAX: Math.fround(18.5),
} as const;

const F32 = new Float32Array(2);
const F32_BITS = new Int32Array(F32.buffer);

/**
 * e^−y for a float32 y ≥ 0 (or NaN), in float32 operations: n = round(y/ln2), r = y − n·ln2
 * (|r| ≤ ln2/2), e^−r by its degree-7 polynomial, times 2^−n in two exact steps (2^−⌊n/2⌋ then
 * 2^−⌈n/2⌉, so a result below the normal range is rounded once, as a subnormal). y is clamped
 * to 110 first (e^−110 is 0 in float32).
 * @example expNegF32(1) // 0.3678794503211975 (Math.fround(Math.exp(-1)))
 */
export function expNegF32(y: number): number {
  const f = Math.fround, C = F32_MATH, E = C.E;
  y = Math.min(y, C.EXP_Y_MAX);
  const n = f(f(f(y * C.LOG2E) + C.MAGIC) - C.MAGIC);
  const r = f(f(y - f(n * C.LN2_HI)) - f(n * C.LN2_LO));
  let q = E[7];
  for (let i = 6; i >= 0; i--) q = f(f(r * q) + E[i]);
  const n1 = n >> 1;
  F32_BITS[0] = (127 - n1) << 23; // 2^−⌊n/2⌋
  F32_BITS[1] = (127 - (n - n1)) << 23; // 2^−⌈n/2⌉
  return f(f(q * F32[0]) * F32[1]);
}

/**
 * tanh of a float32 value in float32 arithmetic, for the layers' Float32 tensors: below |x| =
 * 0.625, x + x³·P(x²); from there, (1 − t)/(1 + t) with t = e^−2|x| (expNegF32, 2|x| clamped to
 * 18.5); x's sign. Every operation is a float32 operation (Math.fround after each: for +, −, ×
 * and ÷ of float32 values that is the float32 result), so the WebAssembly kernels' f32x4 code, the
 * same operations in the same order, gives the same bits. Against the correctly rounded tanh,
 * over every float32 in [0, 11) sampled 1 in 97: 98.5% equal, 1.5% one ulp apart, 2 in 10^7 two
 * ulps (test/core/math.test.ts); PyTorch's own float32 tanh is within 1 ulp. It replaced the
 * double-precision tanh on float32 tensors, which cost ~5 ns a value in the kernels (a third of an
 * RNN's training time); this costs ~2. NaN gives NaN, ±∞ ±1, −0 −0.
 * @example tanhF32(0.5) // 0.46211716532707214 (Math.fround(Math.tanh(0.5)))
 */
export function tanhF32(x: number): number {
  const f = Math.fround, C = F32_MATH, P = C.P;
  const a = Math.abs(x);
  let z: number;
  if (a < C.T) {
    const u = f(a * a);
    let p = P[5];
    for (let i = 4; i >= 0; i--) p = f(f(u * p) + P[i]);
    z = f(a + f(f(a * u) * p));
  } else {
    const t = expNegF32(Math.min(f(a + a), C.Y_MAX));
    z = f(f(1 - t) / f(1 + t));
  }
  return x < 0 || Object.is(x, -0) ? -z : z;
}

/**
 * The logistic sigmoid of a float32 value in float32 arithmetic, for the LSTM and GRU cells'
 * gates on Float32 tensors: t = e^−|x| (expNegF32), then 1/(1 + t) for x ≥ 0 and t/(1 + t) below,
 * as activations.ts's double sigmoid is computed. The same operations as the kernels' (see
 * tanhF32). Within 2 float32 ulps of the correctly rounded σ (test/core/math.test.ts). NaN gives
 * NaN, +∞ 1, −∞ 0.
 * @example sigmoidF32(0) // 0.5
 */
export function sigmoidF32(x: number): number {
  const f = Math.fround;
  const t = expNegF32(Math.abs(x));
  return f((x >= 0 ? 1 : t) / f(1 + t));
}

// sin and cos: reduce x by multiples of π/2 (Cody–Waite with π/2 in three parts, fdlibm's
// medium-size path of __ieee754_rem_pio2), then the kernels on [−π/4, π/4].
const PIO2_1 = 1.57079632673412561417e+00, PIO2_1T = 6.07710050650619224932e-11;
const PIO2_2 = 6.07710050630396597660e-11, PIO2_2T = 2.02226624879595063154e-21;
const PIO2_3 = 2.02226624871116645580e-21, PIO2_3T = 8.47842766036889956997e-32;
const INV_PIO2 = 6.36619772367581382433e-01;

/** x − n·π/2 as y0 + y1 and n (exact to ~1e-32 relative for |x| < 2^19·π/2). */
let Y0 = 0, Y1 = 0;
function remPio2(x: number): number {
  const ax = x < 0 ? -x : x;
  const n = Math.trunc(ax * INV_PIO2 + 0.5);
  let r = ax - n * PIO2_1;
  let w = n * PIO2_1T;
  const j = highWord(ax) >> 20;
  let y0 = r - w;
  if (j - ((highWord(y0) >> 20) & 0x7ff) > 16) { // cancellation: a second step
    let t = r;
    w = n * PIO2_2;
    r = t - w;
    w = n * PIO2_2T - ((t - r) - w);
    y0 = r - w;
    if (j - ((highWord(y0) >> 20) & 0x7ff) > 49) { // and a third
      t = r;
      w = n * PIO2_3;
      r = t - w;
      w = n * PIO2_3T - ((t - r) - w);
      y0 = r - w;
    }
  }
  const y1 = (r - y0) - w;
  if (x < 0) { Y0 = -y0; Y1 = -y1; return -n; }
  Y0 = y0;
  Y1 = y1;
  return n;
}

/** sin on [−π/4, π/4] of x + y (y the tail of a reduced argument; `tail` false when y is 0). */
function kernelSin(x: number, y: number, tail: boolean): number {
  if ((highWord(x) & 0x7fffffff) < 0x3e400000) return x; // |x| < 2^−27
  const S1 = -1.66666666666666324348e-01;
  const z = x * x, v = z * x;
  const r = 8.33333333332248946124e-03 + z * (-1.98412698298579493134e-04 + z * (2.75573137070700676789e-06 + z * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10)));
  return tail ? x - ((z * (0.5 * y - v * r) - y) - v * S1) : x + v * (S1 + z * r);
}

/** cos on [−π/4, π/4] of x + y. */
function kernelCos(x: number, y: number): number {
  const ix = highWord(x) & 0x7fffffff;
  if (ix < 0x3e400000) return 1; // |x| < 2^−27
  const z = x * x;
  const r = z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03 + z * (2.48015872894767294178e-05 + z * (-2.75573143513906633035e-07 + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11)))));
  if (ix < 0x3fd33333) return 1 - (0.5 * z - (z * r - x * y)); // |x| < 0.3
  const qx = ix > 0x3fe90000 ? 0.28125 : fromWords(ix - 0x00200000, 0); // x/4, rounded down
  const hz = 0.5 * z - qx;
  return (1 - qx) - (hz - (z * r - x * y));
}

/**
 * sin x (fdlibm s_sin.c) for |x| up to 2^19·π/2 ≈ 8·10^5 (the Box–Muller transform needs [0, 2π));
 * beyond that the one-step argument reduction is not accurate.
 * @example sin(Math.PI / 6) // 0.49999999999999994
 */
export function sin(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  if ((highWord(x) & 0x7fffffff) <= 0x3fe921fb) return kernelSin(x, 0, false); // |x| ≲ π/4
  const n = remPio2(x) & 3;
  return n === 0 ? kernelSin(Y0, Y1, true) : n === 1 ? kernelCos(Y0, Y1) : n === 2 ? -kernelSin(Y0, Y1, true) : -kernelCos(Y0, Y1);
}

/**
 * cos x (fdlibm s_cos.c).
 * @example cos(Math.PI / 3) // 0.5000000000000001
 */
export function cos(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  if ((highWord(x) & 0x7fffffff) <= 0x3fe921fb) return kernelCos(x, 0);
  const n = remPio2(x) & 3;
  return n === 0 ? kernelCos(Y0, Y1) : n === 1 ? -kernelSin(Y0, Y1, true) : n === 2 ? -kernelCos(Y0, Y1) : kernelSin(Y0, Y1, true);
}

/**
 * x^n for a whole number n ≥ 0 by repeated squaring (the optimizers' β^t).
 * @example powInt(0.9, 2) // 0.81
 */
export function powInt(x: number, n: number): number {
  let result = 1, base = x, e = n;
  while (e > 0) {
    if (e & 1) result *= base;
    base *= base;
    e = Math.floor(e / 2);
  }
  return result;
}
