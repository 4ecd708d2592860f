/**
 * Optimizers with PyTorch's update rules (torch.optim, 1.13), and gradient clipping.
 *   sgd:     g ← g + λw (when λ ≠ 0); v ← μv + g (v = g on the first step); g ← g + μv if nesterov else v; w ← w − lr·g
 *   adam:    m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; w ← w − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
 *   rmsprop: v ← αv + (1−α) g²; u ← g/(√v + ε); with momentum b ← μb + u, u ← b; w ← w − lr·u
 * Clipping acts on the gradients before the step: by global L2 norm (clip_grad_norm_, scale
 * max/(norm + 1e-6) when norm > max) or elementwise to [−v, v] (clip_grad_value_).
 */
import type { Param } from "./layers/layer.ts";
import type { OptimizerSpec } from "./spec.ts";
import { floats, dtypeOf, type FloatArray } from "./tensor.ts";
import { powInt } from "./math.ts";
import * as accel from "../accel/index.ts";
import { UPDATE_CONSTANT_COUNT, UpdateMode, WITH_DECAY } from "../accel/index.ts";

export interface OptimizerState { t: number; slots: Record<string, number[]>[] }

export class Optimizer {
  /** number of steps taken */
  t = 0;
  private readonly m: FloatArray[];
  private readonly v: FloatArray[];
  /** the step's doubles, in accel/ops/update.ts's UPDATE_CONSTANTS order (read from the spec once) */
  private readonly constants = new Float64Array(UPDATE_CONSTANT_COUNT);
  /** after step(true): the first parameter whose gradient held a NaN or ±Inf (the step stopped there), else −1 */
  firstBadGrad = -1;
  /** saveForUndo's copy */
  private saved: { t: number; m: FloatArray[]; v: FloatArray[] } | null = null;
  /** the UpdateMode of every step but the first */
  private readonly rule: number;

  constructor(readonly spec: OptimizerSpec, readonly params: Param[]) {
    const need = (on: boolean) => params.map((p) => (on ? floats(dtypeOf(p.value), p.value.length) : floats(dtypeOf(p.value), 0)));
    const mom = spec.momentum ?? 0;
    this.m = need(spec.type === "adam" || mom !== 0);
    this.v = need(spec.type === "adam" || spec.type === "rmsprop");
    const momentum = mom !== 0;
    this.rule = spec.type === "adam" ? UpdateMode.adam
      : spec.type === "rmsprop" ? (momentum ? UpdateMode.rmspropMomentum : UpdateMode.rmsprop)
        : !momentum ? UpdateMode.sgd : spec.nesterov ? UpdateMode.nesterov : UpdateMode.sgdMomentum;
    const [b1, b2] = spec.betas ?? [0.9, 0.999];
    const alpha = spec.alpha ?? 0.99;
    this.constants.set([spec.lr, spec.weightDecay ?? 0, mom, b1, 1 - b1, b2, 1 - b2, 0, 0, spec.eps ?? 1e-8, alpha, 1 - alpha]);
  }

  /**
   * Apply one update from the accumulated gradients, then zero them. With `check`, returns the
   * index of the first parameter whose updated value holds a NaN or ±Inf (−1 when none; without
   * `check`, −1), and checks the gradients in the same pass: at the first parameter whose
   * gradient holds one, the step stops there (that parameter updated, the later ones not),
   * `firstBadGrad` names it, and no gradient is zeroed — the caller undoes the step (the trainer
   * keeps a copy of the weights, and saveForUndo/undo) and still sees the gradients. The
   * accelerator may run the update (accel.ops.update: the same bits as the loops below).
   */
  step(check = false): number {
    this.t++;
    const c = this.constants;
    const mode = this.mode();
    if (mode === UpdateMode.adam) {
      c[7] = c[0] / (1 - powInt(c[3], this.t)); // lr / (1 − β1ᵗ)
      c[8] = Math.sqrt(1 - powInt(c[5], this.t)); // √(1 − β2ᵗ)
    }
    let broken = -1;
    this.firstBadGrad = -1;
    const update = accel.ops.update, hasNonFinite = accel.ops.hasNonFinite ?? accel.hasNonFiniteRef; // resolved once a step
    for (let p = 0; p < this.params.length; p++) {
      const w = this.params[p].value;
      const g = this.params[p].grad;
      const n = w.length;
      let r = update ? update(c[1] !== 0 ? mode + WITH_DECAY : mode, n, w, g, this.m[p], this.v[p], c) : -1;
      if (r < 0) {
        this.loop(mode, n, w, g, this.m[p], this.v[p]);
        r = check ? (hasNonFinite(w, n) ? 1 : 0) + (hasNonFinite(g, n) ? 2 : 0) : 0;
      }
      if (check && (r & 2) !== 0) { this.firstBadGrad = p; return broken; }
      if (check && broken < 0 && (r & 1) !== 0) broken = p;
    }
    for (const p of this.params) p.grad.fill(0);
    return broken;
  }

