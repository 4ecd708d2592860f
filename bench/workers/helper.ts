/**
 * The helper thread of gradlab's WebAssembly kernels in Node (worker_threads): serves the calls
 * the main thread hands it (src/core/kernels/wasm.ts, serveHelper) until the process ends.
 * Started by startHelper() below (through helper.boot.js, which registers tsx in the thread);
 * see kernels.ts useHelper.
 */
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { useHelper } from "../../src/core/kernels/kernels.ts";
import { serveHelper, type HelperInit } from "../../src/core/kernels/wasm.ts";

if (!isMainThread && parentPort) parentPort.once("message", (init: HelperInit) => serveHelper(init));

/** Start the helper thread and hand it to the kernels; false where that is not possible. */
export function startHelper(): boolean {
  const worker = new Worker(new URL("./helper.boot.js", import.meta.url));
  worker.unref(); // the process may exit while the helper waits
  return useHelper(worker);
}
