/**
 * `gradlab run`: train a preset or config file into a run folder (a suite runs as a sweep), or
 * continue an interrupted run with --resume. Under --json stdout holds the run's summary.json.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../core/errors.ts";
import { chooseThreads } from "../../accel/threads.ts";
import { viewShape } from "../../data/views.ts";
import type { Config } from "../../experiment/config.ts";
import { loadConfigFile, resolveExperimentArg } from "../../experiment/config-file.ts";
import { checkOutFolder } from "../../experiment/out-path.ts";
import { preloadInterruptibly } from "../../experiment/preload.ts";
import { parseSize, runSize } from "../../experiment/memory.ts";
import { openRun, type RunHooks, type RunOptions, type RunSession } from "../../experiment/run-folder/session.ts";
import { startHelper } from "../helper.ts";
import { printableLine } from "../printable.ts";
import { RunProgress } from "../progress.ts";
import { layerTable, sparkTable } from "../table.ts";
import { commandLine, output, override, overrideSuite, safeName, workerCount, type Output, type Overrides } from "./common.ts";

/** The options of `gradlab run`. */
export type RunOpts = Overrides & {
  out?: string; quiet?: boolean; workers?: string; png?: boolean; resume?: string; maxMemory?: string; threads?: string; json?: boolean;
};

/** The report's code (its charts; resvg on demand): its import starts once, as early as a run knows it will write one. */
let report: Promise<typeof import("../../report/write.ts")> | null = null;
const reportCode = () => (report ??= import("../../report/write.ts"));

/** The run command's action. */
export async function runCommand(arg: string | undefined, opts: RunOpts): Promise<void> {
  const out = output(opts.json === true);
  const maxMemory = opts.maxMemory !== undefined ? parseSize(String(opts.maxMemory)) : undefined;
  // null: chosen from the model's shapes (accel/threads.ts) for a single run; suites use one
  const threads = opts.threads === undefined ? null : Number(opts.threads);
  if (threads !== null && threads !== 1 && threads !== 2) throw new InputError(`--threads: expected 1 or 2; got ${JSON.stringify(String(opts.threads))}`);
  if (opts.resume !== undefined) {
    if (arg !== undefined) throw new InputError(`--resume: give either a config or --resume DIR, not both (the run continues with DIR/config.json); got ${JSON.stringify(arg)}`);
    const fixed = (["out", "epochs", "seed", "train", "test", "every"] as const).find((k) => opts[k] !== undefined);
    if (fixed) throw new InputError(`--${fixed}: cannot be changed when resuming; the run continues exactly as configured in ${join(String(opts.resume), "config.json")}`);
    if (threads === 2) secondThread();
    if (threads === null) {
      let config: Config | null = null;
      try { config = loadConfigFile(join(String(opts.resume), "config.json")); } catch { /* openRun says what is wrong */ }
      if (config) autoThreads(config);
    }
    void reportCode(); // loads while the data is read
    await preloadInterruptibly({ runDir: String(opts.resume) });
    return runOne(opts, out, (hooks, runOpts) => openRun({ mode: "resume", runDir: String(opts.resume) }, commandLine(), hooks, runOpts), maxMemory);
  }
  if (arg === undefined) throw new InputError("run: expected a preset name or a config file (or --resume DIR)");
  const e = resolveExperimentArg(arg);
  if (threads === 2 && e.kind === "suite") throw new InputError("--threads 2: for a single run; a suite already runs its runs in parallel (--workers)");
  if (threads === 2) secondThread();
  if (e.kind === "suite") {
    const suite = overrideSuite(e.suite, opts);
    const { runSuiteCli } = await import("./sweep.ts");
    const root = opts.out ?? `runs/${safeName(suite.name)}`;
    checkOutFolder(root, "--out");
    return runSuiteCli(suite, root, workerCount(opts.workers), undefined, !!opts.quiet, opts.png === true, out);
  }
  const config = override(e.config, opts);
  const dir = opts.out ?? `runs/${safeName(config.name)}`;
  checkOutFolder(dir, "--out");
  if (threads === null) autoThreads(config);
  void reportCode(); // loads while the data is read
  await preloadInterruptibly({ config });
  return runOne(opts, out, (hooks, runOpts) => openRun({ mode: "fresh", config, outDir: dir }, commandLine(), hooks, runOpts), maxMemory);
}

/** Give the kernels their helper thread (--threads 2), or say in one line why not. */
function secondThread(): void {
  if (!startHelper()) throw new InputError("--threads 2: this Node has no shared WebAssembly memory for a second thread; run with --threads 1");
}

/**
 * Without --threads: the helper thread where the model's shapes say it pays (accel/threads.ts;
 * the same results either way), started quietly; where it cannot start, one thread. The
 * images are taken as 28×28 (MNIST, Fashion-MNIST) for the shapes.
 */
