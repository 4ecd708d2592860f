// The LSTM layer: gradient checks (Float64, five-point differences, test/helpers/gradcheck.ts),
// its initialization (forgetBias, per-gate orthogonal / identity W_hh), and what it hands the
// instrument (total ∂ℓ/∂c_t, the forget gate). PyTorch agreement is in test/reference (lstm, lstm_long).
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { Lstm } from "../../src/core/layers/lstm.ts";
import { buildNetwork } from "../../src/core/model.ts";
import type { LayerSpec } from "../../src/core/spec.ts";
import type { FloatArray } from "../../src/core/tensor.ts";
import { failures, gradcheck } from "../helpers/gradcheck.ts";

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max over gate blocks g and i, j of |(W_gᵀ W_g − I)_ij| for W [G·H, H] */
function blockOrthogonalityError(W: FloatArray, G: number, H: number): number {
  let worst = 0;
  for (let g = 0; g < G; g++) {
    const o = g * H * H;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < H; j++) {
        let s = 0;
        for (let k = 0; k < H; k++) s += W[o + k * H + i] * W[o + k * H + j];
        worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
      }
    }
  }
  return worst;
}

describe("lstm gradients", () => {
  for (const forgetBias of [0, 1]) {
    for (const returnSequences of [false, true]) {
      it(`lstm forgetBias ${forgetBias}, 6 steps, returnSequences ${returnSequences}: input and every parameter`, () => {
        const worst = gradcheck([{ type: "lstm", units: 4, forgetBias, returnSequences }], [6, 3], { B: 3 });
        expect(Object.keys(worst)).toEqual(["input", "lstm1.weight_ih_l0", "lstm1.weight_hh_l0", "lstm1.bias_ih_l0", "lstm1.bias_hh_l0"]);
        expect(failures(worst)).toEqual({});
      });
    }
  }
  it("lstm over a single step", () => {
    expect(failures(gradcheck([{ type: "lstm", units: 3 }], [1, 2]))).toEqual({});
  });
  it("lstm with orthogonal W_hh and glorot W_ih, 10 steps, then a dense layer", () => {
    const layers: LayerSpec[] = [
      { type: "lstm", units: 5, init: "glorot", recurrentInit: "orthogonal" },
      { type: "dense", units: 3, activation: "sigmoid" },
    ];
    expect(failures(gradcheck(layers, [10, 2], { B: 2, seed: 3 }))).toEqual({});
  });
  it("lstm (returning sequences) stacked under a gru", () => {
    const layers: LayerSpec[] = [{ type: "lstm", units: 4, returnSequences: true }, { type: "gru", units: 3 }];
    expect(failures(gradcheck(layers, [5, 2], { B: 2 }))).toEqual({});
  });
});

describe("lstm initialization", () => {
  it("PyTorch's layout: weight_ih_l0 [4H, D], weight_hh_l0 [4H, H], biases [4H], all U[±1/√H] by default", () => {
    const H = 32;
    const model = buildNetwork({ layers: [{ type: "lstm", units: H }] }, [28, 28], { seed: 4 });
    expect(model.params.map((p) => [p.name, p.shape])).toEqual([
      ["lstm1.weight_ih_l0", [4 * H, 28]], ["lstm1.weight_hh_l0", [4 * H, H]], ["lstm1.bias_ih_l0", [4 * H]], ["lstm1.bias_hh_l0", [4 * H]],
    ]);
    const bound = 1 / Math.sqrt(H);
    for (const p of model.params) {
      const m = maxAbs(p.value);
      expect(m).toBeLessThanOrEqual(bound);
      expect(m).toBeGreaterThan(0.8 * bound);
    }
  });
  it("forgetBias 1: bias_ih_l0's forget slice [H, 2H) is 1 and bias_hh_l0's is 0; other slices stay U[±1/√H]", () => {
    const H = 8;
    const model = buildNetwork({ layers: [{ type: "lstm", units: H, forgetBias: 1 }] }, [4, 2], { seed: 5 });
    const bih = model.tensor("lstm1.bias_ih_l0")!.value, bhh = model.tensor("lstm1.bias_hh_l0")!.value;
    for (let j = 0; j < 4 * H; j++) {
      if (j >= H && j < 2 * H) {
        expect(bih[j]).toBe(1);
        expect(bhh[j]).toBe(0);
      } else {
        expect(Math.abs(bih[j])).toBeLessThanOrEqual(1 / Math.sqrt(H));
        expect(bih[j]).not.toBe(0);
        expect(bhh[j]).not.toBe(0);
      }
    }
  });
  it("forgetBias unset keeps PyTorch's random forget biases", () => {
    const bih = buildNetwork({ layers: [{ type: "lstm", units: 8 }] }, [4, 2]).tensor("lstm1.bias_ih_l0")!.value;
    expect(bih.subarray(8, 16).every((v) => v !== 0 && Math.abs(v) <= 1 / Math.sqrt(8))).toBe(true);
  });
  it("orthogonal recurrentInit: each gate block of W_hh has QᵀQ = I", () => {
    const H = 24;
    const W = buildNetwork({ layers: [{ type: "lstm", units: H, recurrentInit: "orthogonal" }] }, [3, 2]).tensor("lstm1.weight_hh_l0")!.value;
    expect(blockOrthogonalityError(W, 4, H)).toBeLessThan(1e-5);
    // the blocks are different matrices, not one repeated
    expect(W[0]).not.toBe(W[H * H]);
  });
  it("identity recurrentInit: each gate block of W_hh is I", () => {
    const H = 6;
    const W = buildNetwork({ layers: [{ type: "lstm", units: H, recurrentInit: "identity" }] }, [3, 2]).tensor("lstm1.weight_hh_l0")!.value;
    for (let g = 0; g < 4; g++) for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) expect(W[g * H * H + i * H + j]).toBe(i === j ? 1 : 0);
  });
  it("a flat input is an InputError", () => {
    expect(() => buildNetwork({ layers: [{ type: "dense", units: 4 }, { type: "lstm", units: 4 }] }, [8])).toThrow(
      new InputError('model.layers[1]: lstm expects a sequence [T, D], got [4]; use data.view "rows" or "pixels"'),
    );
  });
});