  /** accel/ops/update.ts's UpdateMode for this spec and step. */
  private mode(): number {
    const m = this.rule;
    if (m === UpdateMode.sgdMomentum || m === UpdateMode.nesterov) return this.t === 1 ? m - 1 : m; // the First variants precede
    return m;
  }

  /** The update rules as plain loops: the reference the kernels reproduce bit for bit. */
  private loop(mode: number, n: number, w: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray): void {
    const c = this.constants;
    const lr = c[0], wd = c[1], mu = c[2];
    if (mode <= UpdateMode.nesterov) {
      const momentum = mode !== UpdateMode.sgd;
      const first = mode === UpdateMode.sgdMomentumFirst || mode === UpdateMode.nesterovFirst;
      const nesterov = mode === UpdateMode.nesterovFirst || mode === UpdateMode.nesterov;
      if (!momentum) {
        for (let i = 0; i < n; i++) w[i] -= lr * (wd !== 0 ? g[i] + wd * w[i] : g[i]);
      } else {
        for (let i = 0; i < n; i++) {
          const gi = wd !== 0 ? g[i] + wd * w[i] : g[i];
          m[i] = first ? gi : mu * m[i] + gi;
          const mi = m[i]; // the stored (rounded) velocity, as PyTorch's buffer holds it
          w[i] -= lr * (nesterov ? gi + mu * mi : mi);
        }
      }
    } else if (mode === UpdateMode.adam) {
      const b1 = c[3], oneMinusB1 = c[4], b2 = c[5], oneMinusB2 = c[6], lrOverC1 = c[7], sc2 = c[8], eps = c[9];
      for (let i = 0; i < n; i++) {
        const gi = wd !== 0 ? g[i] + wd * w[i] : g[i];
        m[i] = b1 * m[i] + oneMinusB1 * gi;
        v[i] = b2 * v[i] + oneMinusB2 * gi * gi;
        w[i] -= lrOverC1 * m[i] / (Math.sqrt(v[i]) / sc2 + eps);
      }
    } else {
      const eps = c[9], alpha = c[10], oneMinusAlpha = c[11];
      const momentum = mode === UpdateMode.rmspropMomentum;
      for (let i = 0; i < n; i++) {
        const gi = wd !== 0 ? g[i] + wd * w[i] : g[i];
        v[i] = alpha * v[i] + oneMinusAlpha * gi * gi;
        let u = gi / (Math.sqrt(v[i]) + eps);
        if (momentum) { m[i] = mu * m[i] + u; u = m[i]; }
        w[i] -= lr * u;
      }
    }
  }

  /**
   * Copy the step count and the moment buffers aside, so that undo() can take back the next
   * step (the trainer does this with its copy of the weights, under "stop" and "skip-step"). The
   * copies are allocated on the first call and reused.
   */
  saveForUndo(): void {
    this.saved ??= { t: 0, m: this.m.map((a) => floats(dtypeOf(a), a.length)), v: this.v.map((a) => floats(dtypeOf(a), a.length)) };
    this.saved.t = this.t;
    for (let p = 0; p < this.m.length; p++) { this.saved.m[p].set(this.m[p]); this.saved.v[p].set(this.v[p]); }
  }

  /** Restore what saveForUndo() copied: the step count and moments as they were before the step. */
  undo(): void {
    const saved = this.saved;
    if (!saved) throw new Error("Optimizer.undo: nothing saved (call saveForUndo before the step)");
    this.t = saved.t;
    for (let p = 0; p < this.m.length; p++) { this.m[p].set(saved.m[p]); this.v[p].set(saved.v[p]); }
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
