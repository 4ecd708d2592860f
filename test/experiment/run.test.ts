// The seed experiment end to end through the real CLI: the run folder's contents, determinism
// (same seed ⇒ byte-identical metrics.jsonl), and that training actually learns.
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel } from "../../src/core/model.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { datasetFor, openRun } from "../../src/experiment/run-folder/session.ts";
import { Trainer } from "../../src/experiment/trainer.ts";
import { loadWeights } from "../../src/experiment/weights.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

const seedCfg = () => JSON.parse(readFileSync(join(import.meta.dirname, "../../experiments/seed.json"), "utf8"));

describe("gradlab run", () => {
  it("writes the run folder the README documents and is byte-identical for the same seed", () => {
    const dir = tempDir();
    const args = (out: string, seed = "3", png = false) => ["run", "seed", "--train", "3000", "--test", "500", "--epochs", "2", "--seed", seed, "--every", "10", "--out", out, "--quiet", ...(png ? ["--png"] : ["--no-png"])];
    const a = gradlab(args(join(dir, "a"), "3", true));
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    const b = gradlab(args(join(dir, "b")));
    expect(b.code).toBe(0);
    expect(readdirSync(join(dir, "a")).sort()).toEqual(["charts", "config.json", "metrics.csv", "metrics.jsonl", "report.html", "run.json", "summary.json", "weights.safetensors"]);
    const ma = readFileSync(join(dir, "a", "metrics.jsonl"));
    expect(ma.equals(readFileSync(join(dir, "b", "metrics.jsonl")))).toBe(true);
    expect(readFileSync(join(dir, "a", "weights.safetensors")).equals(readFileSync(join(dir, "b", "weights.safetensors")))).toBe(true);
    // a different seed gives a different run
    gradlab(args(join(dir, "c"), "4"));
    expect(ma.equals(readFileSync(join(dir, "c", "metrics.jsonl")))).toBe(false);

    const lines = ma.toString().trim().split("\n").map((l) => JSON.parse(l));
    // 3000/32 → 94 steps per epoch, 188 in all: steps 0, 10, …, 180 and the last, 187
    expect(lines.map((l) => l.step)).toEqual([...Array.from({ length: 19 }, (_, i) => i * 10), 187]);
    const l0 = lines[0];
    expect(l0.layers.map((l: { name: string }) => l.name)).toEqual(["dense1", "dense2", "dense3"]);
    for (const key of ["gradNorm", "gradMeanAbs", "gradMaxAbs", "updateRatio"]) expect(typeof l0.layers[0].params.weight[key]).toBe("number");
    expect(l0.layers[0].activation.saturated).toBeGreaterThanOrEqual(0);
    expect(l0.layers[2].gain).toBeNull();
    expect(l0.layers[0].gain).toBeCloseTo(l0.layers[0].deltaNorm / l0.layers[1].deltaNorm, 12);

    const config = JSON.parse(readFileSync(join(dir, "a", "config.json"), "utf8"));
    expect(config.train).toEqual({ epochs: 2, batchSize: 32, seed: 3, evalBatchSize: 1000, checkpointEvery: 1000, onNonFinite: "stop" });
    const summary = JSON.parse(readFileSync(join(dir, "a", "summary.json"), "utf8"));
    expect(summary.steps).toBe(188);
    expect(summary.testAccuracy).toBeGreaterThan(0);
    expect(summary.diagnosis.text).toContain("dense1");
    expect(summary.command).toContain("gradlab run seed");

    // the saved weights reproduce the reported test accuracy
    const cfg = parseConfig(config);
    const model = buildModel(cfg.model, [784], 10);
    loadWeights(model, readFileSync(join(dir, "a", "weights.safetensors")), "weights");
    const t = new Trainer(cfg, datasetFor(cfg));
    t.model.params.forEach((p, i) => p.value.set(model.params[i].value));
    expect(t.evaluate("test").accuracy).toBe(summary.testAccuracy);
  });

  it("the seed network learns: one epoch of full MNIST reaches > 78% (we measured 83.5%; PyTorch 82.1% after epoch 1, seed 1)", () => {
    const cfg = parseConfig({ ...seedCfg(), train: { epochs: 1, batchSize: 32, seed: 1 } });
    const { summary, first } = openRun({ mode: "fresh", config: cfg, outDir: null }, "test").runSync();
    expect(summary.testAccuracy).toBeGreaterThan(0.78);
    expect(first.loss).toBeGreaterThan(2.0); // ≈ ln 10 = 2.30 at initialization
    expect(summary.finalLoss).toBeLessThan(0.75);
  });

  it("a relu MLP learns from a few thousand examples (> 85% test accuracy after 3 epochs of 4000)", () => {
    const cfg = parseConfig({
      name: "relu-small", data: { train: 4000, test: 2000 },
      model: { layers: [{ type: "dense", units: 64, activation: "relu", init: "he" }, { type: "dense", units: 10 }] },
      optimizer: { type: "sgd", lr: 0.1, momentum: 0.9 }, train: { epochs: 3, seed: 2 },
    });
    const { summary } = openRun({ mode: "fresh", config: cfg, outDir: null }, "test").runSync();
    expect(summary.testAccuracy).toBeGreaterThan(0.85);
    expect(summary.epochs[2].trainLoss).toBeLessThan(summary.epochs[0].trainLoss);
  });
});