function autoThreads(config: Config): void {
  if (chooseThreads(config.model.layers, viewShape(config.data.view, 28, 28)) === 2) startHelper();
}

/**
 * Ctrl-C and SIGTERM during a single run: the first asks the run to stop at the next step
 * boundary (checkpoint, partial report, exit 130); the handlers are then removed, so a second
 * signal kills at once (the folder still resumes from its last checkpoint).
 */
function interruptOnSignals(onFirst: (signal: string) => void): { reason: () => string | null; dispose: () => void } {
  let got: string | null = null;
  const signals = ["SIGINT", "SIGTERM"] as const;
  const handler = (signal: NodeJS.Signals) => {
    got = signal;
    for (const s of signals) process.off(s, handler);
    onFirst(signal);
  };
  for (const s of signals) process.on(s, handler);
  return { reason: () => got, dispose: () => { for (const s of signals) process.off(s, handler); } };
}

/** One run (new or resumed) with its terminal output, signal handling and exit code. */
async function runOne(opts: RunOpts, out: Output, open: (hooks: RunHooks, runOpts: RunOptions) => RunSession, maxMemory: number | undefined): Promise<void> {
  // The report is written by the session's synchronous finish, so its code is loaded first.
  const { writeReport } = await reportCode();

  const say = out.say;
  const progress = new RunProgress({ stream: process.stderr, print: say, quiet: !!opts.quiet });
  const log = (s: string) => { if (!opts.quiet) say(s); };
  // The handlers go in once the run is open: opening loads the data synchronously, and a handler
  // installed before would hold Ctrl-C back until loading ends; without one, a signal ends it at once.
  let signals: ReturnType<typeof interruptOnSignals> | null = null;
  try {
    const session = open({
      finalize: (dir) => writeReport(dir, { png: opts.png === true }),
      onStep(t, rec) {
        if (rec && rec.step === 0) {
          log(`\nAt initialization (step 0), loss ${rec.loss.toFixed(4)}:\n${layerTable(rec)}\n`);
        }
        progress.step(t, rec, signals?.reason() == null);
      },
      onEpoch(t, e) {
        progress.epoch(t, `epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, test accuracy ${(100 * e.testAccuracy).toFixed(2)}%`);
      },
    }, { maxMemory, interrupt: () => signals?.reason() ?? null });
    signals = interruptOnSignals((signal) => {
      progress.stop();
      process.stderr.write(`\ngradlab: ${signal}: stopping at the next step boundary (again to quit at once)…\n`);
    });
    const c = session.config;
    for (const note of session.batchNotes) process.stderr.write(`gradlab: ${note}\n`);
    if (session.resumedFrom === null) {
      log(`gradlab: ${printableLine(c.name)} — ${c.model.layers.length} layers, ${c.data.train} training examples, ${c.train.epochs} epoch(s): ${runSize(c)}`);
    } else {
      for (const note of session.notes) process.stderr.write(`gradlab: skipped unusable checkpoint: ${printableLine(note)}\n`);
      log(`gradlab: resuming ${printableLine(c.name)} in ${session.outDir} at step ${session.resumedFrom} of ${session.trainer.totalSteps}`);
    }
    const result = await session.runAsync();
    progress.stop();
    const s = result.summary;
    // --json: the summary exactly as the run folder's summary.json holds it
    out.document(JSON.parse(readFileSync(join(result.outDir!, "summary.json"), "utf8")));
    if (result.interrupted !== null) {
      say(`\ninterrupted (${result.interrupted}) at step ${s.steps} of ${session.trainer.totalSteps}; checkpoint and partial report written to ${result.outDir}`);
      say(`resume with: gradlab run --resume ${result.outDir}`);
      process.exitCode = 130;
      return;
    }
    log(`\nAt the end (step ${result.last.step}), loss ${result.last.loss === null ? "NaN" : result.last.loss.toFixed(4)}:\n${layerTable(result.last)}\n`);
    log(`‖δ‖, the error reaching each layer, over training (log scale, ${result.records.length} records):\n${sparkTable(result.records)}\n`);
    say(`test accuracy ${(100 * s.testAccuracy).toFixed(2)}%  ·  final loss ${s.finalLoss.toFixed(4)}  ·  ${s.steps} steps in ${s.seconds.toFixed(1)} s (${Math.round(s.samplesPerSecond)} samples/s)`);
    say(`\n${s.diagnosis.text}\n`);
    say(`run folder: ${result.outDir}  (report: ${join(result.outDir!, "report.html")})`);
    if (s.stopped) {
      say(`stopped: ${s.stopped.reason}${s.stopped.layer ? ` (first non-finite gradient in ${s.stopped.layer}.${s.stopped.param})` : ""}`);
      process.exitCode = 3;
    }
  } finally {
    progress.stop();
    signals?.dispose();
  }
}
