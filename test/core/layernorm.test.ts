// layernorm: gradient checks (Float64, five-point differences) of the input, γ and β alone, with
// an activation, per time step on [T, F], in an MLP and after an LSTM with returnSequences;
// forward values worked out by hand; training and evaluation agree; names, shape errors, the
// memory estimate and no allocation per step. PyTorch's own numbers for the same layer are in
// test/reference (layernorm_mlp, layernorm_lstm).
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { layernormKind, type LayerNormSpec } from "../../src/core/layers/layernorm.ts";
import { buildNetwork, type Model } from "../../src/core/model.ts";
import type { LayerSpec } from "../../src/core/spec.ts";
import { bytesPerCall } from "../helpers/alloc.ts";
import { failures, gradcheck } from "../helpers/gradcheck.ts";

const ln = (o: Partial<LayerNormSpec> = {}): LayerNormSpec => ({ type: "layernorm", ...o });

/** γ and β away from their 1/0 defaults, so every term of the gradient shows. */
function scramble(m: Model): void {
  for (const p of m.params) {
    if (!p.name.startsWith("ln")) continue;
    p.value.forEach((_, i) => {
      const u = Math.sin(7 * i + p.name.length); // deterministic values in [−1, 1]
      p.value[i] = p.name.endsWith("weight") ? 1 + 0.5 * u : 0.3 * u;
    });
  }
}

describe("layernorm gradients (input, γ, β < 1e-6)", () => {
  const cases: [string, LayerSpec[], number[], number][] = [
    ["features [B, F]", [ln()], [5], 3],
    ["with a sigmoid after, eps 1e-3", [ln({ eps: 1e-3, activation: "sigmoid" })], [4], 3],
    ["per time step [B, T, F], tanh", [ln({ activation: "tanh" })], [3, 4], 2],
    ["one example (no batch statistics to need)", [ln({ activation: "gelu" })], [6], 1],
  ];
  for (const [title, layers, inShape, B] of cases) {
    it(title, () => {
      const worst = gradcheck(layers, inShape, { B, prepare: scramble });
      expect(Object.keys(worst)).toEqual(["input", "ln1.weight", "ln1.bias"]);
      expect(failures(worst)).toEqual({});
    });
  }
  it("in an MLP: dense → layernorm tanh → dense (every tensor)", () => {
    const mlp: LayerSpec[] = [{ type: "dense", units: 6 }, ln({ activation: "tanh" }), { type: "dense", units: 3 }];
    const worst = gradcheck(mlp, [5], { B: 4, prepare: scramble });
    expect(Object.keys(worst)).toEqual(["input", "dense1.weight", "dense1.bias", "ln1.weight", "ln1.bias", "dense2.weight", "dense2.bias"]);
    expect(failures(worst)).toEqual({});
  });
  it("after an LSTM with returnSequences: lstm → layernorm per step → flatten → dense (every tensor)", () => {
    const seq: LayerSpec[] = [{ type: "lstm", units: 4, returnSequences: true }, ln({ activation: "tanh" }), { type: "flatten" }, { type: "dense", units: 3 }];
    const worst = gradcheck(seq, [5, 3], { B: 2, prepare: scramble });
    expect(Object.keys(worst)).toContain("ln1.weight");
    expect(Object.keys(worst)).toContain("lstm1.weight_hh_l0");
    expect(failures(worst)).toEqual({});
  });
});

describe("layernorm by hand", () => {
  it("normalizes each row over its features with the biased variance, then γ·x̂ + β", () => {
    const m = buildNetwork({ layers: [ln()] }, [4], { dtype: "f64" });
    m.tensor("ln1.weight")!.value.set([1, 2, 0.5, 1]);
    m.tensor("ln1.bias")!.value.set([0, 1, 0, -1]);
    // row 0: 1, 2, 3, 6 → μ = 3, σ² = (4 + 1 + 0 + 9)/4 = 3.5
    // row 1: 4, 4, 0, 0 → μ = 2, σ² = 4
    const y = m.forward(Float64Array.from([1, 2, 3, 6, 4, 4, 0, 0]), 2, true);
    const s0 = Math.sqrt(3.5 + 1e-5), s1 = Math.sqrt(4 + 1e-5);
    const want = [-2 / s0, 2 * (-1 / s0) + 1, 0, 3 / s0 - 1, 2 / s1, 2 * (2 / s1) + 1, 0.5 * (-2 / s1), -2 / s1 - 1];
    want.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 14));
  });
  it("computes the same in training and evaluation (no batch statistics, no buffers)", () => {
    const m = buildNetwork({ layers: [ln({ activation: "tanh" })] }, [2, 3], { dtype: "f64" });
    expect(m.buffers).toEqual([]);
    const x = Float64Array.from({ length: 12 }, (_, i) => Math.cos(3 * i));
    const train = Float64Array.from(m.forward(x, 2, true));
    expect(Array.from(m.forward(x, 2, false))).toEqual(Array.from(train));
  });
  it("starts at γ = 1, β = 0, named ln1, ln2 (as nn.LayerNorm)", () => {
    const m = buildNetwork({ layers: [ln(), { type: "dense", units: 3 }, ln()] }, [4], { dtype: "f32" });
    expect(m.params.map((p) => [p.name, p.shape])).toEqual([
      ["ln1.weight", [4]], ["ln1.bias", [4]], ["dense1.weight", [3, 4]], ["dense1.bias", [3]], ["ln2.weight", [3]], ["ln2.bias", [3]],
    ]);
    expect(Array.from(m.tensor("ln1.weight")!.value)).toEqual([1, 1, 1, 1]);
    expect(Array.from(m.tensor("ln1.bias")!.value)).toEqual([0, 0, 0, 0]);
  });
  it("refuses an image with one line naming the layer", () => {
    expect(() => buildNetwork({ layers: [{ type: "flatten" }, ln()] }, [1, 4, 4])).not.toThrow();
    const err = (() => { try { buildNetwork({ layers: [ln()] }, [1, 4, 4]); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe("model.layers[0]: layernorm normalizes features [F] or per-step features [T, F], got [1, 4, 4]; for an image use batchnorm");
  });
});

describe("layernorm's kind", () => {
  it("estimates as many parameters as it builds, and keeps the shape", () => {
    // 2F: γ and β, counted from the built model
    for (const inShape of [[7], [5, 6]]) {
      const built = buildNetwork({ layers: [ln()] }, inShape).params.reduce((n, p) => n + p.value.length, 0);
      const f = layernormKind.estimate(ln(), inShape, () => []);
      expect(f.params).toBe(built);
      expect(f.outShape).toEqual(inShape);
    }
  });
  it("forward + backward of a [32, 64] batch allocates nothing: < 64 bytes a call", () => {
    const m = buildNetwork({ layers: [ln({ activation: "tanh" })] }, [64], { dtype: "f32" });
    const x = Float32Array.from({ length: 32 * 64 }, (_, i) => Math.sin(i));
    const dy = Float32Array.from({ length: 32 * 64 }, (_, i) => Math.cos(i));
    const layer = m.layers[0];
    expect(bytesPerCall(() => { layer.forward(x, 32, true); layer.backward(dy, 32, true); }, 2000)).toBeLessThan(64);
  });
});
