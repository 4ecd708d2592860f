/**
 * gradlab as a worker of the comparison (protocol.ts): a network from bench/networks.ts trained
 * through Trainer.trainStep(), the loop the CLI and the web worker use.
 *
 *   node --import tsx bench/workers/gradlab.ts --kernels wasm|ts --every N [--threads 2]
 *
 * `--every` is record.every (a number larger than any run turns recording off); `--kernels`
 * picks the accelerator setting (src/accel: "wasm" registers the WebAssembly operations, "ts" none); `--threads 2` gives the WebAssembly kernels a helper thread
 * (src/cli/helper.ts, as `gradlab run --threads 2`). Timed windows never contain an epoch-ending step (it also evaluates on the test
 * set): the worker first finishes the epoch, untimed, when needed.
 */
import { useAccel, type AccelName } from "../../src/accel/index.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import { Trainer } from "../../src/experiment/trainer.ts";
import { alignForWindow } from "../measure.ts";
import { networkConfig, type Network } from "../networks.ts";
import { startHelper } from "../../src/cli/helper.ts";
import { serve } from "./protocol.ts";

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const kernelsName = opt("--kernels", "wasm") as AccelName;
const every = Number(opt("--every", "1000000000"));
const threads = Number(opt("--threads", "1"));
useAccel(kernelsName);
if (threads === 2 && !startHelper()) throw new Error("gradlab worker: no shared WebAssembly memory for a helper thread");

let trainer: Trainer | null = null;
serve({
  setup(msg) {
    const net = msg.net as Network;
    trainer = null;
    const config = networkConfig(net, { every, epochs: 1000 });
    trainer = new Trainer(config, loadDataset(config.data.dataset, { train: config.data.train, test: config.data.test }));
    return { ok: true, kernels: kernelsName, every, threads, maxSteps: trainer.stepsPerEpoch - 1 };
  },
  run(msg) {
    const t = trainer!;
    const steps = msg.steps as number;
    alignForWindow(t, steps);
    let records = 0;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) if (t.trainStep() !== null) records++;
    const seconds = (performance.now() - t0) / 1000;
    if (t.stopped) throw new Error(`training stopped: ${t.stopped.reason}`);
    return { seconds, records };
  },
});