describe("lstm time probe", () => {
  it("dh, dc (total derivatives) and the forget gate of a 2-step unroll, derived by hand", () => {
    // Forward by hand with the layer's own weights, then BPTT by hand:
    //   dc_1 = dh_1·o_1·(1 − tanh²c_1)
    //   dh_0 = Σ_j dA_1[j]·W_hh[j, ·] with dA_1 = [dc_1·g·i(1−i), dc_1·c_0·f(1−f), dc_1·i·(1−g²), dh_1·tanh c_1·o(1−o)]
    //   dc_0 = dh_0·o_0·(1 − tanh²c_0) + dc_1·f_1   (through h_0 and through c_1)
    const T = 2, H = 2, B = 1;
    const model = buildNetwork({ layers: [{ type: "lstm", units: H }] }, [T, 1], { dtype: "f64", seed: 6 });
    const lstm = model.layers[0] as Lstm;
    expect(lstm.timeProbe()).toBeNull(); // nothing to report before a backward
    const Wi = lstm.weightIH.value, Wh = lstm.weightHH.value, bi = lstm.biasIH.value, bh = lstm.biasHH.value;
    const x = [0.7, -1.1];
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const steps: { i: number[]; f: number[]; g: number[]; o: number[]; c: number[]; h: number[] }[] = [];
    let h = [0, 0], c = [0, 0];
    for (let t = 0; t < T; t++) {
      const pre = (j: number) => Wi[j] * x[t] + bi[j] + bh[j] + Wh[j * H] * h[0] + Wh[j * H + 1] * h[1];
      const i = [0, 1].map((k) => sig(pre(k))), f = [0, 1].map((k) => sig(pre(H + k)));
      const g = [0, 1].map((k) => Math.tanh(pre(2 * H + k))), o = [0, 1].map((k) => sig(pre(3 * H + k)));
      c = [0, 1].map((k) => f[k] * c[k] + i[k] * g[k]);
      h = [0, 1].map((k) => o[k] * Math.tanh(c[k]));
      steps.push({ i, f, g, o, c, h });
    }
    const dy = [0.3, -0.8];
    const y = model.forward(Float64Array.from(x), B, true);
    [0, 1].forEach((k) => expect(y[k]).toBeCloseTo(steps[1].h[k], 14));
    model.backward(Float64Array.from(dy), B);
    const tp = lstm.timeProbe()!;
    expect([tp.T, tp.H, tp.gates, tp.gamma]).toEqual([T, H, 4, 1]);
    expect(tp.weightHH).toBe(lstm.weightHH);
    const [s0, s1] = steps;
    const dc1 = [0, 1].map((k) => dy[k] * s1.o[k] * (1 - Math.tanh(s1.c[k]) ** 2));
    const dA1 = [
      ...[0, 1].map((k) => dc1[k] * s1.g[k] * s1.i[k] * (1 - s1.i[k])),
      ...[0, 1].map((k) => dc1[k] * s0.c[k] * s1.f[k] * (1 - s1.f[k])),
      ...[0, 1].map((k) => dc1[k] * s1.i[k] * (1 - s1.g[k] ** 2)),
      ...[0, 1].map((k) => dy[k] * Math.tanh(s1.c[k]) * s1.o[k] * (1 - s1.o[k])),
    ];
    const dh0 = [0, 1].map((m) => dA1.reduce((sum, d, j) => sum + d * Wh[j * H + m], 0));
    const dc0 = [0, 1].map((k) => dh0[k] * s0.o[k] * (1 - Math.tanh(s0.c[k]) ** 2) + dc1[k] * s1.f[k]);
    // [T, B, H] with B = 1: index t·H + k
    [0, 1].forEach((k) => {
      expect(tp.dh[H + k]).toBe(dy[k]);
      expect(tp.dh[k]).toBeCloseTo(dh0[k], 14);
      expect(tp.dc![H + k]).toBeCloseTo(dc1[k], 14);
      expect(tp.dc![k]).toBeCloseTo(dc0[k], 14);
    });
    expect(tp.gateValues.map((g) => g.name)).toEqual(["forget"]);
    const fv = tp.gateValues[0].values;
    [0, 1].forEach((k) => { expect(fv[k]).toBeCloseTo(s0.f[k], 14); expect(fv[H + k]).toBeCloseTo(s1.f[k], 14); });
  });
});
