/**
 * A whole seed run in its own process, for its peak memory: the Trainer from step 0 to the end
 * (5 epochs of 60k by default, end-of-epoch test evaluations included), each record turned into
 * its metrics.jsonl line the way a run writes it (the lines are counted, not kept or written).
 * Prints ONE JSON line: { maxRssBytes, rssAfterLoadBytes, steps, records, … }.
 *
 *   node --import tsx bench/full-run.ts [--epochs N]
 */
import { seedConfig, seedDataset } from "./seed.ts";
import { Trainer } from "../src/experiment/trainer.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--epochs");
const epochs = at >= 0 ? Number(args[at + 1]) : undefined;
if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0)) {
  console.error(`--epochs: expected a positive integer, got ${args[at + 1]}`);
  process.exit(2);
}

const t0 = performance.now();
const config = seedConfig({ epochs });
const data = seedDataset(config);
const trainer = new Trainer(config, data);
const rssAfterLoadBytes = process.memoryUsage().rss;
let records = 0;
let metricsBytes = 0;
while (!trainer.done) {
  const rec = trainer.trainStep();
  if (rec) { records++; metricsBytes += JSON.stringify(rec).length + 1; }
}
const seconds = (performance.now() - t0) / 1000;
const last = trainer.epochs.at(-1);
console.log(JSON.stringify({
  epochs: config.train.epochs,
  steps: trainer.step,
  samples: trainer.step * trainer.batchSize,
  records,
  metricsBytes,
  stopped: trainer.stopped?.reason ?? null,
  testAccuracy: last?.testAccuracy ?? null,
  finalLoss: trainer.finalLoss,
  seconds,
  rssAfterLoadBytes,
  maxRssBytes: process.resourceUsage().maxRSS * 1024, // resourceUsage reports kilobytes
}));
