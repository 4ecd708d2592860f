/**
 * gradlab as a library: `import { parseConfig, train, presets } from "gradlab"`. The same engine
 * the CLI runs, for programs that want the numbers rather than the folder:
 *
 *   config    parseConfig (validates any JSON config: one clear InputError naming the field),
 *             presets (the bundled experiments/*.json as raw JSON)
 *   train     train(config, { onRecord, onEpoch, signal, out }) → the run: summary, records,
 *             the trained model; resume(dir) continues an interrupted run folder
 *   engine    createTrainer (step by step), buildModel / Model (forward, backward, named
 *             parameters and their gradients), Recorder, computeGradients, weights in/out
 *   data      decodeSafetensors / encodeSafetensors, parseIdx, loadDataset
 *   verdict   diagnose (the graded verdict of two records)
 *   report    renderReport, writeReport, readRun: loaded on first call (the chart and PNG code
 *             is large, and a program that only trains never loads it)
 *
 * `train` keeps everything in memory and writes nothing unless `{ out: DIR }` is given; then DIR
 * is a run folder exactly as `gradlab run --out DIR` writes it (report included unless
 * `report: false`), resumable after an interrupt with resume(DIR) or `gradlab run --resume DIR`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Config } from "./experiment/config.ts";
import { PRESETS_DIR } from "./experiment/config-file.ts";
import { datasetFor, openRun, type RunHooks, type RunResult, type RunSession } from "./experiment/run-folder/session.ts";
import { Trainer, type EpochResult } from "./experiment/trainer.ts";
import type { Model } from "./core/model.ts";
import type { StepRecord } from "./instrument/recorder.ts";
import type { CompareInput, ReportOptions, ReportRun } from "./report/html.ts";
import type { WriteOptions } from "./report/write.ts";

export { VERSION } from "./version.ts";
export { InputError } from "./core/errors.ts";

// --- config ------------------------------------------------------------------------------------
export { parseConfig } from "./experiment/config.ts";
export type { Config, DataSpec, TrainSpec, RecordSpec, OnNonFinite } from "./experiment/config.ts";
export type {
  ActivationName, InitName, InitSpec, LayerSpec, ModelSpec, LossName, OptimizerSpec,
  DenseSpec, Conv2dSpec, PoolSpec, FlattenSpec, BatchNormSpec, ResidualSpec, RnnSpec, LstmSpec, GruSpec,
} from "./core/spec.ts";
export { loadConfigFile, loadExperimentFile, listPresets } from "./experiment/config-file.ts";
export { expandSuite, type Suite, type RunPlan } from "./experiment/suite.ts";

// --- engine ------------------------------------------------------------------------------------
export { Model, buildModel, buildNetwork, lossFor, type ModelOptions } from "./core/model.ts";
export type { Layer, Param, NamedBuffer } from "./core/layers/layer.ts";
export type { Loss } from "./core/losses.ts";
export type { FloatArray, DType } from "./core/tensor.ts";
export { Optimizer } from "./core/optim.ts";
export { Trainer, type EpochResult, type EvalResult, type Stop, type NonFiniteInfo } from "./experiment/trainer.ts";
export { Recorder, type StepRecord, type LayerRecord, type ParamRecord, type ActivationRecord, type GateRecord, type RecorderOptions } from "./instrument/recorder.ts";
export { computeGradients, encodeGradients, type Gradients } from "./experiment/grads.ts";
export { encodeWeights, loadWeights } from "./experiment/weights.ts";
export { openRun, type Summary, type RunHooks, type RunOptions, type RunResult } from "./experiment/run-folder/session.ts";
export { diagnose, type Diagnosis, type Verdict, type Grade } from "./instrument/diagnosis.ts";

// --- data --------------------------------------------------------------------------------------
export { decodeSafetensors, encodeSafetensors, type StTensor, type StInput } from "./data/safetensors.ts";
export { parseIdx, type IdxArray } from "./data/idx.ts";
export { loadDataset, type Dataset, type DatasetSpec } from "./data/datasets.ts";
export { viewShape, VIEW_NAMES, type ViewName } from "./data/views.ts";

// --- report (types only here; the code loads on first call) ------------------------------------
export type { ReportRun, ReportOptions, CompareInput, WriteOptions };

/**
 * The bundled presets by name (`seed`, `depth`, `rnn-time`, …): each the raw JSON of its file in
 * experiments/, parsed afresh on every read, so a caller may change what it gets. Single configs
 * go to parseConfig; suites (those with `base`, such as `depth`) to expandSuite.
 * @example parseConfig(presets.seed).model.layers.length // 3
 */
export const presets: Readonly<Record<string, unknown>> = Object.freeze(presetTable());

/** presets' getters: one per experiments/*.json, each reading its file when read. */
function presetTable(): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (const file of readdirSync(PRESETS_DIR).filter((f) => f.endsWith(".json")).sort()) {
    Object.defineProperty(table, basename(file, ".json"), {
      enumerable: true,
      get: () => JSON.parse(readFileSync(join(PRESETS_DIR, file), "utf8")) as unknown,
    });
  }
  return table;
}

