/**
 * Small statistics over raw buffers, used by the recorder. Each function reads a buffer once
 * and allocates nothing.
 */
import type { FloatArray } from "../core/tensor.ts";

export interface VectorStats {
  norm: number;     // L2 norm
  meanAbs: number;  // mean |x|
  maxAbs: number;   // max |x| (over finite entries)
  rms: number;      // √(mean x²)
  nonFinite: number; // count of NaN and ±Inf
}

/** L2 norm, mean |x|, max |x|, RMS and the NaN/Inf count of x[0..n). @example vectorStats(Float32Array.of(3, -4), 2).norm // 5 */
export function vectorStats(x: FloatArray, n = x.length): VectorStats {
  let sq = 0, abs = 0, max = 0, bad = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v - v !== 0) { bad++; continue; } // NaN or ±Inf
    const a = v < 0 ? -v : v;
    sq += v * v;
    abs += a;
    if (a > max) max = a;
  }
  const good = Math.max(1, n - bad);
  return { norm: Math.sqrt(sq), meanAbs: abs / good, maxAbs: max, rms: Math.sqrt(sq / good), nonFinite: bad };
}

/**
 * Sum over rows of each row's L2 norm: x is [B, units]. For δ = ∂L/∂z of the batch-MEAN loss,
 * ∂L/∂z_b = (1/B)·∂ℓ_b/∂z_b, so this sum equals the mean over examples of the per-example
 * loss's gradient norm, independent of batch size (DESIGN.md, "What is measured").
 */
export function sumRowNorms(x: FloatArray, rows: number, units: number, offset = 0, rowStride = units): number {
  let total = 0;
  for (let b = 0; b < rows; b++) {
    const o = offset + b * rowStride;
    let s = 0;
    for (let u = 0; u < units; u++) { const v = x[o + u]; s += v * v; }
    total += Math.sqrt(s);
  }
  return total;
}

/** Mean and standard deviation (population) of x[0..n). */
export function meanStd(x: FloatArray, n: number): { mean: number; std: number } {
  let s = 0, s2 = 0;
  for (let i = 0; i < n; i++) { s += x[i]; s2 += x[i] * x[i]; }
  const mean = s / Math.max(1, n);
  return { mean, std: Math.sqrt(Math.max(0, s2 / Math.max(1, n) - mean * mean)) };
}

/**
 * Largest singular value of W [rows, cols] by power iteration on WᵀW, from a fixed start vector
 * (so it is deterministic). `u` [rows] and `v` [cols] are caller-owned scratch.
 * @example sigmaMax(Float64Array.of(3, 0, 0, 2), 2, 2, new Float64Array(2), new Float64Array(2)) // 3
 */
export function sigmaMax(W: FloatArray, rows: number, cols: number, u: Float64Array, v: Float64Array, iters = 50): number {
  for (let j = 0; j < cols; j++) v[j] = 1 / Math.sqrt(cols) * (1 + 0.01 * j);
  let sigma = 0;
  for (let it = 0; it < iters; it++) {
    // u = W v
    for (let i = 0; i < rows; i++) { let s = 0; for (let j = 0; j < cols; j++) s += W[i * cols + j] * v[j]; u[i] = s; }
    // v = Wᵀ u, normalised; ‖Wᵀu‖/‖u‖ → σ_max
    let un = 0;
    for (let i = 0; i < rows; i++) un += u[i] * u[i];
    un = Math.sqrt(un);
    if (un === 0 || !Number.isFinite(un)) return un;
    for (let j = 0; j < cols; j++) v[j] = 0;
    for (let i = 0; i < rows; i++) { const ui = u[i] / un; for (let j = 0; j < cols; j++) v[j] += W[i * cols + j] * ui; }
    let vn = 0;
    for (let j = 0; j < cols; j++) vn += v[j] * v[j];
    vn = Math.sqrt(vn);
    if (vn === 0) return 0;
    for (let j = 0; j < cols; j++) v[j] /= vn;
    const prev = sigma;
    sigma = vn;
    if (Math.abs(sigma - prev) <= 1e-10 * sigma) break;
  }
  return sigma;
}

/**
 * Fixed histogram bins so runs compare. Gradients: |g| on log10 bins of half a decade from
 * 1e-10 to 10, plus a first bin for |g| < 1e-10 (zeros included) and a last for ≥ 10.
 * Activations: 20 linear bins over [−1, 1] plus an underflow and an overflow bin.
 */
// 10^(−10 + i/2), i = 0..22, correctly rounded and written out: every JS engine approximates
// `**` in its own way (Node 20 gives 9.999999999999999e-6 for 10 ** -5), and the edges must not
// depend on the engine.
export const GRAD_HIST_EDGES: number[] = [
  1e-10, 3.1622776601683795e-10, 1e-9, 3.1622776601683795e-9, 1e-8, 3.162277660168379e-8, 1e-7, 3.162277660168379e-7,
  1e-6, 3.162277660168379e-6, 1e-5, 3.1622776601683795e-5, 1e-4, 3.1622776601683794e-4, 1e-3, 3.1622776601683794e-3,
  1e-2, 3.162277660168379e-2, 0.1, 0.31622776601683794, 1, 3.1622776601683795, 10,
];
export const ACT_HIST_EDGES: number[] = Array.from({ length: 21 }, (_, i) => -1 + i * 0.1);

/** counts[k] of values in [edges[k−1], edges[k]), counts[0] below edges[0], last at or above the top edge. */
export function histogram(x: FloatArray, n: number, edges: readonly number[], absolute: boolean, counts: number[]): number[] {
  counts.length = edges.length + 1;
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    let v = x[i];
    if (v !== v) continue;
    if (absolute && v < 0) v = -v;
    // binary search for the first edge > v
    let lo = 0, hi = edges.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (edges[mid] > v) hi = mid; else lo = mid + 1; }
    counts[lo]++;
  }
  return counts;
}
