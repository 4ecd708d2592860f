/**
 * Nielsen, Neural Networks and Deep Learning, chapter 5 ("Why are deep neural networks hard to
 * train?"), §5.1 "The vanishing gradient problem": the "speed of learning" ‖∂C/∂b^l‖ of each
 * hidden layer of a sigmoid network at the start of training, for [784, 30, 30, 10] up to
 * [784, 30, 30, 30, 30, 10], and the test accuracy of those networks after training.
 *
 * His network2 draws weights from N(0, 1/n_in) (gradlab's "lecun") and biases from N(0, 1)
 * (biasInit "normal"); his gradient is over 1,000 training images, which the "start" runs
 * reproduce with one batch of 1,000: their step-0 record's bias gradNorm is exactly ‖∂C/∂b^l‖
 * of the mean cost over those images.
 */
import { fmt, hiddenLayers, increasing, initial, lineFigure, pct, run, type Figure, type Row, type RunView, type Scale, type Study } from "../study.ts";

const DEPTHS = [2, 3, 4] as const;
/** §5.1's test accuracies after 30 epochs (network2, η = 0.1, λ = 5, mini-batch 10). */
const PAPER_ACCURACY: Record<number, number> = { 2: 0.969, 3: 0.9657, 4: 0.9653 };
const SECTION = "ch. 5, §5.1";

const arch = (d: number) => `[784, ${Array(d).fill(30).join(", ")}, 10]`;

/** Examples the start-of-training gradient is taken over, and the training budget, per scale. */
const SCALE = {
  tiny: { start: 100, train: 200, test: 100, epochs: 1, every: 10 },
  quick: { start: 1000, train: 50000, test: 10000, epochs: 3, every: 500 },
  full: { start: 1000, train: 50000, test: 10000, epochs: 30, every: 1000 },
} as const;

function suite(scale: Scale): Record<string, unknown> {
  const s = SCALE[scale];
  const layer = (units: number, activation?: string) => ({ type: "dense", units, ...(activation ? { activation } : {}), init: "lecun", biasInit: "normal" });
  const variants = [
    ...DEPTHS.map((d) => ({
      label: `start-h${d}`, vars: { depth: d },
      set: { "data.train": s.start, "train.batchSize": s.start, "record.every": 1 },
    })),
    ...DEPTHS.map((d) => ({
      label: `train-h${d}`, vars: { depth: d },
      // his L2 term (λ/2n)·Σw² with λ = 5 over the n training images: weight decay λ/n
      set: { "data.train": s.train, "train.epochs": s.epochs, "record.every": s.every, "optimizer.weightDecay": 5 / s.train },
    })),
  ];
  return {
    name: "nielsen-ch5",
    description: "Nielsen ch. 5: sigmoid [784, 30×d, 10], N(0, 1/n_in) weights and N(0, 1) biases; ‖∂C/∂b‖ per hidden layer at the start, and accuracy after training.",
    base: {
      name: "nielsen-ch5",
      data: { dataset: "mnist", view: "flat", train: s.train, test: s.test },
      model: { layers: [{ repeat: "$depth", layers: [layer(30, "sigmoid")] }, layer(10)] },
      loss: "cross_entropy",
      optimizer: { type: "sgd", lr: 0.1 },
      train: { epochs: 1, batchSize: 10, seed: 1 },
      record: { every: s.every, histograms: false },
    },
    variants,
  };
}

/** ‖∂C/∂b‖ of each hidden layer at step 0, input side first. */
function biasSpeeds(r: RunView): number[] {
  return hiddenLayers(initial(r)).map((l) => l.params.bias?.gradNorm ?? NaN);
}

