// Hot loops allocate nothing per step, measured by test/helpers/alloc.ts.
// Before expInto/logInto, the loss alone allocated 5.6 kB per call (a boxed double per exp).
import { describe, expect, it } from "vitest";
import { LOSSES } from "../../src/core/losses.ts";
import { buildNetwork } from "../../src/core/model.ts";
import { Optimizer } from "../../src/core/optim.ts";
import type { LayerSpec } from "../../src/core/spec.ts";
import { expInto, logInto } from "../../src/core/math.ts";
import { bytesPerCall } from "../helpers/alloc.ts";

describe("no allocation per step", () => {
  const B = 32, C = 10;
  const z = Float32Array.from({ length: B * C }, (_, i) => Math.sin(i) * 3);
  const dz = new Float32Array(B * C);
  const y = Int32Array.from({ length: B }, (_, i) => i % C);
  it("softmax cross-entropy forward + backward of a [32, 10] batch: < 64 bytes a call (the returned number at most)", () => {
    expect(bytesPerCall(() => { LOSSES.cross_entropy.forwardBackward(z, y, B, C, dz); })).toBeLessThan(64);
  });
  it("expInto and logInto over 320 values: < 16 bytes a call", () => {
    const out = new Float64Array(B * C), shift = Float64Array.of(0.5), pos = Float64Array.from(z, Math.abs);
    expect(bytesPerCall(() => { expInto(z, 0, B * C, shift, 0, out, 0); logInto(pos, 0, B * C, out, 0); })).toBeLessThan(16);
  });

  // The recurrent layers' whole-sequence calls (ops/cells.ts) and their resident W_hh: a forward,
  // backward and SGD step of LSTM, GRU and relu RNN models (widths just above the sequence calls'
  // thresholds, N·K ≥ 512), and an evaluation forward. The bound is a 64th of what one stray
  // [B, H] buffer would cost (32 · 16 float32 = 2 kB).
  const recurrent: [string, LayerSpec][] = [
    ["LSTM 16", { type: "lstm", units: 16 }], ["GRU 16", { type: "gru", units: 16 }], ["IRNN 24", { type: "rnn", units: 24, activation: "relu" }],
  ];
  for (const [name, cell] of recurrent) {
    it(`${name} on 28 rows, batch 32: a training step and an evaluation forward allocate < 64 bytes`, () => {
      const m = buildNetwork({ layers: [cell, { type: "dense", units: 10 }] }, [28, 28], { seed: 1 });
      const opt = new Optimizer({ type: "sgd", lr: 0.01 }, m.params);
      const x = Float32Array.from({ length: 32 * 784 }, (_, i) => Math.sin(i));
      const dy = new Float32Array(32 * 10).fill(0.01);
      expect(bytesPerCall(() => { m.forward(x, 32, true); m.backward(dy, 32, false); opt.step(); }, 200)).toBeLessThan(64);
      expect(bytesPerCall(() => { m.forward(x, 32, false); }, 200)).toBeLessThan(64);
    });
  }
});
