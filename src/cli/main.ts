/**
 * The `gradlab` command. Bad input of any kind ends in one line on stderr naming what is wrong
 * and what was expected, and exit code 2; anything else escaping is a bug (exit 1, with stack).
 */
import { cac } from "cac";
import { existsSync, readdirSync, statSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { CAPS, readSafetensorsChecked, readTextChecked } from "../data/read-file.ts";
import { parseConfig, type Config } from "../experiment/config.ts";
import { listPresets, resolveExperimentArg } from "../experiment/config-file.ts";
import { expandSuite, type Suite } from "../experiment/suite.ts";
import { parseShard, runSuite, type PlanResult } from "../experiment/sweep.ts";
import { availableParallelism } from "node:os";
import { openRun, type RunHooks, type RunOptions, type RunSession, type Summary } from "../experiment/run-folder/session.ts";
import { writeFileAtomic } from "../experiment/run-folder/atomic.ts";
import { computeGradients, encodeGradients, parseRange } from "../experiment/grads.ts";
import { parseSize, runSize } from "../experiment/memory.ts";
import { startHelper } from "./helper.ts";
import { printable, printableLine } from "./printable.ts";
import { RunProgress } from "./progress.ts";
import { columns, layerTable, num, presetsTable, sparkTable } from "./table.ts";
import { writeComparison, writeReport } from "../report/write.ts";

const cli = cac("gradlab");

/** Print to stdout with control characters made visible: names, paths and labels are user text. */
function say(text: string): void {
  console.log(printable(text));
}

// `gradlab … | head` closes our stdout early: the run goes on to the end (its folder is what
// matters) and the rest of the output is dropped, instead of crashing on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => { if (e.code !== "EPIPE") throw e; });
}

interface Overrides { epochs?: unknown; seed?: unknown; train?: unknown; test?: unknown; every?: unknown }

/** Apply command-line overrides to a resolved config and re-validate it. */
function override(config: Config, o: Overrides): Config {
  const raw = JSON.parse(JSON.stringify(config));
  const num = (v: unknown) => (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)) ? Number(v) : v);
  if (o.epochs !== undefined) raw.train.epochs = num(o.epochs);
  if (o.seed !== undefined) raw.train.seed = num(o.seed);
  if (o.train !== undefined) raw.data.train = num(o.train);
  if (o.test !== undefined) raw.data.test = num(o.test);
  if (o.every !== undefined) raw.record.every = num(o.every);
  return parseConfig(raw, "command line");
}

/** Read a single config (preset name or file) with overrides; suites are refused. */
function loadConfig(arg: string, o: Overrides): { config: Config; source: string } {
  const e = resolveExperimentArg(arg);
  if (e.kind === "suite") throw new InputError(`${arg}: is a suite of ${e.suite.runs.length} runs; expected a single config here`);
  return { config: override(e.config, o), source: e.source };
}

/** A suite with the overrides applied to every run. */
function overrideSuite(suite: Suite, o: Overrides): Suite {
  return { ...suite, runs: suite.runs.map((r) => ({ ...r, config: override(r.config, o) })) };
}

/** Run a suite and print one line per run plus a closing table. */
async function runSuiteCli(suite: Suite, out: string, workers: number, shard: [number, number] | undefined, quiet: boolean, png: boolean, resume = false): Promise<void> {
  const n = shard ? suite.runs.filter((_, i) => i % shard[1] === shard[0]).length : suite.runs.length;
  say(`gradlab: ${printableLine(suite.name)} — ${n} run(s)${shard ? ` (shard ${shard[0]}/${shard[1]} of ${suite.runs.length})` : ""} on ${Math.min(workers, n)} worker(s) → ${resolve(out)}`);
  let done = 0;
  const results = await runSuite(suite, out, {
    workers, shard, command: commandLine(), png, resume,
    workerEntry: new URL("./sweep-worker.boot.js", import.meta.url),
    finalize: (dir) => writeReport(dir, { png }),
    onStart: (plan) => { if (!quiet) say(`  start  ${printableLine(plan.label)}`); },
    onDone: (r) => {
      done++;
      const s = r.summary;
      say(`  [${done}/${n}] ${printableLine(r.label)}: ${s ? `test accuracy ${(100 * s.testAccuracy).toFixed(2)}%, ${s.diagnosis.grade ? `${s.diagnosis.verdict} (${s.diagnosis.grade})` : s.diagnosis.verdict}${r.kept ? " (finished before; kept)" : r.resumedFrom != null ? ` (resumed from step ${r.resumedFrom})` : ""}` : `error: ${printableLine(String(r.error))}`}`);
    },
  });
  say(`\n${suiteTable(results)}\n`);
  const ok = results.filter((r) => r.summary);
  if (ok.length > 1) {
    writeComparison(ok.map((r) => r.dir), join(resolve(out), shard && shard[1] > 1 ? `compare.${shard[0]}-of-${shard[1]}` : "compare"), { png });
    say(`comparison report: ${join(resolve(out), shard && shard[1] > 1 ? `compare.${shard[0]}-of-${shard[1]}` : "compare", "report.html")}`);
  }
  if (results.some((r) => r.error)) process.exitCode = 2;
}

