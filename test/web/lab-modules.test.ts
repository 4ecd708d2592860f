// The lab's pure modules in Node: metrics files in and out (against real Trainer records), the
// bounded record store, the remedies (each gives a network the engine builds), the backprop
// walk's arithmetic, the editor's error placement, the learn panel's math, the kernel threads a
// run takes and how the lab says so, and the rule that the page (main thread) takes only types
// from src/core and no kernel code.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel } from "../../src/core/model.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { viewShape } from "../../src/data/views.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { Trainer } from "../../src/experiment/trainer.ts";
import type { StepRecord } from "../../src/instrument/recorder.ts";
import { errorLayerPath } from "../../src/web/editor.ts";
import { cliFor, metricsJsonl, metricsToCsv, parseMetricsFile, safeName } from "../../src/web/io.ts";
import { RecordStore } from "../../src/web/lab-run.ts";
import { ascent, gradient, hills, powers } from "../../src/web/learn.ts";
import type { Walk, WalkStage } from "../../src/web/protocol.ts";
import { REMEDIES, remedy, remedyFor } from "../../src/web/remedies.ts";
import { defaultState, sideConfig } from "../../src/web/state.ts";
import { walkPoints } from "../../src/web/walk-view.ts";
import { chooseThreads } from "../../src/accel/threads.ts";
import { decideThreads, threadsText } from "../../src/web/thread-choice.ts";

const ROOT = join(import.meta.dirname, "../..");
const seedRaw = () => sideConfig(defaultState(), "a");

/** Records of a short real run (300 examples, 10 steps, recorded every 3). */
function shortRun(): StepRecord[] {
  const config = parseConfig({ ...seedRaw(), data: { dataset: "mnist", view: "flat", train: 320, test: 100 }, train: { epochs: 1, batchSize: 32, seed: 3 }, record: { every: 3 } });
  const t = new Trainer(config, loadDataset("mnist", { train: 320, test: 100 }));
  const out: StepRecord[] = [];
  while (!t.done) { const r = t.trainStep(); if (r) out.push(r); }
  return out;
}

describe("metrics files", () => {
  const records = shortRun();

  it("export metrics.jsonl as the CLI writes it and read it back unchanged", () => {
    expect(records.map((r) => r.step)).toEqual([0, 3, 6, 9]);
    const text = metricsJsonl(records);
    expect(text.split("\n")).toHaveLength(5);
    expect(JSON.parse(text.split("\n")[0])).toEqual(JSON.parse(JSON.stringify(records[0])));
    expect(parseMetricsFile(text, "metrics.jsonl")).toEqual(JSON.parse(JSON.stringify(records)));
  });

  it("read a metrics.csv back to the same steps and gradient norms", () => {
    const back = parseMetricsFile(metricsToCsv(records), "metrics.csv");
    expect(back.map((r) => r.step)).toEqual([0, 3, 6, 9]);
    expect(back[2].layers.map((l) => l.params.weight.gradNorm)).toEqual(records[2].layers.map((l) => l.params.weight.gradNorm));
  });

  it("refuse hostile or broken files with one line naming the line", () => {
    const ok = JSON.stringify(records[0]);
    const bad = (rec: unknown) => `${ok}\n${JSON.stringify(rec)}\n`;
    const layer = records[0].layers[0];
    expect(() => parseMetricsFile(bad({ ...records[1], layers: [{ ...layer, name: "<img src=x onerror=alert(1)>" }] }), "m.jsonl")).toThrow(/^m\.jsonl: line 2: layers\[0\]\.name must be a layer name of letters, digits and _/);
    expect(() => parseMetricsFile(`${ok}\n{"step":3,"layers":[{"name":"a","type":"dense","params":{"__proto__":{"gradNorm":1}}}]}\n`, "m.jsonl")).toThrow("m.jsonl: line 2: layers[0].params.__proto__ is not allowed");
    expect(() => parseMetricsFile(`${ok}\nnot json\n`, "m.jsonl")).toThrow("m.jsonl: line 2 is not valid JSON (is this a gradlab metrics.jsonl?)");
    expect(() => parseMetricsFile(`${ok}\n${ok}\n`, "m.jsonl")).toThrow("m.jsonl: line 2: step must be greater than the previous record's (0), got 0");
    expect(() => parseMetricsFile("\n\n", "m.jsonl")).toThrow("m.jsonl: no metrics records in the file");
    expect(({} as Record<string, unknown>).gradNorm).toBeUndefined();
  });

  it("give the CLI command and config for a run", () => {
    const c = parseConfig({ ...seedRaw(), name: "my run/<1>" });
    const cli = cliFor(c);
    expect(cli.command).toBe("npx gradlab run my_run_1.json --out runs/my_run_1");
    expect(JSON.parse(cli.json)).toEqual(c);
    expect(safeName("../../etc")).toBe("etc");
  });
});

