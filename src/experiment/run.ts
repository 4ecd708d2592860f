/**
 * Runs an experiment into a run folder: config.json (resolved), metrics.jsonl (one
 * record per recorded step), summary.json, weights.safetensors — and, while it runs, run.lock
 * and checkpoint/ so that an interrupted run can be resumed to byte-identical results.
 *
 * The folder's states (README, "Interrupting and resuming"):
 *   running      run.lock held by a live process; no summary.json
 *   killed       run.lock of a dead process (or none), checkpoint/ or config.json, no summary.json
 *   interrupted  checkpoint/ and a partial summary.json (status "interrupted") with its report
 *   finished     summary.json (status "complete" or "stopped"); no checkpoint/, no run.lock
 * The last three resume with resumeRun(); "finished" has nothing to resume. Everything that can
 * be refused (config, data, memory, the folder) is checked before the folder is touched.
 *
 * Resume: read and validate config.json; take the lock; load the newest valid checkpoint (a
 * corrupt one falls back to the one before; none at all restarts from step 0, which is a pure
 * function of the config); truncate metrics.jsonl to the checkpoint's byte offset after checking
 * the SHA-256 of what stays; restore weights, optimizer, shuffling state and trainer counters;
 * train on. Steps are pure functions of that state, so the results are byte-identical.
 */
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, readdirSync, readSync, rmSync, statSync, writeSync, mkdirSync, fsyncSync } from "node:fs";
import { createHash, type Hash } from "node:crypto";
import { join, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { loadDataset, type Dataset } from "../data/datasets.ts";
import { diagnose, layerActivations, type Diagnosis } from "../instrument/diagnosis.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import {
  acquireLock, applyCheckpoint, CHECKPOINT_DIR, configHash, encodeCheckpoint, listCheckpoints, loadLatestCheckpoint,
  LOCK_FILE, lockHolder, saveCheckpoint, writeFileAtomic, type RunLock,
} from "./checkpoint.ts";
import type { Config } from "./config.ts";
import { loadConfigFile } from "./config-file.ts";
import { checkMemory, defaultMemoryLimit } from "./memory.ts";
import { Trainer, type EpochResult, type NonFiniteInfo, type Stop } from "./trainer.ts";
import { encodeWeights } from "./weights.ts";

export interface Summary {
  name: string;
  /** complete: trained to the end; stopped: ended early by a non-finite value; interrupted: partial, resumable */
  status: "complete" | "stopped" | "interrupted";
  testAccuracy: number;
  testLoss: number;
  /** mean training batch loss over the last (up to) 100 steps learnt from */
  finalLoss: number;
  steps: number;
  epochs: EpochResult[];
  diagnosis: Diagnosis;
  stopped: Stop | null;
  /** steps whose batch was dropped under train.onNonFinite = "skip-step" */
  skippedSteps: number;
  nonFinite: NonFiniteInfo;
  samplesPerSecond: number;
  seconds: number;
  command: string;
}

export interface RunHooks {
  /** called after every step, with the step's record when it was recorded */
  onStep?(trainer: Trainer, record: StepRecord | null): void;
  onEpoch?(trainer: Trainer, e: EpochResult): void;
  /** called on the run folder once summary.json and the weights are written; the CLI writes the report here */
  finalize?(dir: string): void;
}

export interface RunOptions {
  /** refuse runs estimated to need more bytes than this (default: half of the machine's memory) */
  maxMemory?: number;
  /** polled at every step boundary: a reason (e.g. "SIGINT") stops the run there, checkpointed and resumable */
  interrupt?: () => string | null;
}

export interface RunResult {
  summary: Summary;
  first: StepRecord;
  last: StepRecord;
  records: StepRecord[];
  outDir: string | null;
  /** the reason the run was interrupted (resumable), else null */
  interrupted: string | null;
  /** the step a resumed run continued from, else null */
  resumedFrom: number | null;
  /** checkpoints that were skipped as unusable, one line each */
  notes: string[];
}

/** Load the dataset a config asks for (cached per process). */
export function datasetFor(config: Config): Dataset {
  return loadDataset(config.data.dataset, { train: config.data.train, test: config.data.test });
}

