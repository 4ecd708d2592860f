// The operations registry (src/accel/registry.ts): a missing operation means the reference path.
// Expected values: for elementwise operations the reference is bit-for-bit the WebAssembly result
// (ops.test.ts checks that), so dropping one operation must leave a model's numbers unchanged
// while the WebAssembly function is no longer called; for a product, dropping gemmNT must give
// exactly the reference's double-sum-then-round result (gemmRef), which differs from the
// float32 sum of the WebAssembly kernel for these inputs.
import { afterEach, describe, expect, it, vi } from "vitest";
import * as accel from "../../src/accel/index.ts";
import { accelName, drop, gemmRef, ops, registered, useAccel, wasmOps } from "../../src/accel/index.ts";
import { buildNetwork } from "../../src/core/model.ts";
import { Rng } from "../../src/core/rng.ts";

const initial = accelName();
afterEach(() => { vi.restoreAllMocks(); useAccel(initial); }); // restored first, so the registry gets the real functions back

/** An LSTM's forward and backward on fixed data: output, input gradient, parameter gradients. */
function lstmRun() {
  const m = buildNetwork({ layers: [{ type: "lstm", units: 16, returnSequences: true }] }, [6, 5], { seed: 2 });
  const rng = new Rng(4);
  const B = 8;
  const x = Float32Array.from({ length: B * 30 }, () => rng.normal());
  const y = Float32Array.from(m.forward(x, B, true));
  m.backward(Float32Array.from({ length: y.length }, () => rng.normal()), B, true);
  return [y, Float32Array.from(m.inputGrad!), ...m.params.map((p) => Float32Array.from(p.grad))];
}

describe("the registry", () => {
  it("holds every WebAssembly operation by default, and none under useAccel(\"ts\")", () => {
    useAccel("wasm");
    expect(registered().sort()).toEqual(Object.keys(wasmOps()!).sort());
    useAccel("ts");
    expect(registered()).toEqual([]);
    expect(ops.gemmNT).toBeUndefined();
  });

  it("drop(\"lstmSequence\"), then drop(\"lstmStep\"): the steps, then lstm.ts's own loop run, same numbers; restore puts them back", () => {
    useAccel("wasm");
    const seq = vi.spyOn(wasmOps()!, "lstmSequence");
    const step = vi.spyOn(wasmOps()!, "lstmStep");
    useAccel("wasm"); // registers the spied functions
    const whole = lstmRun();
    expect(seq.mock.results.filter((r) => r.value === true).length).toBe(1); // the whole forward in one call
    expect(step).not.toHaveBeenCalled();
    seq.mockClear();
    const restoreSeq = drop("lstmSequence");
    const withOp = lstmRun();
    expect(seq).not.toHaveBeenCalled();
    expect(step.mock.results.filter((r) => r.value === true).length).toBe(6); // one per time step
    withOp.forEach((a, i) => expect(a).toEqual(whole[i]));
    step.mockClear();
    const restore = drop("lstmStep");
    expect(registered()).not.toContain("lstmStep");
    const without = lstmRun();
    expect(step).not.toHaveBeenCalled();
    without.forEach((a, i) => expect(a).toEqual(withOp[i]));
    restore();
    restoreSeq();
    expect(registered()).toContain("lstmStep");
    expect(registered()).toContain("lstmSequence");
    lstmRun();
    expect(seq).toHaveBeenCalled();
  });

  it("drop(\"gemmNT\"): the product is the reference's, bit for bit (not the float32 sum)", () => {
    useAccel("wasm");
    const rng = new Rng(6);
    const M = 8, N = 64, K = 40; // N·K ≥ WASM_MIN_NK: the WebAssembly product when registered
    const A = Float32Array.from({ length: M * K }, () => rng.normal()), B = Float32Array.from({ length: N * K }, () => rng.normal());
    const viaWasm = new Float32Array(M * N), viaRef = new Float32Array(M * N), expected = new Float32Array(M * N);
    accel.gemmNT(M, N, K, A, 0, B, 0, viaWasm, 0, false);
    const restore = drop("gemmNT");
    accel.gemmNT(M, N, K, A, 0, B, 0, viaRef, 0, false);
    restore();
    gemmRef.gemmNT(M, N, K, A, 0, B, 0, expected, 0, false);
    expect(viaRef).toEqual(expected);
    expect(viaWasm).not.toEqual(expected); // the two summations differ in the last bits somewhere
  });
});
