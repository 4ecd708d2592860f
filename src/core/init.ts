/**
 * Weight initializers. fan_in/fan_out follow PyTorch's _calculate_fan_in_and_fan_out: for a
 * weight [out, in, ...k], fan_in = in·Πk and fan_out = out·Πk.
 *   standard      U[±1/√fan_in]                 (PyTorch's nn.Linear/nn.Conv default)
 *   glorot        U[±√(6/(fan_in+fan_out))]     (Glorot & Bengio 2010, eq. 16; alias xavier)
 *   glorot_normal N(0, 2/(fan_in+fan_out))
 *   he            N(0, 2/fan_in)                (He et al. 2015; alias kaiming)
 *   he_uniform    U[±√(6/fan_in)]
 *   lecun         N(0, 1/fan_in)                (LeCun et al. 1998)
 *   normal        N(0, std²), std default 1     uniform  U[±scale], scale default 1
 *   orthogonal    Q of the QR of a Gaussian matrix (Saxe et al. 2014)
 *   identity      I (the IRNN of Le, Jaitly & Hinton 2015)      zeros, ones
 * Every named init is multiplied by `gain` (default 1).
 */
import { InputError } from "./errors.ts";
import type { Rng } from "./rng.ts";
import type { InitName, InitSpec } from "./spec.ts";
import type { FloatArray } from "./tensor.ts";

export const INIT_NAMES: InitName[] = [
  "zeros", "ones", "normal", "uniform", "standard", "glorot", "xavier", "glorot_normal",
  "he", "kaiming", "he_uniform", "lecun", "orthogonal", "identity",
];

/** fan_in and fan_out of a weight of this shape. @example fans([5, 784]) // {fanIn: 784, fanOut: 5} */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/**
 * Fill `out` (a tensor of `shape`) from `spec`. `fanIn` overrides the fan-in that `standard`
 * uses (recurrent layers use PyTorch's 1/√H for every tensor).
 * @example initialize("glorot", w, [5, 784], rng)
 */
export function initialize(spec: InitSpec, out: FloatArray, shape: readonly number[], rng: Rng, fanInOverride?: number): void {
  const s = typeof spec === "string" ? { type: spec } : spec;
  const gain = s.gain ?? 1;
  const { fanIn: fi, fanOut } = fans(shape);
  const fanIn = fanInOverride ?? fi;
  const n = out.length;
  const uniform = (bound: number) => { for (let i = 0; i < n; i++) out[i] = (2 * rng.uniform() - 1) * bound; };
  const normal = (std: number) => { for (let i = 0; i < n; i++) out[i] = rng.normal() * std; };
  switch (s.type) {
    case "zeros": out.fill(0); return;
    case "ones": out.fill(gain); return;
    case "normal": return normal(gain * (s.std ?? 1));
    case "uniform": return uniform(gain * (s.scale ?? 1));
    case "standard": return uniform(gain / Math.sqrt(fanIn));
    case "glorot": case "xavier": return uniform(gain * Math.sqrt(6 / (fanIn + fanOut)));
    case "glorot_normal": return normal(gain * Math.sqrt(2 / (fanIn + fanOut)));
    case "he": case "kaiming": return normal(gain * Math.sqrt(2 / fanIn));
    case "he_uniform": return uniform(gain * Math.sqrt(6 / fanIn));
    case "lecun": return normal(gain / Math.sqrt(fanIn));
    case "orthogonal": return orthogonal(out, shape, rng, gain);
    case "identity": return identity(out, shape, gain);
    default:
      throw new InputError(`init: expected one of ${INIT_NAMES.join(", ")}; got ${JSON.stringify(s.type)}`);
  }
}

/**
 * Orthogonal init as PyTorch's nn.init.orthogonal_: view the weight as rows × cols, take the QR
 * of a Gaussian matrix (of the transpose when rows < cols), fix signs by diag(R).
 */
function orthogonal(out: FloatArray, shape: readonly number[], rng: Rng, gain: number): void {
  const rows = shape[0];
  const cols = out.length / rows;
  const tall = rows >= cols;
  const m = tall ? rows : cols; // the long side
  const k = tall ? cols : rows; // the short side: the number of orthonormal columns of Q
  // Q: m × k column vectors in Float64, by modified Gram–Schmidt (stable enough for k ≤ ~1000).
  const q = new Float64Array(m * k); // column j at q[j*m .. j*m+m)
  for (let i = 0; i < m * k; i++) q[i] = rng.normal();
  for (let j = 0; j < k; j++) {
    const cj = j * m;
    for (let p = 0; p < j; p++) {
      const cp = p * m;
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[cp + i] * q[cj + i];
      for (let i = 0; i < m; i++) q[cj + i] -= dot * q[cp + i];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[cj + i] * q[cj + i];
    norm = Math.sqrt(norm);
    // Gram–Schmidt's diagonal R_jj is the norm (positive), so the sign fix is a no-op here.
    for (let i = 0; i < m; i++) q[cj + i] /= norm;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = gain * (tall ? q[c * m + r] : q[r * m + c]);
    }
  }
}

function identity(out: FloatArray, shape: readonly number[], gain: number): void {
  const rows = shape[0];
  const cols = out.length / rows;
  out.fill(0);
  for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = gain;
}
