/**
 * Activation functions as {f, df} pairs (after TensorFlow Playground's {output, der}), plus
 * whole-buffer loops for the hot path. df takes both z and y = f(z), so each derivative uses
 * whichever is cheaper: sigmoid′ = y(1 − y), tanh′ = 1 − y², relu′ = [z > 0].
 */
import type { ActivationName } from "./spec.ts";
import type { FloatArray } from "./tensor.ts";
import { exp, expm1, tanh, tanhF32 } from "./math.ts";

export interface Activation {
  name: ActivationName;
  /** f(z) */
  f(z: number): number;
  /** f′(z), given z and y = f(z) */
  df(z: number, y: number): number;
  /** sup |f′|: 0.25 for sigmoid, 1 for tanh; the scale "saturated" is measured against */
  maxDf: number;
  /** sigmoid-like: saturates at both ends, so the lab reports the saturated fraction */
  saturating: boolean;
  /** relu: a unit whose z ≤ 0 for a whole batch passes no gradient ("dead") */
  canDie: boolean;
  /** y[i] = f(z[i]) for i < n */
  forward(z: FloatArray, y: FloatArray, n: number): void;
  /** dz[i] = dy[i] · f′(z[i]) for i < n */
  backward(z: FloatArray, y: FloatArray, dy: FloatArray, dz: FloatArray, n: number): void;
}

/** Numerically stable logistic function. @example sigmoid(0) // 0.5 */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + exp(-z));
  const e = exp(z);
  return e / (1 + e);
}

/**
 * The error function to ~1e-15: Maclaurin series for |x| < 3 (A&S 7.1.5), erfc by Lentz's
 * continued fraction beyond (A&S 7.1.14). Needed for PyTorch's exact GELU.
 * @example erf(1) // 0.8427007929497149
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 3) return x < 0 ? erfcLarge(ax) - 1 : 1 - erfcLarge(ax);
  // erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
  let term = ax;
  let sum = ax;
  const x2 = ax * ax;
  for (let n = 1; n < 100; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  const r = (2 / Math.sqrt(Math.PI)) * sum;
  return x < 0 ? -r : r;
}

/** erfc(x) = 1 − erf(x), without the cancellation of 1 − erf for large x. @example erfc(5) // 1.5375e-12 */
export function erfc(x: number): number {
  return x >= 3 ? erfcLarge(x) : 1 - erf(x);
}

