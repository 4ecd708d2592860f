// Recorder statistics on cases whose answers are known by hand.
import { describe, expect, it } from "vitest";
import { LOSSES } from "../../src/core/losses.ts";
import { buildModel } from "../../src/core/model.ts";
import { Optimizer } from "../../src/core/optim.ts";
import { Rng } from "../../src/core/rng.ts";
import type { LayerSpec } from "../../src/core/spec.ts";
import { diagnose, ratioText } from "../../src/instrument/diagnosis.ts";
import { Recorder, type StepRecord } from "../../src/instrument/recorder.ts";
import { ACT_HIST_EDGES, GRAD_HIST_EDGES, histogram, SigmaWork, sigmaMax, sumRowNorms, vectorStats } from "../../src/instrument/stats.ts";

function recordOnce(layers: LayerSpec[], D: number, opts: { lr?: number; B?: number; seed?: number; prepare?: (m: ReturnType<typeof buildModel>) => void; zeroInputs?: number[] } = {}): StepRecord {
  const B = opts.B ?? 8;
  const model = buildModel({ layers }, [D], 3, { dtype: "f64", seed: opts.seed ?? 1 });
  opts.prepare?.(model);
  const rng = new Rng(5);
  const x = Float64Array.from({ length: B * D }, (_, i) => (opts.zeroInputs?.includes(i % D) ? 0 : rng.uniform()));
  const y = Int32Array.from({ length: B }, (_, i) => i % 3);
  const rec = new Recorder(model, { histograms: true });
  const loss = model.forwardBackward(x, y, B, LOSSES.cross_entropy);
  rec.beforeUpdate(0, 0, loss, 0, B);
  new Optimizer({ type: "sgd", lr: opts.lr ?? 0.1 }, model.params).step();
  return rec.afterUpdate();
}

