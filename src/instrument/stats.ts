/**
 * Small statistics over raw buffers, used by the recorder. Each function reads a buffer once
 * and allocates nothing.
 */
import type { FloatArray } from "../core/tensor.ts";

export interface VectorStats {
  norm: number;     // L2 norm
  meanAbs: number;  // mean |x|
  maxAbs: number;   // max |x|
  rms: number;      // √(mean x²)
  nonFinite: number; // count of NaN and ±Inf
  zeros: number;    // count of entries exactly 0 (±0)
}

/**
 * L2 norm, mean |x|, max |x|, RMS, the NaN/Inf count and the exact-zero count of x[0..n). A
 * statistic of a vector holding NaN or ±Inf is not finite itself: NaN when any entry is NaN,
 * else +Inf, never a number computed from the finite entries alone (an exploded gradient must
 * not read as small).
 * @example vectorStats(Float32Array.of(3, -4), 2).norm // 5
 * @example vectorStats(Float32Array.of(3, Infinity, 0), 3) // { norm: Infinity, …, nonFinite: 1, zeros: 1 }
 */
export function vectorStats(x: FloatArray, n = x.length): VectorStats {
  let sq = 0, abs = 0, max = 0, bad = 0, nan = 0, zeros = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v - v !== 0) { bad++; if (v !== v) nan++; continue; } // NaN or ±Inf
    if (v === 0) { zeros++; continue; }
    const a = v < 0 ? -v : v;
    sq += v * v;
    abs += a;
    if (a > max) max = a;
  }
  if (bad > 0) {
    const q = nan > 0 ? Number.NaN : Number.POSITIVE_INFINITY;
    return { norm: q, meanAbs: q, maxAbs: q, rms: q, nonFinite: bad, zeros };
  }
  const m = Math.max(1, n);
  return { norm: Math.sqrt(sq), meanAbs: abs / m, maxAbs: max, rms: Math.sqrt(sq / m), nonFinite: 0, zeros };
}

/**
 * Sum over rows of each row's L2 norm: x is [B, units]. For δ = ∂L/∂z of the batch-MEAN loss,
 * ∂L/∂z_b = (1/B)·∂ℓ_b/∂z_b, so this sum equals the mean over examples of the per-example
 * loss's gradient norm, independent of batch size (README.md, "What is measured").
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

/** Scratch for sigmaMax, allocated once for the largest matrix a recorder measures. */
export class SigmaWork {
  /** W·q [rows] */
  readonly u: Float64Array;
  /** the Lanczos vectors q_0 … q_steps, each [cols] */
  readonly q: Float64Array;
  /** the next vector [cols] */
  readonly w: Float64Array;
  /** the tridiagonal matrix: diagonal α [steps], off-diagonal β [steps] */
  readonly alpha: Float64Array;
  readonly beta: Float64Array;
  constructor(readonly maxRows: number, readonly maxCols: number, readonly steps = Math.min(maxCols, 80)) {
    this.u = new Float64Array(maxRows);
    this.q = new Float64Array((steps + 1) * maxCols);
    this.w = new Float64Array(maxCols);
    this.alpha = new Float64Array(steps);
    this.beta = new Float64Array(steps + 1);
  }
}

/**
 * Largest singular value of W [rows, cols]: σ_max = √λ_max(WᵀW), by the Lanczos method on WᵀW
 * with full re-orthogonalization, from a fixed start vector (so it is deterministic and a resumed
 * run records the same bytes), λ_max of the Lanczos tridiagonal matrix found by bisection. It
 * stops when λ_max changes by less than 1e-14 relative between steps, or after `work.steps`
 * steps. Plain power iteration needs thousands of steps when σ_2 is close to σ_1, as it is for
 * a random W_hh (50 of them left a 1.4% error on a 128-unit LSTM at initialization); Lanczos
 * needs tens. Checked against torch.linalg.matrix_norm(W, 2) in test/reference.
 * @example sigmaMax(Float64Array.of(3, 0, 0, 2), 2, 2, new SigmaWork(2, 2)) // 3
 */
