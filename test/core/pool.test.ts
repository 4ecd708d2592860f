// maxpool2d / avgpool2d: gradient checks of the input (Float64, five-point differences; normal
// inputs, so no two values of a window tie), hand-worked windows, PyTorch's first-of-ties rule,
// floor sizing and the documented errors.
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { buildNetwork } from "../../src/core/model.ts";
import type { LayerSpec, PoolSpec } from "../../src/core/spec.ts";
import { failures, gradcheck } from "../helpers/gradcheck.ts";

describe("pooling gradients (input < 1e-6)", () => {
  const cases: [string, PoolSpec, number[]][] = [
    ["maxpool 2", { type: "maxpool2d", size: 2 }, [2, 4, 6]],
    ["maxpool 3, stride 2 (overlapping windows), 5×5 → 2×2", { type: "maxpool2d", size: 3, stride: 2 }, [2, 5, 5]],
    ["maxpool 2 on an odd size (floor: 5×7 → 2×3)", { type: "maxpool2d", size: 2 }, [1, 5, 7]],
    ["avgpool 2", { type: "avgpool2d", size: 2 }, [2, 4, 6]],
    ["avgpool 3, stride 1 (overlapping windows)", { type: "avgpool2d", size: 3, stride: 1 }, [2, 5, 4]],
  ];
  for (const [title, spec, inShape] of cases) {
    it(title, () => {
      const worst = gradcheck([spec], inShape, { B: 2 });
      expect(Object.keys(worst)).toEqual(["input"]);
      expect(failures(worst)).toEqual({});
    });
  }
  it("between two convolutions (the pool passes the error to the right pixels)", () => {
    const layers: LayerSpec[] = [
      { type: "conv2d", filters: 2, kernel: 3, padding: "same", activation: "tanh" },
      { type: "avgpool2d", size: 2 },
      { type: "conv2d", filters: 2, kernel: 2, activation: "tanh" },
      { type: "maxpool2d", size: 2 },
    ];
    expect(failures(gradcheck(layers, [1, 6, 6], { B: 2 }))).toEqual({});
  });
});

/** Forward one 1×4×4 image through a pool and back-propagate dy = 1, 2, 3, … per output. */
function handPool(spec: PoolSpec, x: number[]) {
  const m = buildNetwork({ layers: [spec] }, [1, 4, 4], { dtype: "f64" });
  const y = Array.from(m.forward(Float64Array.from(x), 1, true));
  m.backward(Float64Array.from(y, (_, i) => i + 1), 1, true);
  return { y, dx: Array.from(m.inputGrad!), outShape: m.outShape };
}

describe("pooling by hand (one 4×4 image)", () => {
  const x = [
    1, 5, 2, 0,
    3, 4, 8, 7,
    -1, -2, 6, 6,
    -3, -4, 6, 9,
  ];
  it("maxpool 2: each window's largest value; dy goes to that position only", () => {
    const r = handPool({ type: "maxpool2d", size: 2 }, x);
    expect(r.outShape).toEqual([1, 2, 2]);
    expect(r.y).toEqual([5, 8, -1, 9]);
    expect(r.dx).toEqual([
      0, 1, 0, 0,
      0, 0, 2, 0,
      3, 0, 0, 0,
      0, 0, 0, 4,
    ]);
  });
  it("maxpool: a tie sends the gradient to the first maximum in scan order, as PyTorch does", () => {
    const r = handPool({ type: "maxpool2d", size: 2, stride: 2 }, [
      7, 7, 0, 0,
      7, 7, 0, 1,
      2, 3, 4, 4,
      3, 1, 4, 4,
    ]);
    expect(r.y).toEqual([7, 1, 3, 4]);
    expect(r.dx).toEqual([
      1, 0, 0, 0,
      0, 0, 0, 2,
      0, 3, 4, 0,
      0, 0, 0, 0,
    ]);
  });
  it("maxpool with overlapping windows adds the gradients of every window a value wins", () => {
    // size 2, stride 1: 3×3 outputs; 8 (row 1, col 2) wins the four windows around it
    const r = handPool({ type: "maxpool2d", size: 2, stride: 1 }, x);
    expect(r.y).toEqual([5, 8, 8, 4, 8, 8, -1, 6, 9]);
    expect(r.dx[1 * 4 + 2]).toBe(2 + 3 + 5 + 6);
    expect(r.dx[0 * 4 + 1]).toBe(1);
  });
  it("avgpool 2: window means; dy/4 to every pixel of the window", () => {
    const r = handPool({ type: "avgpool2d", size: 2 }, x);
    expect(r.y).toEqual([13 / 4, 17 / 4, -10 / 4, 27 / 4]);
    expect(r.dx).toEqual([
      0.25, 0.25, 0.5, 0.5,
      0.25, 0.25, 0.5, 0.5,
      0.75, 0.75, 1, 1,
      0.75, 0.75, 1, 1,
    ]);
  });
});

describe("pooling contract", () => {
  it("no parameters, no probe, auto names maxpool1 / avgpool1", () => {
    const m = buildNetwork({ layers: [{ type: "maxpool2d", size: 2 }, { type: "avgpool2d", size: 2 }] }, [3, 8, 8]);
    expect(m.params).toEqual([]);
    expect(m.layers.map((l) => [l.name, l.outShape, l.probe()])).toEqual([["maxpool1", [3, 4, 4], null], ["avgpool1", [3, 2, 2], null]]);
  });
  it("errors name the layer", () => {
    expect(() => buildNetwork({ layers: [{ type: "maxpool2d", size: 2 }] }, [784])).toThrow(
      new InputError('model.layers[0]: maxpool2d expects an image input [C, H, W], got [784]; use data.view "image"'),
    );
    expect(() => buildNetwork({ layers: [{ type: "avgpool2d", size: 5 }] }, [1, 4, 8])).toThrow(
      new InputError("model.layers[0].size: a 5×5 window does not fit the input [1, 4, 8]"),
    );
  });
});