/** accuracy, verdict and first/last gradient ratios per run */
function suiteTable(results: PlanResult[]): string {
  return runsTable(results.map((r) => ({ label: r.label, summary: r.summary })));
}

/** One row per run: test accuracy, verdict, first/last layer and first/last time-step gradient ratios. */
function runsTable(runs: { label: string; summary: Pick<Summary, "testAccuracy" | "diagnosis"> | null }[]): string {
  const rows = [["run", "test acc", "verdict", "first/last layer ‖δ‖", "first/last layer ‖∂L/∂W‖", "‖∂ℓ/∂h_1‖/‖∂ℓ/∂h_T‖"]];
  for (const { label, summary: s } of runs) {
    const time = s ? Object.values(s.diagnosis.timeRatios ?? {}) : [];
    const d = s?.diagnosis;
    rows.push([label, s ? `${(100 * s.testAccuracy).toFixed(2)}%` : "error", d ? (d.grade ? `${d.verdict} (${d.grade})` : d.verdict) : "–", num(d?.deltaRatio ?? null), num(d?.depthRatio ?? null), time.length ? num(time[0]) : "–"]);
  }
  return columns(rows);
}

/** Run folders named on the command line; a suite folder stands for the runs inside it. */
function expandRunDirs(dirs: string[]): string[] {
  if (dirs.length === 0) throw new InputError("compare: expected at least one run folder (or a suite folder)");
  const out: string[] = [];
  for (const d of dirs) {
    if (existsSync(join(d, "summary.json"))) { out.push(d); continue; }
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new InputError(`${d}: no such run folder`);
    const inner = readdirSync(d).map((f) => join(d, f)).filter((f) => existsSync(join(f, "summary.json"))).sort();
    if (inner.length === 0) throw new InputError(`${d}: not a run folder (no summary.json) and holds no run folders`);
    out.push(...inner);
  }
  return out;
}

/** The compare command's terminal table, from each run's summary.json. */
function compareTable(runDirs: string[]): string {
  return runsTable(runDirs.map((d) => ({ label: d, summary: JSON.parse(readTextChecked(join(d, "summary.json"), { cap: CAPS.small, expected: "expected a run's summary.json" })) })));
}

/** A name as a folder name. */
function safeName(name: string): string {
  return name.replace(/[^\w.-]+/g, "_") || "run";
}

function workerCount(text: string | undefined): number {
  if (text === undefined) return availableParallelism();
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InputError(`--workers: expected a whole number from 1 to 256; got ${JSON.stringify(text)}`);
  return n;
}

