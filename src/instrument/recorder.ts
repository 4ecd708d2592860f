/**
 * The recorder turns a model's state right after backward (and right after the update) into
 * one metrics record: per parameter tensor the gradient's norm, mean |g|, max |g|, RMS, NaN/Inf
 * count and ‖update‖/‖W‖; per layer δ = ∂ℓ/∂z as the mean per-example norm, the gain between
 * layers, activation mean/std, saturated and dead fractions; per recurrent layer and time step
 * ‖∂ℓ/∂h_t‖ (and ‖∂ℓ/∂c_t‖), gate saturation and σ_max(W_hh) against Pascanu et al.'s bound.
 * Buffers for the update ratio and power iteration are allocated once, at construction.
 */
import type { Layer, Param } from "../core/layers/layer.ts";
import type { Model } from "../core/model.ts";
import { floats, type FloatArray } from "../core/tensor.ts";
import { ACT_HIST_EDGES, GRAD_HIST_EDGES, histogram, meanStd, SigmaWork, sigmaMax, sumRowNorms, vectorStats } from "./stats.ts";

export interface ParamRecord {
  gradNorm: number;
  gradMeanAbs: number;
  gradMaxAbs: number;
  gradRms: number;
  /** ‖W_after − W_before‖ / ‖W_before‖ for the update applied at this step */
  updateRatio: number | null;
  /** NaN/Inf entries in the gradient (then gradNorm and the other statistics are NaN or +Inf, null in JSON) */
  nonFinite: number;
  /**
   * entries of the gradient that are exactly 0 (counted in the histogram's lowest bin too): a
   * weight whose input is 0 for the whole batch, e.g. a blank border pixel, gets exactly zero.
   * Absent in records written before it was measured.
   */
  zeros?: number;
}

export interface ActivationRecord {
  mean: number;
  std: number;
  /** sigmoid/tanh/softsign: fraction of (example, unit) pairs with |f′(z)| < 0.01·max f′; else null */
  saturated: number | null;
  /** relu: fraction of units with z ≤ 0 for every example of the batch; else null */
  dead: number | null;
}

export interface GateRecord { name: string; low: number; high: number }

export interface LayerRecord {
  name: string;
  type: string;
  params: Record<string, ParamRecord>;
  /** mean over examples of ‖∂ℓ/∂z‖ at the pre-activation; null for shape-only layers */
  deltaNorm: number | null;
  /** deltaNorm / deltaNorm of the next measured layer (toward the output); null for the last */
  gain: number | null;
  activation: ActivationRecord | null;
  hGradNorm?: number[];
  cGradNorm?: number[];
  sigmaMax?: number;
  /** σ_max(W_hh)·γ: below 1 is Pascanu et al.'s sufficient condition for vanishing */
  pascanu?: number;
  gates?: GateRecord[];
  hist?: { grad: number[]; act: number[] | null };
}

export interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
  /** accuracy on this step's batch */
  accuracy: number;
  layers: LayerRecord[];
}

export interface RecorderOptions { histograms?: boolean }

// The record's counting loops are small functions of their own, so that each is optimized (on
// its own, in a millisecond or two) while the first record still runs: folded into
// beforeUpdate they were interpreted through a whole LSTM's T·B·H gate values at step 0.

/** Entries with |f′(z)| below `limit`. */
function countSaturated(df: (z: number, y: number) => number, z: FloatArray, y: FloatArray, n: number, limit: number): number {
  let sat = 0;
  for (let i = 0; i < n; i++) if (Math.abs(df(z[i], y[i])) < limit) sat++;
  return sat;
}

/** Units whose z [B, units] is ≤ 0 for every example of the batch. */
function countDead(z: FloatArray, B: number, units: number): number {
  let dead = 0;
  for (let u = 0; u < units; u++) {
    let alive = false;
    for (let b = 0; b < B && !alive; b++) alive = z[b * units + u] > 0;
    if (!alive) dead++;
  }
  return dead;
}

/** A gate's fractions of values below 0.01 (closed) and above 0.99 (open) among its first n. */
function gateFractions(name: string, values: FloatArray, n: number): { name: string; low: number; high: number } {
  let low = 0, high = 0;
  for (let i = 0; i < n; i++) { const g = values[i]; if (g < 0.01) low++; else if (g > 0.99) high++; }
  return { name, low: low / n, high: high / n };
}

export class Recorder {
  /** the layers that are recorded: all with parameters or a probe, depth-first */
  readonly layers: Layer[];
  private readonly snapshot: Map<Param, FloatArray> = new Map();
  /** scratch for σ_max(W_hh), sized for the largest recurrent layer; null without one */
  private readonly sigmaWork: SigmaWork | null;
  private pending: StepRecord | null = null;

