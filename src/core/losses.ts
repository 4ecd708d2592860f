/**
 * Losses, each the MEAN over the batch, fused with their gradient w.r.t. the logits.
 *   cross_entropy: ℓ_b = −log softmax(z_b)[y_b];  ∂L/∂z_b = (softmax(z_b) − onehot(y_b)) / B
 *   mse:           L = Σ_b Σ_c (z_bc − onehot(y_b)_c)² / (B·C)   (PyTorch's MSELoss, mean)
 * logits [B, C], labels [B] class indices, dlogits [B, C].
 */
import type { LossName } from "./spec.ts";
import type { FloatArray } from "./tensor.ts";
import { expInto, logInto } from "./math.ts";

// Scratch reused across calls (grown, never shrunk), so a step allocates nothing.
let rowExp = new Float64Array(16); // exp of one row of logits [C]
let rowMax = new Float64Array(64); // max of each row [B]
let rowSum = new Float64Array(64); // Σ_c exp(z − max) of each row [B]
let rowLog = new Float64Array(64); // log of rowSum [B]
function scratch(B: number, C: number): void {
  if (rowExp.length < C) rowExp = new Float64Array(C);
  if (rowMax.length < B) { rowMax = new Float64Array(B); rowSum = new Float64Array(B); rowLog = new Float64Array(B); }
}

/**
 * For each row b of z [B, C]: rowMax[b] = max_c z, rowSum[b] = Σ_c exp(z − max), rowLog[b] =
 * log rowSum[b], and, when `dz` is given, dz[b] = exp(z_b − max) (the unnormalized softmax).
 * Returns Σ_b (logsumexp_b − z_{b,y_b}), the summed per-example cross-entropy.
 */
function logSumExpRows(z: FloatArray, labels: Int32Array, B: number, C: number, dz: FloatArray | null): number {
  scratch(B, C);
  const e = rowExp;
  for (let b = 0; b < B; b++) {
    const o = b * C;
    let max = z[o]; // (not −Infinity: a global constant would keep max boxed)
    for (let c = 1; c < C; c++) if (z[o + c] > max) max = z[o + c];
    rowMax[b] = max;
    expInto(z, o, C, rowMax, b, e, 0); // e_c = exp(z_c − max)
    let sum = 0;
    if (dz) for (let c = 0; c < C; c++) { dz[o + c] = e[c]; sum += e[c]; }
    else for (let c = 0; c < C; c++) sum += e[c];
    rowSum[b] = sum;
  }
  logInto(rowSum, 0, B, rowLog, 0);
  let total = 0;
  for (let b = 0; b < B; b++) total += rowLog[b] + rowMax[b] - z[b * C + labels[b]];
  return total;
}

export interface Loss {
  name: LossName;
  /** returns the batch-mean loss and writes ∂L/∂logits into dlogits */
  forwardBackward(logits: FloatArray, labels: Int32Array, B: number, C: number, dlogits: FloatArray): number;
  /** the batch-mean loss only (evaluation) */
  value(logits: FloatArray, labels: Int32Array, B: number, C: number): number;
}

/** Softmax cross-entropy, computed stably as logsumexp(z) − z_y. */
const crossEntropy: Loss = {
  name: "cross_entropy",
  forwardBackward(z, labels, B, C, dz) {
    const total = logSumExpRows(z, labels, B, C, dz);
    const invB = 1 / B;
    for (let b = 0; b < B; b++) {
      const o = b * C;
      const inv = invB / rowSum[b];
      for (let c = 0; c < C; c++) dz[o + c] *= inv;
      dz[o + labels[b]] -= invB;
    }
    return total / B;
  },
  value(z, labels, B, C) {
    return logSumExpRows(z, labels, B, C, null) / B;
  },
};

const mse: Loss = {
  name: "mse",
  forwardBackward(z, labels, B, C, dz) {
    let total = 0;
    const scale = 2 / (B * C);
    for (let b = 0; b < B; b++) {
      for (let c = 0, o = b * C; c < C; c++) {
        const d = z[o + c] - (labels[b] === c ? 1 : 0);
        total += d * d;
        dz[o + c] = scale * d;
      }
    }
    return total / (B * C);
  },
  value(z, labels, B, C) {
    let total = 0;
    for (let b = 0; b < B; b++) {
      for (let c = 0, o = b * C; c < C; c++) { const d = z[o + c] - (labels[b] === c ? 1 : 0); total += d * d; }
    }
    return total / (B * C);
  },
};

export const LOSSES: Record<LossName, Loss> = { cross_entropy: crossEntropy, mse };

/** How many rows of logits have their maximum at the label (first maximum wins ties). */
export function countCorrect(z: FloatArray, labels: Int32Array, B: number, C: number): number {
  let correct = 0;
  for (let b = 0; b < B; b++) {
    const o = b * C;
    let best = 0;
    for (let c = 1; c < C; c++) if (z[o + c] > z[o + best]) best = c;
    if (best === labels[b]) correct++;
  }
  return correct;
}