function commandLine(): string {
  return ["gradlab", ...process.argv.slice(2)].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
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

type RunOpts = Overrides & { out?: string; quiet?: boolean; workers?: string; png?: boolean; resume?: string; maxMemory?: string; threads?: string };

cli
  .command("run [config]", "train a preset or a config file and write a run folder (or continue one with --resume)")
  .option("--out <dir>", "run folder (default: runs/<name>)")
  .option("--resume <dir>", "continue the interrupted run in this folder from its last checkpoint")
  .option("--epochs <n>", "override train.epochs")
  .option("--seed <s>", "override train.seed")
  .option("--train <n>", "override data.train (number of training examples)")
  .option("--test <n>", "override data.test")
  .option("--every <n>", "override record.every")
  .option("--max-memory <size>", "refuse runs estimated to need more (e.g. 2GB; default: half of this machine's memory)")
  .option("--quiet", "print only the summary")
  .option("--workers <n>", "for suites: parallel runs (default: the number of cores)")
  .option("--threads <n>", "1 (default) or 2: a second thread for the kernels' large products and cell steps (same results; pays on recurrent networks when the second core is free)")
  .option("--no-png", "skip the PNG export of the charts")
  .action(async (arg: string | undefined, opts: RunOpts) => {
    const maxMemory = opts.maxMemory !== undefined ? parseSize(String(opts.maxMemory)) : undefined;
    const threads = opts.threads === undefined ? 1 : Number(opts.threads);
    if (threads !== 1 && threads !== 2) throw new InputError(`--threads: expected 1 or 2; got ${JSON.stringify(String(opts.threads))}`);
    if (opts.resume !== undefined) {
      if (arg !== undefined) throw new InputError(`--resume: give either a config or --resume DIR, not both (the run continues with DIR/config.json); got ${JSON.stringify(arg)}`);
      const fixed = (["out", "epochs", "seed", "train", "test", "every"] as const).find((k) => opts[k] !== undefined);
      if (fixed) throw new InputError(`--${fixed}: cannot be changed when resuming; the run continues exactly as configured in ${join(String(opts.resume), "config.json")}`);
      if (threads === 2) secondThread();
      return runOne(opts, (hooks, runOpts) => openRun({ mode: "resume", runDir: String(opts.resume) }, commandLine(), hooks, runOpts), maxMemory);
    }
    if (arg === undefined) throw new InputError("run: expected a preset name or a config file (or --resume DIR)");
    const e = resolveExperimentArg(arg);
    if (threads === 2 && e.kind === "suite") throw new InputError("--threads 2: for a single run; a suite already runs its runs in parallel (--workers)");
    if (threads === 2) secondThread();
    if (e.kind === "suite") {
      const suite = overrideSuite(e.suite, opts);
      return runSuiteCli(suite, opts.out ?? `runs/${safeName(suite.name)}`, workerCount(opts.workers), undefined, !!opts.quiet, opts.png !== false);
    }
    const config = override(e.config, opts);
    const out = opts.out ?? `runs/${safeName(config.name)}`;
    return runOne(opts, (hooks, runOpts) => openRun({ mode: "fresh", config, outDir: out }, commandLine(), hooks, runOpts), maxMemory);
  });

/** Give the kernels their helper thread (--threads 2), or say in one line why not. */
function secondThread(): void {
  if (!startHelper()) throw new InputError("--threads 2: this Node has no shared WebAssembly memory for a second thread; run with --threads 1");
}

/** One run (new or resumed) with its terminal output, signal handling and exit code. */
async function runOne(opts: RunOpts, open: (hooks: RunHooks, runOpts: RunOptions) => RunSession, maxMemory: number | undefined): Promise<void> {
  const progress = new RunProgress({ stream: process.stderr, print: (s) => say(s), quiet: !!opts.quiet });
  const log = (s: string) => { if (!opts.quiet) say(s); };
  // The handlers go in once the run is open: opening loads the data synchronously, and a handler
  // installed before would hold Ctrl-C back until loading ends; without one, a signal ends it at once.
  let signals: ReturnType<typeof interruptOnSignals> | null = null;
  try {
    const session = open({
      finalize: (dir) => writeReport(dir, { png: opts.png !== false }),
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

cli
  .command("grads <config>", "gradients of the mean loss over training examples A..B-1 (no shuffling, no update)")
  .option("--weights <file>", "weights (.safetensors, PyTorch names)")
  .option("--examples <A:B>", "half-open range of training examples", { default: "0:32" })
  .option("--out <file>", "where to write the gradients (.safetensors)")
  .action((arg: string, opts: { weights?: string; examples: string; out?: string }) => {
    if (!opts.weights) throw new InputError("--weights: required (a .safetensors file with the model's weights)");
    if (!opts.out) throw new InputError("--out: required (the .safetensors file to write the gradients to)");
    const { config } = loadConfig(arg, {});
    const range = parseRange(String(opts.examples));
    const bytes = readSafetensorsChecked(opts.weights, "expected a .safetensors file with the model's weights");
    const grads = computeGradients(config, bytes, range, opts.weights);
    const target = resolve(opts.out);
    mkdirSync(dirname(target), { recursive: true });
    writeFileAtomic(target, encodeGradients(grads));
    say(JSON.stringify({ loss: grads.loss, examples: grads.examples, out: target }));
  });

cli
  .command("sweep <file>", "run a suite or sweep grid on worker threads (one run folder each)")
  .option("--out <dir>", "root folder (default: runs/<name>)")
  .option("--workers <n>", "parallel runs (default: the number of cores)")
  .option("--shard <i/n>", "run only every n-th run starting at i (for batch schedulers)")
  .option("--epochs <n>", "override train.epochs in every run")
  .option("--seed <s>", "override train.seed in every run")
  .option("--train <n>", "override data.train in every run")
  .option("--test <n>", "override data.test in every run")
  .option("--every <n>", "override record.every in every run")
  .option("--quiet", "one line per finished run")
  .option("--png", "also export every run's charts as PNG (slower)")
  .option("--resume", "carry on an interrupted sweep in the same --out: keep finished runs, resume the others from their checkpoints")
  .action(async (file: string, opts: Overrides & { out?: string; workers?: string; shard?: string; quiet?: boolean; png?: boolean; resume?: boolean }) => {
    const e = resolveExperimentArg(file);
    const suite = e.kind === "suite" ? e.suite : expandSuite({ name: e.config.name, base: e.config }, file);
    const shard = opts.shard !== undefined ? parseShard(String(opts.shard)) : undefined;
    await runSuiteCli(overrideSuite(suite, opts), opts.out ?? `runs/${safeName(suite.name)}`, workerCount(opts.workers), shard, !!opts.quiet, opts.png === true, opts.resume === true);
  });

cli
  .command("report <dir>", "re-render report.html, metrics.csv and charts/*.png of a run folder")
  .option("--no-png", "skip the PNG export")
  .action((dir: string, opts: { png?: boolean }) => {
    const files = writeReport(dir, { png: opts.png !== false });
    say(`wrote ${files.length} files; report: ${join(resolve(dir), "report.html")}`);
  });

cli
  .command("compare [...dirs]", "overlay runs (run folders, or suite folders) in one report with shared axes")
  .option("--out <dir>", "where to write the comparison (default: runs/compare)")
  .option("--no-png", "skip the PNG export")
  .action((dirs: string[], opts: { out?: string; png?: boolean }) => {
    const runDirs = expandRunDirs(dirs);
    const out = opts.out ?? "runs/compare";
    writeComparison(runDirs, out, { png: opts.png !== false });
    say(compareTable(runDirs));
    say(`\ncomparison report: ${join(resolve(out), "report.html")}`);
  });

cli.command("presets", "list the preset experiments").action(() => {
  say(presetsTable(listPresets()));
});

cli.help();
cli.version("0.1.0");

/** One line, exit 2: the contract for bad input. */
function fail(message: string): never {
  process.stderr.write(`gradlab: ${printableLine(message)}\n`);
  process.exit(2);
}

/** What each option that takes a value expects, for the refusal of an empty one. */
const OPTION_VALUES: Record<string, string> = {
  resume: "a run folder", out: "a path", weights: "a .safetensors file", examples: "a range A:B", shard: "i/n",
  epochs: "a number", seed: "a number", train: "a number", test: "a number", every: "a number",
  "max-memory": "a size", workers: "a number", threads: "1 or 2",
};

/**
 * The first option given an empty string (`--resume ''`, `--out=`), as a refusal; the parser
 * would read it as 0 and the message would name a folder called "0".
 */
function emptyOption(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--") return null;
    const m = /^--([\w-]+)(=(.*))?$/.exec(args[i]);
    if (!m || !(m[1] in OPTION_VALUES)) continue;
    if (m[2] !== undefined ? m[3] === "" : args[i + 1] === "") return `--${m[1]}: expected ${OPTION_VALUES[m[1]]}, got an empty string`;
  }
  return null;
}

try {
  const empty = emptyOption(process.argv.slice(2));
  if (empty) fail(empty);
  cli.parse(process.argv, { run: false });
  if (!cli.matchedCommand && cli.args.length > 0) fail(`unknown command "${cli.args[0]}"; expected one of ${cli.commands.map((c) => c.name).filter(Boolean).join(", ")}`);
  if (!cli.matchedCommand && !cli.options.help && !cli.options.version) cli.outputHelp();
  else await cli.runMatchedCommand();
} catch (e) {
  if (e instanceof InputError) fail(e.message);
  if (e instanceof Error && e.name === "CACError") fail(e.message);
  throw e;
}
