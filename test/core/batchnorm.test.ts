// batchnorm: gradient checks (Float64, five-point differences) of the input, γ and β in training
// mode (batch statistics, whose own dependence on x is part of the gradient) and in eval mode
// (running statistics); running stats after one batch worked out by hand; names and errors.
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { buildNetwork, type Model } from "../../src/core/model.ts";
import type { BatchNormSpec, LayerSpec } from "../../src/core/spec.ts";
import { failures, gradcheck } from "../helpers/gradcheck.ts";

const bn = (o: Partial<BatchNormSpec> = {}): BatchNormSpec => ({ type: "batchnorm", ...o });

/** γ, β and the running stats away from their 1/0 defaults, so every term of the gradient shows. */
function scramble(m: Model): void {
  for (const t of [...m.params, ...m.buffers]) {
    t.value.forEach((_, i) => {
      const u = Math.sin(7 * i + t.name.length); // deterministic values in [−1, 1]
      t.value[i] = t.name.endsWith("weight") ? 1 + 0.5 * u : t.name.endsWith("running_var") ? 1.2 + 0.5 * u : 0.3 * u;
    });
  }
}

describe("batchnorm gradients (input, γ, β < 1e-6)", () => {
  const cases: [string, LayerSpec[], number[], boolean, number][] = [
    ["BatchNorm1d [B, F], training", [bn()], [5], true, 4],
    ["BatchNorm1d with a sigmoid after, training", [bn({ activation: "sigmoid" })], [4], true, 3],
    ["BatchNorm2d [B, C, H, W] per channel over B·H·W, training", [bn()], [3, 2, 3], true, 2],
    ["BatchNorm2d with tanh, one example (statistics over H·W only), training", [bn({ activation: "tanh" })], [2, 3, 3], true, 1],
    ["BatchNorm1d, eval (running statistics)", [bn()], [5], false, 3],
    ["BatchNorm2d with tanh, eval", [bn({ activation: "tanh" })], [3, 2, 2], false, 2],
  ];
  for (const [title, layers, inShape, train, B] of cases) {
    it(title, () => {
      const worst = gradcheck(layers, inShape, { B, train, prepare: scramble });
      expect(Object.keys(worst)).toEqual(["input", "bn1.weight", "bn1.bias"]);
      expect(failures(worst)).toEqual({});
    });
  }
  it("dense → batchnorm tanh → dense, and conv → batchnorm → pool (every tensor, training)", () => {
    // no bias before a batchnorm: the batch mean cancels it, so its gradient is exactly 0 and a
    // relative error of two rounding noises would compare nothing
    const dense: LayerSpec[] = [{ type: "dense", units: 4, bias: false }, bn({ activation: "tanh" }), { type: "dense", units: 3 }];
    expect(failures(gradcheck(dense, [5], { B: 4, prepare: scramble }))).toEqual({});
    const convBn: LayerSpec[] = [{ type: "conv2d", filters: 3, kernel: 3, padding: "same", bias: false }, bn({ activation: "tanh" }), { type: "avgpool2d", size: 2 }];
    expect(failures(gradcheck(convBn, [2, 4, 4], { B: 2, prepare: scramble }))).toEqual({});
  });
});