describe("bounded history", () => {
  it("keeps at most cap records, spanning the run from the first to the last", () => {
    const store = new RecordStore(100);
    const rec = (step: number): StepRecord => ({ step, epoch: 0, loss: 1, accuracy: 0, layers: [] });
    for (let s = 0; s < 100_000; s++) store.push([rec(s)]);
    expect(store.records.length).toBeLessThanOrEqual(100);
    expect(store.records.length).toBeGreaterThanOrEqual(50);
    expect(store.records[0].step).toBe(0);
    expect(store.last?.step).toBe(99_999);
    expect(store.thinned).toBe(true);
    const steps = store.records.map((r) => r.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
  });
});

describe("remedies", () => {
  it("say when they would change nothing (a change of learning rate alone does not count)", () => {
    expect(remedyFor(remedy("lstm"), seedRaw())).toBe("changes nothing here: it needs a plain recurrent (rnn) layer");
    expect(remedyFor(remedy("relu"), seedRaw())).toBeNull();
    const relu = remedy("relu").apply(seedRaw());
    expect(remedyFor(remedy("relu"), { ...relu, optimizer: { type: "sgd", lr: 0.5 } })).toMatch(/^changes nothing here/);
    expect(remedyFor(remedy("clip"), remedy("clip").apply(seedRaw()))).toMatch(/^changes nothing here/);
    const rnn = { ...seedRaw(), data: { dataset: "mnist", view: "rows" }, model: { layers: [{ type: "rnn", units: 16, activation: "relu", recurrentInit: { type: "identity", gain: 1.2 } }, { type: "dense", units: 10 }] } };
    expect(parseConfig(remedy("glorot").apply(rnn)).model.layers[0]).toMatchObject({ init: "glorot", recurrentInit: "glorot" });
  });

  it("each turns the seed network into one the engine builds", () => {
    for (const r of REMEDIES) {
      const config = parseConfig(r.apply(seedRaw()));
      expect(() => buildModel(config.model, viewShape(config.data.view, 28, 28), 10), r.id).not.toThrow();
    }
  });

  it("do what they say on the seed network", () => {
    const layers = (id: string) => (parseConfig(remedy(id).apply(seedRaw())).model.layers as unknown as Record<string, unknown>[]);
    expect(layers("relu").map((l) => [l.activation, l.init])).toEqual([["relu", "he"], ["relu", "he"], [undefined, "standard"]]);
    expect(layers("batchnorm").map((l) => l.type)).toEqual(["dense", "batchnorm", "dense", "batchnorm", "dense"]);
    expect(layers("layernorm").map((l) => [l.type, l.activation])).toEqual([["dense", undefined], ["layernorm", "sigmoid"], ["dense", undefined], ["layernorm", "sigmoid"], ["dense", undefined]]);
    expect(layers("residual").map((l) => l.type)).toEqual(["dense", "residual", "dense"]);
    expect((layers("residual")[1].layers as Record<string, unknown>[])[0].init).toBe("zeros"); // the block starts as the identity
    // relu + He trains plain SGD at 0.1 at most (the remedies preset's rate); adam is left alone
    expect(parseConfig(remedy("relu").apply(seedRaw())).optimizer.lr).toBe(0.1);
    expect(parseConfig(remedy("relu").apply({ ...seedRaw(), optimizer: { type: "adam", lr: 0.002 } })).optimizer.lr).toBe(0.002);
    expect(parseConfig(remedy("glorot").apply(seedRaw())).optimizer.lr).toBe(0.5);
    expect(parseConfig(remedy("clip").apply(seedRaw())).optimizer.clipNorm).toBe(1);
    const rnn = { ...seedRaw(), data: { dataset: "mnist", view: "rows" }, model: { layers: [{ type: "rnn", units: 16, activation: "tanh" }, { type: "dense", units: 10 }] } };
    expect(parseConfig(remedy("lstm").apply(rnn)).model.layers[0]).toEqual({ type: "lstm", units: 16 });
    expect(seedRaw().model).toEqual(defaultState().a.model); // the input is left alone
  });
});

describe("the backprop walk", () => {
  it("visits ∂ℓ/∂logits, then δ after f′(z) and ∂ℓ/∂x after Wᵀ for each layer, with their ratios", () => {
    const v = (n: number) => new Float32Array(n);
    const stage = (name: string, activation: string | null, inNorm: number, deltaNorm: number | null, outNorm: number, outShape: number[]): WalkStage =>
      ({ name, type: "dense", activation, inNorm, deltaNorm, outNorm, meanDf: activation === "sigmoid" ? 0.2 : 1, maxDf: activation === "sigmoid" ? 0.25 : 1, inVec: v(3), deltaVec: deltaNorm === null ? null : v(3), outVec: v(3), outShape });
    const w: Walk = {
      step: 0, batch: 32, loss: 2.3, image: v(784), label: 5,
      stages: [stage("dense3", "linear", 0.95, 0.95, 0.5, [5]), stage("dense2", "sigmoid", 0.5, 0.1, 0.05, [5]), stage("dense1", "sigmoid", 0.05, 0.01, 0.004, [784])],
    };
    const pts = walkPoints(w);
    expect(pts.map((p) => p.label)).toEqual([
      "∂ℓ/∂logits at the output", "× Wᵀ of dense3", "× f′(z) of dense2 (sigmoid)", "× Wᵀ of dense2", "× f′(z) of dense1 (sigmoid)", "× Wᵀ of dense1",
    ]);
    expect(pts.map((p) => p.value)).toEqual([0.95, 0.5, 0.1, 0.05, 0.01, 0.004]);
    expect(pts[2].factor).toBeCloseTo(0.2, 12);
    expect(pts[5].image).toBe(true);
  });
});

describe("editor and learn panel helpers", () => {
  it("place an error under the deepest layer its path names", () => {
    expect(errorLayerPath("model.layers[1].activation: expected one of …")).toBe("model.layers[1]");
    expect(errorLayerPath("model.layers[3].layers[0].units: at most 4096 in the browser lab; got 5000")).toBe("model.layers[3].layers[0]");
    expect(errorLayerPath("model.layers: the last layer must output 10 values")).toBeNull();
    expect(errorLayerPath("optimizer.lr: expected a positive number")).toBeNull();
  });

  it("climb the 2-D landscape along its gradient", () => {
    const [gx, gy] = gradient((x, y) => x * x + 3 * y, 2, 0);
    expect(gx).toBeCloseTo(4, 6);
    expect(gy).toBeCloseTo(3, 6);
    const path = ascent(hills, -2, 2);
    expect(hills(...path[path.length - 1])).toBeGreaterThan(hills(-2, 2));
    for (let i = 1; i < path.length; i++) expect(hills(...path[i])).toBeGreaterThanOrEqual(hills(...path[i - 1]) - 1e-12);
    expect(powers(0.25, 3)).toEqual([1, 0.25, 0.0625, 0.015625]);
  });
});

describe("the kernel threads of a lab run (thread-choice.ts)", () => {
  // The rule: two threads only when the model wants them (chooseThreads, the CLI's rule), the
  // page is cross-origin isolated (shared memory), WebAssembly SIMD runs and the run has two
  // cores; otherwise one, with the first reason that holds (most basic first).
  const lstm128 = chooseThreads([{ type: "lstm", units: 128 }, { type: "dense", units: 10 }], viewShape("rows", 28, 28));
  const seed = chooseThreads(parseConfig(seedRaw()).model.layers, viewShape("flat", 28, 28));
  const full = { isolated: true, simd: true, cores: 2 };

  it("gives the row LSTM of 128 two threads where everything allows, as the CLI does, and the seed one", () => {
    expect([lstm128, seed]).toEqual([2, 1]);
    expect(decideThreads({ ...full, wanted: lstm128 })).toEqual({ count: 2, reason: "isolated" });
    expect(decideThreads({ ...full, wanted: seed })).toEqual({ count: 1, reason: "does-not-pay" });
  });

  it("falls back to one thread, saying why, when any condition fails", () => {
    expect(decideThreads({ ...full, wanted: 2, isolated: false })).toEqual({ count: 1, reason: "not-isolated" });
    expect(decideThreads({ ...full, wanted: 2, cores: 1 })).toEqual({ count: 1, reason: "shared-cores" });
    expect(decideThreads({ ...full, wanted: 2, simd: false })).toEqual({ count: 1, reason: "no-simd" });
    // the most basic reason wins: without SIMD nothing else matters; a model that does not want two says so first
    expect(decideThreads({ wanted: 1, isolated: false, simd: false, cores: 1 })).toEqual({ count: 1, reason: "no-simd" });
    expect(decideThreads({ wanted: 1, isolated: false, simd: true, cores: 1 })).toEqual({ count: 1, reason: "does-not-pay" });
  });

  it("words each choice for the status line", () => {
    expect(threadsText({ count: 2, reason: "isolated" })).toBe("2 threads");
    expect(threadsText({ count: 1, reason: "not-isolated" })).toBe("1 thread (page not cross-origin isolated)");
    expect(threadsText({ count: 1, reason: "shared-cores" })).toBe("1 thread (A and B share the cores)");
  });
});

describe("the page takes only types from src/core", () => {
  /** Runtime imports of a TS file (type-only imports and exports left out). */
  function runtimeImports(file: string): string[] {
    const text = readFileSync(file, "utf8");
    const out: string[] = [];
    const re = /^\s*(import|export)\s+(?!type\b)([\s\S]*?)\s+from\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm;
    for (const m of text.matchAll(re)) {
      if (m[4]) { out.push(m[4]); continue; }
      if (m[1] === "export" && !/^[{*]/.test(m[2])) continue;
      const names = m[2].trim();
      // `import { type A, type B } from` is type-only too.
      if (/^\{[^}]*\}$/.test(names) && names.slice(1, -1).split(",").map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith("type "))) continue;
      out.push(m[3]);
    }
    return out;
  }

  it("main.ts reaches no training code (only the error class and the layer registry), no Node module and not the worker", () => {
    const start = resolve(ROOT, "src/web/main.ts");
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      const f = stack.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      for (const spec of runtimeImports(f)) {
        expect(spec.startsWith("node:"), `${f} imports ${spec}`).toBe(false);
        if (spec.startsWith(".")) stack.push(resolve(dirname(f), spec));
      }
    }
    const rel = [...seen].map((f) => f.slice(ROOT.length + 1)).sort();
    expect(rel.length).toBeGreaterThan(15);
    // The config schema, the editor and the walk read the layer registry, whose kind files hold
    // the layers too; nothing that builds, trains or draws random numbers comes with it.
    const core = rel.filter((f) => f.startsWith("src/core/"));
    expect(core).toContain("src/core/errors.ts");
    expect(core).toContain("src/core/layers/registry.ts");
    expect(core.filter((f) => /^src\/core\/(model|losses|optim|rng)\.ts$/.test(f))).toEqual([]);
    expect(rel).not.toContain("src/web/worker.ts");
    expect(rel).not.toContain("src/web/mnist.ts");
    expect(rel).not.toContain("src/instrument/walk.ts");
    expect(rel.filter((f) => f.startsWith("src/data/") || f.startsWith("src/experiment/trainer"))).toEqual([]);
    // nor the kernel threads: they are the worker's (kernel-threads.ts); the page only words them
    expect(rel.filter((f) => /^src\/(web\/(kernel-threads|helper-worker)|accel\/threads)\.ts$/.test(f))).toEqual([]);
    // and the worker is the one place that builds models
    const web = readdirSync(join(ROOT, "src/web")).filter((f) => f.endsWith(".ts"));
    for (const f of web) {
      if (f === "worker.ts" || f === "mnist.ts") continue;
      for (const spec of runtimeImports(join(ROOT, "src/web", f))) expect(spec.includes("/core/") && !spec.endsWith("core/errors.ts") && !spec.endsWith("core/layers/registry.ts"), `${f} imports ${spec}`).toBe(false);
    }
  });
});