/** What a finished or partial run folder may hold; anything else means it is not a run folder. */
const RUN_FILES = new Set(["config.json", "metrics.jsonl", "summary.json", "weights.safetensors", "report.html", "metrics.csv", "time.csv", "charts", CHECKPOINT_DIR, LOCK_FILE]);
/** Results of a previous (finished or partial) session, replaced by this one. */
const RESULT_FILES = ["summary.json", "weights.safetensors", "report.html", "metrics.csv", "time.csv", "charts"];
/** Our temporary files: `.<name>.tmp-<pid>`, `run.lock.stale-<pid>`. */
const TEMP = /^(?:\..+\.tmp-\d+|run\.lock\.stale-\d+)$/;

function readStatus(dir: string): string | null {
  try {
    const s = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    return typeof s?.status === "string" ? s.status : "complete";  // folders from before statuses were complete
  } catch { return null; }
}

/**
 * Check that a new run may write into `dir`: absent, empty, or a finished run (replaced). Throws
 * InputError for a file, a folder of other things, a folder in use, and an unfinished run.
 */
function checkFreshTarget(dir: string, locked = false): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new InputError(`${dir}: exists and is not a folder; expected a run folder (--out)`);
  const entries = readdirSync(dir).filter((f) => !TEMP.test(f));
  const foreign = entries.filter((f) => !RUN_FILES.has(f));
  if (foreign.length > 0) throw new InputError(`${dir}: is not a gradlab run folder (it holds ${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", …" : ""}); choose another --out`);
  const holder = locked ? null : lockHolder(dir);
  if (holder) throw new InputError(`${dir}: in use by another gradlab run (pid ${holder.pid} on ${holder.host}, since ${holder.started}); two runs never share a folder`);
  if (isUnfinished(dir)) {
    throw new InputError(`${dir}: holds an unfinished run; continue it with: gradlab run --resume ${dir} (in a sweep: run the sweep again with --resume), or delete the folder to start over`);
  }
}

/** Whether `dir` holds a run that has not finished: checkpoints left, or a config without a final status. */
function isUnfinished(dir: string): boolean {
  const status = readStatus(dir);
  return listCheckpoints(dir).length > 0 || existsSync(join(dir, CHECKPOINT_DIR)) || (existsSync(join(dir, "config.json")) && (status === null || status === "interrupted"));
}

/** Validate memory, load the data and build the trainer: everything that can refuse a run. */
function prepare(config: Config, opts: RunOptions): Trainer {
  checkMemory(config, opts.maxMemory ?? defaultMemoryLimit());
  return new Trainer(config, datasetFor(config));
}

/**
 * A run in progress: created by startRun() or resumeRun(), driven by runSync() or runAsync()
 * (which yields to the event loop so that signal handlers can interrupt it).
 */
export class RunSession {
  first: StepRecord | null = null;
  last: StepRecord | null = null;
  readonly records: StepRecord[] = [];
  interrupted: string | null = null;
  private metricsFd: number | null = null;
  private metricsPos = 0;
  private metricsHash: Hash = createHash("sha256");
  private lastCheckpoint = -1;
  private secondsBefore = 0;
  private t0 = performance.now();
  private epochsSeen: number;
  private readonly hash: string;

  constructor(
    readonly trainer: Trainer,
    readonly outDir: string | null,
    readonly command: string,
    private readonly hooks: RunHooks,
    private readonly opts: RunOptions,
    private lock: RunLock | null,
    readonly resumedFrom: number | null = null,
    readonly notes: string[] = [],
  ) {
    this.hash = configHash(trainer.config);
    this.epochsSeen = trainer.epochs.length;
  }

  get config(): Config { return this.trainer.config; }