describe("batchnorm by hand", () => {
  it("1d: batch mean and biased variance normalize; running stats take the unbiased variance", () => {
    const m = buildNetwork({ layers: [bn()] }, [2], { dtype: "f64" });
    // feature 0: 1, 2, 3, 6 → μ = 3, σ² = (4 + 1 + 0 + 9)/4 = 3.5, unbiased 14/3
    // feature 1: 0, 0, 4, 4 → μ = 2, σ² = 4, unbiased 16/3
    const x = Float64Array.from([1, 0, 2, 0, 3, 4, 6, 4]);
    const y = m.forward(x, 4, true);
    const s0 = Math.sqrt(3.5 + 1e-5), s1 = Math.sqrt(4 + 1e-5);
    [-2 / s0, -2 / s1, -1 / s0, -2 / s1, 0 / s0, 2 / s1, 3 / s0, 2 / s1].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 14));
    // r ← 0.9·r + 0.1·stat from (0, 1)
    const rm = m.tensor("bn1.running_mean")!.value, rv = m.tensor("bn1.running_var")!.value;
    expect(rm[0]).toBeCloseTo(0.3, 15);
    expect(rm[1]).toBeCloseTo(0.2, 15);
    expect(rv[0]).toBeCloseTo(0.9 + 0.1 * 14 / 3, 15);
    expect(rv[1]).toBeCloseTo(0.9 + 0.1 * 16 / 3, 15);
  });
  it("2d: statistics per channel over batch and pixels; momentum 0.5", () => {
    const m = buildNetwork({ layers: [bn({ momentum: 0.5 })] }, [2, 1, 2], { dtype: "f64" });
    // channel 0: 1, 3 (example 0) and 5, 7 (example 1) → μ = 4, σ² = 5, unbiased 20/3
    // channel 1: 0, 0 and 2, 2 → μ = 1, σ² = 1, unbiased 4/3
    m.forward(Float64Array.from([1, 3, 0, 0, 5, 7, 2, 2]), 2, true);
    const rm = m.tensor("bn1.running_mean")!.value, rv = m.tensor("bn1.running_var")!.value;
    expect(Array.from(rm)).toEqual([2, 0.5]);
    expect(rv[0]).toBeCloseTo(0.5 + 0.5 * 20 / 3, 15);
    expect(rv[1]).toBeCloseTo(0.5 + 0.5 * 4 / 3, 15);
  });
  it("eval: y = γ·(x − running_mean)/√(running_var + eps) + β, stats untouched", () => {
    const m = buildNetwork({ layers: [bn({ eps: 1e-3 })] }, [2], { dtype: "f64" });
    m.tensor("bn1.weight")!.value.set([2, 0.5]);
    m.tensor("bn1.bias")!.value.set([1, -1]);
    m.tensor("bn1.running_mean")!.value.set([3, -2]);
    m.tensor("bn1.running_var")!.value.set([4 - 1e-3, 0.25 - 1e-3]);
    const y = m.forward(Float64Array.from([5, -1, 1, -2]), 2, false);
    [2 * (5 - 3) / 2 + 1, 0.5 * (-1 + 2) / 0.5 - 1, 2 * (1 - 3) / 2 + 1, 0.5 * 0 / 0.5 - 1].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 12));
    expect(Array.from(m.tensor("bn1.running_mean")!.value)).toEqual([3, -2]);
  });
  it("training backward: Σ_b dx = 0 and Σ_b dx·x̂ = 0 per feature (with eps = 0 the output ignores shifts and scales of x)", () => {
    const m = buildNetwork({ layers: [bn({ eps: 0 })] }, [3], { dtype: "f64" });
    scramble(m);
    const x = Float64Array.from({ length: 15 }, (_, i) => Math.sin(3 * i) * 2 + i * 0.1);
    const y = m.forward(x, 5, true);
    m.backward(Float64Array.from({ length: 15 }, (_, i) => Math.cos(i)), 5, true);
    const dx = m.inputGrad!;
    const gamma = m.tensor("bn1.weight")!.value, beta = m.tensor("bn1.bias")!.value;
    for (let f = 0; f < 3; f++) {
      let s = 0, sx = 0;
      for (let b = 0; b < 5; b++) { s += dx[b * 3 + f]; sx += dx[b * 3 + f] * (y[b * 3 + f] - beta[f]) / gamma[f]; }
      expect(Math.abs(s)).toBeLessThan(1e-13);
      expect(Math.abs(sx)).toBeLessThan(1e-13);
    }
  });
});

describe("batchnorm contract", () => {
  it("names bn1.weight/bias (γ = 1, β = 0) and buffers bn1.running_mean/var (0, 1)", () => {
    const m = buildNetwork({ layers: [{ type: "dense", units: 3 }, bn(), bn({ name: "norm" })] }, [4]);
    expect(m.params.map((p) => p.name)).toEqual(["dense1.weight", "dense1.bias", "bn1.weight", "bn1.bias", "norm.weight", "norm.bias"]);
    expect(m.buffers.map((b) => [b.name, b.shape, Array.from(b.value)])).toEqual([
      ["bn1.running_mean", [3], [0, 0, 0]], ["bn1.running_var", [3], [1, 1, 1]],
      ["norm.running_mean", [3], [0, 0, 0]], ["norm.running_var", [3], [1, 1, 1]],
    ]);
    expect(Array.from(m.tensor("bn1.weight")!.value)).toEqual([1, 1, 1]);
    expect(Array.from(m.tensor("bn1.bias")!.value)).toEqual([0, 0, 0]);
  });
  it("probe: z is the normalized + affine output before the activation, dz = ∂L/∂z", () => {
    const m = buildNetwork({ layers: [bn({ activation: "relu" })] }, [2, 2, 2], { dtype: "f64" });
    const x = Float64Array.from({ length: 16 }, (_, i) => Math.sin(i + 0.5));
    const y = m.forward(x, 2, true);
    const dy = Float64Array.from({ length: 16 }, (_, i) => i - 8);
    m.backward(dy, 2, false);
    const probe = m.layers[0].probe()!;
    expect(probe.units).toBe(8);
    for (let i = 0; i < 16; i++) {
      expect(y[i]).toBe(Math.max(probe.z![i], 0));
      expect(probe.dz![i]).toBe(probe.z![i] > 0 ? dy[i] : 0);
    }
  });
  it("errors: a 2-D input, and training on one value per channel (as PyTorch refuses)", () => {
    expect(() => buildNetwork({ layers: [bn()] }, [2, 3])).toThrow(
      new InputError("model.layers[0]: batchnorm expects features [F] or an image [C, H, W], got [2, 3]"),
    );
    const m = buildNetwork({ layers: [{ type: "dense", units: 3 }, bn()] }, [4], { dtype: "f64" });
    expect(() => m.forward(new Float64Array(4), 1, true)).toThrow(
      new InputError("model.layers[1]: batchnorm in training needs more than one value per channel; got a batch of 1 × [3]"),
    );
    expect(() => m.forward(new Float64Array(4), 1, false)).not.toThrow();
  });
});
