/**
 * Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent neural networks":
 * with ‖diag(σ′)‖ ≤ γ (γ = 1 for tanh and ReLU, ¼ for sigmoid), λ₁·γ < 1 for the largest
 * singular value λ₁ of W_hh is sufficient for the gradient to vanish, ‖∂h_T/∂h_1‖ ≤ (λ₁γ)^(T−1),
 * and λ₁·γ > 1 is necessary for it to explode; clipping the gradient norm keeps training going.
 * Three RNNs on row MNIST (28 steps): tanh with W_hh = 0.5·orthogonal (λ₁γ = 0.5), and a ReLU
 * RNN with W_hh = 1.2·I (λ₁γ = 1.2) without and with clipNorm 1.
 */
import { fmt, initial, lineFigure, lossLine, pct, recurrentLayer, run, timeRatio, type Figure, type Row, type RunView, type Scale, type Study } from "../study.ts";

const SCALE = {
  tiny: { train: 64, test: 64, every: 1 },
  quick: { train: 10000, test: 2000, every: 5 },
  full: { train: 60000, test: 10000, every: 20 },
} as const;

const RUNS = ["vanishing", "exploding", "exploding-clipped"] as const;

function suite(scale: Scale): Record<string, unknown> {
  const s = SCALE[scale];
  const exploding = { type: "rnn", units: 64, activation: "relu", recurrentInit: { type: "identity", gain: 1.2 } };
  return {
    name: "pascanu2013",
    description: "Pascanu et al. 2013: λ₁γ < 1 (vanishing) and λ₁γ > 1 (exploding, without and with clipping) on row MNIST.",
    base: {
      name: "pascanu2013",
      data: { dataset: "mnist", view: "rows", train: s.train, test: s.test },
      model: { layers: ["$cell", { type: "dense", units: 10 }] },
      loss: "cross_entropy",
      optimizer: { type: "sgd", lr: 0.05 },
      train: { epochs: 1, batchSize: 32, seed: 1 },
      record: { every: s.every, histograms: false },
    },
    variants: [
      { label: "vanishing", vars: { cell: { type: "rnn", units: 64, activation: "tanh", recurrentInit: { type: "orthogonal", gain: 0.5 } } } },
      { label: "exploding", vars: { cell: exploding } },
      { label: "exploding-clipped", vars: { cell: exploding }, set: { "optimizer.clipNorm": 1 } },
    ],
  };
}

/** λ₁γ of the first recurrent layer at initialization. */
const sigmaGamma = (r: RunView) => recurrentLayer(initial(r)).pascanu ?? NaN;
/** The largest weight-gradient norm of any layer in any record (Infinity once a gradient is not finite). */
function maxGrad(r: RunView): number {
  let m = 0;
  for (const rec of r.records) for (const l of rec.layers) for (const p of Object.values(l.params)) m = Math.max(m, p.nonFinite > 0 ? Infinity : p.gradNorm);
  return m;
}
const firstGrad = (r: RunView) => Math.max(...initial(r).layers.flatMap((l) => Object.values(l.params).map((p) => p.gradNorm)));