  constructor(readonly model: Model, private readonly opts: RecorderOptions = {}) {
    this.layers = model.allLayers.filter((l) => l.params.length > 0 || l.probe() !== null || l.timeProbe);
    for (const p of model.params) this.snapshot.set(p, floats(model.dtype, p.value.length));
    let rows = 0, cols = 0;
    for (const l of this.layers) {
      const whh = l.timeProbe ? l.params.find((p) => p.key.startsWith("weight_hh")) : undefined;
      if (whh) { rows = Math.max(rows, whh.shape[0]); cols = Math.max(cols, whh.shape[1]); }
    }
    this.sigmaWork = rows > 0 ? new SigmaWork(rows, cols) : null;
  }

  /**
   * Measure gradients and activations after backward and before the optimizer step (and before
   * clipping), and remember the weights so the update can be measured afterwards.
   */
  beforeUpdate(step: number, epoch: number, loss: number, accuracy: number, B: number): void {
    const layers: LayerRecord[] = [];
    for (const layer of this.layers) {
      const params: Record<string, ParamRecord> = {};
      for (const p of layer.params) {
        const g = vectorStats(p.grad);
        params[p.key] = { gradNorm: g.norm, gradMeanAbs: g.meanAbs, gradMaxAbs: g.maxAbs, gradRms: g.rms, updateRatio: null, nonFinite: g.nonFinite, zeros: g.zeros };
        this.snapshot.get(p)!.set(p.value);
      }
      const rec: LayerRecord = { name: layer.name, type: layer.type, params, deltaNorm: null, gain: null, activation: null };
      const probe = layer.probe();
      if (probe && probe.dz && probe.z && probe.y) {
        const n = B * probe.units;
        rec.deltaNorm = sumRowNorms(probe.dz, B, probe.units);
        const { mean, std } = meanStd(probe.y, n);
        rec.activation = { mean, std, saturated: null, dead: null };
        const act = probe.act;
        if (act?.saturating) rec.activation.saturated = countSaturated(act.df, probe.z, probe.y, n, 0.01 * act.maxDf) / n;
        if (act?.canDie) rec.activation.dead = countDead(probe.z, B, probe.units) / probe.units;
        if (this.opts.histograms) {
          const w = layer.params.find((p) => p.key === "weight" || p.key === "weight_ih_l0") ?? layer.params[0];
          rec.hist = {
            grad: w ? [...histogram(w.grad, w.grad.length, GRAD_HIST_EDGES, true, [])] : [],
            act: [...histogram(probe.y, n, ACT_HIST_EDGES, false, [])],
          };
        }
      }
      const tp = layer.timeProbe?.();
      if (tp) {
        const { T, H } = tp;
        const hg: number[] = [];
        const cg: number[] = [];
        for (let t = 0; t < T; t++) {
          hg.push(sumRowNorms(tp.dh, B, H, t * B * H));
          if (tp.dc) cg.push(sumRowNorms(tp.dc, B, H, t * B * H));
        }
        rec.hGradNorm = hg;
        if (tp.dc) rec.cGradNorm = cg;
        const W = tp.weightHH.value;
        // σ_max of the full W_hh [G·H, H]; for a vanilla RNN (G = 1) this is Pascanu's σ_1.
        rec.sigmaMax = sigmaMax(W, tp.gates * H, H, this.sigmaWork!);
        rec.pascanu = rec.sigmaMax * tp.gamma;
        rec.gates = tp.gateValues.map(({ name, values }) => gateFractions(name, values, T * B * H));
      }
      layers.push(rec);
    }
    // gain_l = ‖δ_l‖ / ‖δ_next‖, next = the nearest later layer with a δ
    let next: number | null = null;
    for (let i = layers.length - 1; i >= 0; i--) {
      const d = layers[i].deltaNorm;
      if (d === null) continue;
      layers[i].gain = next === null ? null : d / next;
      next = d;
    }
    this.pending = { step, epoch, loss, accuracy, layers };
  }

  /** After the optimizer step: fill in the update ratios and hand back the finished record. */
  afterUpdate(): StepRecord {
    const rec = this.pending!;
    this.pending = null;
    this.layers.forEach((layer, li) => {
      for (const p of layer.params) {
        const before = this.snapshot.get(p)!;
        const w = p.value;
        let d2 = 0, w2 = 0;
        for (let i = 0; i < w.length; i++) { const d = w[i] - before[i]; d2 += d * d; w2 += before[i] * before[i]; }
        rec.layers[li].params[p.key].updateRatio = w2 > 0 ? Math.sqrt(d2 / w2) : null;
      }
    });
    return rec;
  }
}
