// The WebAssembly operations with a helper thread (src/accel/engine.ts withHelper, opt-in: bench/README.md "A
// second thread"): large products are split by columns or rows, cell steps and long
// elementwise buffers by examples, and each value must still be computed by the same code in
// the same order, so the expected results are the one-thread engine's, bit for bit.
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.ts";
import { WasmEngine } from "../../src/accel/index.ts";

const worker = new Worker(new URL("../../src/cli/helper.boot.js", import.meta.url));
afterAll(async () => { await worker.terminate(); });
const one = WasmEngine.create()!;
const two = WasmEngine.withHelper(worker)!;

const rng = new Rng(5, 1);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
const same = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect([i, a[i]]).toEqual([i, b[i]]);
};

describe("a helper thread changes no bit", () => {
  it("shared WebAssembly memory is available here (else the helper is silently off)", () => {
    expect(two).not.toBeNull();
  });

  // M·N·K ≥ 2^18 so that the split happens; N = 100 and 44 end in a narrow panel (4 and 12
  // columns), N = 12 is one narrow panel (split by rows), 784 is whole panels.
  const shapes: [number, number, number][] = [[64, 100, 100], [33, 44, 200], [64, 12, 512], [32, 784, 40], [100, 100, 32]];
  for (const [M, N, K] of shapes) {
    for (const kind of ["NT", "TN", "NN"] as const) {
      it(`gemm${kind} ${M}×${N}×${K}: acc, bias, plain`, () => {
        const A = rand(M * K), B = rand(N * K), bias = rand(N), C0 = rand(M * N);
        for (const mode of ["plain", "acc", "bias"] as const) {
          const run = (e: WasmEngine) => {
            const C = Float32Array.from(C0);
            e[`gemm${kind}`](M, N, K, A, 0, B, 0, C, 0, mode === "acc", mode === "bias" ? bias : null);
            return C;
          };
          same(run(two), run(one));
        }
      });
    }
  }

  it("tanh and sigmoid over 10,001 values, an LSTM and a GRU step of 32 × 128", () => {
    const n = 10_001, z = rand(n);
    for (const f of ["tanh", "sigmoid"] as const) {
      const y1 = new Float32Array(n), y2 = new Float32Array(n);
      one[f](n, z, 0, y1, 0);
      two[f](n, z, 0, y2, 0);
      same(y2, y1);
    }
    const B = 32, H = 128;
    const lstm = (e: WasmEngine) => {
      const a = Float32Array.from(gates4), cs = Float32Array.from(cells), tc = new Float32Array(B * H), hs = new Float32Array(2 * B * H);
      e.lstm(B, H, a, 0, cs, 0, B * H, tc, 0, hs, B * H);
      return [a, cs, tc, hs];
    };
    const gates4 = rand(4 * B * H), cells = rand(2 * B * H);
    const l1 = lstm(one), l2 = lstm(two);
    l1.forEach((x, i) => same(l2[i], x));
    const gates3 = rand(3 * B * H), hh = rand(3 * B * H), bhh = rand(3 * H), h0 = rand(2 * B * H);
    const gru = (e: WasmEngine) => {
      const a = Float32Array.from(gates3), hs = Float32Array.from(h0), hn = new Float32Array(B * H);
      e.gru(B, H, a, 0, hh, bhh, hs, 0, hn, 0, B * H);
      return [a, hs, hn];
    };
    const g1 = gru(one), g2 = gru(two);
    g1.forEach((x, i) => same(g2[i], x));
  });
});
