// The accelerator's operations (src/accel): the WebAssembly SIMD implementations against the
// TypeScript reference. Where the numbers come from:
// - GEMM: the WebAssembly products sum in float32, one k at a time from the start value, so
//   they must equal, bit for bit, a float32 emulation of that sum (Math.fround after every
//   operation) — the definition of the kernel; and be within 1e-6 of the double-precision
//   reference relative to Σ_k |a·b| (+ |start|), the scale of the rounding.
// - Elementwise kernels (activations, LSTM/GRU steps, max pooling) must equal the TypeScript
//   loops bit for bit: they are transcriptions of the same double arithmetic (fdlibm exp/tanh).
// - Whole models: gradients within 1e-6 of the reference (relative to the tensor's largest
//   entry), since only GEMM summation differs; repeated runs identical.
import { afterEach, describe, expect, it, vi } from "vitest";
import { activation } from "../../src/core/activations.ts";
import * as accel from "../../src/accel/index.ts";
import { accelName, gemmRef, useAccel, wasmOps, WasmEngine, WASM_MIN_NK, type AccelName } from "../../src/accel/index.ts";
import { buildNetwork, type Model } from "../../src/core/model.ts";
import { LOSSES } from "../../src/core/losses.ts";
import { sigmoidF32, tanhF32 } from "../../src/core/math.ts";
import { Rng } from "../../src/core/rng.ts";
import type { LayerSpec } from "../../src/core/spec.ts";
import { size } from "../../src/core/tensor.ts";

const engine = WasmEngine.create();
const initial = accelName();
afterEach(() => { useAccel(initial); });

it("the WebAssembly SIMD operations compile here and are registered by default (else Float32 runs the slow path)", () => {
  expect(engine).not.toBeNull();
  expect(wasmOps()).not.toBeNull();
  expect(accel.registered().sort()).toEqual(Object.keys(wasmOps()!).sort());
  expect(initial).toBe("wasm");
});

type Kind = "NT" | "TN" | "NN";
/** A[i, k] and B[k, j] of each product kind, for the emulation; layouts as ops/gemm.ts documents. */
const aAt = (kind: Kind, M: number, K: number) => (i: number, k: number) => (kind === "TN" ? k * M + i : i * K + k);
const bAt = (kind: Kind, N: number, K: number) => (k: number, j: number) => (kind === "NT" ? j * K + k : k * N + j);

/** Random shapes with the awkward cases: 1×1, odd sizes, sizes around 16, 0, long K. */
function shapes(rng: Rng): [number, number, number][] {
  const fixed: [number, number, number][] = [[1, 1, 1], [1, 1, 37], [3, 5, 7], [2, 16, 3], [17, 33, 9], [32, 5, 31], [5, 31, 32], [1, 17, 0], [0, 4, 3], [64, 3, 2], [9, 100, 31], [2, 15, 64], [33, 17, 130],
    // a last panel of 1, 2 and 3 vectors (N = 100, 40, 44, 12) with C unpadded, odd and even M
    [3, 12, 7], [4, 40, 9], [7, 44, 5], [32, 100, 100]];
  const random = Array.from({ length: 12 }, (): [number, number, number] => [1 + Math.floor(rng.uniform() * 40), 1 + Math.floor(rng.uniform() * 70), 1 + Math.floor(rng.uniform() * 90)]);
  return [...fixed, ...random];
}

