// The reference product's one-pass path for K = 1 with a bias (ops/gemm.ts's outerBias: the input
// projection of a recurrent layer on the pixels view). Expected values: gemmNTRef followed by the
// bias added to the stored sums, the two-pass definition it replaces; signed zeros included,
// since the reference's sum 0 + a·b turns −0 into +0 and the one-pass loop must too.
import { describe, expect, it } from "vitest";
import { gemmNTRef, gemmRef } from "../../src/accel/index.ts";
import { Rng } from "../../src/core/rng.ts";

describe("gemmRef.gemmNT with K = 1 and a bias", () => {
  for (const [name, Arr] of [["float32", Float32Array], ["float64", Float64Array]] as const) {
    it(`${name}: bit for bit the sum, stored, then the bias`, () => {
      const rng = new Rng(11);
      const value = () => { const u = rng.uniform(); return u < 0.1 ? -0 : u < 0.2 ? 0 : rng.normal() * 10 ** Math.floor(rng.uniform() * 8 - 4); };
      const M = 37, N = 23;
      const fill = (n: number) => { const a = new Arr(n); for (let i = 0; i < n; i++) a[i] = value(); return a; };
      const A = fill(M), B = fill(N), bias = fill(N);
      bias[0] = -0; A[0] = -0; // −0·b + −0: the stored sum is +0, plus −0 gives +0
      const got = new Arr(M * N), want = new Arr(M * N);
      gemmRef.gemmNT(M, N, 1, A, 0, B, 0, got, 0, false, bias);
      gemmNTRef(M, N, 1, A, 0, B, 0, want, 0, false);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) want[i * N + j] += bias[j];
      expect(Array.from(got).map((v) => Object.is(v, -0) ? "-0" : v)).toEqual(Array.from(want).map((v) => Object.is(v, -0) ? "-0" : v));
      expect(Object.is(got[0], 0)).toBe(true);
    });
  }
});