describe("stats", () => {
  it("vectorStats: norm, mean |x|, max |x|, RMS and exact zeros by hand", () => {
    // 3² + 4² = 25 → norm 5; mean |x| = 7/3; RMS = √(25/3); one exact zero (and −0 counts too)
    expect(vectorStats(Float64Array.of(3, -4, 0))).toEqual({ norm: 5, meanAbs: 7 / 3, maxAbs: 4, rms: Math.sqrt(25 / 3), nonFinite: 0, zeros: 1 });
    expect(vectorStats(Float32Array.of(0, -0, 1e-30)).zeros).toBe(2);
  });
  it("vectorStats: a NaN/Inf entry makes every statistic non-finite, never a small number from the rest", () => {
    // Changed: the norm used to skip non-finite entries, so an exploded gradient read as 5 (or 0).
    const inf = vectorStats(Float64Array.of(3, -4, Infinity, -Infinity, 0));
    expect(inf).toEqual({ norm: Infinity, meanAbs: Infinity, maxAbs: Infinity, rms: Infinity, nonFinite: 2, zeros: 1 });
    const nan = vectorStats(Float32Array.of(NaN, Infinity, 1));
    expect(Number.isNaN(nan.norm)).toBe(true);
    expect(nan.nonFinite).toBe(2);
    expect(nan.norm).not.toBe(0);
  });
  it("sumRowNorms is the sum of per-row L2 norms", () => {
    expect(sumRowNorms(Float64Array.of(3, 4, 0, 1), 2, 2)).toBe(6);
  });
  it("sigmaMax: diag(3, 2) → 3; a rotation times diag(5, 1) → 5 (singular values are rotation-invariant)", () => {
    const work = new SigmaWork(2, 2);
    expect(sigmaMax(Float64Array.of(3, 0, 0, 2), 2, 2, work)).toBeCloseTo(3, 12);
    const c = Math.cos(0.7), s = Math.sin(0.7);
    expect(sigmaMax(Float64Array.of(5 * c, -s, 5 * s, c), 2, 2, work)).toBeCloseTo(5, 12);
  });
  it("sigmaMax: close top singular values converge (U·diag(2, 1.999, 1, …)·Vᵀ, built from Householder reflections)", () => {
    // W = (I − 2aaᵀ)·diag(σ)·(I − 2bbᵀ) with unit a, b: orthogonal factors, so its singular values are σ.
    const n = 40, rows = 60;
    const sig = Array.from({ length: n }, (_, i) => (i === 0 ? 2 : i === 1 ? 1.999 : 1 / (i + 1)));
    const a = Array.from({ length: rows }, (_, i) => Math.sin(i + 1)), b = Array.from({ length: n }, (_, j) => Math.cos(2 * j + 1));
    const na = Math.hypot(...a), nb = Math.hypot(...b);
    const W = new Float64Array(rows * n);
    for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) {
      let v = 0;
      for (let k = 0; k < n; k++) {
        const U = (i === k ? 1 : 0) - 2 * (a[i] / na) * (a[k] / na);
        const V = (k === j ? 1 : 0) - 2 * (b[k] / nb) * (b[j] / nb);
        v += U * sig[k] * V;
      }
      W[i * n + j] = v;
    }
    expect(sigmaMax(W, rows, n, new SigmaWork(rows, n))).toBeCloseTo(2, 12);
  });
  it("histogram puts each value in its fixed log bin", () => {
    const counts = histogram(Float64Array.of(0, 1e-12, 2e-10, -5e-3, 1e3), 5, GRAD_HIST_EDGES, true, []);
    expect(counts.reduce((a, b) => a + b)).toBe(5);
    expect(counts[0]).toBe(2); // 0 and 1e-12 are below 1e-10
    expect(counts[counts.length - 1]).toBe(1); // 1e3 ≥ 10
    expect(counts[1]).toBe(1); // 2e-10 in [1e-10, 10^-9.5)
  });
  it("float32 buffers (binned from a table of their top 16 bits) get the same bins as the binary search, value by value", () => {
    // The reference is the definition: the number of edges ≤ v (|v| for gradients), NaN skipped.
    const reference = (x: Float32Array, edges: readonly number[], absolute: boolean) => {
      const c = new Array(edges.length + 1).fill(0);
      for (const raw of x) { if (raw !== raw) continue; const v = absolute ? Math.abs(raw) : raw; c[edges.filter((e) => e <= v).length]++; }
      return c;
    };
    const f = new Float32Array(1), u = new Uint32Array(f.buffer);
    const values: number[] = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 3.4e38, -3.4e38];
    for (const e of [...GRAD_HIST_EDGES, ...ACT_HIST_EDGES]) {
      for (const sign of [1, -1]) {
        f[0] = sign * e; const b = u[0];
        for (const d of [-2, -1, 0, 1, 2]) { u[0] = b + d; values.push(f[0]); } // the edge and its float32 neighbours
      }
    }
    let seed = 99;
    for (let i = 0; i < 20_000; i++) { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; u[0] = seed; values.push(f[0]); } // every magnitude
    const x = Float32Array.from(values);
    for (const [edges, absolute] of [[GRAD_HIST_EDGES, true], [ACT_HIST_EDGES, false], [GRAD_HIST_EDGES, false], [ACT_HIST_EDGES, true]] as const) {
      // value by value, so a wrong bin cannot hide behind a right total
      for (let i = 0; i < x.length; i++) {
        const one = x.subarray(i, i + 1);
        const want = reference(one, edges, absolute), got = histogram(one, 1, edges, absolute, []);
        if (want.join() !== got.join()) expect([x[i], got.indexOf(1)]).toEqual([x[i], want.indexOf(1)]);
      }
      expect(histogram(x, x.length, edges, absolute, [])).toEqual(reference(x, edges, absolute));
    }
  });
});

