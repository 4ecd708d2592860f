/**
 * Losses, each the MEAN over the batch, fused with their gradient w.r.t. the logits.
 *   cross_entropy: ℓ_b = −log softmax(z_b)[y_b];  ∂L/∂z_b = (softmax(z_b) − onehot(y_b)) / B
 *   mse:           L = Σ_b Σ_c (z_bc − onehot(y_b)_c)² / (B·C)   (PyTorch's MSELoss, mean)
 * logits [B, C], labels [B] class indices, dlogits [B, C].
 */
import type { LossName } from "./spec.ts";
import type { FloatArray } from "./tensor.ts";
import { exp, log } from "./math.ts";

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
    let total = 0;
    const invB = 1 / B;
    for (let b = 0; b < B; b++) {
      const o = b * C;
      let max = -Infinity;
      for (let c = 0; c < C; c++) if (z[o + c] > max) max = z[o + c];
      let sum = 0;
      for (let c = 0; c < C; c++) { const e = exp(z[o + c] - max); dz[o + c] = e; sum += e; }
      const y = labels[b];
      total += log(sum) + max - z[o + y];
      const inv = invB / sum;
      for (let c = 0; c < C; c++) dz[o + c] *= inv;
      dz[o + y] -= invB;
    }
    return total / B;
  },
  value(z, labels, B, C) {
    let total = 0;
    for (let b = 0; b < B; b++) {
      const o = b * C;
      let max = -Infinity;
      for (let c = 0; c < C; c++) if (z[o + c] > max) max = z[o + c];
      let sum = 0;
      for (let c = 0; c < C; c++) sum += exp(z[o + c] - max);
      total += log(sum) + max - z[o + labels[b]];
    }
    return total / B;
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
