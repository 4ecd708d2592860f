// The look at the next batch (src/instrument/walk.ts): its record is the record the training
// step produces (the Trainer's own numbers, run here), its walk agrees with back-propagation
// derived by hand for the seed network (784-5-5-10 sigmoid, cross-entropy, in float64), it
// leaves the run undisturbed bit for bit, and recording more steps (as the lab does) changes
// no number of the config's records.
import { describe, expect, it } from "vitest";
import { buildModel } from "../../src/core/model.ts";
import { loadDataset, type Dataset } from "../../src/data/datasets.ts";
import { parseConfig, type Config } from "../../src/experiment/config.ts";
import { Trainer } from "../../src/experiment/trainer.ts";
import type { StepRecord } from "../../src/instrument/recorder.ts";
import { checkModel, describeModel, look, nextBatch, unitStats } from "../../src/instrument/walk.ts";
import seedJson from "../../experiments/seed.json" with { type: "json" };

const data: Dataset = loadDataset("mnist", { train: 200, test: 50 });

/** The seed network on 200 examples in batches of 32: 7 steps per epoch (the last of 8). */
function seedConfig(layers?: unknown[]): Config {
  return parseConfig({
    ...seedJson, data: { dataset: "mnist", view: "flat", train: 200, test: 50 },
    ...(layers ? { model: { layers } } : {}),
    train: { epochs: 2, batchSize: 32, seed: 3 }, record: { every: 1 },
  });
}

const withoutUpdates = (r: StepRecord): StepRecord => ({
  ...r, layers: r.layers.map((l) => ({ ...l, params: Object.fromEntries(Object.entries(l.params).map(([k, p]) => [k, { ...p, updateRatio: null }])) })),
});

