// The Elman RNN layer: gradient checks (Float64, five-point differences, test/helpers/gradcheck.ts),
// the exact a^(T−1−t) decay of ∂ℓ/∂h_t through a linear recurrence W_hh = a·I (hand derivation
// below), initialization, the probe, and input errors. PyTorch agreement is in test/reference.
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import type { Layer } from "../../src/core/layers/layer.ts";
import { Rnn } from "../../src/core/layers/rnn.ts";
import { LOSSES } from "../../src/core/losses.ts";
import { buildNetwork, type Model } from "../../src/core/model.ts";
import { Rng } from "../../src/core/rng.ts";
import type { LayerSpec } from "../../src/core/spec.ts";
import { Recorder } from "../../src/instrument/recorder.ts";
import { failures, gradcheck } from "../helpers/gradcheck.ts";

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * A `prepare` hook that remembers the smallest |z| of the rnn's first (unperturbed) forward, so a
 * relu check can assert its pre-activations sit far from the kink compared with the ±2h steps.
 */
function reluMargin(): { prepare: (m: Model) => void; min: () => number } {
  let min = Infinity;
  let calls = 0;
  return {
    prepare: (m) => {
      const layer = m.layers[0] as Layer;
      const orig = layer.forward.bind(layer);
      layer.forward = (x, B, train) => {
        const y = orig(x, B, train);
        if (calls++ === 0) {
          const p = layer.probe()!;
          for (let i = 0; i < B * p.units; i++) min = Math.min(min, Math.abs(p.z![i]));
        }
        return y;
      };
    },
    min: () => min,
  };
}

describe("rnn gradients", () => {
  for (const activation of ["tanh", "relu"] as const) {
    for (const returnSequences of [false, true]) {
      for (const T of [1, 5]) {
        it(`rnn ${activation}, T = ${T}, returnSequences ${returnSequences}: input and every parameter`, () => {
          const margin = reluMargin();
          const layers: LayerSpec[] = [{ type: "rnn", units: 4, activation, returnSequences }];
          const worst = gradcheck(layers, [T, 3], { B: 3, seed: 11, prepare: margin.prepare });
          expect(Object.keys(worst)).toEqual(["input", "rnn1.weight_ih_l0", "rnn1.weight_hh_l0", "rnn1.bias_ih_l0", "rnn1.bias_hh_l0"]);
          expect(failures(worst)).toEqual({});
          if (activation === "relu") expect(margin.min()).toBeGreaterThan(1e-3);
        });
      }
    }
  }
  it("identity recurrentInit (IRNN) over 8 steps, then a dense layer", () => {
    const margin = reluMargin();
    const layers: LayerSpec[] = [
      { type: "rnn", units: 5, activation: "relu", recurrentInit: "identity" },
      { type: "dense", units: 3, activation: "tanh" },
    ];
    const worst = gradcheck(layers, [8, 2], { B: 2, seed: 5, prepare: margin.prepare });
    expect(failures(worst)).toEqual({});
    expect(margin.min()).toBeGreaterThan(1e-3);
  });
  it("two stacked rnns (the first returns sequences)", () => {
    const layers: LayerSpec[] = [
      { type: "rnn", units: 4, returnSequences: true },
      { type: "rnn", units: 3 },
    ];
    expect(failures(gradcheck(layers, [6, 2], { B: 2 }))).toEqual({});
  });
});

describe("a linear recurrence W_hh = a·I", () => {
  // With every pre-activation positive, relu is the identity and h_t = W_ih x_t + b + a·h_{t−1},
  // so ∂h_{t+1}/∂h_t = a·I and, by the chain rule, ∂ℓ/∂h_t = a^(T−1−t) ∂ℓ/∂h_{T−1} for each
  // example: the recorded per-step norms must fall (a < 1) or grow (a > 1) exactly geometrically.
  for (const a of [0.5, 0.9, 1.1, 1.6]) {
    it(`a = ${a}: hGradNorm[t] / hGradNorm[T−1] = a^(T−1−t) and σ_max(W_hh) = a`, () => {
      const T = 12, D = 3, H = 4, B = 5;
      const model = buildNetwork({ layers: [{ type: "rnn", units: H, activation: "relu" }, { type: "dense", units: 3 }] }, [T, D], { dtype: "f64", seed: 2 });
      const rnn = model.layers[0] as Rnn;
      const rng = new Rng(4);
      rnn.weightIH.value.forEach((_, i, w) => { w[i] = 0.5 * rng.uniform(); }); // W_ih ≥ 0
      rnn.weightHH.value.fill(0);
      for (let h = 0; h < H; h++) rnn.weightHH.value[h * H + h] = a;
      rnn.biasIH.value.fill(0.1);
      rnn.biasHH.value.fill(0.05);
      const x = Float64Array.from({ length: B * T * D }, () => rng.uniform()); // inputs ≥ 0
      const recorder = new Recorder(model);
      const loss = model.forwardBackward(x, Int32Array.from([0, 1, 2, 0, 1]), B, LOSSES.cross_entropy);
      recorder.beforeUpdate(0, 0, loss, 0, B);
      const rec = recorder.afterUpdate().layers[0];
      const z = rnn.probe().z!;
      for (let i = 0; i < B * T * H; i++) expect(z[i]).toBeGreaterThan(0);
      const g = rec.hGradNorm!;
      expect(g.length).toBe(T);
      for (let t = 0; t < T; t++) {
        const want = a ** (T - 1 - t);
        expect(Math.abs(g[t] / g[T - 1] - want) / want).toBeLessThan(1e-6);
      }
      expect(Math.abs(rec.sigmaMax! - a) / a).toBeLessThan(1e-6);
      expect(rec.pascanu).toBeCloseTo(rec.sigmaMax!, 12); // γ = 1 for relu
      expect(rec.cGradNorm).toBeUndefined();
    });
  }
});

