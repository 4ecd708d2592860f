/**
 * The helper thread of the WebAssembly kernels in Node (worker_threads): `gradlab run --threads 2`
 * and the benchmark start it. It serves the calls the main thread hands it (accel/engine.ts,
 * serveHelper) until the process ends. Results are bit-for-bit those of one thread; whether it
 * pays depends on the network and on the second core being free (bench/README.md, "A second
 * thread").
 */
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { serveHelper, useHelper, type HelperInit } from "../accel/index.ts";

if (!isMainThread && parentPort) parentPort.once("message", (init: HelperInit) => serveHelper(init));

/** Start the helper thread and hand it to the accelerator; false where that is not possible. */
export function startHelper(): boolean {
  const worker = new Worker(new URL("./helper.boot.js", import.meta.url));
  worker.unref(); // the process may exit while the helper waits
  return useHelper(worker);
}
