// RNG, initializers and optimizers against hand derivations.
import { describe, expect, it } from "vitest";
import { fans, initialize } from "../../src/core/init.ts";
import type { Param } from "../../src/core/layers/layer.ts";
import { clipGradients, Optimizer } from "../../src/core/optim.ts";
import { Rng } from "../../src/core/rng.ts";
import type { OptimizerSpec } from "../../src/core/spec.ts";

describe("rng", () => {
  it("is deterministic per (seed, stream), and streams differ", () => {
    const a = new Rng(42, 0), b = new Rng(42, 0), c = new Rng(42, 1);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs);
  });
  it("uniform in [0,1) with mean ≈ 1/2, normal with mean ≈ 0 and variance ≈ 1 (n = 200k: 5σ bounds)", () => {
    const r = new Rng(1);
    const n = 200_000;
    let su = 0, sn = 0, sn2 = 0, min = 1, max = 0;
    for (let i = 0; i < n; i++) { const u = r.uniform(); su += u; min = Math.min(min, u); max = Math.max(max, u); const z = r.normal(); sn += z; sn2 += z * z; }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(su / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sn / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });
  it("state() / setState() resume the exact sequence", () => {
    const r = new Rng(9);
    r.normal();
    const st = r.state();
    const next = [r.normal(), r.uniform(), r.int(10)];
    r.setState(st);
    expect([r.normal(), r.uniform(), r.int(10)]).toEqual(next);
  });
  it("shuffle is a permutation", () => {
    const a = Int32Array.from({ length: 100 }, (_, i) => i);
    new Rng(3).shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...a]).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe("init", () => {
  const draw = (spec: Parameters<typeof initialize>[0], shape: number[]) => {
    const out = new Float64Array(shape.reduce((a, b) => a * b));
    initialize(spec, out, shape, new Rng(1));
    return out;
  };
  const absMax = (a: Float64Array) => Math.max(...a.map(Math.abs));
  const std = (a: Float64Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  it("fans follow PyTorch: [out, in, kh, kw] → fan_in = in·kh·kw, fan_out = out·kh·kw", () => {
    expect(fans([8, 3, 5, 5])).toEqual({ fanIn: 75, fanOut: 200 });
  });
  it("standard is U[±1/√fan_in] and glorot U[±√(6/(fan_in+fan_out))]: bounds hit but never exceeded", () => {
    const s = draw("standard", [100, 400]);
    expect(absMax(s)).toBeLessThanOrEqual(1 / 20);
    expect(absMax(s)).toBeGreaterThan(0.99 / 20);
    const g = draw("glorot", [100, 400]);
    expect(absMax(g)).toBeLessThanOrEqual(Math.sqrt(6 / 500));
    expect(absMax(g)).toBeGreaterThan(0.99 * Math.sqrt(6 / 500));
  });
  it("he has std √(2/fan_in), lecun √(1/fan_in) (within 2% for 40k draws)", () => {
    expect(std(draw("he", [100, 400])) / Math.sqrt(2 / 400)).toBeCloseTo(1, 1);
    expect(Math.abs(std(draw("lecun", [100, 400])) / Math.sqrt(1 / 400) - 1)).toBeLessThan(0.02);
  });
  it("orthogonal gives QᵀQ = I (tall) and QQᵀ = I (wide), times gain", () => {
    for (const [r, c] of [[6, 4], [4, 6], [5, 5]]) {
      const q = draw({ type: "orthogonal", gain: 2 }, [r, c]);
      const k = Math.min(r, c);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        let s = 0;
        if (r >= c) for (let t = 0; t < r; t++) s += q[t * c + i] * q[t * c + j];
        else for (let t = 0; t < c; t++) s += q[i * c + t] * q[j * c + t];
        expect(s).toBeCloseTo(i === j ? 4 : 0, 10);
      }
    }
  });
  it("identity is I", () => {
    expect([...draw("identity", [3, 3])]).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });
});

function param(w: number[], g: number[]): Param {
  return { name: "p", key: "weight", shape: [w.length], value: Float64Array.from(w), grad: Float64Array.from(g) };
}
function steps(spec: OptimizerSpec, grads: number[][], w0 = [1, -2]): number[] {
  const p = param(w0, grads[0]);
  const opt = new Optimizer(spec, [p]);
  for (const g of grads) { p.grad.set(g); opt.step(); expect([...p.grad]).toEqual([0, 0]); }
  return [...p.value];
}

describe("optimizers (torch.optim 1.13 update rules, derived by hand)", () => {
  const g1 = [0.5, -1], g2 = [0.25, 2];
  it("sgd: w − lr·g", () => {
    expect(steps({ type: "sgd", lr: 0.1 }, [g1])).toEqual([1 - 0.05, -2 + 0.1]);
  });
  it("sgd momentum: v1 = g1, v2 = μv1 + g2", () => {
    const w = steps({ type: "sgd", lr: 0.1, momentum: 0.9 }, [g1, g2]);
    [0, 1].forEach((i) => expect(w[i]).toBeCloseTo([1, -2][i] - 0.1 * g1[i] - 0.1 * (0.9 * g1[i] + g2[i]), 14));
  });
  it("sgd nesterov: step uses g + μv", () => {
    const w = steps({ type: "sgd", lr: 0.1, momentum: 0.9, nesterov: true }, [g1]);
    [0, 1].forEach((i) => expect(w[i]).toBeCloseTo([1, -2][i] - 0.1 * (g1[i] + 0.9 * g1[i]), 14));
  });
  it("adam: the first step moves each weight by lr·g/(|g| + ε) (bias correction makes m̂ = g, v̂ = g²)", () => {
    const w = steps({ type: "adam", lr: 0.01 }, [g1]);
    [0, 1].forEach((i) => expect(w[i]).toBeCloseTo([1, -2][i] - 0.01 * g1[i] / (Math.abs(g1[i]) + 1e-8), 12));
  });
  it("rmsprop: v = (1−α)g², w − lr·g/(√v + ε)", () => {
    const w = steps({ type: "rmsprop", lr: 0.01 }, [g1]);
    [0, 1].forEach((i) => expect(w[i]).toBeCloseTo([1, -2][i] - 0.01 * g1[i] / (Math.sqrt(0.01 * g1[i] ** 2) + 1e-8), 12));
  });
  it("weight decay adds λw to the gradient", () => {
    expect(steps({ type: "sgd", lr: 0.1, weightDecay: 0.5 }, [[0, 0]])).toEqual([1 - 0.05, -2 + 0.1]);
  });
  it("clipNorm scales the global norm to max/(norm + 1e-6)·norm; clipValue clamps elementwise", () => {
    const p = param([0, 0], [3, 4]);
    expect(clipGradients([p], { type: "sgd", lr: 1, clipNorm: 1 })).toBe(5);
    expect(Math.hypot(...p.grad)).toBeCloseTo(5 / (5 + 1e-6), 12);
    const q = param([0, 0], [3, -4]);
    clipGradients([q], { type: "sgd", lr: 1, clipValue: 2 });
    expect([...q.grad]).toEqual([2, -2]);
    const r = param([0, 0], [0.3, 0.4]);
    clipGradients([r], { type: "sgd", lr: 1, clipNorm: 1 });
    expect([...r.grad]).toEqual([0.3, 0.4]);
  });
});