export function sigmaMax(W: FloatArray, rows: number, cols: number, work: SigmaWork): number {
  const { u, q, w, alpha, beta } = work;
  const steps = Math.min(work.steps, cols);
  let norm = 0;
  for (let j = 0; j < cols; j++) { q[j] = 1 + 0.01 * j; norm += q[j] * q[j]; }
  norm = Math.sqrt(norm);
  for (let j = 0; j < cols; j++) q[j] /= norm;
  beta[0] = 0;
  let lambda = 0;
  let m = 0;
  // The loops are small functions of their own: one function holding them all took TurboFan
  // ~30 ms to compile, which a run's first record (this runs at step 0) spent interpreting.
  for (let k = 0; k < steps; k++) {
    const qk = k * cols;
    gramApply(W, rows, cols, q, qk, u, w); // w = Wᵀ(W q_k)
    const a = dot(w, q, qk, cols);
    if (!Number.isFinite(a)) return Number.NaN;
    alpha[k] = a;
    m = k + 1;
    // orthogonalize against every q so far, twice (full re-orthogonalization keeps them orthonormal)
    for (let pass = 0; pass < 2; pass++) for (let p = 0; p <= k; p++) subtractProjection(w, q, p * cols, cols);
    const b = Math.sqrt(dot(w, w, 0, cols));
    const next = largestTridiagonalEigenvalue(alpha, beta, m);
    const done = Math.abs(next - lambda) <= 1e-14 * Math.abs(next) || b <= 1e-14 * Math.abs(next);
    lambda = next;
    if (done || k + 1 === steps) break;
    beta[k + 1] = b;
    for (let j = 0, o = (k + 1) * cols; j < cols; j++) q[o + j] = w[j] / b;
  }
  return Math.sqrt(Math.max(0, lambda));
}

/** u = W q[qk…], then w = Wᵀ u (W [rows, cols]). */
function gramApply(W: FloatArray, rows: number, cols: number, q: Float64Array, qk: number, u: Float64Array, w: Float64Array): void {
  for (let i = 0; i < rows; i++) { let s = 0; for (let j = 0, o = i * cols; j < cols; j++) s += W[o + j] * q[qk + j]; u[i] = s; }
  w.fill(0, 0, cols);
  for (let i = 0; i < rows; i++) { const ui = u[i]; if (ui !== 0) for (let j = 0, o = i * cols; j < cols; j++) w[j] += W[o + j] * ui; }
}

/** Σ_j x[j] · y[yOff + j] over n entries. */
function dot(x: Float64Array, y: Float64Array, yOff: number, n: number): number {
  let d = 0;
  for (let j = 0; j < n; j++) d += x[j] * y[yOff + j];
  return d;
}

/** w −= (w · q_p) q_p, q_p at q[o…]. */
function subtractProjection(w: Float64Array, q: Float64Array, o: number, n: number): void {
  const d = dot(w, q, o, n);
  for (let j = 0; j < n; j++) w[j] -= d * q[o + j];
}

/**
 * λ_max of the symmetric tridiagonal matrix with diagonal α[0..m) and off-diagonal β[1..m), by
 * bisection on the Sturm count (the number of eigenvalues below x) inside the Gershgorin bounds.
 */
function largestTridiagonalEigenvalue(alpha: Float64Array, beta: Float64Array, m: number): number {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < m; i++) {
    const r = (i > 0 ? Math.abs(beta[i]) : 0) + (i + 1 < m ? Math.abs(beta[i + 1]) : 0);
    lo = Math.min(lo, alpha[i] - r);
    hi = Math.max(hi, alpha[i] + r);
  }
  // count(x) = eigenvalues < x; λ_max is the smallest x with count(x) = m
  const below = (x: number): number => {
    let count = 0, d = 1;
    for (let i = 0; i < m; i++) {
      d = alpha[i] - x - (i > 0 ? (beta[i] * beta[i]) / d : 0);
      if (d === 0) d = -1e-300;
      if (d < 0) count++;
    }
    return count;
  };
  for (let it = 0; it < 200 && hi - lo > 1e-16 * Math.max(Math.abs(lo), Math.abs(hi)); it++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (below(mid) >= m) hi = mid; else lo = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * Fixed histogram bins so runs compare. Gradients: |g| on log10 bins of half a decade from
 * 1e-10 to 10, plus a first bin for |g| < 1e-10 (exact zeros included: the parameter record's
 * `zeros` says how many of them are exactly 0) and a last for ≥ 10.
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
  if (x instanceof Float32Array && edges.length < 127) return histogram32(x, n, edges, absolute, counts);
  for (let i = 0; i < n; i++) {
    let v = x[i];
    if (v !== v) continue;
    if (absolute && v < 0) v = -v;
    counts[binOf(edges, v)]++;
  }
  return counts;
}

/** The number of edges ≤ v: a binary search for the first edge > v. */
function binOf(edges: readonly number[], v: number): number {
  let lo = 0, hi = edges.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (edges[mid] > v) hi = mid; else lo = mid + 1; }
  return lo;
}