describe("WebAssembly GEMM = float32 sequential sum (bit for bit), ≈ the reference (1e-6)", () => {
  for (const kind of ["NT", "TN", "NN"] as Kind[]) {
    it(`gemm${kind}: random shapes, offsets, acc on/off, bias`, () => {
      const rng = new Rng(11, kind.charCodeAt(0));
      let checked = 0;
      for (const [M, N, K] of shapes(rng)) {
        for (const mode of ["set", "acc", "bias"] as const) {
          const aOff = 3, bOff = 5, cOff = 7;
          const A = Float32Array.from({ length: aOff + M * K + 2 }, () => rng.normal());
          const B = Float32Array.from({ length: bOff + N * K + 2 }, () => rng.normal());
          const C0 = Float32Array.from({ length: cOff + M * N + 2 }, () => rng.normal());
          const bias = Float32Array.from({ length: N }, () => rng.normal());
          const acc = mode === "acc";
          const out = Float32Array.from(C0);
          engine![`gemm${kind}`](M, N, K, A, aOff, B, bOff, out, cOff, acc, mode === "bias" ? bias : null);
          const ref = Float64Array.from(C0);
          gemmRef[`gemm${kind}`](M, N, K, Float64Array.from(A), aOff, Float64Array.from(B), bOff, ref, cOff, acc, mode === "bias" ? Float64Array.from(bias) : null);
          const a = aAt(kind, M, K), b = bAt(kind, N, K);
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < N; j++) {
              const o = cOff + i * N + j;
              const start = acc ? C0[o] : mode === "bias" ? bias[j] : 0;
              let s = start, scale = Math.abs(start);
              for (let k = 0; k < K; k++) {
                const p = A[aOff + a(i, k)] * B[bOff + b(k, j)];
                s = Math.fround(s + Math.fround(p));
                scale += Math.abs(p);
              }
              expect(out[o]).toBe(s);
              expect(Math.abs(out[o] - ref[o])).toBeLessThanOrEqual(1e-6 * scale + 1e-30);
              checked++;
            }
          }
          // outside the written block nothing changes
          for (const o of [0, 1, 2, cOff + M * N, cOff + M * N + 1]) if (o < cOff || o >= cOff + M * N) expect(out[o]).toBe(C0[o]);
        }
      }
      expect(checked).toBeGreaterThan(10_000);
    });
  }

  it("the dispatch: Float64 and N·K < WASM_MIN_NK take the reference; a row of C depends on N and K only", () => {
    useAccel("wasm");
    const rng = new Rng(3);
    const K = 64, N = WASM_MIN_NK / K; // N·K at the threshold: WebAssembly for any M
    const W = Float32Array.from({ length: N * K }, () => rng.normal());
    const X = Float32Array.from({ length: 70 * K }, () => rng.normal());
    const all = new Float32Array(70 * N);
    accel.gemmNT(70, N, K, X, 0, W, 0, all, 0, false);
    // the same rows in batches of 1, 7 and 32 (both orientations of gemmNT, tiles of 1 and 2 rows)
    for (const chunk of [1, 7, 32]) {
      const part = new Float32Array(70 * N);
      for (let b0 = 0; b0 < 70; b0 += chunk) accel.gemmNT(Math.min(chunk, 70 - b0), N, K, X, b0 * K, W, 0, part, b0 * N, false);
      expect(part).toEqual(all);
    }
    // Float64 operands: exactly the reference
    const X64 = Float64Array.from(X), W64 = Float64Array.from(W), o1 = new Float64Array(70 * N), o2 = new Float64Array(70 * N);
    accel.gemmNT(70, N, K, X64, 0, W64, 0, o1, 0, false);
    gemmRef.gemmNT(70, N, K, X64, 0, W64, 0, o2, 0, false);
    expect(o1).toEqual(o2);
  });
});

