// conv2d: gradient checks (Float64 JS path, five-point differences, see test/helpers/gradcheck.ts),
// hand-derived outputs and gradients on a 3×3 image, the Float32 WebAssembly SIMD engine against
// the Float64 JS path on awkward shapes, and the documented errors.
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { col2im, convOutSize, im2col, wasmOps, type ConvGeometry } from "../../src/accel/index.ts";
import { buildNetwork, type Model } from "../../src/core/model.ts";
import { Rng } from "../../src/core/rng.ts";
import type { Conv2dSpec, LayerSpec } from "../../src/core/spec.ts";
import { size, type DType } from "../../src/core/tensor.ts";
import { failures, gradcheck } from "../helpers/gradcheck.ts";

const conv = (o: Partial<Conv2dSpec> = {}): Conv2dSpec => ({ type: "conv2d", filters: 2, kernel: 3, ...o });

describe("conv2d gradients (input, weight, bias < 1e-6)", () => {
  const cases: [string, LayerSpec[], number[]][] = [
    ["padding same, tanh", [conv({ padding: "same", activation: "tanh" })], [2, 5, 4]],
    ["padding valid, sigmoid", [conv({ padding: "valid", activation: "sigmoid" })], [2, 5, 6]],
    ["padding 2 (int), linear", [conv({ padding: 2 })], [1, 4, 3]],
    ["stride 2, padding 1, relu", [conv({ stride: 2, padding: 1, activation: "relu" })], [2, 7, 6]],
    ["stride 2, kernel 2, valid, elu", [conv({ kernel: 2, stride: 2, activation: "elu" })], [3, 6, 5]],
    ["kernel 5, 3 channels → 5 filters, gelu", [conv({ filters: 5, kernel: 5, padding: "same", activation: "gelu" })], [3, 5, 5]],
    ["1×1 kernel, leaky_relu", [conv({ filters: 3, kernel: 1, activation: "leaky_relu" })], [4, 3, 2]],
    ["without bias, softsign", [conv({ bias: false, padding: 1, activation: "softsign" })], [2, 4, 4]],
  ];
  for (const [title, layers, inShape] of cases) {
    it(title, () => {
      const worst = gradcheck(layers, inShape, { B: 2 });
      const hasBias = (layers[0] as Conv2dSpec).bias !== false;
      expect(Object.keys(worst)).toEqual(hasBias ? ["input", "conv1.weight", "conv1.bias"] : ["input", "conv1.weight"]);
      expect(failures(worst)).toEqual({});
    });
  }
  it("a small CNN: conv → maxpool → conv → maxpool → flatten → dense, every tensor", () => {
    const layers: LayerSpec[] = [
      { type: "conv2d", filters: 3, kernel: 3, padding: "same", activation: "relu" },
      { type: "maxpool2d", size: 2 },
      { type: "conv2d", filters: 4, kernel: 3, padding: "same", activation: "tanh" },
      { type: "maxpool2d", size: 2 },
      { type: "flatten" },
      { type: "dense", units: 3 },
    ];
    const worst = gradcheck(layers, [1, 8, 8], { B: 2, input: "uniform" });
    expect(Object.keys(worst)).toEqual(["input", "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "dense1.weight", "dense1.bias"]);
    expect(failures(worst)).toEqual({});
  });
});

/** One conv layer on one 3×3 image x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] with weights set by hand. */
function handConv(dtype: DType, spec: Conv2dSpec, weight: number[], bias: number) {
  const m = buildNetwork({ layers: [spec] }, [1, 3, 3], { dtype });
  m.params[0].value.set(weight);
  m.params[1].value.fill(bias);
  const x = dtype === "f64" ? Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]) : Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const y = Array.from(m.forward(x, 1, true));
  const dy = new Float64Array(y.length).fill(1); // L = Σ y
  const dyTyped = dtype === "f64" ? dy : Float32Array.from(dy);
  m.backward(dyTyped, 1, true);
  return { y, dW: Array.from(m.params[0].grad), db: Array.from(m.params[1].grad), dx: Array.from(m.inputGrad!) };
}

