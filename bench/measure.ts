/**
 * Timing and allocation helpers for driving a Trainer step by step. Timed windows never contain
 * the last step of an epoch, because that step also evaluates on the test set (Trainer.endEpoch)
 * and we time training steps only.
 */
import v8 from "node:v8";
import type { Trainer } from "../src/experiment/trainer.ts";

/** Median of a list (mean of the middle two for an even count). @example median([3, 1, 2]) // 2 */
export function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** True when steps trainer.step … trainer.step + k − 1 contain no epoch-ending step. */
export function windowFits(trainer: Trainer, k: number): boolean {
  return (trainer.step % trainer.stepsPerEpoch) + k <= trainer.stepsPerEpoch - 1;
}

/**
 * Untimed steps up to the next epoch start (the epoch-ending step and its evaluation included)
 * unless the next k steps already fit inside the current epoch.
 */
export function alignForWindow(trainer: Trainer, k: number): void {
  if (k > trainer.stepsPerEpoch - 1) throw new Error(`a window of ${k} steps cannot avoid an epoch end (epoch = ${trainer.stepsPerEpoch} steps)`);
  if (windowFits(trainer, k)) return;
  do step(trainer); while (trainer.step % trainer.stepsPerEpoch !== 0);
}

/** One training step; a run that ends or stops early would make the benchmark meaningless. */
function step(trainer: Trainer): void {
  if (trainer.done) throw new Error(`the trainer ended at step ${trainer.step} (${trainer.stopped?.reason ?? "out of steps"}); give it more epochs`);
  trainer.trainStep();
}

export interface Window {
  /** time spent in this trainer's steps over the window, ms */
  ms: number;
  /** records returned (recorded steps) */
  records: number;
  /** sum over recorded steps of (their time − the median unrecorded step time), ms */
  recordExtraMs: number;
  /** median time of an unrecorded step, µs */
  medianStepUs: number;
}

/**
 * Times k consecutive trainStep() calls on each trainer, all inside one epoch (aligned first,
 * untimed). The two runs are interleaved in chunks of `chunk` steps (a b, b a, a b, …), so both
 * variants see the same stretch of wall-clock time and drift or a noisy neighbour hits both
 * alike. Every step is also timed on its own (performance.now() returns a double; times go into
 * preallocated buffers) so the recorded steps' extra time can be read off directly.
 */
export function timeInterleaved(trainers: Trainer[], k: number, chunk: number): Window[] {
  for (const t of trainers) {
    alignForWindow(t, k);
    if (t.step + k > t.totalSteps) throw new Error(`the trainer has fewer than ${k} steps left; give it more epochs`);
  }
  const stepMs = trainers.map(() => new Float64Array(k)); // [trainer][k]
  const isRec = trainers.map(() => new Uint8Array(k)); // [trainer][k]
  const ms = trainers.map(() => 0);
  for (let c = 0, from = 0; from < k; c++, from += chunk) {
    const to = Math.min(k, from + chunk);
    for (let j = 0; j < trainers.length; j++) {
      const ti = c % 2 === 0 ? j : trainers.length - 1 - j;
      const t = trainers[ti], times = stepMs[ti], rec = isRec[ti];
      const t0 = performance.now();
      let prev = t0;
      for (let i = from; i < to; i++) {
        rec[i] = t.trainStep() === null ? 0 : 1;
        const now = performance.now();
        times[i] = now - prev;
        prev = now;
      }
      ms[ti] += prev - t0;
    }
  }
  return trainers.map((_, ti) => {
    const times = stepMs[ti], rec = isRec[ti];
    const plain: number[] = [];
    let records = 0;
    for (let i = 0; i < k; i++) if (rec[i]) records++; else plain.push(times[i]);
    const m = plain.length ? median(plain) : 0;
    let extra = 0;
    for (let i = 0; i < k; i++) if (rec[i]) extra += times[i] - m;
    return { ms: ms[ti], records, recordExtraMs: extra, medianStepUs: m * 1000 };
  });
}

export interface Allocation {
  steps: number;
  /** JS heap bytes allocated during the steps, less the measuring code's own (a 0-step run) */
  bytes: number;
  bytesPerStep: number;
  /** garbage collections during the window (their freed bytes are added back in) */
  gcs: number;
  /** steps that returned a record; 0 expected for an unrecorded trainer */
  records: number;
}

/**
 * Bytes allocated on the JS heap by n trainStep() calls. Node 20 has no allocation counter, so:
 * allocated = (used heap after − used heap before) + Σ over GCs in between (used before GC −
 * used after GC), the GCs coming from v8.GCProfiler. No --expose-gc needed (if global.gc exists
 * the heap is collected first). The same measurement with 0 steps is subtracted, and each
 * measurement runs twice and keeps the second, so JIT compilation of this loop is not counted.
 */
export function measureAllocation(trainer: Trainer, n: number): Allocation {
  const once = (k: number) => {
    if (k > 0) alignForWindow(trainer, k);
    (globalThis as { gc?: () => void }).gc?.();
    const prof = new v8.GCProfiler();
    prof.start();
    let records = 0;
    const before = v8.getHeapStatistics().used_heap_size;
    for (let i = 0; i < k; i++) if (trainer.trainStep() !== null) records++;
    const after = v8.getHeapStatistics().used_heap_size;
    const gcs = prof.stop().statistics;
    let freed = 0;
    for (const g of gcs) freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
    return { bytes: after - before + freed, gcs: gcs.length, records };
  };
  once(0);
  const base = once(0);
  once(n);
  const run = once(n);
  const bytes = Math.max(0, run.bytes - base.bytes);
  return { steps: n, bytes, bytesPerStep: bytes / n, gcs: run.gcs, records: run.records };
}