function rows(runs: ReadonlyMap<string, RunView>): Row[] {
  const v = run(runs, "vanishing");
  const sg = sigmaGamma(v);
  const T = recurrentLayer(initial(v)).hGradNorm?.length ?? 0;
  const ratio = timeRatio(recurrentLayer(initial(v)));
  const bound = sg ** (T - 1);
  const vanishes = sg < 1 && ratio <= bound;
  const e = run(runs, "exploding");
  const c = run(runs, "exploding-clipped");
  const eg = sigmaGamma(e);
  const grew = maxGrad(e) / firstGrad(e);
  const explodes = eg > 1 && (e.summary.status === "stopped" || grew >= 100);
  const trains = c.summary.status === "complete" && (c.summary.testAccuracy ?? 0) > 0.2 && (c.summary.testAccuracy ?? 0) > (e.summary.testAccuracy ?? 0);
  return [
    {
      quantity: `λ₁γ < 1 ⇒ ‖∂ℓ/∂h_1‖/‖∂ℓ/∂h_T‖ ≤ (λ₁γ)^(T−1), T = ${T}`,
      paper: "λ₁ < 1/γ is sufficient for the gradient to vanish, as (λ₁γ)^(t−k) (§2.1)",
      gradlab: `λ₁γ = ${fmt(sg)}; ratio ${fmt(ratio)} ≤ bound ${fmt(bound)}`,
      tolerance: "ratio at most the bound",
      holds: vanishes, kind: "magnitude", verified: false,
      reason: vanishes ? "the measured ratio respects the bound" : "the measured ratio exceeds the bound (or λ₁γ ≥ 1)",
    },
    {
      quantity: "λ₁γ > 1, no clipping: largest gradient norm over the run / at init",
      paper: "λ₁ > 1/γ is necessary for exploding gradients (§2.1)",
      gradlab: `λ₁γ = ${fmt(eg)}; ${e.summary.status === "stopped" ? "stopped at a non-finite value" : `grew ${fmt(grew)}×`}`,
      tolerance: "stops on NaN/Inf or grows ≥ 100×",
      holds: explodes, kind: "magnitude", verified: false,
      reason: explodes ? "the gradient explodes" : "the gradient does not explode within the budget",
    },
    {
      quantity: "λ₁γ > 1 with clipNorm 1: run completes, test accuracy",
      paper: "\"a gradient norm clipping strategy to deal with exploding gradients\" (abstract; §3.2)",
      gradlab: `${c.summary.status ?? "–"}, ${pct(c.summary.testAccuracy)} (unclipped: ${e.summary.status ?? "–"}, ${pct(e.summary.testAccuracy)})`,
      tolerance: "complete, > 20% and above the unclipped run",
      holds: trains, kind: "ordering", verified: true,
      reason: trains ? "clipping keeps the exploding RNN trainable" : "the clipped run does not train better than the unclipped one",
    },
  ];
}

function figures(runs: ReadonlyMap<string, RunView>): Figure[] {
  const lines = RUNS.slice(0, 2).map((label) => {
    const h = recurrentLayer(initial(run(runs, label))).hGradNorm ?? [];
    return { name: `${label} (λ₁γ = ${fmt(sigmaGamma(run(runs, label)))})`, data: h.map((y, t) => [t + 1, y] as [number, number]) };
  });
  return [
    lineFigure("gradient-through-time", "‖∂ℓ/∂h_t‖ against t at initialization, row MNIST (28 steps)", "t (row)", "‖∂ℓ/∂h_t‖", lines, true),
    lineFigure("clipping", "Training loss with λ₁γ = 1.2: without and with clipping", "step", "loss (batch)", [lossLine(run(runs, "exploding")), lossLine(run(runs, "exploding-clipped"))], true),
  ];
}

function notes(scale: Scale): string {
  const s = SCALE[scale];
  return [
    `${s.train} training images, 1 epoch of SGD (lr 0.05, batch 32), 64 units, row MNIST (the paper's experiments are synthetic long-range tasks and language models; the conditions are properties of W_hh and hold for any input).`,
    scale === "full" ? "" : "Reduced only in training images: the condition rows are at initialization or about the first steps of training.",
    "Verified: the abstract's clipping sentence. Not verified against the text here: the exact wording and section of the λ₁ < 1/γ conditions (recalled; marked unverified).",
  ].filter((x) => x !== "").join(" ");
}

/** The study. */
export const pascanu2013: Study = {
  name: "pascanu2013",
  citation: "R. Pascanu, T. Mikolov, Y. Bengio, On the difficulty of training recurrent neural networks, ICML 2013 (arXiv:1211.5063)",
  summary: "λ₁γ < 1 vanishes, λ₁γ > 1 can explode, clipping keeps an exploding RNN trainable",
  suite, rows, figures, notes,
};
