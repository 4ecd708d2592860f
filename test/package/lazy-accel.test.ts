/**
 * The WebAssembly kernels compile on first use, not at import (src/accel/index.ts), so a process
 * that trains nothing (`gradlab --version`, a library import) never pays for the compile. Each
 * case runs in a fresh Node process, since a process compiles the module at most once: the
 * global WebAssembly.Module constructor is counted (and, for the fallback, made to fail) before
 * src/accel/index.ts is imported. Expected products are computed by hand in the script.
 */
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/cli.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = tempDir("gradlab-lazy-accel-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run `body` as a module after WebAssembly.Module is wrapped (`failing`: every construction throws); returns its stdout lines as JSON. */
function probe(body: string, failing = false): { out: Record<string, unknown>; stderr: string } {
  const file = join(dir, `probe-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `
let compiles = 0;
const Real = WebAssembly.Module;
WebAssembly.Module = new Proxy(Real, { construct(target, args) { compiles++; if (${failing}) throw new Error("no SIMD here"); return Reflect.construct(target, args); } });
const accel = await import(${JSON.stringify(join(ROOT, "src/accel/index.ts"))});
const out = {};
${body}
console.log(JSON.stringify(out));
`);
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return { out: JSON.parse(r.stdout.trim().split("\n").at(-1)!), stderr: r.stderr };
}

/** C = A·Bᵀ for A [M, K] = 1…M·K, B [N, K] = 1…N·K (M = 8, N = 16, K = 32: large enough for the WebAssembly product), and the hand-written reference. */
const PRODUCT = `
const M = 8, N = 16, K = 32;
const A = Float32Array.from({ length: M * K }, (_, i) => (i % 7) - 3), B = Float32Array.from({ length: N * K }, (_, i) => (i % 5) - 2);
const C = new Float32Array(M * N);
accel.gemmNT(M, N, K, A, 0, B, 0, C, 0, false);
let maxErr = 0;
for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
  let s = 0;
  for (let k = 0; k < K; k++) s += A[m * K + k] * B[n * K + k];
  maxErr = Math.max(maxErr, Math.abs(C[m * N + n] - s));
}
out.maxErr = maxErr;`;

describe("the WebAssembly module compiles lazily", () => {
  it("importing the accelerator compiles nothing; the first operation compiles it once and runs the WebAssembly product", () => {
    const { out } = probe(`
out.afterImport = compiles;
out.nameBefore = accel.accelName();
${PRODUCT}
out.afterFirst = compiles;
const gemm = accel.ops.gemmNT;
accel.gemmNT(M, N, K, A, 0, B, 0, C, 0, false);
out.afterSecond = compiles;
out.sameBinding = accel.ops.gemmNT === gemm && gemm === accel.wasmOps().gemmNT;
out.registered = accel.registered().length;
out.nameAfter = accel.accelName();`);
    expect(out.afterImport).toBe(0);
    expect(out.nameBefore).toBe("wasm"); // claimed, compiled on demand
    // the runtime probe (a one-function module) and the module itself: two constructions, once
    expect(out.afterFirst).toBe(2);
    expect(out.afterSecond).toBe(2);
    expect(out.sameBinding).toBe(true); // the stand-ins are gone: the registry holds the WebAssembly bindings
    expect(out.registered).toBe(23); // every operation of registry.ts
    expect(out.nameAfter).toBe("wasm");
    expect(out.maxErr).toBe(0); // small integers: exact in float32 whichever order the sums run
  });

  it("without WebAssembly SIMD the first call falls back to the reference, says so once, and the registry empties", () => {
    const { out, stderr } = probe(`
out.afterImport = compiles;
${PRODUCT}
out.nameAfter = accel.accelName();
out.registered = accel.registered().length;
const x = new Float32Array(100); x[50] = NaN;
out.nonFinite = accel.hasNonFinite(x, 100);`, true);
    expect(out.afterImport).toBe(0);
    expect(out.maxErr).toBe(0);
    expect(out.nameAfter).toBe("ts");
    expect(out.registered).toBe(0);
    expect(out.nonFinite).toBe(true);
    expect(stderr.match(/the TypeScript reference kernels run instead/g)).toHaveLength(1);
  });
});