describe("rnn initialization and shape", () => {
  it("PyTorch's names and layouts, default U[±1/√H] for every tensor", () => {
    const H = 64;
    const model = buildNetwork({ layers: [{ type: "rnn", units: H }] }, [28, 28], { seed: 3 });
    expect(model.params.map((p) => [p.name, p.shape])).toEqual([
      ["rnn1.weight_ih_l0", [H, 28]], ["rnn1.weight_hh_l0", [H, H]], ["rnn1.bias_ih_l0", [H]], ["rnn1.bias_hh_l0", [H]],
    ]);
    const bound = 1 / Math.sqrt(H);
    for (const p of model.params) {
      const m = maxAbs(p.value);
      expect(m).toBeLessThanOrEqual(bound);
      expect(m).toBeGreaterThan(0.8 * bound); // the bound is used, not something smaller
    }
    expect(model.outShape).toEqual([H]);
  });
  it("identity recurrentInit gives W_hh = I; orthogonal gives WᵀW = I", () => {
    const H = 16;
    const id = buildNetwork({ layers: [{ type: "rnn", units: H, recurrentInit: "identity" }] }, [5, 2]).tensor("rnn1.weight_hh_l0")!.value;
    for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) expect(id[i * H + j]).toBe(i === j ? 1 : 0);
    const q = buildNetwork({ layers: [{ type: "rnn", units: H, recurrentInit: "orthogonal" }] }, [5, 2]).tensor("rnn1.weight_hh_l0")!.value;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < H; j++) {
        let s = 0;
        for (let k = 0; k < H; k++) s += q[k * H + i] * q[k * H + j];
        expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-5);
      }
    }
  });
  it("returnSequences outputs [T, H]", () => {
    expect(buildNetwork({ layers: [{ type: "rnn", units: 7, returnSequences: true }] }, [5, 2]).outShape).toEqual([5, 7]);
  });
  it("a flat input is an InputError naming the layer and the views to use", () => {
    expect(() => buildNetwork({ layers: [{ type: "rnn", units: 4 }] }, [784])).toThrow(InputError);
    expect(() => buildNetwork({ layers: [{ type: "rnn", units: 4 }] }, [784])).toThrow(
      'model.layers[0]: rnn expects a sequence [T, D], got [784]; use data.view "rows" or "pixels"',
    );
  });
});

describe("rnn probe and evaluation", () => {
  it("probe(): z, y = tanh(z) and dz = dh ⊙ (1 − y²) of every step, batch-major [B, T·H]", () => {
    const T = 4, H = 3, B = 2;
    const model = buildNetwork({ layers: [{ type: "rnn", units: H, returnSequences: true }] }, [T, 2], { dtype: "f64", seed: 9 });
    const rnn = model.layers[0] as Rnn;
    const rng = new Rng(1);
    const x = Float64Array.from({ length: B * T * 2 }, () => rng.normal());
    const y = Float64Array.from(model.forward(x, B, true));
    const dy = Float64Array.from({ length: B * T * H }, () => rng.normal());
    model.backward(dy, B);
    const p = rnn.probe();
    const dh = rnn.timeProbe()!.dh; // [T, B, H]
    expect(p.units).toBe(T * H);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < H; h++) {
          const i = b * T * H + t * H + h;
          expect(p.y![i]).toBe(y[i]); // the output with returnSequences is the same [B, T, H]
          expect(p.y![i]).toBeCloseTo(Math.tanh(p.z![i]), 15);
          expect(p.dz![i]).toBeCloseTo(dh[(t * B + b) * H + h] * (1 - y[i] * y[i]), 15);
        }
      }
    }
  });
});

it("evaluation in chunks of examples gives the training forward's output exactly", () => {
  // T·H = 2^17 and the evaluation budget is 2^22 elements, so a batch of 70 runs as 32 + 32 + 6.
  const T = 16384, H = 8, B = 70;
  const model = buildNetwork({ layers: [{ type: "rnn", units: H }] }, [T, 1], { seed: 1 });
  const rng = new Rng(2);
  const x = Float32Array.from({ length: B * T }, () => rng.uniform());
  const train = Float32Array.from(model.forward(x, B, true));
  expect(Array.from(model.forward(x, B, false))).toEqual(Array.from(train));
});

describe("rnn with sigmoid (the lab's third activation)", () => {
  it("gradient check: input and every parameter, returnSequences false and true", () => {
    for (const returnSequences of [false, true]) {
      const worst = gradcheck([{ type: "rnn", units: 4, activation: "sigmoid", returnSequences }], [5, 3], { B: 2 });
      expect(failures(worst)).toEqual({});
    }
  });
  it("reports γ = 1/4 for Pascanu's bound (sup σ′ = 1/4)", () => {
    const m = buildNetwork({ layers: [{ type: "rnn", units: 3, activation: "sigmoid" }] }, [4, 2], { dtype: "f64" });
    const x = new Float64Array(2 * 8).fill(0.3);
    m.forward(x, 2, true);
    m.backward(new Float64Array(2 * 3).fill(1), 2, false);
    expect(m.layers[0].timeProbe!()!.gamma).toBe(0.25);
  });
});