/**
 * Per edge list, for each of the 65,536 float32 values' top 16 bits (sign, exponent, 7 mantissa
 * bits): the bin of the bucket's values below its one inner edge (`base`), and that edge's index
 * (`split`; −1 when no edge falls inside the bucket, −2 when more than one does: then the binary
 * search). A bucket spans a relative width of 1/128, narrower than the bins, so almost every
 * value is binned with two table reads and at most one comparison: the same bins as binOf.
 */
export interface BinTable { base: Int8Array; split: Int8Array }
const binTables = new WeakMap<readonly number[], BinTable>();
function binTable(edges: readonly number[]): BinTable {
  let t = binTables.get(edges);
  if (!t) binTables.set(edges, (t = buildBinTable(edges)));
  return t;
}

/**
 * The BinTable of `edges`. Only the buckets an edge can fall in (the bucket of the edge rounded
 * to float32 and its two neighbours, for an edge between two floats; ±0; ±Inf and NaN) are
 * worked out one by one; between two of them
 * no edge lies, so a whole run of buckets shares one bin and is filled at once. That is about
 * 200 buckets' work instead of 65,536 (a process built the two tables in ~30 ms, at its first record).
 */
export function buildBinTable(edges: readonly number[]): BinTable {
  const t = { base: new Int8Array(65536), split: new Int8Array(65536) };
  const f = new Float32Array(2), u = new Uint32Array(f.buffer);
  const special = new Set<number>([0, 0x8000]);
  for (let b = 0x7f80; b < 0x8000; b++) special.add(b).add(b | 0x8000); // exponent all ones: ±Inf, NaN
  for (const e of edges) {
    f[0] = e;
    const k = u[0] >>> 16;
    for (let d = -1; d <= 1; d++) special.add((k + d) & 0xffff);
  }
  let next = 0; // the first bucket not yet filled
  const fillTo = (end: number) => {
    if (end <= next) return;
    u[0] = next << 16;
    t.base.fill(binOf(edges, f[0]), next, end);
    t.split.fill(-1, next, end);
  };
  for (const b of [...special].sort((a, z) => a - z)) {
    fillTo(b);
    u[0] = b << 16; u[1] = (b << 16) | 0xffff;
    let lo = Math.min(f[0], f[1]), hi = Math.max(f[0], f[1]);
    if (Number.isNaN(f[0]) || Number.isNaN(f[1])) lo = hi = Number.isNaN(f[0]) ? f[1] : f[0]; // ±Inf's bucket (NaNs are skipped)
    const a = binOf(edges, lo), z = binOf(edges, hi);
    t.base[b] = a;
    t.split[b] = z === a ? -1 : z === a + 1 ? a : -2;
    next = b + 1;
  }
  fillTo(65536);
  return t;
}

/** Uint32 views of Float32Arrays' bits, cached so that a histogram allocates nothing. */
const bitViews = new WeakMap<Float32Array, Uint32Array>();

/** Four interleaved count rows for histogram32 (values i ≡ r mod 4 count in row r). */
const counts4 = new Int32Array(4 * 128);

/**
 * histogram for float32 buffers. Performance: the bin comes from binTable (two reads and at most
 * one comparison instead of a five-step search with unpredictable branches), and consecutive
 * values count into four separate rows, so increments of the same bin do not wait on each
 * other through memory (gradients cluster in a few bins): 4.7 → ~1.5 ns per value.
 */
function histogram32(x: Float32Array, n: number, edges: readonly number[], absolute: boolean, counts: number[]): number[] {
  const { base, split } = binTable(edges);
  let bits = bitViews.get(x);
  if (!bits) { bits = new Uint32Array(x.buffer, x.byteOffset, x.length); bitViews.set(x, bits); }
  const mask = absolute ? 0x7fffffff : 0xffffffff;
  const c = counts4, rows = edges.length + 1;
  c.fill(0, 0, 4 * rows);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v !== v) continue;
    const b = (bits[i] & mask) >>> 16;
    const k = split[b];
    const bin = k === -1 ? base[b] : k >= 0 ? ((absolute ? Math.abs(v) : v) >= edges[k] ? k + 1 : k) : binOf(edges, absolute ? Math.abs(v) : v);
    c[(i & 3) * rows + bin]++;
  }
  for (let j = 0; j < rows; j++) counts[j] = c[j] + c[rows + j] + c[2 * rows + j] + c[3 * rows + j];
  return counts;
}
