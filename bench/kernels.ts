/**
 * Micro-benchmarks behind the kernel design (bench/README.md quotes them): each product of the
 * networks' shapes in the TypeScript reference and in WebAssembly (GMAC/s, copies included),
 * the elementwise kernels (ns per value), the cost of moving operands (TypedArray.set against a
 * JS loop), and — with --threads — the same products with a helper thread.
 *
 *   node --import tsx bench/kernels.ts [--threads]
 */
import * as accel from "../src/accel/index.ts";
import { activation } from "../src/core/activations.ts";
import { startHelper } from "../src/cli/helper.ts";

const withThreads = process.argv.includes("--threads");
if (!accel.wasmOps()) throw new Error("WebAssembly SIMD is not available here");

/** Run f with the accelerator set to `name` ("ts": the reference; "wasm": the WebAssembly operations), through the layers' entry points. */
function under<T>(name: accel.AccelName, f: () => T): T {
  const before = accel.useAccel(name);
  try { return f(); } finally { accel.useAccel(before); }
}

/** Best of 5 timings of `f`, repeated to ~20 ms each; seconds per call. */
function time(f: () => void): number {
  for (let i = 0; i < 3; i++) f();
  let reps = 1;
  for (let t = 0; t < 0.02; reps *= 2) { const t0 = performance.now(); for (let i = 0; i < reps; i++) f(); t = (performance.now() - t0) / 1000; }
  let best = Infinity;
  for (let r = 0; r < 5; r++) { const t0 = performance.now(); for (let i = 0; i < reps; i++) f(); best = Math.min(best, (performance.now() - t0) / 1000 / reps); }
  return best;
}
const arr = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);

/** [label, kind, M, N, K]: the products of the benchmark networks (B = batch). */
const SHAPES: [string, "NT" | "TN" | "NN", number, number, number][] = [
  ["seed dense1 forward  z = x·Wᵀ", "NT", 32, 5, 784],
  ["seed dense1 dW = dzᵀ·x", "TN", 5, 784, 32],
  ["mlp256 dense1 forward", "NT", 32, 256, 784],
  ["mlp256 dense1 dW", "TN", 256, 784, 32],
  ["mlp256 dense2 dx = dz·W", "NN", 32, 256, 256],
  ["mlp100 dense forward", "NT", 32, 100, 100],
  ["lstm step h·W_hhᵀ", "NT", 32, 512, 128],
  ["lstm dW_hh (all steps)", "TN", 512, 128, 896],
  ["lstm dh += dA·W_hh", "NN", 32, 128, 512],
];

function products(name: accel.AccelName, label: string): void {
  console.log(`\n${label}`);
  for (const [shape, kind, M, N, K] of SHAPES) {
    const A = arr(M * K), B = arr(N * K), C = arr(M * N);
    const f = kind === "NT" ? () => accel.gemmNT(M, N, K, A, 0, B, 0, C, 0, false) : kind === "TN" ? () => accel.gemmTN(M, N, K, A, 0, B, 0, C, 0, true) : () => accel.gemmNN(M, N, K, A, 0, B, 0, C, 0, false);
    const s = under(name, () => time(f));
    console.log(`  ${shape.padEnd(34)} ${kind} ${`${M}×${N}×${K}`.padEnd(12)} ${(s * 1e6).toFixed(1).padStart(8)} µs  ${((M * N * K) / s / 1e9).toFixed(2).padStart(6)} GMAC/s`);
  }
}

products("ts", "GEMM, TypeScript reference (src/accel/ops/gemm.ts)");
products("wasm", "GEMM, WebAssembly SIMD (copies, packing and transposes included)");

console.log("\nelementwise, ns per value (n = 65,536; float32 in and out)");
const n = 65536, z = Float32Array.from({ length: n }, () => (Math.random() - 0.5) * 8), y = new Float32Array(n), dz = new Float32Array(n);
for (const name of ["sigmoid", "tanh", "relu"] as const) {
  const act = activation(name);
  const f = (k: accel.AccelName) => under(k, () => time(() => accel.activate(act, z, y, n))) / n * 1e9;
  const b = (k: accel.AccelName) => under(k, () => time(() => accel.activateBackward(act, z, y, z, dz, n))) / n * 1e9;
  console.log(`  ${name.padEnd(8)} forward: TS ${f("ts").toFixed(2)}, WASM ${f("wasm").toFixed(2)};  backward: TS ${b("ts").toFixed(2)}, WASM ${b("wasm").toFixed(2)}`);
}

console.log("\nmoving 65,536 floats into another buffer, ns per float");
const src = arr(4 * n), dst = new Float32Array(4 * n);
const viaSet = time(() => dst.set(src.subarray(5, 5 + n), 100)) / n * 1e9;
const viaLoop = time(() => { for (let i = 0; i < n; i++) dst[100 + i] = src[5 + i]; }) / n * 1e9;
console.log(`  TypedArray.set ${viaSet.toFixed(3)}, JS loop ${viaLoop.toFixed(3)}`);

if (withThreads) {
  if (!startHelper()) throw new Error("no shared WebAssembly memory here");
  await new Promise((r) => setTimeout(r, 300));
  products("wasm", "GEMM, WebAssembly SIMD with a helper thread (products of ≥ 2^18 multiply-adds split)");
}
process.exit(0);
