// Gradient checks (Float64, five-point central differences; see test/helpers/gradcheck.ts):
// the input and every parameter of each layer and of a 3-layer model must agree to 1e-6.
import { describe, expect, it } from "vitest";
import { ACTIVATION_NAMES } from "../../src/core/activations.ts";
import { LOSSES } from "../../src/core/losses.ts";
import { Rng } from "../../src/core/rng.ts";
import type { LayerSpec, LossName } from "../../src/core/spec.ts";
import { failures, gradcheck } from "../helpers/gradcheck.ts";

describe("dense layer gradients", () => {
  for (const activation of ACTIVATION_NAMES) {
    it(`dense 5→4 ${activation}: input, weight and bias`, () => {
      // Inputs scaled so pre-activations stay well away from relu's kink at 0 on these seeds.
      const worst = gradcheck([{ type: "dense", units: 4, activation, init: "glorot", biasInit: { type: "uniform", scale: 0.5 } }], [5], { B: 3 });
      expect(Object.keys(worst)).toEqual(["input", "dense1.weight", "dense1.bias"]);
      expect(failures(worst)).toEqual({});
    });
  }
  it("dense without bias has only a weight", () => {
    const worst = gradcheck([{ type: "dense", units: 3, bias: false }], [4]);
    expect(Object.keys(worst)).toEqual(["input", "dense1.weight"]);
    expect(failures(worst)).toEqual({});
  });
  it("a 3-layer sigmoid model (the seed network, narrowed): every tensor", () => {
    const layers: LayerSpec[] = [
      { type: "dense", units: 5, activation: "sigmoid" },
      { type: "dense", units: 5, activation: "sigmoid" },
      { type: "dense", units: 10 },
    ];
    const worst = gradcheck(layers, [20], { B: 4, input: "uniform" });
    expect(Object.keys(worst).length).toBe(7);
    expect(failures(worst)).toEqual({});
  });
  it("a model with a flatten before dense", () => {
    const worst = gradcheck([{ type: "flatten" }, { type: "dense", units: 3, activation: "tanh" }], [2, 3]);
    expect(failures(worst)).toEqual({});
  });
  it("the check itself fails when a gradient is wrong (a sign flipped in the bias)", () => {
    const worst = gradcheck([{ type: "dense", units: 3, activation: "tanh" }], [4], {
      prepare: (m) => {
        const layer = m.layers[0];
        const orig = layer.backward.bind(layer);
        layer.backward = (dy, B, needDx) => {
          const dx = orig(dy, B, needDx);
          const db = m.params[1].grad;
          for (let i = 0; i < db.length; i++) db[i] = -db[i];
          return dx;
        };
      },
    });
    expect(worst["dense1.bias"]).toBeGreaterThan(0.5);
    expect(worst["dense1.weight"]).toBeLessThan(1e-6);
  });
});

describe("loss gradients", () => {
  for (const name of Object.keys(LOSSES) as LossName[]) {
    it(`${name}: ∂L/∂logits matches five-point differences of the mean loss`, () => {
      const loss = LOSSES[name];
      const B = 4, C = 5;
      const rng = new Rng(3);
      const z = Float64Array.from({ length: B * C }, () => 2 * rng.normal());
      const labels = Int32Array.from([0, 3, 4, 1]);
      const dz = new Float64Array(B * C);
      const value = loss.forwardBackward(z, labels, B, C, dz);
      expect(value).toBeCloseTo(loss.value(z, labels, B, C), 14);
      const h = 1e-4;
      for (let i = 0; i < z.length; i++) {
        const o = z[i];
        const f = (d: number) => { z[i] = o + d; return loss.value(z, labels, B, C); };
        const num = (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h);
        z[i] = o;
        expect(Math.abs(dz[i] - num) / Math.max(Math.abs(dz[i]) + Math.abs(num), 1e-8)).toBeLessThan(1e-6);
      }
    });
  }
  it("cross-entropy of uniform logits is ln C (hand derivation)", () => {
    const C = 10;
    const z = new Float64Array(2 * C);
    expect(LOSSES.cross_entropy.value(z, Int32Array.from([3, 7]), 2, C)).toBeCloseTo(Math.log(10), 14);
  });
  it("cross-entropy is stable for huge logits", () => {
    const z = Float64Array.from([1000, -1000, 0]);
    const dz = new Float64Array(3);
    expect(LOSSES.cross_entropy.forwardBackward(z, Int32Array.from([1]), 1, 3, dz)).toBeCloseTo(2000, 9);
    expect(Array.from(dz)).toEqual([1, -1, 0]);
  });
});
