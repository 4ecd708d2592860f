// Non-finite values: the loss, every gradient and every weight are checked each step;
// train.onNonFinite decides between "stop" (the documented report: step, layer, parameter, all
// records so far kept, exit code 3), "skip-step" (the batch is dropped, the run completes) and
// "continue". The networks are built to blow up, and why each one does is derived beside it.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kindOf } from "../../src/core/layers/registry.ts";
import { parseConfig, type Config } from "../../src/experiment/config.ts";
import { datasetFor, openRun } from "../../src/experiment/run-folder/session.ts";
import { Trainer } from "../../src/experiment/trainer.ts";
import { encodeWeights } from "../../src/experiment/weights.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

/**
 * An exploding IRNN: relu units, W_hh = 1.6·I. Over the 28 rows h_t grows like
 * 1.6^t (1.6^28 ≈ 5·10⁵), so the loss at initialization is already ~10⁵ and its gradient as
 * large; one SGD step at lr 1 makes the next forward pass overflow (loss NaN at step 1).
 */
const EXPLODING_RNN = (mode: string) => ({
  name: "exploding-rnn",
  data: { view: "rows", train: 640, test: 200 },
  model: { layers: [
    { type: "rnn", units: 16, activation: "relu", recurrentInit: { type: "identity", gain: 1.6 } },
    { type: "dense", units: 10 },
  ] },
  optimizer: { type: "sgd", lr: 1 },
  train: { epochs: 1, seed: 1, onNonFinite: mode },
  record: { every: 5 },
});

const rnnReady = kindOf("rnn") !== undefined;

