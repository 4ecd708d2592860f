/**
 * The machine's peak for the arithmetic gradlab's kernels use: WebAssembly f32x4 multiplies and
 * adds (no fused multiply-add in WebAssembly SIMD 1.0), measured on one core by a loop of 12
 * independent accumulators that never touches memory (acc ← acc·a + b, 8 flops per lane-group
 * step). From it, an estimate of the clock (a current x86 core issues 2 vector multiplies and 2
 * vector adds per cycle: 16 f32 flops/cycle at 128 bits) and of the native peak PyTorch's
 * AVX-512 FMA code could reach (2 FMA × 16 lanes × 2 = 64 flops/cycle) — estimates, labelled so.
 */
import { compileModule, func, forLoop, get, i32, names, set, vadd, vconstF32, vmul, vstore, vzero } from "../src/accel/asm.ts";

const ACC = 12;

/** loop(n): n iterations of 12 × (acc = acc·a + b) on f32x4; returns nothing (results stored at 0). */
const loop = func("loop", ["n"], ["i"], [...names("acc", ACC), "a", "b"], (L) => [
  ...set(L.a, vconstF32(0.999)),
  ...set(L.b, vconstF32(1e-3)),
  ...Array.from({ length: ACC }, (_, j) => set(L[`acc${j}`], vzero())).flat(),
  ...forLoop(L.i, i32(0), get(L.n), 1, Array.from({ length: ACC }, (_, j) => set(L[`acc${j}`], vadd(vmul(get(L[`acc${j}`]), get(L.a)), get(L.b)))).flat()),
  // keep the accumulators live: store their sum at address 0
  ...vstore(i32(0), Array.from({ length: ACC }, (_, j) => get(L[`acc${j}`])).reduceRight((sum, acc) => vadd(acc, sum))),
]);

export interface Peak {
  /** measured: f32 GFLOP/s of WebAssembly SIMD mul + add on one core */
  wasmGflopsPerCore: number;
  /** estimated clock, GHz, assuming that loop runs at 16 flops/cycle */
  estimatedGhz: number;
  /** estimated native AVX-512 FMA peak of all cores, GFLOP/s (64 flops/cycle/core) */
  nativePeakGflops: number;
  /** WebAssembly SIMD peak of all cores (wasmGflopsPerCore × cores) */
  wasmPeakGflops: number;
}

export function measurePeak(cores: number): Peak {
  const module = compileModule([loop]);
  if (!module) throw new Error("WebAssembly SIMD is not available");
  const run = new WebAssembly.Instance(module, { env: { mem: new WebAssembly.Memory({ initial: 1 }) } }).exports.loop as (n: number) => void;
  run(1e6);
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const n = 5e6;
    const t0 = performance.now();
    run(n);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (n * ACC * 4 * 2) / s / 1e9);
  }
  const ghz = best / 16;
  return { wasmGflopsPerCore: best, estimatedGhz: ghz, nativePeakGflops: ghz * 64 * cores, wasmPeakGflops: best * cores };
}
