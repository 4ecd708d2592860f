// Bytes of JS heap a call allocates, measured with V8's GCProfiler: heap growth plus what each
// collection freed, over many calls after a warm-up; the best of five rounds, so a round that
// ran before the optimizing compiler finished (a loaded machine) does not count.
import v8 from "node:v8";

export function bytesPerCall(f: () => void, calls = 20_000): number {
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
