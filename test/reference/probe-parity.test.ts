// Parity of the PyTorch probe (integrations/pytorch/gradlab_probe.py) with gradlab's own recorder.
// Expected values: test/reference/probe/NAME.metrics.jsonl, written by make_probe_fixtures.py (the
// probe recording one SGD step of the PyTorch twin of NAME.config.json in float64, from the weights
// in NAME.safetensors, on the first 16 MNIST training images). Here gradlab's engine takes the same
// step from the same weights on the same images (float64 too) and its record must agree with the
// probe's in every field both record, within 1e-5 relative; histogram counts and key sets exactly.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { floats, size } from "../../src/core/tensor.ts";
import { countCorrect } from "../../src/core/losses.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { Trainer } from "../../src/experiment/trainer.ts";
import { loadWeights } from "../../src/experiment/weights.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { BatchSource, viewShape } from "../../src/data/views.ts";
import type { StepRecord } from "../../src/instrument/recorder.ts";

const DIR = join(import.meta.dirname, "probe");
const REL = 1e-5;

/** gradlab's record of one SGD step from the fixture's weights on the first B training images. */
function gradlabRecord(name: string): StepRecord {
  const config = parseConfig(JSON.parse(readFileSync(join(DIR, `${name}.config.json`), "utf8")));
  const data = loadDataset(config.data.dataset, { train: config.data.train, test: config.data.test });
  const trainer = new Trainer(config, data, "f64");
  const model = trainer.model;
  loadWeights(model, new Uint8Array(readFileSync(join(DIR, `${name}.safetensors`))), `${name}.safetensors`);
  const B = config.train.batchSize;
  const x = floats("f64", B * size(viewShape(config.data.view, data.rows, data.cols)));  // [B, ...inShape]
  const y = new Int32Array(B);  // [B]
  new BatchSource(data.trainImages, data.trainLabels, data.nTrain, data.rows, data.cols, config.data.view, 0).fill(0, B, x, y, true);
  const loss = model.forwardBackward(x, y, B, trainer.loss);
  const acc = countCorrect(model.logits!, y, B, data.classes) / B;
  trainer.recorder.beforeUpdate(0, 0, loss, acc, B);
  const lr = config.optimizer.lr;
  for (const p of model.params) for (let i = 0; i < p.value.length; i++) p.value[i] -= lr * p.grad[i];
  return trainer.recorder.afterUpdate();
}

function compare(got: unknown, want: unknown, path: string, out: string[]): void {
  if (typeof want === "number" && typeof got === "number") {
    const tol = REL * Math.max(Math.abs(want), Math.abs(got)) + 1e-300;
    if (!(Math.abs(got - want) <= tol)) out.push(`${path}: gradlab ${got}, probe ${want}`);
    return;
  }
  if (Array.isArray(want) && Array.isArray(got)) {
    if (got.length !== want.length) { out.push(`${path}: length ${got.length} vs ${want.length}`); return; }
    want.forEach((w, i) => compare(got[i], w, `${path}[${i}]`, out));
    return;
  }
  if (want && typeof want === "object" && got && typeof got === "object") {
    const g = got as Record<string, unknown>, w = want as Record<string, unknown>;
    for (const k of Object.keys(w)) {
      if (!(k in g)) { out.push(`${path}.${k}: recorded by the probe only`); continue; }
      compare(g[k], w[k], `${path}.${k}`, out);
    }
    for (const k of Object.keys(g)) if (!(k in w)) out.push(`${path}.${k}: recorded by gradlab only`);
    return;
  }
  if (got !== want) out.push(`${path}: gradlab ${JSON.stringify(got)}, probe ${JSON.stringify(want)}`);
}

describe("the PyTorch probe records what gradlab records", () => {
  for (const name of ["seed", "cnn", "lstm"]) {
    it(`${name}: every field of one recorded step`, () => {
      const probe = JSON.parse(readFileSync(join(DIR, `${name}.metrics.jsonl`), "utf8").trim());
      const ours = JSON.parse(JSON.stringify(gradlabRecord(name)));
      const diffs: string[] = [];
      compare(ours, probe, "record", diffs);
      expect(diffs).toEqual([]);
      // the comparison is not vacuous: the fixture has δ for every measured layer
      expect(probe.layers.length).toBeGreaterThanOrEqual(2);
    }, 30_000);
  }

  it("the lstm fixture holds the per-step gradients and they shrink toward the first step", () => {
    const probe = JSON.parse(readFileSync(join(DIR, "lstm.metrics.jsonl"), "utf8").trim());
    const h: number[] = probe.layers[0].hGradNorm;
    expect(h).toHaveLength(28);
    expect(h[0]).toBeLessThan(h[27]);
  });
});