function rows(runs: ReadonlyMap<string, RunView>, scale: Scale): Row[] {
  const out: Row[] = [];
  for (const d of DEPTHS) {
    const v = biasSpeeds(run(runs, `start-h${d}`));
    const ok = increasing(v);
    out.push({
      quantity: `‖∂C/∂b‖ per hidden layer at the start, ${arch(d)}`,
      paper: `smaller the nearer the input: "the gradient tends to get smaller as we move backward through the hidden layers" (${SECTION})`,
      gradlab: v.map(fmt).join(", "),
      tolerance: "each hidden layer below the next",
      holds: ok, kind: "ordering", verified: true,
      reason: ok ? "every hidden layer gets less gradient than the one after it" : "some hidden layer gets at least as much gradient as the one after it",
    });
  }
  const v4 = biasSpeeds(run(runs, "start-h4"));
  const ratio = v4[0] / v4[v4.length - 1];
  out.push({
    quantity: `first / last hidden-layer ‖∂C/∂b‖ at the start, ${arch(4)}`,
    paper: `"neurons in the earlier layers learn much more slowly than neurons in later layers" (${SECTION})`,
    gradlab: fmt(ratio),
    tolerance: "< 0.1 (at least an order of magnitude slower)",
    holds: ratio < 0.1, kind: "magnitude", verified: true,
    reason: ratio < 0.1 ? `the first hidden layer learns ${fmt(1 / ratio)}× slower than the last` : "the first hidden layer is less than 10× slower than the last",
  });
  const acc = Object.fromEntries(DEPTHS.map((d) => [d, run(runs, `train-h${d}`).summary.testAccuracy ?? NaN])) as Record<number, number>;
  if (scale === "full") {
    for (const d of DEPTHS) {
      const diff = Math.abs(acc[d] - PAPER_ACCURACY[d]);
      out.push({
        quantity: `test accuracy after 30 epochs, ${arch(d)}`,
        paper: `${pct(PAPER_ACCURACY[d])} (${SECTION})`,
        gradlab: pct(acc[d]),
        tolerance: "± 1 percentage point",
        holds: diff <= 0.01, kind: "value", verified: true,
        reason: diff <= 0.01 ? "within a point of the book" : `${(100 * diff).toFixed(2)} points from the book (softmax output instead of his sigmoid output; another shuffle)`,
      });
    }
  }
  const deeperBest = Math.max(acc[3], acc[4]);
  const noBetter = deeperBest <= acc[2] + 0.005;
  out.push({
    quantity: "extra hidden layers do not help: best of 3 and 4 hidden vs 2 hidden, test accuracy",
    paper: `96.57% and 96.53% vs 96.90% (${SECTION})`,
    gradlab: `${pct(deeperBest)} vs ${pct(acc[2])}`,
    tolerance: "deeper at most 0.5 points better",
    holds: noBetter, kind: "ordering", verified: true,
    reason: noBetter ? "adding hidden layers does not buy accuracy, as in the book" : "a deeper net is clearly better here",
  });
  return out;
}

function figures(runs: ReadonlyMap<string, RunView>): Figure[] {
  const start = lineFigure("speed-at-start", "Speed of learning ‖∂C/∂b‖ per hidden layer at the start", "hidden layer", "‖∂C/∂b‖",
    DEPTHS.map((d) => ({ name: arch(d), data: biasSpeeds(run(runs, `start-h${d}`)).map((y, i) => [i + 1, y] as [number, number]) })), true);
  const r4 = run(runs, "train-h4");
  const names = hiddenLayers(initial(r4)).map((l) => l.name);
  const during = lineFigure("speed-during-training", `Speed of learning of each hidden layer during training, ${arch(4)}`, "step", "‖∂C/∂b‖ (batch of 10)",
    names.map((name, i) => ({
      name: `hidden layer ${i + 1}`,
      data: r4.records.map((rec) => [rec.step, rec.layers.find((l) => l.name === name)?.params.bias?.gradNorm ?? NaN] as [number, number]),
    })), true);
  return [start, during];
}

function notes(scale: Scale): string {
  const s = SCALE[scale];
  const reduced = scale === "full"
    ? "Full scale: his 50,000 training images, 30 epochs, η = 0.1, mini-batch 10, λ = 5 (weight decay λ/n)."
    : `Reduced: ${s.train} training images and ${s.epochs} epoch(s) (he trains 30 epochs on 50,000, with λ = 5); the start-of-training gradient is over ${s.start} images${s.start === 1000 ? ", as his" : ""}. The speeds at the start do not depend on the budget, so those rows are his measurement; the accuracy row only asks whether depth helps.`;
  return [
    reduced,
    "His accuracies are on MNIST's 10,000 validation images; gradlab's on the 10,000 test images.",
    "Differences: gradlab's output is softmax with cross-entropy (his network2 has sigmoid outputs with cross-entropy); both give δ = a − y at the output, so the gradient that starts back is comparable, not identical.",
    "Verified against a copy of the chapter's text: network2, the three accuracies (96.90%, 96.57%, 96.53%) and the sentences quoted. Not verified, so not used as paper cells: his printed per-layer speeds (0.012, 0.060, … as they are sometimes quoted) and the \"about 100 times slower\" figure; the ratio row asks only for an order of magnitude.",
  ].join(" ");
}

/** The study. */
export const nielsenCh5: Study = {
  name: "nielsen-ch5",
  citation: "M. Nielsen, Neural Networks and Deep Learning, ch. 5 \"Why are deep neural networks hard to train?\", §5.1 The vanishing gradient problem (Determination Press, 2015)",
  summary: "speed of learning ‖∂C/∂b‖ per hidden layer of sigmoid [784, 30…, 10] nets at the start; deeper is not better",
  suite, rows, figures, notes,
};