describe("look: the next step, measured without training", () => {
  it("gives the record the step then produces, at the start, mid-epoch and at an epoch boundary, batch norm included", () => {
    const layers = [{ type: "dense", units: 6 }, { type: "batchnorm", activation: "sigmoid" }, { type: "dense", units: 10 }];
    for (const config of [seedConfig(), seedConfig(layers)]) {
      const t = new Trainer(config, data);
      for (const at of [0, 3, 7, 9]) {
        while (t.step < at) t.trainStep();
        const seen = look(t);
        expect(seen.record.step).toBe(at);
        expect(seen.walk.step).toBe(at);
        // the record of the step itself, trained now: the same numbers except the update ratios
        const trained = t.trainStep()!;
        expect(withoutUpdates(trained)).toEqual(seen.record);
        expect(trained.layers[0].params.weight.updateRatio).toBeGreaterThan(0);
      }
    }
  });

  it("leaves the run as it was: the same weights and records as a run never looked at", () => {
    const config = seedConfig([{ type: "dense", units: 6 }, { type: "batchnorm", activation: "sigmoid" }, { type: "dense", units: 10 }]);
    const plain = new Trainer(config, data), looked = new Trainer(config, data);
    const a: StepRecord[] = [], b: StepRecord[] = [];
    while (!plain.done) { a.push(plain.trainStep()!); look(looked); b.push(looked.trainStep()!); }
    expect(b).toEqual(a);
    plain.model.params.forEach((p, i) => expect(Buffer.from(looked.model.params[i].value.buffer).equals(Buffer.from(p.value.buffer))).toBe(true));
    plain.model.buffers.forEach((p, i) => expect(Array.from(looked.model.buffers[i].value)).toEqual(Array.from(p.value)));
  });

  it("walks the seed network as back-propagation by hand does (float64)", () => {
    const t = new Trainer(seedConfig(), data, "f64");
    t.trainStep(); t.trainStep();
    const { x, y, B } = nextBatch(t);
    const seen = look(t);
    // By hand: z1 = W1 x + b1, a1 = σ(z1), z2 = W2 a1 + b2, a2 = σ(z2), z3 = W3 a2 + b3;
    // ∂L/∂z3 = (softmax(z3) − onehot)/B, ∂L/∂a_l = W_{l+1}ᵀ ∂L/∂z_{l+1}, ∂L/∂z_l = ∂L/∂a_l ⊙ a_l(1 − a_l),
    // ∂L/∂x = W1ᵀ ∂L/∂z1. Norms: the sum over the batch of each example's L2 norm of ∂L/∂·,
    // which (L being the batch mean) is the mean of each example's ‖∂ℓ/∂·‖.
    const W = (n: number) => t.model.tensor(`dense${n}.weight`)!.value, bias = (n: number) => t.model.tensor(`dense${n}.bias`)!.value;
    const dims = [784, 5, 5, 10];
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const norms = { dz3: 0, da2: 0, dz2: 0, da1: 0, dz1: 0, dx: 0 };
    const meanAbsDz1 = new Float64Array(5);
    let dx0: number[] = [];
    for (let b = 0; b < B; b++) {
      const acts: number[][] = [Array.from(x.subarray(b * 784, (b + 1) * 784))];
      for (let l = 1; l <= 3; l++) {
        const inp = acts[l - 1], out: number[] = [];
        for (let o = 0; o < dims[l]; o++) {
          let s = bias(l)[o];
          for (let i = 0; i < dims[l - 1]; i++) s += W(l)[o * dims[l - 1] + i] * inp[i];
          out.push(l < 3 ? sig(s) : s);
        }
        acts.push(out);
      }
      const m = Math.max(...acts[3]), e = acts[3].map((v) => Math.exp(v - m)), se = e.reduce((p, q) => p + q, 0);
      let d = e.map((v, k) => (v / se - (k === y[b] ? 1 : 0)) / B);
      const norm = (v: number[]) => Math.hypot(...v);
      norms.dz3 += norm(d);
      for (let l = 3; l >= 1; l--) {
        const back: number[] = [];
        for (let i = 0; i < dims[l - 1]; i++) { let s = 0; for (let o = 0; o < dims[l]; o++) s += W(l)[o * dims[l - 1] + i] * d[o]; back.push(s); }
        if (l === 1) { norms.dx += norm(back); if (b === 0) dx0 = back; break; }
        const dz = back.map((v, i) => v * acts[l - 1][i] * (1 - acts[l - 1][i]));
        if (l === 3) { norms.da2 += norm(back); norms.dz2 += norm(dz); } else { norms.da1 += norm(back); norms.dz1 += norm(dz); dz.forEach((v, i) => (meanAbsDz1[i] += Math.abs(v) / B)); }
        d = dz;
      }
    }
    const close = (a: number | null, b: number) => expect(Math.abs(a! - b) / Math.max(Math.abs(a!) + Math.abs(b), 1e-300)).toBeLessThan(1e-9);
    const [s3, s2, s1] = seen.walk.stages;
    expect(seen.walk.stages.map((s) => s.name)).toEqual(["dense3", "dense2", "dense1"]);
    close(s3.inNorm, norms.dz3); close(s3.deltaNorm, norms.dz3); close(s3.outNorm, norms.da2);
    close(s2.inNorm, norms.da2); close(s2.deltaNorm, norms.dz2); close(s2.outNorm, norms.da1);
    close(s1.inNorm, norms.da1); close(s1.deltaNorm, norms.dz1); close(s1.outNorm, norms.dx);
    // what one layer passes down is what the layer below receives
    expect(Array.from(s2.inVec)).toEqual(Array.from(s3.outVec));
    expect(s1.outVec.length).toBe(784);
    for (let i = 0; i < 784; i++) expect(Math.abs(s1.outVec[i] - dx0[i])).toBeLessThanOrEqual(1e-6 * Math.abs(dx0[i]) + 1e-12);
    expect(s2.meanDf).toBeGreaterThan(0);
    expect(s2.meanDf).toBeLessThanOrEqual(0.25);
    // the per-unit view of dense1: mean |δ_u| over the batch
    const u1 = seen.units.find((u) => u.name === "dense1")!;
    expect(u1.units).toBe(5);
    for (let k = 0; k < 5; k++) expect(Math.abs(u1.meanAbsDelta[k] - meanAbsDz1[k])).toBeLessThan(1e-6 * meanAbsDz1[k]);
    // the record and the walk agree on δ
    close(seen.record.layers[0].deltaNorm, norms.dz1);
    expect(seen.walk.label).toBe(y[0]);
  });

  it("unitStats averages |δ| per channel of a convolution and caps the units shown", () => {
    const model = buildModel({ layers: [{ type: "conv2d", filters: 2, kernel: 3, padding: 1, activation: "relu" }, { type: "flatten" }, { type: "dense", units: 80, activation: "tanh" }, { type: "dense", units: 10 }] }, [1, 4, 4], 10, { seed: 2 });
    const B = 3;
    const x = Float32Array.from({ length: B * 16 }, (_, i) => ((i * 7) % 11) / 11);
    model.forward(x, B, true);
    model.backward(Float32Array.from({ length: B * 10 }, (_, i) => ((i % 5) - 2) / 10), B);
    const stats = unitStats(model, B);
    expect(stats.map((s) => s.name)).toEqual(["conv1", "dense1", "dense2"]);
    expect(stats[0].units).toBe(2);
    const dz = model.allLayers[0].probe()!.dz!; // [B, 2, 4, 4]
    let c1 = 0;
    for (let b = 0; b < B; b++) for (let k = 0; k < 16; k++) c1 += Math.abs(dz[b * 32 + 16 + k]) / 16 / B;
    expect(stats[0].meanAbsDelta[1]).toBeCloseTo(c1, 6);
    expect(stats[1].units).toBe(80);
    expect(stats[1].meanAbsDelta.length).toBe(64); // MAX_UNITS
    expect(stats[2].meanDf).toBe(1); // linear output: f′ = 1 everywhere
  });
});