describe("elementwise kernels = the TypeScript loops, bit for bit", () => {
  /** Values that visit every branch of fdlibm's exp, of math.ts's tanh (cut-offs 2^−28, 2^−12), of tanhF32 (0.625, the clamp) and of the activations. */
  function awkward(n: number, seed: number): Float32Array {
    const rng = new Rng(seed);
    const x = new Float32Array(n);
    const special = [0, -0, NaN, Infinity, -Infinity, 1, -1, 22, -22, 21.99, 0.3465736, -0.3465736, 1.0397, 3e-9, -3e-9, 1e-30, 88, -88, 100, -100, 800, -800, 0.25, -0.25,
      2.44140625e-4, -2.44140625e-4, 2.4414e-4, -2.4415e-4, 3.7252903e-9, -3.7253e-9, 1e-4, 5e-4,
      0.625, -0.625, 0.62499994, -0.62499994, 9.01, 9.25, -9.25, 1e-45, 1.1754942e-38]; // tanhF32's branch point, its clamp, subnormals
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      x[i] = i < special.length ? special[i]
        : u < 0.4 ? rng.normal() * 3 : u < 0.6 ? (rng.uniform() - 0.5) * 60 : u < 0.75 ? (rng.uniform() - 0.5) * 2e-3 : u < 0.85 ? (rng.uniform() - 0.5) * 2000 : rng.normal() * 1e-10;
    }
    return x;
  }
  const same = (a: Float32Array, b: Float32Array) => {
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect([i, a[i]]).toEqual([i, b[i]]);
  };

  for (const name of ["sigmoid", "tanh", "relu"] as const) {
    it(`${name}: forward and backward over awkward values (odd length)`, () => {
      const act = activation(name);
      const n = 20_001;
      const z = awkward(n, name.length), dy = awkward(n, 99);
      const y1 = new Float32Array(n), y2 = new Float32Array(n);
      act.forward(z, y1, n);
      expect(wasmOps()!.activate(act, z, y2, n)).toBe(true);
      same(y2, y1);
      const d1 = new Float32Array(n), d2 = new Float32Array(n);
      act.backward(z, y1, dy, d1, n);
      expect(wasmOps()!.activateBackward(act, z, y1, dy, d2, n)).toBe(true);
      same(d2, d1);
    });
  }

  it("lstm and gru cells over awkward pre-activations: math.ts's float32 formulas (sigmoidF32, tanhF32), bit for bit", () => {
    // The layers' own loops are the reference elsewhere in this file; here the kernels meet
    // values a trained layer rarely produces: ±0, NaN, ±∞, |x| > 87 (σ below the normal range),
    // tanh's branch point 0.625 and clamp, subnormals. B = 4, H = 19: four units per vector and a tail.
    const B = 4, H = 19, f = Math.fround;
    const lstmA = awkward(B * 4 * H, 11), gruA = awkward(B * 3 * H, 12), hh = awkward(B * 3 * H, 13), bhh = awkward(3 * H, 14);
    const cPrev = awkward(B * H, 15).map((v) => (Number.isFinite(v) ? v : 0.5));
    lstmA.set([0.625, -0.625, 90, -90, -100, 1e-45, -1e-45, 9.25, -0, 0].map(f));
    const a1 = lstmA.slice(), cs = new Float32Array(2 * B * H), tc = new Float32Array(B * H), hs = new Float32Array(2 * B * H);
    cs.set(cPrev);
    expect(wasmOps()!.lstmStep!(B, H, a1, 0, cs, 0, B * H, tc, 0, hs, B * H)).toBe(true);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
      const r = b * 4 * H, at = b * H + h;
      const i = sigmoidF32(lstmA[r + h]), fg = sigmoidF32(lstmA[r + H + h]), g = tanhF32(lstmA[r + 2 * H + h]), o = sigmoidF32(lstmA[r + 3 * H + h]);
      const c = f(f(fg * cPrev[at]) + f(i * g)), th = tanhF32(c);
      expect([a1[r + h], a1[r + H + h], a1[r + 2 * H + h], a1[r + 3 * H + h]], `gates ${b},${h}`).toEqual([i, fg, g, o]);
      expect([cs[B * H + at], tc[at], hs[B * H + at]], `c, tanh c, h ${b},${h}`).toEqual([c, th, f(o * th)]);
    }
    const a2 = gruA.slice(), hPrev = cPrev, hsG = new Float32Array(2 * B * H), hn = new Float32Array(B * H);
    hsG.set(hPrev);
    expect(wasmOps()!.gruStep!(B, H, a2, 0, hh, bhh, hsG, 0, hn, 0, B * H)).toBe(true);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
      const r0 = b * 3 * H, at = b * H + h;
      const r = sigmoidF32(f(gruA[r0 + h] + hh[r0 + h])), z = sigmoidF32(f(gruA[r0 + H + h] + hh[r0 + H + h]));
      const m = f(hh[r0 + 2 * H + h] + bhh[2 * H + h]), n = tanhF32(f(gruA[r0 + 2 * H + h] + f(r * m)));
      expect([a2[r0 + h], a2[r0 + H + h], a2[r0 + 2 * H + h], hn[at]], `r, z, n, m ${b},${h}`).toEqual([r, z, n, m]);
      expect(hsG[B * H + at], `h ${b},${h}`).toEqual(f(f(f(1 - z) * n) + f(z * hPrev[at])));
    }
  });

  /**
   * Layers small enough that every product stays under WASM_MIN_NK (TypeScript in both
   * implementations) while the elementwise work is above WASM_MIN_VALUES (WebAssembly): their
   * forward and backward must then be identical under the two implementations.
   */
  type Fast = "lstmStep" | "gruStep" | "map" | "mapBackward" | "sumRows" | "maxpoolForward" | "maxpoolBackward" | "activate";
  const cases: [string, LayerSpec[], number[], number, Fast][] = [
    ["lstm (H = 7, odd)", [{ type: "lstm", units: 7, returnSequences: true }], [5, 6], 13, "lstmStep"],
    ["gru (H = 8)", [{ type: "gru", units: 8, returnSequences: true }], [6, 5], 8, "gruStep"],
    ["rnn tanh and sigmoid", [{ type: "rnn", units: 9, activation: "tanh", returnSequences: true }, { type: "rnn", units: 8, activation: "sigmoid" }], [4, 7], 11, "map"],
    ["rnn relu, sigmoid and tanh backward", [{ type: "rnn", units: 9, activation: "relu", returnSequences: true }, { type: "rnn", units: 8, activation: "sigmoid", returnSequences: true }, { type: "rnn", units: 7 }], [4, 7], 11, "mapBackward"],
    ["bias gradients of a dense layer", [{ type: "dense", units: 9, activation: "tanh" }], [10], 40, "sumRows"],
    ["bias gradients of a recurrent layer (summed in double)", [{ type: "gru", units: 6 }], [5, 4], 13, "sumRows"],
    ["max pooling with ties, 2×2 and 3×3 stride 2", [{ type: "maxpool2d", size: 2 }, { type: "maxpool2d", size: 3, stride: 2 }], [3, 14, 15], 6, "maxpoolBackward"],
    ["dense sigmoid, tanh, relu", [{ type: "dense", units: 9, activation: "sigmoid" }, { type: "dense", units: 9, activation: "tanh" }, { type: "dense", units: 9, activation: "relu" }], [10], 40, "activate"],
  ];
  for (const [title, layers, inShape, B, fast] of cases) {
    it(title, () => {
      // the WebAssembly operation under test must really run (and report that it did); the spy
      // sits on the WebAssembly set, which useAccel("wasm") registers
      const spy = vi.spyOn(wasmOps()!, fast);
      const run = (name: AccelName) => {
        useAccel(name);
        const m = buildNetwork({ layers }, inShape, { seed: 4 });
        const rng = new Rng(8);
        // pixel-like inputs quantized to 1/8 so that pooling windows have ties
        const x = Float32Array.from({ length: B * size(inShape) }, () => Math.round(rng.uniform() * 8) / 8);
        const y = Float32Array.from(m.forward(x, B, true));
        const dy = Float32Array.from({ length: y.length }, () => rng.normal());
        m.backward(dy, B, true);
        return { y, dx: Float32Array.from(m.inputGrad!), grads: m.params.map((p) => Float32Array.from(p.grad)) };
      };
      const t = run("ts"), w = run("wasm");
      expect(spy.mock.results.some((r) => r.value === true)).toBe(true);
      spy.mockRestore();
      same(w.y, t.y);
      same(w.dx, t.dx);
      w.grads.forEach((g, i) => same(g, t.grads[i]));
    });
  }
});