/** erfc for x ≥ 3: e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), modified Lentz. */
function erfcLarge(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let C = x;
  let D = 0;
  for (let k = 1; k < 200; k++) {
    const a = k / 2;
    D = x + a * D;
    D = D === 0 ? tiny : 1 / D;
    C = x + a / C;
    if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** Standard normal CDF Φ(z), accurate in both tails. */
function normalCdf(z: number): number {
  return z < 0 ? 0.5 * erfc(-z / Math.SQRT2) : 1 - 0.5 * erfc(z / Math.SQRT2);
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

// Each activation writes its own loops: one shared generic loop calling f through a closure
// would make that call site megamorphic in V8 and several times slower.
const sigmoidAct: Activation = {
  name: "sigmoid", maxDf: 0.25, saturating: true, canDie: false,
  f: sigmoid,
  df: (_z, y) => y * (1 - y),
  forward(z, y, n) {
    for (let i = 0; i < n; i++) {
      const v = z[i];
      if (v >= 0) y[i] = 1 / (1 + exp(-v));
      else { const e = exp(v); y[i] = e / (1 + e); }
    }
  },
  backward(_z, y, dy, dz, n) {
    for (let i = 0; i < n; i++) { const s = y[i]; dz[i] = dy[i] * s * (1 - s); }
  },
};

const tanhAct: Activation = {
  name: "tanh", maxDf: 1, saturating: true, canDie: false,
  f: tanh,
  df: (_z, y) => 1 - y * y,
  // float32 tensors take tanh in float32 arithmetic (math.ts's tanhF32, as the kernels do), float64 ones in double
  forward(z, y, n) {
    if (y instanceof Float32Array) for (let i = 0; i < n; i++) y[i] = tanhF32(z[i]);
    else for (let i = 0; i < n; i++) y[i] = tanh(z[i]);
  },
  backward(_z, y, dy, dz, n) { for (let i = 0; i < n; i++) { const t = y[i]; dz[i] = dy[i] * (1 - t * t); } },
};

const reluAct: Activation = {
  name: "relu", maxDf: 1, saturating: false, canDie: true,
  f: (z) => (z > 0 ? z : 0),
  df: (z) => (z > 0 ? 1 : 0),
  forward(z, y, n) { for (let i = 0; i < n; i++) { const v = z[i]; y[i] = v > 0 ? v : 0; } },
  backward(z, _y, dy, dz, n) { for (let i = 0; i < n; i++) dz[i] = z[i] > 0 ? dy[i] : 0; },
};

/** PyTorch's default negative slope. */
const LEAK = 0.01;
const leakyReluAct: Activation = {
  name: "leaky_relu", maxDf: 1, saturating: false, canDie: false,
  f: (z) => (z > 0 ? z : LEAK * z),
  df: (z) => (z > 0 ? 1 : LEAK),
  forward(z, y, n) { for (let i = 0; i < n; i++) { const v = z[i]; y[i] = v > 0 ? v : LEAK * v; } },
  backward(z, _y, dy, dz, n) { for (let i = 0; i < n; i++) dz[i] = z[i] > 0 ? dy[i] : LEAK * dy[i]; },
};

/** ELU with α = 1 (PyTorch's default): y = e^z − 1 for z ≤ 0, so f′ = y + 1 there. */
const eluAct: Activation = {
  name: "elu", maxDf: 1, saturating: false, canDie: false,
  f: (z) => (z > 0 ? z : expm1(z)),
  df: (z, y) => (z > 0 ? 1 : y + 1),
  forward(z, y, n) { for (let i = 0; i < n; i++) { const v = z[i]; y[i] = v > 0 ? v : expm1(v); } },
  backward(z, y, dy, dz, n) { for (let i = 0; i < n; i++) dz[i] = z[i] > 0 ? dy[i] : dy[i] * (y[i] + 1); },
};

/** Exact GELU, z·Φ(z) (PyTorch's default approximate='none'); f′ = Φ(z) + z·φ(z). */
const geluAct: Activation = {
  name: "gelu", maxDf: 1.129, saturating: false, canDie: false,
  f: (z) => z * normalCdf(z),
  df: (z) => normalCdf(z) + z * INV_SQRT_2PI * exp(-0.5 * z * z),
  forward(z, y, n) { for (let i = 0; i < n; i++) { const v = z[i]; y[i] = v * normalCdf(v); } },
  backward(z, _y, dy, dz, n) {
    for (let i = 0; i < n; i++) {
      const v = z[i];
      dz[i] = dy[i] * (normalCdf(v) + v * INV_SQRT_2PI * exp(-0.5 * v * v));
    }
  },
};

/** Softsign z/(1 + |z|), f′ = 1/(1 + |z|)² (Glorot & Bengio 2010 compare it with tanh). */
const softsignAct: Activation = {
  name: "softsign", maxDf: 1, saturating: true, canDie: false,
  f: (z) => z / (1 + Math.abs(z)),
  df: (z) => { const d = 1 + Math.abs(z); return 1 / (d * d); },
  forward(z, y, n) { for (let i = 0; i < n; i++) { const v = z[i]; y[i] = v / (1 + Math.abs(v)); } },
  backward(z, _y, dy, dz, n) { for (let i = 0; i < n; i++) { const d = 1 + Math.abs(z[i]); dz[i] = dy[i] / (d * d); } },
};

const linearAct: Activation = {
  name: "linear", maxDf: 1, saturating: false, canDie: false,
  f: (z) => z,
  df: () => 1,
  forward(z, y, n) { if (y !== z) for (let i = 0; i < n; i++) y[i] = z[i]; },
  backward(_z, _y, dy, dz, n) { if (dz !== dy) for (let i = 0; i < n; i++) dz[i] = dy[i]; },
};

export const ACTIVATIONS: Record<ActivationName, Activation> = {
  sigmoid: sigmoidAct, tanh: tanhAct, relu: reluAct, leaky_relu: leakyReluAct,
  elu: eluAct, gelu: geluAct, softsign: softsignAct, linear: linearAct,
};

export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as ActivationName[];

/** Look up an activation by name; "linear" when none is given. */
export function activation(name: ActivationName | undefined): Activation {
  return ACTIVATIONS[name ?? "linear"];
}