describe("describing and checking a model", () => {
  it("counts the seed network's parameters (784·5+5 + 5·5+5 + 5·10+10 = 4015) and names its layers", () => {
    const config = seedConfig();
    const info = checkModel(config.model, [784], 10, 1, 1e6);
    expect(info.params).toBe(4015);
    expect(info.layers.map((l) => [l.name, l.path, l.activation])).toEqual([["dense1", "model.layers[0]", "sigmoid"], ["dense2", "model.layers[1]", "sigmoid"], ["dense3", "model.layers[2]", "linear"]]);
    expect(describeModel(buildModel(config.model, [784], 10), config.model.layers, 10)).toEqual(info);
  });

  it("nests a residual block's layers one level down and refuses models over the limit in one line", () => {
    const config = seedConfig([{ type: "dense", units: 5, activation: "sigmoid" }, { type: "residual", layers: [{ type: "dense", units: 5, activation: "sigmoid" }] }, { type: "dense", units: 10 }]);
    const info = checkModel(config.model, [784], 10, 1, 1e6);
    expect(info.layers.map((l) => [l.path, l.depth])).toEqual([["model.layers[0]", 0], ["model.layers[1]", 0], ["model.layers[1].layers[0]", 1], ["model.layers[2]", 0]]);
    expect(() => checkModel(config.model, [784], 10, 1, 1000, "the browser lab")).toThrow("model.layers: 4,015 parameters; the browser lab builds at most 1,000");
  });
});

describe("recording more steps", () => {
  it("changes no number of the steps the config records (the lab records the first steps densely)", () => {
    class Dense extends Trainer { override isRecorded(s: number): boolean { return super.isRecorded(s) || s < 5 || s % 2 === 1; } }
    const config = { ...seedConfig(), record: { every: 4, histograms: true } };
    const plain = new Trainer(config, data), dense = new Dense(config, data);
    const a: StepRecord[] = [], b: StepRecord[] = [];
    while (!plain.done) { const r = plain.trainStep(); if (r) a.push(r); }
    while (!dense.done) { const r = dense.trainStep(); if (r && plain.isRecorded(r.step)) b.push(r); }
    expect(a.map((r) => r.step)).toEqual([0, 4, 8, 12, 13]);
    expect(b).toEqual(a);
    expect(dense.isRecorded(3)).toBe(true);
  });
});
