/**
 * Synthetic metrics records in the shape of src/instrument/recorder.ts, for charts of layer
 * kinds that need no training to test (CNN, RNN/LSTM) and for edge cases (zeros, NaN, odd
 * names). The numbers are made up but deterministic: closed forms of (step, layer, t).
 */
import type { LayerRecord, ParamRecord, StepRecord } from "../../src/instrument/recorder.ts";

/** A parameter record whose fields are all derived from one gradient norm. */
export function param(gradNorm: number, updateRatio: number | null = 0.01): ParamRecord {
  return { gradNorm, gradMeanAbs: gradNorm / 30, gradMaxAbs: gradNorm / 3, gradRms: gradNorm / 20, updateRatio, nonFinite: 0 };
}

/** Deterministic histogram counts: a bump centred at bin `centre`. */
export function bump(bins: number, centre: number, total: number): number[] {
  const w = Array.from({ length: bins }, (_, k) => Math.exp(-0.5 * ((k - centre) / 1.5) ** 2));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => Math.round((total * x) / s));
}

export function dense(name: string, g: number, delta: number, gain: number | null, act: { saturated?: number | null; dead?: number | null } | null, hist = true): LayerRecord {
  return {
    name, type: "dense", params: { weight: param(g), bias: param(g / 5) },
    deltaNorm: delta, gain,
    activation: act === null ? null : { mean: 0.3, std: 0.2, saturated: act.saturated ?? null, dead: act.dead ?? null },
    ...(hist ? { hist: { grad: bump(24, 8 + Math.log10(g) * 2 + 10, 500), act: bump(22, 14, 200) } } : {}),
  };
}

const STEPS = [0, 10, 20, 30, 40, 50];

/**
 * A CNN: conv1 (relu) → pool1 (no weights, no δ) → bn1 → conv2 (relu) → dense1 (relu) →
 * dense2 (output). Gradient norms shrink toward the input; dead fractions grow.
 */
export function cnnRecords(): StepRecord[] {
  return STEPS.map((step, i) => {
    const s = 1 + step / 100;
    const layers: LayerRecord[] = [
      { ...dense("conv1", 1e-4 * s, 2e-4 * s, 0.1, { dead: 0.05 * i }), type: "conv2d" },
      { name: "pool1", type: "maxpool2d", params: {}, deltaNorm: null, gain: null, activation: null },
      { name: "bn1", type: "batchnorm", params: { weight: param(3e-3 * s), bias: param(2e-3 * s) }, deltaNorm: 1e-3 * s, gain: 0.5, activation: { mean: 0, std: 1, saturated: null, dead: null } },
      { ...dense("conv2", 2e-3 * s, 2e-3 * s, 0.2, { dead: 0.02 * i }), type: "conv2d" },
      dense("dense1", 3e-2 * s, 1e-2 * s, 0.3, { dead: 0.01 * i }),
      dense("dense2", 0.3 * s, 0.9, null, { saturated: null, dead: null }),
    ];
    return { step, epoch: step >= 30 ? 1 : 0, loss: 2.3 - 0.03 * step, accuracy: 0.1 + 0.01 * step, layers };
  });
}

/** ‖∂ℓ/∂h_t‖ decaying by `rate` per step back in time from the end, scaled by `s`. */
const decay = (T: number, rate: number, s: number) => Array.from({ length: T }, (_, t) => s * rate ** (T - 1 - t));

/**
 * Two recurrent layers of T time steps: lstm1 (with ‖∂ℓ/∂c_t‖ and gates), whose gradient
 * vanishes toward t = 0, and rnn1, whose gradient grows; then a dense output. At step 20,
 * ‖∂ℓ/∂h_0‖ of lstm1 is exactly 0 (a log axis must drop it) and rnn1's σ_max·γ crosses 1.
 */
export function rnnRecords(T = 12): StepRecord[] {
  return STEPS.map((step, i) => {
    const s = 1 + step / 100;
    const h = decay(T, 0.6, 0.5 * s);
    if (step === 20) h[0] = 0;
    const lstm: LayerRecord = {
      name: "lstm1", type: "lstm",
      params: { weight_ih_l0: param(1e-3 * s), weight_hh_l0: param(5e-4 * s), bias_ih_l0: param(1e-4 * s), bias_hh_l0: param(1e-4 * s) },
      deltaNorm: null, gain: null, activation: null,
      hGradNorm: h, cGradNorm: decay(T, 0.8, 0.3 * s),
      sigmaMax: 0.9 + 0.01 * i, pascanu: 0.9 + 0.01 * i,
      gates: [{ name: "f", low: 0.01, high: 0.2 + 0.05 * i }],
      hist: { grad: bump(24, 10, 400), act: null },
    };
    const rnn: LayerRecord = {
      name: "rnn1", type: "rnn",
      params: { weight_ih_l0: param(2e-2 * s), weight_hh_l0: param(3e-2 * s), bias_ih_l0: param(1e-3), bias_hh_l0: param(1e-3) },
      deltaNorm: null, gain: null, activation: null,
      hGradNorm: decay(T, 1.3, 0.01 * s),
      sigmaMax: 0.8 + 0.05 * i, pascanu: 0.8 + 0.05 * i, gates: [],
    };
    return { step, epoch: 0, loss: 2.3 - 0.01 * step, accuracy: 0.1 + 0.005 * step, layers: [lstm, rnn, dense("dense1", 0.2 * s, 0.8, null, null)] };
  });
}

/** A synthetic run folder's contents around a set of records (no stored diagnosis: the report computes one). */
export function synthRun(records: StepRecord[], name: string) {
  // A valid config (readers check config.json with the config schema); the records are not its model's.
  const config = { name, data: { dataset: "mnist", view: "rows", train: 100, test: 10 }, model: { layers: [{ type: "dense", units: 10 }] }, optimizer: { type: "sgd", lr: 0.1 }, train: { epochs: 1, batchSize: 32, seed: 1 } };
  const last = records[records.length - 1];
  const summary = {
    name, testAccuracy: 0.5, testLoss: 1.5, finalLoss: last.loss, steps: last.step + 1,
    epochs: [{ epoch: 1, trainLoss: 2, testAccuracy: 0.5, testLoss: 1.5 }],
    stopped: null, command: `gradlab run ${name}.json --out runs/${name}`,
  };
  return { config, summary, records };
}
