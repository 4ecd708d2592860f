// Activations: df against central differences of f (Float64), the buffer loops against the
// scalar pair, and the facts the lab's story rests on (sigmoid′ ≤ 1/4, tanh′ ≤ 1).
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, ACTIVATION_NAMES, erf, sigmoid } from "../../src/core/activations.ts";

const points = [-6, -2.5, -1.3, -0.7, -0.2, 0.15, 0.4, 1.1, 2.2, 5];

describe("activations", () => {
  for (const name of ACTIVATION_NAMES) {
    const act = ACTIVATIONS[name];
    it(`${name}: df matches the five-point derivative of f away from kinks`, () => {
      const h = 1e-4;
      for (const z of points) {
        const f = act.f;
        const num = (8 * (f(z + h) - f(z - h)) - (f(z + 2 * h) - f(z - 2 * h))) / (12 * h);
        const a = act.df(z, f(z));
        expect(Math.abs(a - num) / Math.max(Math.abs(a) + Math.abs(num), 1e-8)).toBeLessThan(1e-6);
      }
    });
    it(`${name}: buffer loops agree with the scalar f and df`, () => {
      const z = Float64Array.from(points);
      const y = new Float64Array(z.length);
      const dy = Float64Array.from(points, (_, i) => 0.5 + i);
      const dz = new Float64Array(z.length);
      act.forward(z, y, z.length);
      act.backward(z, y, dy, dz, z.length);
      points.forEach((p, i) => {
        expect(y[i]).toBeCloseTo(act.f(p), 14);
        expect(dz[i]).toBeCloseTo(dy[i] * act.df(p, act.f(p)), 12);
      });
    });
    it(`${name}: |f′| never exceeds maxDf`, () => {
      for (let z = -8; z <= 8; z += 0.01) expect(Math.abs(act.df(z, act.f(z)))).toBeLessThanOrEqual(act.maxDf + 1e-12);
    });
  }

  it("sigmoid′ peaks at exactly 1/4 at z = 0 and tanh′ at 1 (hand derivation: σ′ = σ(1 − σ))", () => {
    expect(ACTIVATIONS.sigmoid.df(0, sigmoid(0))).toBe(0.25);
    expect(ACTIVATIONS.tanh.df(0, 0)).toBe(1);
    expect(ACTIVATIONS.sigmoid.maxDf).toBe(0.25);
  });

  it("sigmoid is stable at extreme inputs", () => {
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(800)).toBe(1);
    expect(Number.isFinite(sigmoid(-1e308))).toBe(true);
  });

  it("erf matches tabulated values (Abramowitz & Stegun table 7.1) to 1e-14", () => {
    const table: [number, number][] = [
      [0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [2, 0.9953222650189527], [3, 0.9999779095030014], [4, 0.9999999845827421], [-1.5, -0.9661051464753108],
    ];
    for (const [x, v] of table) expect(Math.abs(erf(x) - v)).toBeLessThan(1e-14);
  });
});