  /** Open metrics.jsonl, truncated to `bytes` (whose records are `prefix`), for appending. */
  openMetrics(bytes: number, prefix: Buffer): void {
    const file = join(this.outDir!, "metrics.jsonl");
    this.metricsFd = openSync(file, existsSync(file) ? "r+" : "w");
    ftruncateSync(this.metricsFd, bytes);
    this.metricsPos = bytes;
    this.metricsHash = createHash("sha256").update(prefix);
    const text = prefix.toString("utf8");
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const rec = JSON.parse(line) as StepRecord;  // bytes verified against the checkpoint's SHA-256
      this.first ??= rec;
      this.last = rec;
      this.records.push(rec);
    }
  }

  setSecondsBefore(s: number): void { this.secondsBefore = s; }

  private writeRecord(rec: StepRecord): void {
    if (this.metricsFd === null) return;
    const line = Buffer.from(JSON.stringify(rec) + "\n");
    for (let off = 0; off < line.length;) off += writeSync(this.metricsFd, line, off, line.length - off, this.metricsPos + off);
    this.metricsPos += line.length;
    this.metricsHash.update(line);
  }

  private seconds(): number { return this.secondsBefore + (performance.now() - this.t0) / 1000; }

  /** Write a checkpoint of the current state (metrics.jsonl is fsynced first: the checkpoint points into it). */
  checkpoint(): void {
    if (this.outDir === null || this.lastCheckpoint === this.trainer.step) return;
    fsyncSync(this.metricsFd!);
    const metrics = { bytes: this.metricsPos, sha256: this.metricsHash.copy().digest("hex"), records: this.records.length };
    saveCheckpoint(this.outDir, this.trainer.step, encodeCheckpoint(this.trainer, { configSha256: this.hash, metrics, seconds: this.seconds() }));
    this.lastCheckpoint = this.trainer.step;
  }

  /**
   * Train until the run ends, is interrupted, or `budgetMs` milliseconds have passed. Returns true
   * when the loop is over (finish() comes next).
   */
  advance(budgetMs = Infinity): boolean {
    const t = this.trainer;
    const every = this.config.train.checkpointEvery;
    const deadline = performance.now() + budgetMs;
    try {
      while (!t.done) {
        // Polled once something is recorded (step 0 is), so an interrupted run always has a report.
        const why = this.first !== null ? this.opts.interrupt?.() ?? null : null;
        if (why !== null) { this.interrupted = why; return true; }
        const rec = t.trainStep();
        if (rec) {
          this.first ??= rec;
          this.last = rec;
          this.records.push(rec);
          this.writeRecord(rec);
        }
        this.hooks.onStep?.(t, rec);
        if (t.epochs.length > this.epochsSeen) { this.epochsSeen = t.epochs.length; this.hooks.onEpoch?.(t, t.epochs[this.epochsSeen - 1]); }
        if (every > 0 && t.step % every === 0 && !t.done) this.checkpoint();
        if (budgetMs !== Infinity && performance.now() >= deadline) return t.done;
      }
      return true;
    } catch (e) {
      this.abandon();
      throw e;
    }
  }

  /** Close files and release the lock after a failure; the folder stays resumable. */
  abandon(): void {
    if (this.metricsFd !== null) { closeSync(this.metricsFd); this.metricsFd = null; }
    this.lock?.release();
    this.lock = null;
  }

  /** Write the results (or, when interrupted, a checkpoint and the partial results) and release the folder. */
  finish(): RunResult {
    const t = this.trainer;
    try {
      if (this.interrupted !== null) this.checkpoint();
      const seconds = this.seconds();
      const summary = this.summarize(seconds);
      if (this.outDir !== null) {
        closeSync(this.metricsFd!);
        this.metricsFd = null;
        writeFileAtomic(join(this.outDir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
        writeFileAtomic(join(this.outDir, "weights.safetensors"), encodeWeights(t.model, { name: this.config.name, steps: String(t.step) }));
        this.hooks.finalize?.(this.outDir);
        if (this.interrupted === null) rmSync(join(this.outDir, CHECKPOINT_DIR), { recursive: true, force: true });
      }
      return {
        summary, first: this.first!, last: this.last!, records: this.records, outDir: this.outDir,
        interrupted: this.interrupted, resumedFrom: this.resumedFrom, notes: this.notes,
      };
    } finally {
      this.abandon();
    }
  }

  private summarize(seconds: number): Summary {
    const t = this.trainer;
    const status = this.interrupted !== null ? "interrupted" : t.stopped ? "stopped" : "complete";
    const test = t.epochs.length && status === "complete" ? t.epochs[t.epochs.length - 1] : null;
    const evald = test ? { accuracy: test.testAccuracy, loss: test.testLoss } : t.evaluate("test");
    const stopped: Stop | null = status === "interrupted"
      ? { step: t.step, reason: `interrupted (${this.interrupted}) at step ${t.step} of ${t.totalSteps}${this.outDir ? `; resume with: gradlab run --resume ${this.outDir}` : ""}`, cause: "interrupted" }
      : t.stopped;
    return {
      name: this.config.name,
      status,
      testAccuracy: evald.accuracy,
      testLoss: evald.loss,
      finalLoss: t.finalLoss,
      steps: t.step,
      epochs: t.epochs,
      diagnosis: this.diagnosis(status),
      stopped,
      skippedSteps: t.skippedSteps,
      nonFinite: t.nonFinite,
      samplesPerSecond: (t.step * t.batchSize) / seconds,
      seconds,
      command: this.command,
    };
  }

  /** diagnose() with what the trainer knows besides the records: epochs, NaN/Inf, a partial run. */
  private diagnosis(status: Summary["status"]): Diagnosis {
    const t = this.trainer;
    return diagnose(this.first!, this.last!, status === "stopped" ? t.stopped : null, {
      records: this.records, epochs: t.epochs, finalLoss: t.finalLoss, activations: layerActivations(t.model),
      nonFinite: t.nonFinite, onNonFinite: t.config.train.onNonFinite, skippedSteps: t.skippedSteps,
      partial: status === "interrupted" ? { step: t.step, totalSteps: t.totalSteps, resume: this.outDir ? `gradlab run --resume ${this.outDir}` : null } : null,
    });
  }

  /** Train to the end (or the interrupt) without yielding. */
  runSync(): RunResult {
    this.advance();
    return this.finish();
  }

  /** Train to the end (or the interrupt), yielding to the event loop every `sliceMs` ms. */
  async runAsync(sliceMs = 50): Promise<RunResult> {
    while (!this.advance(sliceMs)) await new Promise((r) => setImmediate(r));
    return this.finish();
  }
}

/**
 * Validate everything, then create (or replace a finished run in) `outDir` and start a run.
 * Bad input of any kind throws InputError before the folder is touched.
 */
export function startRun(config: Config, outDir: string | null, command: string, hooks: RunHooks = {}, opts: RunOptions = {}): RunSession {
  const dir = outDir === null ? null : resolve(outDir);
  if (dir) checkFreshTarget(dir);
  const trainer = prepare(config, opts);
  if (dir === null) return new RunSession(trainer, null, command, hooks, opts, null);
  const created = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  let lock: RunLock | null = null;
  try {
    lock = acquireLock(dir);
    checkFreshTarget(dir, true);  // again, now that we hold the lock
    for (const f of readdirSync(dir)) if (f !== LOCK_FILE) rmSync(join(dir, f), { recursive: true, force: true });
    writeFileAtomic(join(dir, "config.json"), JSON.stringify(config, null, 2) + "\n");
    const session = new RunSession(trainer, dir, command, hooks, opts, lock);
    session.openMetrics(0, Buffer.alloc(0));
    return session;
  } catch (e) {
    lock?.release();
    if (created) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Continue the run in `runDir` from its newest valid checkpoint (see the header). Throws
 * InputError when the folder is missing, in use, finished, or has no usable checkpoint.
 */
export function resumeRun(runDir: string, command: string, hooks: RunHooks = {}, opts: RunOptions = {}): RunSession {
  const dir = resolve(runDir);
  if (!existsSync(dir)) throw new InputError(`${runDir}: no such run folder (--resume)`);
  if (!statSync(dir).isDirectory()) throw new InputError(`${runDir}: is a file; expected a run folder (--resume)`);
  const holder = lockHolder(dir);
  if (holder) throw new InputError(`${runDir}: in use by another gradlab run (pid ${holder.pid} on ${holder.host}, since ${holder.started}); two runs never share a folder`);
  if (!existsSync(join(dir, "config.json"))) throw new InputError(`${runDir}: not a run folder (no config.json); nothing to resume`);
  const status = readStatus(dir);
  if ((status === "complete" || status === "stopped") && listCheckpoints(dir).length === 0) {
    throw new InputError(`${runDir}: the run is already finished (${status}); nothing to resume`);
  }
  const config = loadConfigFile(join(dir, "config.json"));
  const trainer = prepare(config, opts);
  const lock = acquireLock(dir);
  try {
    const metricsFile = join(dir, "metrics.jsonl");
    const found = loadLatestCheckpoint(dir, trainer, configHash(config), metricsFile);
    if (found) applyCheckpoint(trainer, found.checkpoint);
    // The previous session's (partial) results and temporary files go; the checkpoints stay.
    for (const f of RESULT_FILES) rmSync(join(dir, f), { recursive: true, force: true });
    for (const d of [dir, join(dir, CHECKPOINT_DIR)]) {
      if (existsSync(d)) for (const f of readdirSync(d)) if (TEMP.test(f)) rmSync(join(d, f), { force: true });
    }
    const bytes = found ? found.checkpoint.metrics.bytes : 0;
    const prefix = Buffer.alloc(bytes);
    if (bytes > 0) {
      const fd = openSync(metricsFile, "r");
      try { for (let pos = 0; pos < bytes;) pos += readSync(fd, prefix, pos, bytes - pos, pos); } finally { closeSync(fd); }
    }
    const session = new RunSession(trainer, dir, command, hooks, opts, lock, found ? found.checkpoint.step : 0, found ? found.notes : []);
    session.openMetrics(bytes, prefix);
    if (found) session.setSecondsBefore(found.checkpoint.seconds);
    return session;
  } catch (e) {
    lock.release();
    throw e;
  }
}

/**
 * Train `config` to the end; with `outDir`, write the run folder. The clock is read here, never
 * in the trainer, so metrics.jsonl stays a pure function of the config.
 */
export function runExperiment(config: Config, outDir: string | null, command: string, hooks: RunHooks = {}, opts: RunOptions = {}): RunResult {
  return startRun(config, outDir, command, hooks, opts).runSync();
}

/**
 * The run of `config` in `outDir` carried on from wherever it got (a sweep re-run with
 * --resume): a finished run (complete or stopped) is kept and its summary returned without
 * training; an unfinished one resumes from its newest checkpoint (from the start if it has
 * none); an absent or empty folder starts fresh. A folder whose config.json is not `config`
 * throws InputError before anything is touched.
 */
export function continueRun(config: Config, outDir: string, command: string, hooks: RunHooks = {}, opts: RunOptions = {}): { summary: Summary; kept: boolean; resumedFrom: number | null } {
  const dir = resolve(outDir);
  const file = join(dir, "config.json");
  if (!existsSync(file)) return { summary: runExperiment(config, dir, command, hooks, opts).summary, kept: false, resumedFrom: null };
  let theirs: Config;
  try { theirs = loadConfigFile(file); } catch (e) {
    throw new InputError(`${outDir}: its config.json is not a valid config (${e instanceof Error ? e.message : String(e)}); delete the folder to start over`);
  }
  if (configHash(theirs) !== configHash(config)) {
    throw new InputError(`${outDir}: holds a run of another config than this one (config.json differs); delete the folder or choose another --out`);
  }
  if (!isUnfinished(dir)) {
    const holder = lockHolder(dir);
    if (holder) throw new InputError(`${outDir}: in use by another gradlab run (pid ${holder.pid} on ${holder.host}, since ${holder.started}); two runs never share a folder`);
    return { summary: JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as Summary, kept: true, resumedFrom: null };
  }
  const r = resumeRun(dir, command, hooks, opts).runSync();
  return { summary: r.summary, kept: false, resumedFrom: r.resumedFrom };
}

/** A suite's run into `outDir`: carried on with `resume` (continueRun), else trained afresh (runExperiment). */
export function runPlan(config: Config, outDir: string, command: string, hooks: RunHooks, resume: boolean): { summary: Summary; kept: boolean; resumedFrom: number | null } {
  return resume ? continueRun(config, outDir, command, hooks) : { summary: runExperiment(config, outDir, command, hooks).summary, kept: false, resumedFrom: null };
}

/** Parse "A:B" into a half-open example range. */
export function parseRange(text: string, n: number): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new InputError(`--examples: expected A:B with whole numbers A < B (e.g. 0:32); got ${JSON.stringify(text)}`);
  const a = Number(m[1]), b = Number(m[2]);
  if (!(a < b)) throw new InputError(`--examples: expected A < B; got ${text}`);
  if (b > n) throw new InputError(`--examples: the training set has ${n} examples; got ${text}`);
  return [a, b];
}
