// The GRU layer (PyTorch's formula, r inside n's recurrent term): gradient checks (Float64,
// five-point differences, test/helpers/gradcheck.ts), initialization, a hand-computed single
// step, and the update gate handed to the instrument. PyTorch agreement is in test/reference (gru).
import { describe, expect, it } from "vitest";
import { Gru } from "../../src/core/layers/gru.ts";
import { buildNetwork } from "../../src/core/model.ts";
import { Rng } from "../../src/core/rng.ts";
import type { LayerSpec } from "../../src/core/spec.ts";
import { failures, gradcheck } from "../helpers/gradcheck.ts";

const sigma = (v: number) => 1 / (1 + Math.exp(-v));

describe("gru gradients", () => {
  for (const returnSequences of [false, true]) {
    for (const T of [1, 6]) {
      it(`gru, T = ${T}, returnSequences ${returnSequences}: input and every parameter`, () => {
        const worst = gradcheck([{ type: "gru", units: 4, returnSequences }], [T, 3], { B: 3 });
        expect(Object.keys(worst)).toEqual(["input", "gru1.weight_ih_l0", "gru1.weight_hh_l0", "gru1.bias_ih_l0", "gru1.bias_hh_l0"]);
        expect(failures(worst)).toEqual({});
      });
    }
  }
  it("gru with orthogonal W_hh over 10 steps, then a dense layer", () => {
    const layers: LayerSpec[] = [
      { type: "gru", units: 5, recurrentInit: "orthogonal", biasInit: { type: "uniform", scale: 0.5 } },
      { type: "dense", units: 3 },
    ];
    expect(failures(gradcheck(layers, [10, 2], { B: 2, seed: 4 }))).toEqual({});
  });
});

describe("gru forward", () => {
  it("one step by hand: h = (1 − z)·n + z·0 with n = tanh(W_in x + b_in + r ⊙ b_hn)", () => {
    // With h₋₁ = 0 the recurrent terms reduce to b_hh, which pins where PyTorch puts b_hn.
    const D = 2, H = 3;
    const model = buildNetwork({ layers: [{ type: "gru", units: H }] }, [1, D], { dtype: "f64", seed: 3 });
    const gru = model.layers[0] as Gru;
    const Wih = gru.weightIH.value, bih = gru.biasIH.value, bhh = gru.biasHH.value;
    const x = Float64Array.from([0.7, -1.2]);
    const h = model.forward(x, 1, true);
    for (let k = 0; k < H; k++) {
      const lin = (g: number) => Wih[(g * H + k) * D] * x[0] + Wih[(g * H + k) * D + 1] * x[1] + bih[g * H + k];
      const r = sigma(lin(0) + bhh[k]);
      const z = sigma(lin(1) + bhh[H + k]);
      const n = Math.tanh(lin(2) + r * bhh[2 * H + k]);
      expect(h[k]).toBeCloseTo((1 - z) * n, 14);
    }
  });
});

describe("gru initialization and probe", () => {
  it("PyTorch's layout [3H, ·] and per-gate orthogonal W_hh (QᵀQ = I per block)", () => {
    const H = 20;
    const model = buildNetwork({ layers: [{ type: "gru", units: H, recurrentInit: "orthogonal" }] }, [4, 3]);
    expect(model.params.map((p) => [p.name, p.shape])).toEqual([
      ["gru1.weight_ih_l0", [3 * H, 3]], ["gru1.weight_hh_l0", [3 * H, H]], ["gru1.bias_ih_l0", [3 * H]], ["gru1.bias_hh_l0", [3 * H]],
    ]);
    const W = model.tensor("gru1.weight_hh_l0")!.value;
    for (let g = 0; g < 3; g++) {
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < H; j++) {
          let s = 0;
          for (let k = 0; k < H; k++) s += W[g * H * H + k * H + i] * W[g * H * H + k * H + j];
          expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-5);
        }
      }
    }
  });
  it("time probe: the update gate z of every step, G = 3, no cell state", () => {
    const T = 4, H = 3, B = 2;
    const model = buildNetwork({ layers: [{ type: "gru", units: H }] }, [T, 2], { dtype: "f64", seed: 1 });
    const gru = model.layers[0] as Gru;
    const rng = new Rng(3);
    const x = Float64Array.from({ length: B * T * 2 }, () => rng.normal());
    model.forward(x, B, true);
    model.backward(Float64Array.from({ length: B * H }, () => rng.normal()), B);
    const tp = gru.timeProbe()!;
    expect([tp.gates, tp.gamma, tp.dc]).toEqual([3, 1, null]);
    expect(tp.gateValues.map((g) => g.name)).toEqual(["update"]);
    // z at t = 0 (h₋₁ = 0): σ(W_iz x_0 + b_iz + b_hz), by hand
    const Wih = gru.weightIH.value, bih = gru.biasIH.value, bhh = gru.biasHH.value;
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < H; k++) {
        const row = (H + k) * 2;
        const want = sigma(Wih[row] * x[b * T * 2] + Wih[row + 1] * x[b * T * 2 + 1] + bih[H + k] + bhh[H + k]);
        expect(tp.gateValues[0].values[b * H + k]).toBeCloseTo(want, 14);
      }
    }
    expect(gru.probe()).toBeNull();
  });
});