/** Largest |a − b| over the largest |a|: relative error at the tensor's scale. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i] - b[i])); den = Math.max(den, Math.abs(a[i])); }
  return den > 0 ? num / den : num;
}

/** One forward + backward of the mean cross-entropy on MNIST-like inputs; gradients and loss. */
function grads(name: AccelName, layers: LayerSpec[], inShape: number[], B: number) {
  useAccel(name);
  const m: Model = buildNetwork({ layers }, inShape, { seed: 3 });
  const rng = new Rng(9);
  const x = Float32Array.from({ length: B * size(inShape) }, () => rng.uniform());
  const labels = Int32Array.from({ length: B }, (_, i) => i % 10);
  const loss = m.forwardBackward(x, labels, B, LOSSES.cross_entropy, true);
  return { loss, grads: m.params.map((p) => ({ name: p.name, g: Float32Array.from(p.grad) })), dx: Float32Array.from(m.inputGrad!) };
}

const MODELS: [string, LayerSpec[], number[], number][] = [
  ["MLP 784-64-33-10 sigmoid/tanh", [{ type: "dense", units: 64, activation: "sigmoid" }, { type: "dense", units: 33, activation: "tanh" }, { type: "dense", units: 10 }], [784], 32],
  ["CNN conv8-pool-conv16-pool-fc10 relu", [{ type: "conv2d", filters: 8, kernel: 3, padding: "same", activation: "relu" }, { type: "maxpool2d", size: 2 }, { type: "conv2d", filters: 16, kernel: 3, padding: "same", activation: "relu" }, { type: "maxpool2d", size: 2 }, { type: "flatten" }, { type: "dense", units: 10 }], [1, 28, 28], 8],
  ["CNN with odd shapes (5 and 3 filters, stride 2, 3 channels)", [{ type: "conv2d", filters: 5, kernel: 3, stride: 2, padding: 1, activation: "tanh" }, { type: "conv2d", filters: 3, kernel: 2, activation: "relu" }, { type: "flatten" }, { type: "dense", units: 10 }], [3, 9, 7], 5],
  ["row LSTM 37", [{ type: "lstm", units: 37 }, { type: "dense", units: 10 }], [28, 28], 16],
  ["row GRU 40", [{ type: "gru", units: 40 }, { type: "dense", units: 10 }], [28, 28], 16],
  ["row RNN 48 tanh", [{ type: "rnn", units: 48 }, { type: "dense", units: 10 }], [28, 28], 16],
];

describe("whole models: WebAssembly gradients within 1e-6 of the reference; repeatable", () => {
  for (const [title, layers, inShape, B] of MODELS) {
    it(title, () => {
      const t = grads("ts", layers, inShape, B), w = grads("wasm", layers, inShape, B);
      expect(Math.abs(w.loss - t.loss)).toBeLessThan(1e-6 * Math.abs(t.loss));
      for (let i = 0; i < t.grads.length; i++) expect(relErr(t.grads[i].g, w.grads[i].g), t.grads[i].name).toBeLessThan(1e-6);
      expect(relErr(t.dx, w.dx), "input").toBeLessThan(1e-6);
      // the same implementation twice: identical bits
      const again = grads("wasm", layers, inShape, B);
      expect(again.loss).toBe(w.loss);
      again.grads.forEach((g, i) => expect(g.g).toEqual(w.grads[i].g));
      expect(again.dx).toEqual(w.dx);
    });
  }
});
