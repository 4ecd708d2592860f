// Weights resident in the engine's memory between calls (src/accel/resident.ts, engine.ts's
// packedWeight) and the whole-sequence recurrent operations that use them (ops/cells.ts's
// …Sequence). Expected values: a model built afresh with the same weights (arrays the engine has
// never seen, so nothing of them is resident) gives the true output of those weights; the
// per-step path (the sequence operations dropped) gives the bits the sequence operations must
// reproduce, because both run the same kernels on the same values in the same order.
import { afterEach, describe, expect, it } from "vitest";
import * as accel from "../../src/accel/index.ts";
import { checkResident, drop, touch, useAccel, WasmEngine } from "../../src/accel/index.ts";
import { register } from "../../src/accel/registry.ts";
import { buildNetwork, type Model } from "../../src/core/model.ts";
import { Optimizer } from "../../src/core/optim.ts";
import { Rng } from "../../src/core/rng.ts";
import type { LayerSpec } from "../../src/core/spec.ts";

afterEach(() => { useAccel("wasm"); checkResident(false); });

const normals = (rng: Rng, n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.normal());

/** A model of `layers` on [T, D] inputs with the weights of `from` (fresh arrays) when given. */
function model(layers: LayerSpec[], inShape: number[], from?: Model): Model {
  const m = buildNetwork({ layers }, inShape, { seed: 5 });
  if (from) m.params.forEach((p, i) => p.value.set(from.params[i].value));
  return m;
}

/** Forward and backward on fixed data: the output, the input gradient and every parameter's gradient (copies). */
function pass(m: Model, x: Float32Array, B: number, dySeed = 9): Float32Array[] {
  for (const p of m.params) p.grad.fill(0);
  const y = Float32Array.from(m.forward(x, B, true));
  const rng = new Rng(dySeed);
  m.backward(normals(rng, y.length), B, true);
  return [y, Float32Array.from(m.inputGrad!), ...m.params.map((p) => Float32Array.from(p.grad))];
}

describe("a weight written from outside the engine is seen by the next pass", () => {
  const layersOf: [string, LayerSpec[], number[]][] = [
    ["LSTM 32", [{ type: "lstm", units: 32 }], [7, 6]],
    ["GRU 24", [{ type: "gru", units: 24 }], [7, 6]],
    ["IRNN 40 (relu, identity W_hh)", [{ type: "rnn", units: 40, activation: "relu", recurrentInit: "identity" }], [9, 3]],
  ];
  for (const [name, layers, inShape] of layersOf) {
    it(`${name}: train, write W_hh and b_hh from a script, step again: as a fresh model with those weights`, () => {
      const rng = new Rng(3);
      const B = 16;
      const x = normals(rng, B * inShape[0] * inShape[1]);
      const m = model(layers, inShape);
      const opt = new Optimizer({ type: "sgd", lr: 0.1, momentum: 0.9 }, m.params);
      const first = pass(m, x, B);
      opt.step(); // the optimizer writes every weight (WebAssembly or TypeScript update)
      pass(m, x, B);
      opt.step();
      // a user's script writes W_hh in place (no touch): scale it and change one entry
      const whh = m.params.find((p) => p.key === "weight_hh_l0")!.value;
      for (let i = 0; i < whh.length; i++) whh[i] *= 0.5;
      whh[3] += 0.25;
      const after = pass(m, x, B);
      const fresh = pass(model(layers, inShape, m), x, B);
      after.forEach((a, i) => expect(a).toEqual(fresh[i]));
      expect(after[0]).not.toEqual(first[0]);
    });
  }
});

