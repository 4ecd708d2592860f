// residual: gradient checks (Float64, five-point differences) of the input and every parameter of
// the block, with and without an activation after the sum; depth-first names of nested layers;
// the identity path by hand; the shape error.
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { tanh } from "../../src/core/math.ts";
import { buildNetwork } from "../../src/core/model.ts";
import type { LayerSpec, ResidualSpec } from "../../src/core/spec.ts";
import { failures, gradcheck } from "../helpers/gradcheck.ts";

const block2 = (activation?: ResidualSpec["activation"]): ResidualSpec => ({
  type: "residual",
  layers: [{ type: "dense", units: 4, activation: "tanh" }, { type: "dense", units: 4 }],
  ...(activation ? { activation } : {}),
});

describe("residual gradients (input and every block parameter < 1e-6)", () => {
  it("y = x + block(x), block = dense tanh → dense", () => {
    const worst = gradcheck([block2()], [4], { B: 3 });
    expect(Object.keys(worst)).toEqual(["input", "dense1.weight", "dense1.bias", "dense2.weight", "dense2.bias"]);
    expect(failures(worst)).toEqual({});
  });
  it("y = tanh(x + block(x)) between two dense layers", () => {
    const layers: LayerSpec[] = [{ type: "dense", units: 4, activation: "tanh" }, block2("tanh"), { type: "dense", units: 3 }];
    const worst = gradcheck(layers, [5], { B: 3 });
    expect(Object.keys(worst)).toEqual(["input", "dense1.weight", "dense1.bias", "dense2.weight", "dense2.bias", "dense3.weight", "dense3.bias", "dense4.weight", "dense4.bias"]);
    expect(failures(worst)).toEqual({});
  });
  it("a residual block inside a residual block, with a sigmoid", () => {
    const nested: ResidualSpec = { type: "residual", layers: [block2(), { type: "dense", units: 4, activation: "sigmoid" }], activation: "sigmoid" };
    expect(failures(gradcheck([nested], [4], { B: 2 }))).toEqual({});
  });
  it("a convolutional block: conv same → batchnorm relu → conv same, then relu", () => {
    const block: ResidualSpec = {
      type: "residual",
      layers: [
        { type: "conv2d", filters: 3, kernel: 3, padding: "same", bias: false },
        { type: "batchnorm", activation: "tanh" },
        { type: "conv2d", filters: 2, kernel: 3, padding: "same" },
      ],
      activation: "elu",
    };
    expect(failures(gradcheck([block], [2, 4, 4], { B: 2 }))).toEqual({});
  });
});

describe("residual contract", () => {
  it("nested layers get global depth-first names and appear in allLayers after their block", () => {
    const m = buildNetwork({ layers: [{ type: "dense", units: 4, activation: "tanh" }, block2("tanh"), { type: "dense", units: 3 }] }, [6]);
    expect(m.allLayers.map((l) => l.name)).toEqual(["dense1", "residual1", "dense2", "dense3", "dense4"]);
    expect(m.layers.map((l) => l.name)).toEqual(["dense1", "residual1", "dense4"]);
    expect(m.params.map((p) => p.name)).toEqual([
      "dense1.weight", "dense1.bias", "dense2.weight", "dense2.bias", "dense3.weight", "dense3.bias", "dense4.weight", "dense4.bias",
    ]);
  });
  it("the identity path by hand: a block whose last layer outputs 0 gives y = x and dx = dy + 0", () => {
    const m = buildNetwork({ layers: [block2()] }, [4], { dtype: "f64" });
    m.tensor("dense2.weight")!.value.fill(0);
    m.tensor("dense2.bias")!.value.fill(0);
    const x = Float64Array.from([1, -2, 3, -4, 0.5, 0.25, -0.125, 8]);
    expect(Array.from(m.forward(x, 2, true))).toEqual(Array.from(x));
    const dy = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    m.backward(dy, 2, true);
    // the block's input gradient is dzᵀ·W2·… = 0 here, so only the skip connection carries dy
    expect(Array.from(m.inputGrad!)).toEqual(Array.from(dy));
    // and the zeroed last layer still learns: ∂L/∂b2 = Σ_b dy
    expect(Array.from(m.params.find((p) => p.name === "dense2.bias")!.grad)).toEqual([6, 8, 10, 12]);
  });
  it("probe: null without an activation (its block's layers are measured), z = x + block(x) with one", () => {
    const plain = buildNetwork({ layers: [block2()] }, [4], { dtype: "f64" });
    expect(plain.layers[0].probe()).toBeNull();
    const m = buildNetwork({ layers: [block2("tanh")] }, [4], { dtype: "f64" });
    const x = Float64Array.from([0.1, 0.2, 0.3, 0.4]);
    const y = m.forward(x, 1, true);
    const inner = m.allLayers[2].probe()!.y!; // block(x), the last dense layer's output
    m.backward(Float64Array.from([1, 1, 1, 1]), 1, false);
    const probe = m.layers[0].probe()!;
    expect(probe.units).toBe(4);
    for (let i = 0; i < 4; i++) {
      expect(probe.z![i]).toBe(x[i] + inner[i]);
      expect(y[i]).toBe(tanh(probe.z![i])); // the engine's tanh (math.ts), which every layer uses
      expect(probe.dz![i]).toBeCloseTo(1 - y[i] * y[i], 15);
    }
  });
  it("a block must keep the shape", () => {
    const spec = { layers: [{ type: "dense", units: 6 }, { type: "dense", units: 6 }, { type: "dense", units: 6 }, { type: "residual", layers: [{ type: "dense", units: 5 }] }] } as { layers: LayerSpec[] };
    expect(() => buildNetwork(spec, [6])).toThrow(
      new InputError("model.layers[3]: residual block maps [6] to [5]; a residual block must keep the shape (y = x + block(x))"),
    );
    // nested paths name the inner layer
    const inner = { layers: [{ type: "residual", layers: [{ type: "conv2d", filters: 2, kernel: 3 }] }] } as { layers: LayerSpec[] };
    expect(() => buildNetwork(inner, [6])).toThrow(/^model\.layers\[0\]\.layers\[0\]: conv2d expects an image input/);
  });
});