describe("conv2d by hand (3×3 image 1..9); both engines", () => {
  for (const dtype of ["f64", "f32"] as DType[]) {
    it(`${dtype}: 2×2 kernel [[1, 2], [3, 4]], valid, bias 0.5`, () => {
      const r = handConv(dtype, conv({ filters: 1, kernel: 2 }), [1, 2, 3, 4], 0.5);
      // z[oy, ox] = 1·x[oy, ox] + 2·x[oy, ox+1] + 3·x[oy+1, ox] + 4·x[oy+1, ox+1] + 0.5
      // (0,0): 1 + 4 + 12 + 20 = 37; (0,1): 2 + 6 + 15 + 24 = 47; (1,0): 67; (1,1): 77
      expect(r.y).toEqual([37.5, 47.5, 67.5, 77.5]);
      // L = Σ z: ∂L/∂W[ky, kx] = Σ of the 2×2 block of x starting at (ky, kx); ∂L/∂b = 4 positions
      expect(r.dW).toEqual([1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]);
      expect(r.db).toEqual([4]);
      // ∂L/∂x[i, j] = Σ of the kernel entries that touch (i, j): corners one entry, centre all four
      expect(r.dx).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
    });
    it(`${dtype}: 3×3 kernel of ones, padding same = sums of 3×3 neighbourhoods`, () => {
      const r = handConv(dtype, conv({ filters: 1, kernel: 3, padding: "same" }), new Array(9).fill(1), 0);
      expect(r.y).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
      // ∂L/∂W[ky, kx] = Σ x over the positions that entry reads: the 2×2 corner blocks for the
      // kernel's corners, 2×3 / 3×2 blocks for its edges, all of x (45) for its centre
      expect(r.dW).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
      expect(r.db).toEqual([9]);
      // ∂L/∂x = how many 3×3 windows (centred on the 9 outputs) cover each pixel
      expect(r.dx).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
    });
  }
});

/** Build the same network in f32 (WebAssembly SIMD engine) and f64 (JS path) with equal weights. */
function twin(layers: LayerSpec[], inShape: number[]): [Model, Model] {
  const m32 = buildNetwork({ layers }, inShape, { dtype: "f32", seed: 3 });
  const m64 = buildNetwork({ layers }, inShape, { dtype: "f64", seed: 3 });
  m64.params.forEach((p, i) => p.value.set(m32.params[i].value));
  return [m32, m64];
}
/** max |a − e| / max |e| */
function relErr(a: ArrayLike<number>, e: ArrayLike<number>, n = e.length): number {
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { num = Math.max(num, Math.abs(a[i] - e[i])); den = Math.max(den, Math.abs(e[i])); }
  return num / den;
}

