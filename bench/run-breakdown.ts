/**
 * Where a `gradlab run`'s time goes: one run of a config file, opened and driven the way the
 * CLI's `run` command does it (openRun into a folder, runAsync, the report written by the
 * finalize hook), in a process of its own, with clocks between the phases. Prints ONE JSON line.
 *
 *   start        process start → the engine's code loaded (Node, tsx, the modules a run imports)
 *   data         the IDX files read ahead into kernel memory and parsed, as the CLI does (preload, loadDataset)
 *   open         the model built, the folder prepared, metrics.jsonl opened (openRun)
 *   first step   step 0: the WebAssembly module compiled, the JIT's first pass, and the step-0 record
 *   steps        every other step at the run's median plain-step time (the in-run steady state)
 *   warm-up      the plain steps' time above that median (JIT tiers, caches; noise on a shared machine)
 *   recording    recorded steps' time above the median plain step (records written to metrics.jsonl)
 *   evaluation   the test-set evaluations at epoch ends (timed again after the run, same work)
 *   checkpoints  steps that wrote a checkpoint, above the median plain step
 *   finish       summary.json (diagnosis) and weights.safetensors
 *   report       the finalize hook: report.html, metrics.csv, charts (PNG unless --no-png)
 * `inRun` is summary.json's samplesPerSecond (what the run reports: from the session's start
 * to its summary); `steady` is the batch size over the median plain step.
 *
 *   node --import tsx bench/run-breakdown.ts CONFIG.json --out DIR [--no-png] [--threads 2]
 */
export {}; // a module (top-level await); its imports are dynamic so that `start` can be timed
const T_ENTRY = performance.now();
const args = process.argv.slice(2);
const configPath = args[0];
const outAt = args.indexOf("--out");
if (!configPath || outAt < 0) {
  console.error("run-breakdown: expected CONFIG.json --out DIR [--no-png] [--threads 2]");
  process.exit(2);
}
const outDir = args[outAt + 1];
const png = !args.includes("--no-png");
const threadsAt = args.indexOf("--threads");
const threads = threadsAt >= 0 ? Number(args[threadsAt + 1]) : 1;

const { loadConfigFile } = await import("../src/experiment/config-file.ts");
const { openRun, datasetFor } = await import("../src/experiment/run-folder/session.ts");
const { preloadInterruptibly } = await import("../src/experiment/preload.ts");
const { writeReport } = await import("../src/report/write.ts");
const { startHelper } = await import("../src/cli/helper.ts");
const { median } = await import("./measure.ts");
if (threads === 2 && !startHelper()) throw new Error("run-breakdown: no shared WebAssembly memory for a helper thread");
const tLoaded = performance.now();

const config = loadConfigFile(configPath);
await preloadInterruptibly({ config }); // as the CLI reads the files: ahead, into kernel memory
datasetFor(config); // cached: openRun's own load finds it
const tData = performance.now();

let reportMs = 0;
const session = openRun({ mode: "fresh", config, outDir }, "bench/run-breakdown.ts", {
  onStep(t, rec) {
    const now = performance.now();
    const s = t.step - 1;
    stepMs[s] = now - last;
    recorded[s] = rec ? 1 : 0;
    if (t.epochs.length > epochs) { epochs = t.epochs.length; evaluated[s] = 1; }
    if (s > 0 && every > 0 && s % every === 0) checkpointed[s] = 1;
    last = now;
  },
  finalize: (dir) => { const t = performance.now(); const files = writeReport(dir, { png }); reportMs = performance.now() - t; return files; },
});
const tOpen = performance.now();
const trainer = session.trainer;
const every = config.train.checkpointEvery;
const n = trainer.totalSteps;
const stepMs = new Float64Array(n);       // [steps] time from one onStep to the next
const recorded = new Uint8Array(n);       // [steps] 1 when the step made a record
const evaluated = new Uint8Array(n);      // [steps] 1 when the step ended an epoch (test evaluation)
const checkpointed = new Uint8Array(n);   // [steps] 1 when a checkpoint was written after the step before
let last = performance.now();
let epochs = 0;
last = performance.now();
while (!session.advance(50)) await new Promise((r) => setImmediate(r));
const tTrained = performance.now();
const result = session.finish();
const tFinished = performance.now();
const steps = trainer.step;

// the evaluation again, untimed by the run: the same work an epoch end does
const te = performance.now();
trainer.evaluate("test");
const evalMs = performance.now() - te;

const plain: number[] = [];
for (let s = 1; s < steps; s++) if (!recorded[s] && !evaluated[s] && !checkpointed[s]) plain.push(stepMs[s]);
const med = plain.length ? median(plain) : NaN;
let recordingMs = 0, evaluationMs = 0, checkpointMs = 0, plainSum = 0;
for (let s = 1; s < steps; s++) {
  const extra = stepMs[s] - med;
  if (evaluated[s]) { evaluationMs += evalMs; recordingMs += recorded[s] ? extra - evalMs : 0; }
  else if (recorded[s]) recordingMs += extra;
  else if (checkpointed[s]) checkpointMs += extra;
  else plainSum += stepMs[s];
}
const B = trainer.batchSize;
const ms = {
  start: tLoaded,
  data: tData - tLoaded,
  open: tOpen - tData,
  firstStep: stepMs[0],
  steps: med * (steps - 1),
  warmup: plainSum - med * plain.length,
  recording: recordingMs,
  evaluation: evaluationMs,
  checkpoints: checkpointMs,
  loop: tTrained - tOpen,
  finish: tFinished - tTrained - reportMs,
  report: reportMs,
  total: tFinished,
};
console.log(JSON.stringify({
  config: config.name,
  steps,
  batch: B,
  records: recorded.reduce((a, b) => a + b, 0),
  evaluations: evaluated.reduce((a, b) => a + b, 0),
  checkpoints: checkpointed.reduce((a, b) => a + b, 0),
  inRun: result.summary.samplesPerSecond,
  steady: (B * 1000) / med,
  medianStepUs: med * 1000,
  entryMs: T_ENTRY,
  ms,
  testAccuracy: result.summary.testAccuracy,
}));
