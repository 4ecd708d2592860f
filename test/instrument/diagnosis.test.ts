/**
 * The graded verdict (src/instrument/diagnosis.ts, docs/diagnosis.md) on real short runs of the
 * presets — the seed network, the depth preset's depth-8 run, the exploding preset, a relu
 * network at lr 1e6 — and on hand-made records for each verdict's rule. Expected numbers: the
 * runs' own metrics records (the rule applied by hand to them), and the thresholds' definitions.
 */
import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/experiment/config.ts";
import { resolveExperimentArg } from "../../src/experiment/config-file.ts";
import { openRun } from "../../src/experiment/run-folder/session.ts";
import {
  DIVERGE_LOSS, SEVERE_RATIO, VANISH_RATIO, diagnose, headlineOf, type Verdict,
} from "../../src/instrument/diagnosis.ts";
import { profileLayers } from "../../src/instrument/profile.ts";
import type { StepRecord } from "../../src/instrument/recorder.ts";
import { dense } from "../report/synthetic.ts";

/** A preset's config (or one run of a suite preset), with the training cut down. */
function preset(name: string, label: string | null, set: (raw: Record<string, any>) => void): Config {
  const e = resolveExperimentArg(name);
  const config = e.kind === "suite" ? e.suite.runs.find((r) => r.label === label)!.config : e.config;
  const raw = JSON.parse(JSON.stringify(config));
  set(raw);
  return parseConfig(raw, name);
}

describe("the presets, trained briefly", () => {
  it("the seed network (784-5-5-10 sigmoid) is vanishing (mild); at step 0 ‖δ‖ orders dense1 < dense2 < dense3", () => {
    const config = preset("seed", null, (c) => { c.data.train = 5000; c.data.test = 1000; c.train.epochs = 1; });
    const { summary, records } = openRun({ mode: "fresh", config, outDir: null }, "test").runSync();
    const d = summary.diagnosis;
    expect(d.verdict).toBe("vanishing");
    expect(d.grade).toBe("mild");
    const init = records[0].layers;
    expect(init.map((l) => l.name)).toEqual(["dense1", "dense2", "dense3"]);
    expect(init[0].deltaNorm!).toBeLessThan(init[1].deltaNorm!);
    expect(init[1].deltaNorm!).toBeLessThan(init[2].deltaNorm!);
    // the ratio and the per-layer factor, recomputed by hand from the step-0 record
    const ratio = init[0].deltaNorm! / init[2].deltaNorm!;
    expect(d.deltaRatio).toBe(ratio);
    expect(d.layerFactor!).toBeCloseTo(Math.sqrt(ratio), 12);
    expect(ratio).toBeLessThan(VANISH_RATIO);
    expect(ratio).toBeGreaterThan(SEVERE_RATIO);
    // each sigmoid layer passes about ×0.13 (√(1/59) = 0.130 on these 5,000 examples), and two more would give ×0.13² more
    expect(d.layerFactor!).toBeGreaterThan(0.1);
    expect(d.layerFactor!).toBeLessThan(0.16);
    const factor = `×${Number(d.layerFactor!.toPrecision(2))}`;
    expect(d.text).toContain(`each sigmoid layer passes on about ${factor} of the error it receives`);
    expect(d.text).toContain(`Two more such layers would shrink it by another ${factor}²`);
    expect(d.text).toMatch(/At initialization dense1 gets 1\/\d+ of the error that reaches dense3/);
    expect(d.text).toContain("Over training");
    expect(d.headline).toBe(headlineOf("vanishing", "mild"));
    expect(d.text.startsWith("Verdict: vanishing gradients (mild)")).toBe(true);
    // ‖∂L/∂W‖ keeps its own field and meaning (first ÷ last weighted layer at step 0)
    expect(d.depthRatio).toBe(init[0].params.weight.gradNorm / init[2].params.weight.gradNorm);
  });

  it("the depth preset's depth-8 run (8 × 32 sigmoid) is vanishing (severe)", () => {
    const config = preset("depth", "depth=8", (c) => { c.data.train = 1000; c.data.test = 200; c.train.epochs = 1; });
    expect(config.model.layers.filter((l) => l.type === "dense")).toHaveLength(9);
    const { summary, records } = openRun({ mode: "fresh", config, outDir: null }, "test").runSync();
    const d = summary.diagnosis;
    expect(d.verdict).toBe("vanishing");
    expect(d.grade).toBe("severe");
    const p = profileLayers(records[0]);
    expect(d.deltaRatio).toBe(p[0].deltaNorm! / p[8].deltaNorm!);
    expect(d.deltaRatio!).toBeLessThan(SEVERE_RATIO);
  });

  it("the exploding preset is exploding (clipped) or stopped (unclipped)", () => {
    for (const label of ["no-clipping", "clip-norm-1"]) {
      const config = preset("exploding", label, (c) => { c.data.train = 320; c.data.test = 64; });
      const { summary } = openRun({ mode: "fresh", config, outDir: null }, "test").runSync();
      const v = summary.diagnosis.verdict;
      expect(["exploding", "stopped"], label).toContain(v);
      if (summary.status === "stopped") expect(v).toBe("stopped");
    }
  });

  it("a relu network at lr 1e6 is diverged (the loss grows by orders of magnitude), not vanishing or healthy", () => {
    const config = preset("seed", null, (c) => {
      c.data.train = 3200; c.data.test = 500; c.train.epochs = 1; c.optimizer.lr = 1e6;
      for (const l of c.model.layers.slice(0, 2)) l.activation = "relu";
    });
    const { summary, records } = openRun({ mode: "fresh", config, outDir: null }, "test").runSync();
    expect(summary.status).toBe("complete");
    const d = summary.diagnosis;
    expect(d.verdict).toBe("diverged");
    expect(d.grade).toBeNull();
    expect(summary.finalLoss).toBeGreaterThan(DIVERGE_LOSS * records[0].loss);
    expect(d.findings[0]).toMatch(/^The training loss grew from/);
  });
});