describe("im2col / col2im (the JS reference kernels)", () => {
  const geometry = (C: number, H: number, W: number, K: number, S: number, pad: number): ConvGeometry =>
    ({ C, H, W, K, S, pad, Ho: convOutSize(H, K, S, pad), Wo: convOutSize(W, K, S, pad) });
  it("col[r, p] is the pixel receptive field p reads at r, 0 in the padding (2×2 image, K 2, padding 1)", () => {
    const col = new Float64Array(4 * 9);
    im2col(Float64Array.from([1, 2, 3, 4]), 0, geometry(1, 2, 2, 2, 1, 1), col, 0);
    // row r = (ky, kx); the 3×3 output positions read x[oy + ky − 1, ox + kx − 1]
    expect(Array.from(col)).toEqual([
      0, 0, 0, 0, 1, 2, 0, 3, 4, // ky 0, kx 0
      0, 0, 0, 1, 2, 0, 3, 4, 0, // ky 0, kx 1
      0, 1, 2, 0, 3, 4, 0, 0, 0, // ky 1, kx 0
      1, 2, 0, 3, 4, 0, 0, 0, 0, // ky 1, kx 1
    ]);
  });
  it("col2im is the adjoint of im2col: Σ d·im2col(x) = Σ col2im(d)·x", () => {
    const rng = new Rng(11);
    for (const g of [geometry(2, 5, 6, 3, 1, 1), geometry(3, 7, 5, 3, 2, 0), geometry(1, 6, 6, 2, 3, 2), geometry(2, 4, 4, 5, 1, 2)]) {
      const n = g.C * g.H * g.W, m = g.C * g.K * g.K * g.Ho * g.Wo;
      const x = Float64Array.from({ length: n }, () => rng.normal()), d = Float64Array.from({ length: m }, () => rng.normal());
      const col = new Float64Array(m), dx = new Float64Array(n);
      im2col(x, 0, g, col, 0);
      col2im(d, 0, g, dx, 0);
      let a = 0, b = 0;
      for (let i = 0; i < m; i++) a += d[i] * col[i];
      for (let i = 0; i < n; i++) b += dx[i] * x[i];
      expect(Math.abs(a - b)).toBeLessThan(1e-12 * Math.abs(a) + 1e-12);
    }
  });
});

describe("conv2d Float32 SIMD engine = Float64 JS path (to float32 rounding, 1e-5)", () => {
  it("the WebAssembly SIMD module validates here (else Float32 would quietly take the slow JS path)", () => {
    expect(wasmOps()).not.toBeNull();
  });
  const shapes: [string, Conv2dSpec, number[]][] = [
    ["5 filters (not a multiple of 4), 3 channels, same", conv({ filters: 5, padding: "same", activation: "tanh" }), [3, 7, 9]],
    ["stride 2, padding 1, odd sizes", conv({ filters: 6, stride: 2, padding: 1 }), [2, 9, 7]],
    ["kernel 5, padding 2, 1 filter, no bias", conv({ filters: 1, kernel: 5, padding: 2, bias: false }), [1, 6, 11]],
    ["stride 3, kernel 2, valid", conv({ filters: 4, kernel: 2, stride: 3 }), [2, 8, 10]],
    ["MNIST-sized: 8 filters, same, relu", conv({ filters: 8, padding: "same", activation: "relu" }), [1, 28, 28]],
  ];
  for (const [title, spec, inShape] of shapes) {
    it(title, () => {
      const [m32, m64] = twin([spec], inShape);
      const rng = new Rng(5);
      // batch sizes change between calls, so buffers sized for one batch are reused for another
      for (const B of [3, 1, 4]) {
        const n = B * size(inShape);
        const x32 = Float32Array.from({ length: n }, () => rng.normal());
        const x64 = Float64Array.from(x32);
        const y32 = m32.forward(x32, B, true), y64 = m64.forward(x64, B, true);
        const outN = B * size(m32.outShape);
        expect(relErr(y32, y64, outN)).toBeLessThan(1e-5);
        const dy = Float32Array.from({ length: outN }, () => rng.normal());
        for (const m of [m32, m64]) for (const p of m.params) p.grad.fill(0);
        m32.backward(dy, B, true);
        m64.backward(Float64Array.from(dy), B, true);
        expect(relErr(m32.inputGrad!, m64.inputGrad!, n)).toBeLessThan(1e-5);
        m32.params.forEach((p, i) => expect(relErr(p.grad, m64.params[i].grad), p.name).toBeLessThan(1e-5));
      }
    });
  }
});