describe("recorder", () => {
  it("update ratio of plain SGD is lr·‖g‖/‖W‖ (hand derivation: ΔW = −lr·g)", () => {
    const norms = new Map<string, number>();
    const r = recordOnce([{ type: "dense", units: 4, activation: "tanh" }, { type: "dense", units: 3 }], 5, {
      lr: 0.3,
      prepare: (m) => m.params.forEach((p) => norms.set(p.name, Math.hypot(...p.value))),
    });
    for (const l of r.layers) {
      for (const [key, p] of Object.entries(l.params)) {
        expect(p.updateRatio!).toBeCloseTo((0.3 * p.gradNorm) / norms.get(`${l.name}.${key}`)!, 12);
      }
    }
  });
  it("a relu layer with very negative biases is 100% dead; a sigmoid layer with huge weights is saturated", () => {
    const r = recordOnce(
      [{ type: "dense", units: 4, activation: "sigmoid", init: { type: "normal", std: 100 } }, { type: "dense", units: 4, activation: "relu", biasInit: { type: "ones", gain: -100 } }, { type: "dense", units: 3 }],
      5,
    );
    expect(r.layers[1].activation!.dead).toBe(1);
    expect(r.layers[1].activation!.saturated).toBeNull();
    expect(r.layers[0].activation!.saturated).toBeGreaterThan(0.9);
    expect(r.layers[0].activation!.dead).toBeNull();
    expect(r.layers[0].hist!.grad.length).toBe(GRAD_HIST_EDGES.length + 1);
  });
  it("exact-zero gradient entries are counted per parameter: inputs 0 for the whole batch give whole zero columns of ∂L/∂W", () => {
    // ∂L/∂W[u, i] = Σ_b δ[b, u]·x[b, i]: inputs 1 and 4 are 0 in every example, so 2 columns × 4
    // units = 8 entries of dense1.weight are exactly 0 (hand derivation); nothing else is.
    const r = recordOnce([{ type: "dense", units: 4, activation: "sigmoid" }, { type: "dense", units: 3 }], 6, { zeroInputs: [1, 4] });
    expect(r.layers[0].params.weight.zeros).toBe(8);
    expect(r.layers[0].params.bias.zeros).toBe(0);
    expect(r.layers[1].params.weight.zeros).toBe(0);
    // they are also in the histogram's lowest bin (below 1e-10), which the zero count splits
    expect(r.layers[0].hist!.grad[0]).toBeGreaterThanOrEqual(8);
    expect(recordOnce([{ type: "dense", units: 4, activation: "sigmoid" }, { type: "dense", units: 3 }], 6).layers[0].params.weight.zeros).toBe(0);
  });
  it("gain is the ratio of successive δ norms, null for the last layer", () => {
    const r = recordOnce([{ type: "dense", units: 4, activation: "sigmoid" }, { type: "dense", units: 4, activation: "sigmoid" }, { type: "dense", units: 3 }], 6);
    expect(r.layers[0].gain).toBeCloseTo(r.layers[0].deltaNorm! / r.layers[1].deltaNorm!, 14);
    expect(r.layers[2].gain).toBeNull();
    // a sigmoid layer multiplies δ by f′ ≤ 1/4 and by Wᵀ with |w| ≤ 1/√fan_in: it shrinks δ
    expect(r.layers[0].gain!).toBeLessThan(0.5);
  });
  it("non-finite gradients are counted per tensor", () => {
    const r = recordOnce([{ type: "dense", units: 3 }], 4, { prepare: (m) => { m.params[0].value[0] = NaN; } });
    expect(r.layers[0].params.weight.nonFinite).toBeGreaterThan(0);
  });
});

describe("diagnosis", () => {
  it("an 8-layer sigmoid MLP at standard init is diagnosed as vanishing (severe), naming first and last layer", () => {
    // Changed: the verdict now has a grade and is judged on ‖δ‖; the text names the ‖δ‖ share.
    // Sigmoid passes at most ×0.25 per layer times ‖W‖ < 1 at standard init, so over 8 layers
    // ‖δ‖ falls far below SEVERE_RATIO (1e-3) of the output's.
    const layers: LayerSpec[] = [...Array.from({ length: 8 }, () => ({ type: "dense" as const, units: 16, activation: "sigmoid" as const })), { type: "dense", units: 3 }];
    const r = recordOnce(layers, 20);
    const d = diagnose(r, r);
    expect(d.verdict).toBe("vanishing");
    expect(d.grade).toBe("severe");
    expect(d.deltaRatio!).toBeLessThan(1e-3);
    expect(d.deltaRatio!).toBeCloseTo(r.layers[0].deltaNorm! / r.layers[8].deltaNorm!, 12);
    expect(d.layerFactor!).toBeCloseTo(d.deltaRatio! ** (1 / 8), 12);
    expect(d.depthRatio!).toBeLessThan(1e-2);
    expect(d.text).toMatch(/dense1 gets 1\/[\d.e+]+ of the error that reaches dense9/);
  });
  it("a 2-layer relu MLP with He init is healthy", () => {
    const r = recordOnce([{ type: "dense", units: 16, activation: "relu", init: "he" }, { type: "dense", units: 3, init: "he" }], 20);
    const d = diagnose(r, r);
    expect(d.verdict).toBe("healthy");
    expect(d.grade).toBeNull();
  });
  it("ratioText reads like a person would say it", () => {
    expect(ratioText(1 / 37)).toBe("1/37");
    expect(ratioText(2.5e-6)).toBe("1/4.0e+5");
    expect(ratioText(3.21)).toBe("3.2×");
  });
});
