/**
 * Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural
 * networks": MLPs with 5 hidden layers, activation sigmoid / tanh / softsign × the standard
 * init U[±1/√n] and their normalized init U[±√6/√(n_j + n_{j+1})] (gradlab's "glorot"). What is
 * compared: the back-propagated gradient ‖δ‖ per layer at initialization, the saturation of
 * the top hidden sigmoid layer early in training, and test accuracy after a fixed budget.
 */
import { fmt, hiddenLayers, initial, lineFigure, pct, run, type Figure, type Row, type RunView, type Scale, type Study } from "../study.ts";

const ACTS = ["sigmoid", "tanh", "softsign"] as const;
const INITS = ["standard", "glorot"] as const;
const label = (act: string, init: string) => `act=${act},init=${init}`;
const initName = (init: string) => (init === "glorot" ? "normalized" : "standard");

const SCALE = {
  tiny: { units: 16, train: 256, test: 100, epochs: 1, every: 4 },
  quick: { units: 100, train: 10000, test: 2000, epochs: 2, every: 25 },
  full: { units: 1000, train: 60000, test: 10000, epochs: 10, every: 200 },
} as const;

function suite(scale: Scale): Record<string, unknown> {
  const s = SCALE[scale];
  return {
    name: "glorot2010",
    description: "Glorot & Bengio 2010: 5 hidden layers, sigmoid / tanh / softsign × standard / normalized init.",
    base: {
      name: "glorot2010",
      data: { dataset: "mnist", view: "flat", train: s.train, test: s.test },
      model: { layers: [
        { repeat: 5, layers: [{ type: "dense", units: s.units, activation: "$act", init: "$init" }] },
        { type: "dense", units: 10, init: "$init" }] },
      loss: "cross_entropy",
      optimizer: { type: "sgd", lr: 0.1 },
      train: { epochs: s.epochs, batchSize: 10, seed: 1 },
      record: { every: s.every, histograms: false },
    },
    grid: { act: [...ACTS], init: [...INITS] },
  };
}

/** ‖δ‖ of each hidden layer at initialization, input side first. */
const deltas = (r: RunView) => hiddenLayers(initial(r)).map((l) => l.deltaNorm ?? NaN);
/** ‖δ‖ of the first hidden layer over the last's, at initialization. */
function deltaRatio(r: RunView): number {
  const d = deltas(r);
  return d[0] / d[d.length - 1];
}

function rows(runs: ReadonlyMap<string, RunView>): Row[] {
  const out: Row[] = [];
  for (const act of ["tanh", "softsign"] as const) {
    const std = deltaRatio(run(runs, label(act, "standard")));
    const norm = deltaRatio(run(runs, label(act, "glorot")));
    const ok = norm > std;
    out.push({
      quantity: `${act}: ‖δ‖ first / last hidden layer at init, standard → normalized`,
      paper: "with the standard init the back-propagated gradient shrinks toward the input; the normalized init keeps it closer to constant across layers (§4.2.2, Fig. 7 for tanh)",
      gradlab: `${fmt(std)} → ${fmt(norm)}`,
      tolerance: "normalized > standard",
      holds: ok, kind: "ordering", verified: act === "tanh",
      reason: ok ? "the normalized init lets more of the gradient reach the first layer" : "the normalized init does not improve the first layer's share here",
    });
  }
  // The top hidden sigmoid layer is driven to 0 early in training (their Fig. 2).
  const sig = run(runs, label("sigmoid", "standard"));
  const top = (rec: RunView["records"][number]) => { const h = hiddenLayers(rec); return h[h.length - 1].activation?.mean ?? NaN; };
  const start = top(initial(sig));
  const low = Math.min(...sig.records.map(top));
  const saturates = low < 0.5 * start;
  out.push({
    quantity: "sigmoid, standard init: mean activation of the top hidden layer, at init → lowest during training",
    paper: "the top hidden layer is quickly pushed toward 0 (saturation) and desaturates only slowly (§3.1, Fig. 2)",
    gradlab: `${fmt(start)} → ${fmt(low)}`,
    tolerance: "falls below half its initial value",
    holds: saturates, kind: "magnitude", verified: true,
    reason: saturates ? "the top layer's mean activation collapses toward 0, as in the paper" : "the top layer does not move toward 0 within this budget",
  });
  const acc = (act: string, init: string) => run(runs, label(act, init)).summary.testAccuracy ?? NaN;
  for (const act of ["tanh", "softsign"] as const) {
    const ok = acc(act, "glorot") >= acc(act, "standard") - 0.005;
    out.push({
      quantity: `${act}: test accuracy, standard → normalized init`,
      paper: "the normalized init trains as well or better (§4.2, Table 1: test errors; numbers not verified, ordering only)",
      gradlab: `${pct(acc(act, "standard"))} → ${pct(acc(act, "glorot"))}`,
      tolerance: "normalized ≥ standard − 0.5 points",
      holds: ok, kind: "ordering", verified: false,
      reason: ok ? "normalized is no worse" : "normalized is worse by more than half a point",
    });
  }
  const sigAcc = acc("sigmoid", "standard");
  const others = ACTS.flatMap((a) => INITS.map((i) => [a, i] as const)).filter(([a, i]) => !(a === "sigmoid" && i === "standard")).map(([a, i]) => acc(a, i));
  const worst = others.every((x) => sigAcc <= x);
  out.push({
    quantity: "sigmoid with the standard init is the worst of the six (test accuracy)",
    paper: "\"the logistic sigmoid activation is unsuited for deep networks with random initialization\" (abstract; Table 1)",
    gradlab: `${pct(sigAcc)} vs best other ${pct(Math.max(...others))}`,
    tolerance: "lowest of the six",
    holds: worst, kind: "ordering", verified: true,
    reason: worst ? "sigmoid/standard has the lowest accuracy of the six" : "another combination did worse than sigmoid/standard",
  });
  return out;
}

