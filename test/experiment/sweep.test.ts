// Suites and sweeps: expansion of grids, variants, templates and repeat; sharding covers the
// grid exactly once; two worker threads give the same metrics as running one by one.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { expandSuite, setPath } from "../../src/experiment/suite.ts";
import { parseShard, shardPlans } from "../../src/experiment/sweep.ts";
import { openRun, type RunSession } from "../../src/experiment/run-folder/session.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

/**
 * Each of these tests runs several sweeps through the CLI: about a minute on an idle two-core
 * machine, several on a shared one, where vitest's default timeout would fail them for the load.
 */
const SWEEP_TIMEOUT = 600_000;

const base = {
  name: "x", data: { train: 600, test: 200 },
  model: { layers: [{ repeat: "$depth", layers: [{ type: "dense", units: 8, activation: "$act" }] }, { type: "dense", units: 10 }] },
  optimizer: { type: "sgd", lr: 0.1 }, train: { epochs: 1 }, record: { every: 5 },
};
const sweep = { name: "mini", description: "d", base, grid: { act: ["sigmoid", "relu"], depth: [1, 3], "train.seed": [1, 2] } };

describe("suite expansion", () => {
  it("grid × variants in a fixed order, templates substituted with their JSON types, repeat expanded", () => {
    const s = expandSuite({ ...sweep, variants: [{ label: "plain" }, { label: "momentum", set: { "optimizer.momentum": 0.9 } }] }, "s.json");
    expect(s.runs).toHaveLength(16);
    expect(s.runs[0].label).toBe("plain,act=sigmoid,depth=1,seed=1");
    expect(s.runs[1].label).toBe("plain,act=sigmoid,depth=1,seed=2");
    const r = s.runs.find((p) => p.label === "momentum,act=relu,depth=3,seed=2")!;
    expect(r.config.model.layers).toHaveLength(4);
    expect(r.config.model.layers.slice(0, 3).every((l) => l.type === "dense" && l.activation === "relu")).toBe(true);
    expect(r.config.optimizer.momentum).toBe(0.9);
    expect(r.config.train.seed).toBe(2);
    expect(r.config.name).toBe("mini/momentum,act=relu,depth=3,seed=2");
    expect(r.vars).toEqual({ act: "relu", depth: 3, "train.seed": 2 });
    // a variant's `set` value may use template variables too
    const t = expandSuite({ ...sweep, grid: { act: ["tanh"], depth: [1] }, variants: [{ label: "wide", set: { "model.layers[1]": { type: "dense", units: 10, activation: "$act" } } }] }, "s.json");
    expect(t.runs[0].config.model.layers[1]).toEqual({ type: "dense", units: 10, activation: "tanh" });
  });
  it("top-level vars are shared constants, substituted recursively, and kept out of labels", () => {
    const s = expandSuite({
      name: "v", vars: { hidden: [{ type: "dense", units: 4, activation: "$act" }], out: { type: "dense", units: 10 } },
      base: { ...base, model: { layers: [{ repeat: 2, layers: "$hidden" }, "$out"] } }, grid: { act: ["elu"] },
    }, "s.json");
    expect(s.runs[0].label).toBe("act=elu");
    expect(s.runs[0].vars).toEqual({ act: "elu" });
    expect(s.runs[0].config.model.layers).toEqual([
      { type: "dense", units: 4, activation: "elu" }, { type: "dense", units: 4, activation: "elu" }, { type: "dense", units: 10 }]);
    expect(() => expandSuite({ name: "loop", vars: { a: "$a" }, base: { ...base, model: { layers: ["$a"] } } }, "s.json")).toThrow(/nest more than 16 levels/);
  });
  it("errors name the suite, the run and the field", () => {
    expect(() => expandSuite({ ...sweep, grid: { act: ["sigmod"], depth: [1] } }, "s.json"))
      .toThrow(new InputError(`s.json (run act=sigmod,depth=1): model.layers[0].activation: expected one of sigmoid, tanh, relu, leaky_relu, elu, gelu, softsign, linear; got "sigmod"`));
    expect(() => expandSuite({ ...sweep, grid: { depth: [1] } }, "s.json")).toThrow(/template variable \$act has no value/);
    expect(() => expandSuite({ ...sweep, grid: { act: [] } }, "s.json")).toThrow(/grid\.act: expected a non-empty list/);
    expect(() => expandSuite({ ...sweep, extra: 1 }, "s.json")).toThrow(/extra: unknown key/);
    expect(() => setPath({}, "model..x", 1, "w")).toThrow(/expected a config path/);
    expect(() => setPath({ a: [] }, "a[3].b", 1, "w")).toThrow(/index 3 is out of range/);
    expect(() => setPath({}, "__proto__.x", 1, "w")).toThrow(InputError);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
  it("shards i/n partition the runs: every run exactly once", () => {
    const s = expandSuite(sweep, "s.json");
    for (const n of [1, 2, 3, 5]) {
      const seen = Array.from({ length: n }, (_, i) => shardPlans(s.runs, [i, n]).map((p) => p.index)).flat().sort((a, b) => a - b);
      expect(seen).toEqual(s.runs.map((_, i) => i));
    }
    expect(() => parseShard("2/2")).toThrow(/--shard: expected i\/n/);
    expect(parseShard("1/3")).toEqual([1, 3]);
  });
});

describe("gradlab sweep", () => {
  it("2 worker threads give byte-identical metrics to running the runs one by one; shards 0/2 + 1/2 cover the grid once", { timeout: SWEEP_TIMEOUT }, () => {
    const dir = tempDir();
    const file = join(dir, "sweep.json");
    writeFileSync(file, JSON.stringify({ ...sweep, grid: { act: ["sigmoid", "relu"], depth: [1, 2] } }));
    const threaded = gradlab(["sweep", file, "--workers", "2", "--out", join(dir, "t"), "--quiet"]);
    expect(threaded.stderr).toBe("");
    expect(threaded.code).toBe(0);
    const serial = gradlab(["sweep", file, "--workers", "1", "--out", join(dir, "s"), "--quiet"]);
    expect(serial.code).toBe(0);
    const s0 = gradlab(["sweep", file, "--workers", "1", "--shard", "0/2", "--out", join(dir, "sh"), "--quiet"]);
    const s1 = gradlab(["sweep", file, "--workers", "1", "--shard", "1/2", "--out", join(dir, "sh"), "--quiet"]);
    expect([s0.code, s1.code]).toEqual([0, 0]);
    const labels = ["act=relu,depth=1", "act=relu,depth=2", "act=sigmoid,depth=1", "act=sigmoid,depth=2"];
    expect(readdirSync(join(dir, "t")).filter((f) => !f.endsWith(".json")).sort()).toEqual(["compare", ...labels].sort());
    expect(readFileSync(join(dir, "t", "compare", "report.html"), "utf8")).toContain("act_sigmoid_depth_2"); // labels made safe for ids
    for (const l of labels) {
      const m = readFileSync(join(dir, "t", l, "metrics.jsonl"));
      expect(m.length).toBeGreaterThan(100);
      expect(m.equals(readFileSync(join(dir, "s", l, "metrics.jsonl"))), l).toBe(true);
      expect(m.equals(readFileSync(join(dir, "sh", l, "metrics.jsonl"))), l).toBe(true);
    }
    const i0 = JSON.parse(readFileSync(join(dir, "sh", "suite.0-of-2.json"), "utf8"));
    const i1 = JSON.parse(readFileSync(join(dir, "sh", "suite.1-of-2.json"), "utf8"));
    expect([...i0.runs, ...i1.runs].map((r: { label: string }) => r.label).sort()).toEqual(labels);
    expect(i0.runs.length).toBe(2);
    const idx = JSON.parse(readFileSync(join(dir, "t", "suite.json"), "utf8"));
    expect(idx.runs.map((r: { testAccuracy: number }) => typeof r.testAccuracy)).toEqual(["number", "number", "number", "number"]);

    // gradlab compare merges the two shards' folders (a suite folder stands for its runs) into one report
    const cmp = gradlab(["compare", join(dir, "sh"), "--out", join(dir, "merged"), "--no-png"]);
    expect(cmp.stderr).toBe("");
    expect(cmp.code).toBe(0);
    for (const l of labels) expect(cmp.stdout).toContain(join(dir, "sh", l));
    const merged = readFileSync(join(dir, "merged", "report.html"), "utf8");
    for (const l of ["act_relu_depth_1", "act_sigmoid_depth_2"]) expect(merged).toContain(l);
    expect(readFileSync(join(dir, "merged", "runs.csv"), "utf8").trim().split("\n")).toHaveLength(5);
    // gradlab report re-renders a run's report; bad folders are one line and exit 2
    const rep = gradlab(["report", join(dir, "t", labels[0]), "--no-png"]);
    expect(rep.code).toBe(0);
    const missing = gradlab(["compare", join(dir, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/nope: no such run folder/);
  });
});

describe("gradlab sweep --resume", () => {
  it("carries on an interrupted sweep: finished runs kept, unfinished ones resumed, missing ones run — metrics byte-identical to an uninterrupted sweep", { timeout: SWEEP_TIMEOUT }, () => {
    const dir = tempDir();
    const file = join(dir, "sweep.json");
    const spec = { ...sweep, base: { ...base, train: { epochs: 1, checkpointEvery: 4 } }, grid: { act: ["sigmoid", "relu"], depth: [1, 2] } };
    writeFileSync(file, JSON.stringify(spec));
    const ref = gradlab(["sweep", file, "--workers", "2", "--out", join(dir, "ref"), "--quiet"]);
    expect(ref.code).toBe(0);

    // The state a Ctrl-C leaves: one run finished, two stopped part-way (checkpoints on disk), one not started.
    const plans = expandSuite(spec, file).runs;
    const root = join(dir, "r");
    openRun({ mode: "fresh", config: plans[0].config, outDir: join(root, plans[0].label) }, "test").runSync();
    for (const [i, at] of [[1, 7], [3, 1]]) {
      const session: RunSession = openRun({ mode: "fresh", config: plans[i].config, outDir: join(root, plans[i].label) }, "test", {}, { interrupt: () => (session.trainer.step >= at ? "test" : null) });
      expect(session.runSync().interrupted).toBe("test");
    }

    // Without --resume an unfinished run is refused, and the message says how to carry on.
    const plain = gradlab(["sweep", file, "--workers", "1", "--out", root, "--quiet"]);
    expect(plain.code).toBe(2);
    expect(plain.stdout).toContain(`${plans[1].label}: error: `);
    expect(plain.stdout).toMatch(/holds an unfinished run; .*run the sweep again with --resume/);

    const resumed = gradlab(["sweep", file, "--workers", "2", "--out", root, "--quiet", "--resume"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`${plans[0].label}: test accuracy`);
    expect(resumed.stdout).toMatch(new RegExp(`${plans[0].label.replace(/[=,]/g, ".")}: test accuracy .*\\(finished before; kept\\)`));
    // an interrupted run writes a checkpoint where it stops: resumed from steps 7 and 1
    expect(resumed.stdout).toMatch(new RegExp(`${plans[1].label.replace(/[=,]/g, ".")}: test accuracy .*\\(resumed from step 7\\)`));
    expect(resumed.stdout).toMatch(new RegExp(`${plans[3].label.replace(/[=,]/g, ".")}: test accuracy .*\\(resumed from step 1\\)`));
    for (const p of plans) {
      const m = readFileSync(join(root, p.label, "metrics.jsonl"));
      expect(m.equals(readFileSync(join(dir, "ref", p.label, "metrics.jsonl"))), p.label).toBe(true);
      expect(JSON.parse(readFileSync(join(root, p.label, "summary.json"), "utf8")).status).toBe("complete");
    }
    const idx = JSON.parse(readFileSync(join(root, "suite.json"), "utf8"));
    expect(idx.runs.map((r: { error: string | null }) => r.error)).toEqual([null, null, null, null]);

    // A changed suite does not silently mix with the old runs.
    const changed = gradlab(["sweep", file, "--workers", "1", "--out", root, "--quiet", "--resume", "--epochs", "2"]);
    expect(changed.code).toBe(2);
    expect(changed.stdout).toMatch(/holds a run of another config than this one \(config\.json differs\); delete the folder or choose another --out/);
  });
});