/** A record of dense layers with the given ‖δ‖ per layer (input first). */
function rec(step: number, deltas: number[], extra: Partial<StepRecord> = {}, act: { dead?: number } = {}): StepRecord {
  return {
    step, epoch: 0, loss: 2.3, accuracy: 0.1, ...extra,
    layers: deltas.map((d, i) => dense(`dense${i + 1}`, 0.1, d, i < deltas.length - 1 ? d / deltas[i + 1] : null, i < deltas.length - 1 ? { dead: act.dead ?? null } : null)),
  };
}

describe("each verdict's rule, on hand-made records", () => {
  const verdict = (first: StepRecord, last: StepRecord, ctx = {}): Verdict => diagnose(first, last, null, { records: [first, last], ...ctx }).verdict;

  it("vanishing below a tenth, severe below a thousandth, healthy in between 0.1 and 10, exploding above 10", () => {
    expect(verdict(rec(0, [0.5, 1]), rec(10, [0.5, 1]))).toBe("healthy");
    const mild = diagnose(rec(0, [0.05, 0.2, 1]), rec(10, [0.5, 0.8, 1]));
    expect([mild.verdict, mild.grade]).toEqual(["vanishing", "mild"]);
    expect(mild.layerFactor!).toBeCloseTo(Math.sqrt(0.05), 12);
    expect(mild.text).toContain("the gap closes as the weights grow");
    const severe = diagnose(rec(0, [5e-4, 0.02, 1]), rec(10, [0.5, 0.8, 1]));
    expect([severe.verdict, severe.grade]).toEqual(["vanishing", "severe"]);
    // a gap that stays below a hundredth over training is severe too
    const stays = diagnose(rec(0, [0.005, 0.1, 1]), rec(10, [0.004, 0.1, 1]), null, { records: [rec(0, [0.005, 0.1, 1]), rec(5, [0.004, 0.1, 1]), rec(10, [0.004, 0.1, 1])] });
    expect([stays.verdict, stays.grade]).toEqual(["vanishing", "severe"]);
    expect(verdict(rec(0, [20, 3, 1]), rec(10, [20, 3, 1]))).toBe("exploding");
  });

  it("normalization layers are left out of the comparison", () => {
    const r = rec(0, [0.05, 1]);
    r.layers.splice(1, 0, { ...dense("bn1", 0.1, 1e-6, null, null), type: "batchnorm" });
    expect(diagnose(r, r).deltaRatio).toBe(0.05);
  });

  it("dead: half of a relu layer's units dead at the end", () => {
    expect(verdict(rec(0, [0.5, 1]), rec(10, [0.5, 1], {}, { dead: 0.6 }))).toBe("dead");
    expect(verdict(rec(0, [0.5, 1]), rec(10, [0.5, 1], {}, { dead: 0.3 }))).toBe("healthy");
  });

  it("diverged: accuracy that reached 3× chance and fell back to chance; a net that never learnt is not diverged", () => {
    const early = [1, 2, 3, 4, 5].map((s) => rec(s, [0.5, 1], { accuracy: 0.6 }));
    const late = [6, 7, 8, 9, 10].map((s) => rec(s, [0.5, 1], { accuracy: 0.1 }));
    const all = [rec(0, [0.5, 1]), ...early, ...late];
    expect(diagnose(all[0], all[all.length - 1], null, { records: all, epochs: [{ epoch: 1, testAccuracy: 0.1 }] }).verdict).toBe("diverged");
    const never = [rec(0, [0.5, 1]), ...late];
    expect(diagnose(never[0], never[never.length - 1], null, { records: never, epochs: [{ epoch: 1, testAccuracy: 0.1 }] }).verdict).toBe("healthy");
  });

  it("stopped: training ended on a NaN/Inf; non-finite steps that did not stop it are exploding", () => {
    const r = rec(0, [0.5, 1]);
    const d = diagnose(r, r, { step: 3, reason: "the loss became NaN at step 3" });
    expect(d.verdict).toBe("stopped");
    expect(d.findings[0]).toBe("Training stopped at step 3: the loss became NaN at step 3.");
    expect(diagnose(r, r, null, { nonFinite: { steps: 2, first: { step: 4, cause: "loss", tensor: null } }, onNonFinite: "continue" }).verdict).toBe("exploding");
  });

  it("every verdict has its own headline", () => {
    const all: Verdict[] = ["healthy", "vanishing", "exploding", "diverged", "dead", "stopped"];
    expect(new Set(all.map((v) => headlineOf(v, null))).size).toBe(all.length);
    expect(headlineOf("vanishing", "severe")).not.toBe(headlineOf("vanishing", "mild"));
  });
});