/** What train and resume may be told. */
export interface TrainOptions {
  /** called with every recorded step's metrics (the lines of metrics.jsonl), step 0 first */
  onRecord?(record: StepRecord): void;
  /** called after every epoch with its training loss and test accuracy */
  onEpoch?(epoch: EpochResult): void;
  /**
   * stops the run at the next step boundary once aborted: the promise then resolves with the
   * partial run (summary.status "interrupted"); with `out` the folder is checkpointed and resumable
   */
  signal?: AbortSignal;
  /** write a run folder here (as `gradlab run --out`); default: none, the run stays in memory */
  out?: string;
  /** with `out`: also write report.html and metrics.csv (true, the default) and charts/*.png ({ png: true }) */
  report?: boolean | { png?: boolean };
  /** refuse runs estimated to need more bytes than this (default: half of the machine's memory) */
  maxMemory?: number;
  /** recorded as summary.command (default "gradlab library") */
  command?: string;
}

/** A run trained by train() or resume(): what the CLI prints and writes, as values. */
export interface TrainedRun extends RunResult {
  /** the resolved config it trained */
  config: Config;
  /** the trained model: forward/backward, params with names, values and last gradients */
  model: Model;
  /** the trainer (evaluate, trainStep for more steps, the optimizer and the recorder) */
  trainer: Trainer;
}

/** The hooks and options openRun takes, from train's options; the report code loads only when a report will be written. */
async function sessionHooks(opts: TrainOptions): Promise<{ hooks: RunHooks; interrupt: () => string | null }> {
  const { onRecord, onEpoch, signal } = opts;
  const wanted = opts.out !== undefined && opts.report !== false;
  const report = wanted ? await import("./report/write.ts") : null;
  const png = typeof opts.report === "object" && opts.report.png === true;
  const hooks: RunHooks = {
    onStep: onRecord ? (_t, rec) => { if (rec) onRecord(rec); } : undefined,
    onEpoch: onEpoch ? (_t, e) => onEpoch(e) : undefined,
    finalize: report ? (dir) => report.writeReport(dir, { png }) : undefined,
  };
  return { hooks, interrupt: () => (signal?.aborted ? "aborted" : null) };
}

/** Run an opened session to its end, yielding to the event loop between slices (callbacks, timers and the signal run). */
async function finishRun(session: RunSession): Promise<TrainedRun> {
  const result = await session.runAsync();
  return { ...result, config: session.config, model: session.trainer.model, trainer: session.trainer };
}

/**
 * Train a config (from parseConfig) to the end and resolve with the run. Nothing is written
 * unless `opts.out` names a folder. Bad input (a config the data cannot feed, too much memory, an
 * unusable folder) rejects with an InputError before anything is trained or written.
 * @example
 * const run = await train(parseConfig(presets.seed), { onRecord: (r) => console.log(r.step, r.layers[0].deltaNorm) });
 * run.summary.testAccuracy   // 0.845…
 * run.summary.diagnosis.verdict   // "vanishing"
 */
export async function train(config: Config, opts: TrainOptions = {}): Promise<TrainedRun> {
  const { hooks, interrupt } = await sessionHooks(opts);
  const session = openRun({ mode: "fresh", config, outDir: opts.out ?? null }, opts.command ?? "gradlab library", hooks, { maxMemory: opts.maxMemory, interrupt });
  return finishRun(session);
}

/**
 * Continue the interrupted run in folder `dir` from its newest valid checkpoint (as `gradlab run
 * --resume dir`); the finished folder is byte-identical to an uninterrupted run's. `out` is `dir`.
 * @example const run = await resume("runs/seed");
 */
export async function resume(dir: string, opts: Omit<TrainOptions, "out"> = {}): Promise<TrainedRun> {
  const { hooks, interrupt } = await sessionHooks({ ...opts, out: dir });
  const session = openRun({ mode: "resume", runDir: dir }, opts.command ?? "gradlab library", hooks, { maxMemory: opts.maxMemory, interrupt });
  return finishRun(session);
}

/**
 * A trainer for `config` with its data loaded and its model built, to drive step by step:
 * trainStep() trains one minibatch (its record when recorded), model the network, evaluate() the
 * test accuracy. Nothing is written.
 * @example
 * const t = createTrainer(parseConfig(presets.seed));
 * const rec = t.trainStep();   // step 0's record: the network at initialization
 * t.model.params.map((p) => [p.name, p.grad.length])
 */
export function createTrainer(config: Config): Trainer {
  return new Trainer(config, datasetFor(config));
}

/**
 * The HTML report of a run (one self-contained page) as a string; loads the report code on first
 * call. A trained run gives it directly: renderReport(run).
 */
export async function renderReport(run: ReportRun, opts?: ReportOptions): Promise<string> {
  return (await import("./report/html.ts")).renderReport(run, opts);
}

/** Several runs overlaid on shared axes as one HTML page; loads the report code on first call. */
export async function renderComparison(runs: readonly CompareInput[], opts?: ReportOptions): Promise<string> {
  return (await import("./report/html.ts")).renderComparison(runs, opts);
}

/** Write (or rewrite) the report of run folder `dir` into it, as `gradlab report dir`; returns the files written. */
export async function writeReport(dir: string, opts?: WriteOptions): Promise<string[]> {
  return (await import("./report/write.ts")).writeReport(dir, opts);
}

/** Read a run folder (config.json, summary.json, metrics.jsonl; any CLI run, or the PyTorch probe's) for renderReport. */
export async function readRun(dir: string): Promise<ReportRun> {
  return (await import("./report/write.ts")).readRun(dir);
}
