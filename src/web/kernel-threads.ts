/**
 * The training worker's kernel threads: one (the worker itself), or two (the worker and a
 * helper worker, helper-worker.ts, sharing the kernels' memory: accel/engine.ts's withHelper).
 * The rule is the CLI's (accel/threads.ts chooseThreads, from the model's shapes), so a run takes
 * the same choice here as `gradlab run` does, and the numbers are bit for bit the same either
 * way. Two threads need shared WebAssembly memory, which a browser gives only to a page that is
 * cross-origin isolated (served with Cross-Origin-Opener-Policy: same-origin and
 * Cross-Origin-Embedder-Policy: require-corp); elsewhere the run keeps one thread and says why.
 *
 * A helper that is slow to start (or never starts) cannot stall a step: the kernels take back a
 * job the helper has not taken up after a bounded spin and run it themselves (engine.ts, join).
 * A helper that fails to load is dropped and the run goes on with one thread.
 */
import { wasmOps, wasmOpsOf, WasmEngine, type AccelOps } from "../accel/index.ts";
import { register } from "../accel/registry.ts";
import type { ThreadChoice } from "./protocol.ts";

/**
 * The helper worker and the kernels that hand it half of their large calls; `ops` null when it
 * cannot run, and `why` says why.
 */
interface Helper { worker: Worker; ops: AccelOps | null; why: "no-shared-memory" | "helper-failed" | null }
let helper: Helper | null = null;

/**
 * Run the kernels on `choice`'s threads from the next call on, and return the choice they run
 * on: two start the helper worker if there is none, or fall back to one where shared memory is
 * unavailable or the helper failed to load (saying so); one goes back to the private-memory
 * kernels and keeps an idle helper (it sleeps) for the next call that wants it: releaseHelper
 * ends it. `onFail` hears if the helper fails to load later (the kernels are back on one thread
 * by then).
 * @example useThreads({ count: 2, reason: "isolated" }, said) // { count: 2, … }, or { count: 1, reason: "no-shared-memory" }
 */
export function useThreads(choice: ThreadChoice, onFail: () => void): ThreadChoice {
  if (choice.count === 2) {
    const h = startHelper(onFail);
    if (h.ops) {
      register(h.ops);
      return choice;
    }
    oneThread();
    return { count: 1, reason: h.why ?? "helper-failed" };
  }
  oneThread();
  return choice;
}

/** The private-memory kernels (none without WebAssembly SIMD: the registry then answers with the reference). */
function oneThread(): void {
  const one = wasmOps();
  if (one) register(one);
}

/** The helper worker, started once; where it cannot run it is not tried again until releaseHelper. */
function startHelper(onFail: () => void): Helper {
  if (helper) return helper;
  const worker = new Worker(new URL("./helper-worker.ts", import.meta.url), { type: "module", name: "gradlab-helper" });
  const engine = WasmEngine.withHelper(worker);
  const h: Helper = { worker, ops: engine ? wasmOpsOf(engine) : null, why: engine ? null : "no-shared-memory" };
  helper = h;
  if (!engine) { worker.terminate(); return h; }
  worker.onerror = (e) => {
    e.preventDefault();
    if (helper !== h) return;
    h.ops = null;
    h.why = "helper-failed";
    worker.terminate();
    oneThread();
    onFail();
  };
  return h;
}

/** End the helper worker, if any (the next two-thread useThreads starts a new one). Call it on one thread. */
export function releaseHelper(): void {
  helper?.worker.terminate();
  helper = null;
}

/** Whether WebAssembly SIMD runs here (compiles the kernels' module once; training needs it anyway). */
export function hasSimd(): boolean {
  return wasmOps() !== null;
}