function figures(runs: ReadonlyMap<string, RunView>): Figure[] {
  const lines = ACTS.flatMap((act) => INITS.map((init) => ({
    name: `${act}, ${initName(init)}`,
    data: deltas(run(runs, label(act, init))).map((y, i) => [i + 1, y] as [number, number]),
  })));
  const sig = run(runs, label("sigmoid", "standard"));
  const names = hiddenLayers(initial(sig)).map((l) => l.name);
  const sat = lineFigure("sigmoid-activations", "Sigmoid, standard init: mean activation of each hidden layer during training", "step", "mean activation",
    names.map((name, i) => ({ name: `layer ${i + 1}`, data: sig.records.map((rec) => [rec.step, rec.layers.find((l) => l.name === name)?.activation?.mean ?? NaN] as [number, number]) })), false);
  return [lineFigure("backprop-gradients", "Back-propagated gradient ‖δ‖ per hidden layer at initialization", "hidden layer", "‖δ‖ (mean per example)", lines, true), sat];
}

function notes(scale: Scale): string {
  const s = SCALE[scale];
  return [
    scale === "full"
      ? `Full: 5 hidden layers of ${s.units} units, 60,000 training images, ${s.epochs} epochs of SGD (lr 0.1, batch 10).`
      : `Reduced: hidden layers of ${s.units} units instead of 1,000, ${s.train} training images, ${s.epochs} epoch(s). The gradient rows are at initialization, where the effect of the init on each layer's gain depends on the fan-in and fan-out ratio, not on the width; the accuracy rows ask for orderings only.`,
    "MNIST is one of the paper's datasets (with Shapeset-3×2, CIFAR-10 and Small-ImageNet).",
    "Verified from the paper's text or a faithful summary of it: the normalized init U[±√6/√(n_j+n_{j+1})], the datasets, the saturation of the top sigmoid layer, the abstract's sentence on sigmoid. Not verified: the exact Table 1 test errors (so no row uses them), the width of 1,000 units, the figure numbers cited beside the claims.",
  ].join(" ");
}

/** The study. */
export const glorot2010: Study = {
  name: "glorot2010",
  citation: "X. Glorot, Y. Bengio, Understanding the difficulty of training deep feedforward neural networks, AISTATS 2010",
  summary: "sigmoid / tanh / softsign × standard / normalized init, 5 hidden layers: gradients per layer, saturation, accuracy",
  suite, rows, figures, notes,
};