describe("the engine's versions", () => {
  it("a touched weight is reused until touched again; a write without touch is stale, and checkResident catches it", () => {
    const e = WasmEngine.create()!;
    const rng = new Rng(4);
    const M = 8, N = 32, K = 20;
    const A = normals(rng, M * K), W = normals(rng, N * K);
    const run = () => { const C = new Float32Array(M * N); e.gemmNT(M, N, K, A, 0, W, 0, C, 0, false); return C; };
    const untracked = run(); // W never touched: copied in on each call, as before
    touch(W);
    expect(run()).toEqual(untracked); // resident now: the same sums
    W[0] += 1; // a write that forgets to touch
    const stale = run();
    expect(stale).toEqual(untracked); // the resident copy: this is why every pass touches its weights
    checkResident(true);
    expect(run).toThrow(/resident copy of a \[32, 20\] weight is stale/);
    checkResident(false);
    touch(W);
    const seen = run();
    expect(seen).not.toEqual(untracked);
    const C = new Float32Array(M * N);
    e.gemmNT(M, N, K, A, 0, W.slice(), 0, C, 0, false); // a fresh array, never resident: the true product
    expect(seen).toEqual(C);
  });
});

describe("whole sequences: the same bits as the steps", () => {
  const cases: [string, LayerSpec[], number[], number][] = [
    ["LSTM 32", [{ type: "lstm", units: 32 }], [6, 5], 8],
    ["LSTM 16, all steps, then GRU 12", [{ type: "lstm", units: 16, returnSequences: true }, { type: "gru", units: 12 }], [6, 5], 8],
    ["GRU 32", [{ type: "gru", units: 32 }], [6, 5], 8],
    ["RNN tanh 32", [{ type: "rnn", units: 32 }], [6, 5], 8],
    ["RNN sigmoid 24, all steps", [{ type: "rnn", units: 24, activation: "sigmoid", returnSequences: true }], [6, 5], 8],
    ["IRNN 100 on 30 pixels", [{ type: "rnn", units: 100, activation: "relu", recurrentInit: "identity" }], [30, 1], 5],
    ["RNN 30 (H not a multiple of 4: declined)", [{ type: "rnn", units: 30 }], [6, 5], 8],
  ];
  for (const [name, layers, inShape, B] of cases) {
    it(name, () => {
      checkResident(true);
      const rng = new Rng(8);
      const x = normals(rng, B * inShape[0] * inShape[1]);
      const m = model(layers, inShape);
      const whole = pass(m, x, B);
      const restore = drop("lstmSequence", "gruSequence", "rnnSequence", "lstmSequenceBackward", "gruSequenceBackward", "rnnSequenceBackward");
      const steps = pass(model(layers, inShape), x, B);
      restore();
      whole.forEach((a, i) => expect(a).toEqual(steps[i]));
      // and evaluation (train = false) with a batch of a different size
      const y = Float32Array.from(m.forward(x, B - 1, false));
      const restore2 = drop("lstmSequence", "gruSequence", "rnnSequence");
      expect(Float32Array.from(m.forward(x, B - 1, false))).toEqual(y);
      restore2();
    });
  }

  it("the sequence operations take the calls they should: one per forward (and one per RNN backward)", () => {
    const seen: string[] = [];
    const w = accel.wasmOps()!;
    const spy = (k: "lstmSequence" | "rnnSequence" | "rnnSequenceBackward") =>
      ((...a: unknown[]) => { const r = (w[k] as (...b: unknown[]) => boolean)(...a); seen.push(`${k}:${r}`); return r; }) as never;
    register({ lstmSequence: spy("lstmSequence"), rnnSequence: spy("rnnSequence"), rnnSequenceBackward: spy("rnnSequenceBackward") });
    const rng = new Rng(2);
    pass(model([{ type: "lstm", units: 32 }], [5, 4]), normals(rng, 8 * 20), 8);
    pass(model([{ type: "rnn", units: 32, activation: "relu" }], [5, 4]), normals(rng, 8 * 20), 8);
    pass(model([{ type: "rnn", units: 4 }], [5, 4]), normals(rng, 2 * 20), 2); // B·H = 8 < WASM_MIN_VALUES: declined
    expect(seen).toEqual(["lstmSequence:true", "rnnSequence:true", "rnnSequenceBackward:true", "rnnSequence:false", "rnnSequenceBackward:false"]);
  });
});
