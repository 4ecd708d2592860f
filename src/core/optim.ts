/**
 * Optimizers with PyTorch's update rules (torch.optim, 1.13), and gradient clipping.
 *   sgd:     g ← g + λw; v ← μv + g (v = g on the first step); g ← g + μv if nesterov else v; w ← w − lr·g
 *   adam:    m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; w ← w − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
 *   rmsprop: v ← αv + (1−α) g²; u ← g/(√v + ε); with momentum b ← μb + u, u ← b; w ← w − lr·u
 * Clipping acts on the gradients before the step: by global L2 norm (clip_grad_norm_, scale
 * max/(norm + 1e-6) when norm > max) or elementwise to [−v, v] (clip_grad_value_).
 */
import type { Param } from "./layers/layer.ts";
import type { OptimizerSpec } from "./spec.ts";
import { floats, dtypeOf, type FloatArray } from "./tensor.ts";
import { powInt } from "./math.ts";

export interface OptimizerState { t: number; slots: Record<string, number[]>[] }

export class Optimizer {
  /** number of steps taken */
  t = 0;
  private readonly m: FloatArray[];
  private readonly v: FloatArray[];

  constructor(readonly spec: OptimizerSpec, readonly params: Param[]) {
    const need = (on: boolean) => params.map((p) => (on ? floats(dtypeOf(p.value), p.value.length) : floats(dtypeOf(p.value), 0)));
    const mom = spec.momentum ?? 0;
    this.m = need(spec.type === "adam" || mom !== 0);
    this.v = need(spec.type === "adam" || spec.type === "rmsprop");
  }

  /** Apply one update from the accumulated gradients, then zero them. */
  step(): void {
    this.t++;
    const s = this.spec;
    const lr = s.lr;
    const wd = s.weightDecay ?? 0;
    const mu = s.momentum ?? 0;
    for (let p = 0; p < this.params.length; p++) {
      const w = this.params[p].value;
      const g = this.params[p].grad;
      const m = this.m[p];
      const v = this.v[p];
      const n = w.length;
      if (s.type === "sgd") {
        const nesterov = s.nesterov ?? false;
        for (let i = 0; i < n; i++) {
          let gi = g[i] + wd * w[i];
          if (mu !== 0) {
            m[i] = this.t === 1 ? gi : mu * m[i] + gi;
            gi = nesterov ? gi + mu * m[i] : m[i];
          }
          w[i] -= lr * gi;
        }
      } else if (s.type === "adam") {
        const [b1, b2] = s.betas ?? [0.9, 0.999];
        const eps = s.eps ?? 1e-8;
        const c1 = 1 - powInt(b1, this.t);
        const sc2 = Math.sqrt(1 - powInt(b2, this.t));
        for (let i = 0; i < n; i++) {
          const gi = g[i] + wd * w[i];
          m[i] = b1 * m[i] + (1 - b1) * gi;
          v[i] = b2 * v[i] + (1 - b2) * gi * gi;
          w[i] -= (lr / c1) * m[i] / (Math.sqrt(v[i]) / sc2 + eps);
        }
      } else {
        const alpha = s.alpha ?? 0.99;
        const eps = s.eps ?? 1e-8;
        for (let i = 0; i < n; i++) {
          const gi = g[i] + wd * w[i];
          v[i] = alpha * v[i] + (1 - alpha) * gi * gi;
          let u = gi / (Math.sqrt(v[i]) + eps);
          if (mu !== 0) { m[i] = mu * m[i] + u; u = m[i]; }
          w[i] -= lr * u;
        }
      }
      g.fill(0);
    }
  }

  /** Zero every gradient without updating (used by `gradlab grads`). */
  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  /** The optimizer's state as plain numbers (for checkpoints). */
  state(): OptimizerState {
    return { t: this.t, slots: this.params.map((_, p) => ({ m: Array.from(this.m[p]), v: Array.from(this.v[p]) })) };
  }

  setState(st: OptimizerState): void {
    this.t = st.t;
    st.slots.forEach((slot, p) => { this.m[p].set(slot.m); this.v[p].set(slot.v); });
  }
}

/** Global L2 norm of all gradients. */
export function gradNorm(params: Param[]): number {
  let s = 0;
  for (const p of params) { const g = p.grad; for (let i = 0; i < g.length; i++) s += g[i] * g[i]; }
  return Math.sqrt(s);
}

/**
 * Clip as the spec asks; returns the global gradient norm before clipping (NaN when a gradient
 * is not finite, in which case nothing is scaled, or when the spec asks for no clipping).
 */
export function clipGradients(params: Param[], spec: OptimizerSpec): number {
  if (spec.clipValue === undefined && spec.clipNorm === undefined) return NaN; // nothing to do: skip the pass
  const norm = gradNorm(params);
  if (spec.clipValue !== undefined) {
    const c = spec.clipValue;
    for (const p of params) { const g = p.grad; for (let i = 0; i < g.length; i++) g[i] = g[i] > c ? c : g[i] < -c ? -c : g[i]; }
  }
  if (spec.clipNorm !== undefined && Number.isFinite(norm)) {
    const clippedNorm = spec.clipValue !== undefined ? gradNorm(params) : norm;
    const coef = spec.clipNorm / (clippedNorm + 1e-6);
    if (coef < 1) for (const p of params) { const g = p.grad; for (let i = 0; i < g.length; i++) g[i] *= coef; }
  }
  return norm;
}
