// Hot loops allocate nothing per step (STYLE.md). Measured with V8's GCProfiler: heap growth
// plus what each collection freed, over many calls after a warm-up; the best of five rounds, so
// a round that ran before the optimizing compiler finished (a loaded machine) does not count.
// Before expInto/logInto, the loss alone allocated 5.6 kB per call (a boxed double per exp).
import v8 from "node:v8";
import { describe, expect, it } from "vitest";
import { LOSSES } from "../../src/core/losses.ts";
import { expInto, logInto } from "../../src/core/math.ts";

function bytesPerCall(f: () => void, calls = 20_000): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < calls; i++) f();
    const prof = new v8.GCProfiler();
    prof.start();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < calls; i++) f();
    const stats = prof.stop();
    const after = process.memoryUsage().heapUsed;
    let freed = 0;
    for (const s of stats.statistics) freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
    best = Math.min(best, (after - before + freed) / calls);
  }
  return best;
}

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
});