describe("bad input: one line on stderr, exit code 2, nothing half-written", () => {
  const cases: [string, (dir: string) => string[], RegExp][] = [
    ["unknown preset", (d) => ["run", "sed", "--out", join(d, "o")], /^gradlab: unknown preset or file "sed"; did you mean "seed"\? presets: .*seed/],
    ["bad --epochs", (d) => ["run", "seed", "--epochs", "x", "--out", join(d, "o")], /train\.epochs: expected a positive integer; got "x"/],
    ["misspelled activation", (d) => {
      const cfg = seedCfg(); cfg.model.layers[1].activation = "sigmod";
      writeFileSync(join(d, "bad.json"), JSON.stringify(cfg));
      return ["run", join(d, "bad.json"), "--out", join(d, "o")];
    }, /model\.layers\[1\]\.activation: expected one of sigmoid, tanh, .*got "sigmod"/],
    ["dense after an image without flatten", (d) => {
      const cfg = seedCfg(); cfg.data.view = "image";
      writeFileSync(join(d, "bad.json"), JSON.stringify(cfg));
      return ["run", join(d, "bad.json"), "--out", join(d, "o")];
    }, /model\.layers\[0\]: dense expects a flat input, got shape \[1, 28, 28\]; add \{"type": "flatten"\} before it/],
    ["last layer of the wrong width", (d) => {
      const cfg = seedCfg(); cfg.model.layers[2].units = 7;
      writeFileSync(join(d, "bad.json"), JSON.stringify(cfg));
      return ["run", join(d, "bad.json"), "--out", join(d, "o")];
    }, /model\.layers: the last layer must output 10 values \(one per class\); it outputs \[7\]/],
    ["invalid JSON", (d) => { writeFileSync(join(d, "bad.json"), "{\"name\": \"x\",}"); return ["run", join(d, "bad.json"), "--out", join(d, "o")]; }, /bad\.json:1:\d+: invalid JSON/],
    ["unknown command", () => ["fly"], /unknown command "fly"/],
    ["unknown option", (d) => ["run", "seed", "--epoch", "2", "--out", join(d, "o")], /[Uu]nknown option/],
    ["grads without --weights", (d) => ["grads", "seed", "--out", join(d, "g.safetensors")], /--weights: required/],
    ["grads with a corrupt weights file", (d) => { writeFileSync(join(d, "w.safetensors"), "garbage!"); return ["grads", "seed", "--weights", join(d, "w.safetensors"), "--out", join(d, "o.safetensors")]; }, /w\.safetensors: /],
    ["grads with a bad range", (d) => ["grads", "seed", "--weights", "x", "--examples", "5:2", "--out", join(d, "o.safetensors")], /--examples: expected A < B/],
  ];
  for (const [what, argsOf, message] of cases) {
    it(what, () => {
      const dir = tempDir();
      const r = gradlab(argsOf(dir));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(existsSync(join(dir, "o"))).toBe(false);
      expect(existsSync(join(dir, "o.safetensors"))).toBe(false);
      expect(readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]);
    });
  }
});

describe("gradlab run --threads 2", () => {
  it("a second thread for the kernels gives the same metrics and weights, byte for byte; other values are refused in one line", () => {
    // An RNN of 128 units on batches of 32: its h·W_hhᵀ products (32 × 128 × 128 = 2^19
    // multiply-adds) and its 4,096-value cell steps are above the split thresholds, so the
    // helper thread computes part of every step (test/core/helper.test.ts checks the split itself).
    const dir = tempDir();
    const file = join(dir, "rnn.json");
    writeFileSync(file, JSON.stringify({
      name: "threads", data: { view: "rows", train: 320, test: 100 },
      model: { layers: [{ type: "rnn", units: 128 }, { type: "dense", units: 10 }] },
      optimizer: { type: "sgd", lr: 0.05 }, train: { epochs: 1 }, record: { every: 3 },
    }));
    const one = gradlab(["run", file, "--out", join(dir, "one"), "--quiet", "--no-png", "--threads", "1"]);
    const two = gradlab(["run", file, "--out", join(dir, "two"), "--quiet", "--no-png", "--threads", "2"]);
    // without --threads the run chooses from the model's shapes (2 for this RNN: accel/threads.ts)
    const auto = gradlab(["run", file, "--out", join(dir, "auto"), "--quiet", "--no-png"]);
    expect([one.code, two.code, two.stderr, auto.code, auto.stderr]).toEqual([0, 0, "", 0, ""]);
    for (const f of ["metrics.jsonl", "weights.safetensors"]) {
      expect(readFileSync(join(dir, "two", f)).equals(readFileSync(join(dir, "one", f))), f).toBe(true);
      expect(readFileSync(join(dir, "auto", f)).equals(readFileSync(join(dir, "one", f))), f).toBe(true);
    }
    for (const [args, message] of [
      [["--threads", "4"], `gradlab: --threads: expected 1 or 2; got "4"`],
      [["--threads", "two"], `gradlab: --threads: expected 1 or 2; got "two"`],
    ] as const) {
      const r = gradlab(["run", file, "--out", join(dir, "bad"), ...args]);
      expect([r.code, r.stderr.trim()]).toEqual([2, message]);
      expect(existsSync(join(dir, "bad"))).toBe(false);
    }
    const suite = gradlab(["run", "depth", "--threads", "2", "--out", join(dir, "suite")]);
    expect([suite.code, suite.stderr.trim()]).toEqual([2, "gradlab: --threads 2: for a single run; a suite already runs its runs in parallel (--workers)"]);
  }, 300_000); // six CLI processes, three of them training (one with a helper thread): minutes on a busy 2-core machine
});