describe("conv2d contract", () => {
  it("PyTorch names and shapes; standard init within U[±1/√(C·K·K)] for weight and bias", () => {
    const m = buildNetwork({ layers: [conv({ filters: 6, kernel: 5 }), conv({ filters: 4 })] }, [3, 12, 12], { seed: 2 });
    expect(m.params.map((p) => [p.name, p.shape])).toEqual([
      ["conv1.weight", [6, 3, 5, 5]], ["conv1.bias", [6]], ["conv2.weight", [4, 6, 3, 3]], ["conv2.bias", [4]],
    ]);
    expect(m.outShape).toEqual([4, 6, 6]); // 12 − 5 + 1 = 8, then 8 − 3 + 1 = 6
    for (const [p, fanIn] of [[m.params[0], 75], [m.params[1], 75], [m.params[2], 54], [m.params[3], 54]] as const) {
      const bound = 1 / Math.sqrt(fanIn);
      const maxAbs = Math.max(...Array.from(p.value, Math.abs));
      expect(maxAbs).toBeLessThanOrEqual(bound);
      if (p.value.length > 20) expect(maxAbs).toBeGreaterThan(0.8 * bound);
    }
  });
  it("backward accumulates (+=) into the gradients and returns null when dx is not needed", () => {
    for (const dtype of ["f64", "f32"] as DType[]) {
      const m = buildNetwork({ layers: [conv({ padding: 1 })] }, [2, 4, 4], { dtype, seed: 1 });
      const x = dtype === "f64" ? new Float64Array(2 * 32).fill(0.5) : new Float32Array(2 * 32).fill(0.5);
      const dy = dtype === "f64" ? new Float64Array(2 * 32).fill(1) : new Float32Array(2 * 32).fill(1);
      m.forward(x, 2, true);
      expect(m.layers[0].backward(dy, 2, false)).toBeNull();
      const once = Array.from(m.params[0].grad);
      m.layers[0].backward(dy, 2, false);
      Array.from(m.params[0].grad).forEach((g, i) => expect(g).toBeCloseTo(2 * once[i], 5));
    }
  });
  it("probe: z, y and dz over every position and channel (units = F·Ho·Wo)", () => {
    const m = buildNetwork({ layers: [conv({ filters: 3, stride: 2, activation: "tanh" })] }, [1, 7, 7], { dtype: "f64" });
    const B = 2;
    const x = Float64Array.from({ length: B * 49 }, (_, i) => Math.sin(i));
    const y = m.forward(x, B, true);
    const dy = Float64Array.from({ length: B * 27 }, (_, i) => Math.cos(i));
    m.backward(dy, B, false);
    const probe = m.layers[0].probe()!;
    expect(probe.units).toBe(3 * 3 * 3);
    expect(probe.act?.name).toBe("tanh");
    for (let i = 0; i < B * 27; i++) {
      expect(probe.y![i]).toBe(y[i]);
      expect(probe.y![i]).toBeCloseTo(Math.tanh(probe.z![i]), 14);
      expect(probe.dz![i]).toBeCloseTo(dy[i] * (1 - y[i] * y[i]), 14); // ∂L/∂z = dy·tanh′(z)
    }
  });
  it("errors name the layer and say what was expected", () => {
    const build = (layers: LayerSpec[], inShape: number[]) => () => buildNetwork({ layers }, inShape);
    expect(build([{ type: "dense", units: 4 }, { type: "dense", units: 4 }, conv()], [784])).toThrow(
      new InputError('model.layers[2]: conv2d expects an image input [C, H, W], got [4]; use data.view "image"'),
    );
    expect(build([conv()], [784])).toThrow(InputError);
    expect(build([conv({ padding: "same", stride: 2 })], [1, 8, 8])).toThrow(/model\.layers\[0\]\.padding: "same" needs stride 1 and an odd kernel; got stride 2, kernel 3/);
    expect(build([conv({ padding: "same", kernel: 2 })], [1, 8, 8])).toThrow(/"same" needs stride 1 and an odd kernel; got stride 1, kernel 2/);
    expect(build([conv({ kernel: 5 })], [1, 4, 8])).toThrow(/model\.layers\[0\]: conv2d output would be 0×4 \(input \[1, 4, 8\], kernel 5, stride 1, padding 0\)/);
    expect(build([conv({ padding: -1 })], [1, 8, 8])).toThrow(/padding: expected "same", "valid" or a non-negative integer; got -1/);
  });
});
