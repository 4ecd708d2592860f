/**
 * The helper thread of the training worker's WebAssembly kernels (kernel-threads.ts starts it
 * where the page is cross-origin isolated and the model's shapes say a second thread pays). Its
 * first message is the kernels' module, their shared memory and the control block
 * (accel/engine.ts, HelperInit); it says "serving" to the training worker and then serves the
 * calls handed to it until it is terminated (serveHelper never returns). The same code as the
 * CLI's helper (src/cli/helper.ts), so a run's numbers do not depend on where it trains.
 */
/// <reference lib="webworker" />
import { serveHelper, type HelperInit } from "../accel/engine.ts";

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = (e: MessageEvent<HelperInit>) => {
  self.onmessage = null;
  self.postMessage("serving");
  serveHelper(e.data);
};