describe.runIf(rnnReady)("an exploding RNN", () => {
  it(`"stop": exit code 3, the documented report (step, layer, parameter), everything recorded so far kept`, () => {
    const dir = tempDir();
    writeFileSync(join(dir, "rnn.json"), JSON.stringify(EXPLODING_RNN("stop")));
    const r = gradlab(["run", join(dir, "rnn.json"), "--out", join(dir, "run"), "--quiet", "--no-png"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("stopped: the loss became NaN at step 1 (first non-finite gradient in rnn1.weight_ih_l0)");
    const summary = JSON.parse(readFileSync(join(dir, "run", "summary.json"), "utf8"));
    expect(summary.status).toBe("stopped");
    expect(summary.stopped).toEqual({ step: 1, reason: "the loss became NaN at step 1", cause: "loss", layer: "rnn1", param: "weight_ih_l0" });
    expect(summary.steps).toBe(1);
    // Changed: a run that ended on a NaN/Inf has its own verdict, "stopped" (docs/diagnosis.md).
    expect(summary.diagnosis.verdict).toBe("stopped");
    expect(summary.diagnosis.text).toContain("Training stopped at step 1: the loss became NaN at step 1 (first non-finite gradient in rnn1.weight_ih_l0).");
    // step 0 (finite, huge) and the non-finite step 1 are both in metrics.jsonl
    const lines = readFileSync(join(dir, "run", "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([0, 1]);
    expect(lines[0].loss).toBeGreaterThan(1e3);
    expect(lines[1].loss).toBeNull();  // NaN in JSON
    expect(lines[1].layers[0].params.weight_ih_l0.nonFinite).toBeGreaterThan(0);
    expect(readFileSync(join(dir, "run", "report.html"), "utf8")).toContain("Training stopped early</strong> at step 1.");
    // the weights are those after step 0's (finite) update, not NaN
    const w = readFileSync(join(dir, "run", "weights.safetensors"));
    expect(w.length).toBeGreaterThan(0);
  });

  it(`"skip-step": every later batch is dropped and the run completes, explosion reported`, () => {
    const { summary, records } = openRun({ mode: "fresh", config: parseConfig(EXPLODING_RNN("skip-step")), outDir: null }, "test").runSync();
    expect(summary.status).toBe("complete");
    expect(summary.steps).toBe(20);
    expect(summary.stopped).toBeNull();
    expect(summary.skippedSteps).toBe(19);
    expect(summary.nonFinite).toEqual({ steps: 19, first: { step: 1, cause: "loss", tensor: "rnn1.weight_ih_l0", loss: NaN } });
    expect(summary.diagnosis.verdict).toBe("exploding");
    expect(summary.diagnosis.findings.at(-1)).toBe(`19 step(s) had NaN or infinite values, first at step 1 in the loss; 19 batch(es) were skipped (train.onNonFinite = "skip-step").`);
    expect(records.map((r) => r.step)).toEqual([0, 1, 5, 10, 15, 19]);  // step 1 recorded: the first non-finite step
    expect(summary.finalLoss).toBe(records[0].loss);  // only step 0 was learnt from
  });

  it(`"continue": trains through NaN and counts it`, () => {
    const { summary } = openRun({ mode: "fresh", config: parseConfig(EXPLODING_RNN("continue")), outDir: null }, "test").runSync();
    expect(summary.status).toBe("complete");
    expect(summary.skippedSteps).toBe(0);
    expect(summary.nonFinite.steps).toBe(19);
    expect(summary.finalLoss).toBeNaN();
  });
});

/** A one-layer softmax regression on 320 examples (10 steps) with the given lr and policy. */
const linear = (lr: number, mode: string, layers: unknown[] = [{ type: "dense", units: 10 }]): Config => parseConfig({
  name: "nf", data: { train: 320, test: 100 }, model: { layers }, optimizer: { type: "sgd", lr },
  train: { epochs: 1, onNonFinite: mode }, record: { every: 5 },
});

describe("an MLP that explodes", () => {
  it(`an update that overflows Float32 (lr 1e45 × |g| ≥ 1e-6 > 3.4e38) is undone: "stop" keeps the initial weights`, () => {
    const config = linear(1e45, "stop");
    const dir = join(tempDir(), "run");
    const { summary } = openRun({ mode: "fresh", config, outDir: dir }, "test").runSync();
    expect(summary.stopped).toEqual({ step: 0, reason: "the update at step 0 made dense1.weight NaN or infinite (the weights are kept as they were before it)", cause: "weight" });
    const init = new Trainer(config, datasetFor(config));
    expect(readFileSync(join(dir, "weights.safetensors")).equals(Buffer.from(encodeWeights(init.model, { name: "nf", steps: "0" })))).toBe(true);
  });

  it(`"skip-step" drops every such update; the weights stay finite`, () => {
    const { summary } = openRun({ mode: "fresh", config: linear(1e45, "skip-step"), outDir: null }, "test").runSync();
    expect(summary.status).toBe("complete");
    expect(summary.skippedSteps).toBe(10);
    expect(summary.nonFinite.first).toMatchObject({ step: 0, cause: "weight", tensor: "dense1.weight" });
    expect(summary.testAccuracy).toBeGreaterThan(0);  // the initial network, evaluated
  });

  it(`"skip-step" with momentum: the undone update leaves no trace in the optimizer (step count and velocity as before it)`, () => {
    // lr 1e45 overflows every update (as above); with momentum the velocity v = g is stored by
    // the same step, so before the fix v kept the dropped batch's gradient and t counted it.
    const config = parseConfig({ ...linear(1e45, "skip-step"), optimizer: { type: "sgd", lr: 1e45, momentum: 0.9 } });
    const t = new Trainer(config, datasetFor(config));
    const before = t.model.params.map((p) => Float32Array.from(p.value));
    for (let s = 0; s < 3; s++) t.trainStep();
    expect(t.skippedSteps).toBe(3);
    const state = t.optimizer.state();
    expect(state.t).toBe(0);
    expect(state.slots.every((slot) => slot.m.every((x) => x === 0))).toBe(true);
    t.model.params.forEach((p, i) => expect(Array.from(p.value)).toEqual(Array.from(before[i])));
  });

  it(`a non-finite gradient on a step that is not recorded (checked while updating) is undone and skipped like a recorded one`, () => {
    // As in the next test, dense1's gradient overflows while the loss is ln 10; skip-step keeps
    // the weights, so every step has the same gradient. Step 0 is recorded (checked before the
    // update); steps 1 and 2 are not, and take the path that checks as it updates, then undoes.
    const big = { type: "uniform", scale: 3e38 };
    const config = linear(0.1, "skip-step", [{ type: "dense", units: 5, init: "zeros" }, { type: "dense", units: 5, init: big }, { type: "dense", units: 10, init: big }]);
    const t = new Trainer(config, datasetFor(config));
    const before = t.model.params.map((p) => Float32Array.from(p.value));
    const records = [t.trainStep(), t.trainStep(), t.trainStep()];
    expect(records.map((r) => r !== null)).toEqual([true, false, false]);
    expect(t.skippedSteps).toBe(3);
    expect(t.nonFinite.steps).toBe(3);
    expect(t.nonFinite.first).toMatchObject({ step: 0, cause: "gradient", tensor: "dense1.weight" });
    expect(t.optimizer.t).toBe(0);
    t.model.params.forEach((p, i) => {
      expect(Array.from(p.value)).toEqual(Array.from(before[i]));
      expect(p.grad.every((g) => g === 0)).toBe(true);
    });
  });

  it("a gradient overflows while the loss is finite: caught by the gradient check", () => {
    // dense1 starts at zero, so h1 = h2 = logits = 0 and the loss is ln 10; but δ1 = W2ᵀ W3ᵀ δ3
    // with entries of W2, W3 up to 3e38 overflows Float32, so dense1's gradient is ±Inf/NaN.
    const big = { type: "uniform", scale: 3e38 };
    const { summary, first } = openRun({ mode: "fresh", config: linear(0.1, "stop", [
      { type: "dense", units: 5, init: "zeros" }, { type: "dense", units: 5, init: big }, { type: "dense", units: 10, init: big },
    ]), outDir: null }, "test").runSync();
    expect(first.loss).toBeCloseTo(Math.log(10), 12);
    expect(summary.stopped).toEqual({ step: 0, reason: "a gradient became NaN or infinite at step 0", cause: "gradient", layer: "dense1", param: "weight" });
  });
});

describe("config", () => {
  it("train.checkpointEvery and train.onNonFinite: defaults and one-line errors", () => {
    const c = linear(0.1, "stop");
    expect(c.train.checkpointEvery).toBe(1000);
    const bad = (train: unknown) => () => parseConfig({ name: "x", model: { layers: [{ type: "dense", units: 10 }] }, optimizer: { type: "sgd", lr: 1 }, train });
    expect(bad({ onNonFinite: "skip" })).toThrow(`train.onNonFinite: expected one of stop, skip-step, continue; got "skip"`);
    expect(bad({ checkpointEvery: -1 })).toThrow("train.checkpointEvery: expected a non-negative integer (0 = no periodic checkpoints); got -1");
    expect(bad({ checkpointevery: 5 })).toThrow(`train.checkpointevery: unknown key; did you mean "checkpointEvery"?`);
  });
});
