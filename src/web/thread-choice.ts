/**
 * How many kernel threads a lab run takes and why, and how the lab says it: pure functions the
 * training worker (kernel-threads.ts) and the page share. Two threads need WebAssembly SIMD (the
 * kernels), a model whose shapes make a second thread pay (accel/threads.ts chooseThreads, the
 * CLI's rule), shared WebAssembly memory (a cross-origin isolated page) and a second core for
 * this run.
 */
import type { ThreadChoice, ThreadReason } from "./protocol.ts";

/**
 * The thread count and its reason, from what the model wants (`wanted`: chooseThreads), whether
 * the page is cross-origin isolated, whether WebAssembly SIMD runs at all, and how many cores
 * this run may count on (the machine's, divided among the runs training side by side).
 * The first reason that holds wins, most basic first.
 * @example decideThreads({ wanted: 2, isolated: true, simd: true, cores: 2 }) // { count: 2, reason: "isolated" }
 * @example decideThreads({ wanted: 2, isolated: false, simd: true, cores: 8 }) // { count: 1, reason: "not-isolated" }
 */
export function decideThreads(at: { wanted: 1 | 2; isolated: boolean; simd: boolean; cores: number }): ThreadChoice {
  const one = (reason: ThreadReason): ThreadChoice => ({ count: 1, reason });
  if (!at.simd) return one("no-simd");
  if (at.wanted === 1) return one("does-not-pay");
  if (!at.isolated) return one("not-isolated");
  if (at.cores < 2) return one("shared-cores");
  return { count: 2, reason: "isolated" };
}

/** How the lab words a thread choice (the status line's "engine:"). */
export function threadsText(t: ThreadChoice): string {
  switch (t.reason) {
    case "isolated": return "2 threads";
    case "not-isolated": return "1 thread (page not cross-origin isolated)";
    case "does-not-pay": return "1 thread (a second does not pay for this network)";
    case "shared-cores": return "1 thread (A and B share the cores)";
    case "no-shared-memory": return "1 thread (no shared WebAssembly memory here)";
    case "helper-failed": return "1 thread (the helper thread did not start)";
    case "no-simd": return "1 thread (no WebAssembly SIMD: the TypeScript kernels)";
  }
}
