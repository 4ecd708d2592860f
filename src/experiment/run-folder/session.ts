/**
 * A run in a run folder: the one way to open one (openRun), in one of three modes, and the
 * session that trains it and writes config.json (resolved), metrics.jsonl (one record per
 * recorded step), summary.json, weights.safetensors and the finalize hook's files (the report)
 * — and, while it runs, run.lock and checkpoint/ so that an interrupted run resumes to
 * byte-identical results. run.json lists every file the run wrote (folder.ts).
 *
 * Memory stays bounded whatever train.epochs and record.every are: every record goes to
 * metrics.jsonl as it is made, and the session keeps only an evenly spaced selection of at most
 * RECORD_KEEP records (RecordKeep, always with the first and the last) for the diagnosis and the
 * caller; a resumed run reads the records it keeps back from metrics.jsonl line by line.
 *
 *   fresh     a new run of a config into an absent or empty folder, or replacing a finished run
 *             there (its listed files only); without a folder, a run in memory
 *   resume    the unfinished run in a folder, from its newest valid checkpoint
 *   continue  whatever a sweep re-run with --resume needs: a finished run of the same config is
 *             kept (KeptRun, nothing trained), an unfinished one resumes, none starts fresh
 * Everything that can be refused (config, data, memory, the folder) is checked before the
 * folder is touched, and refusals are one-line InputErrors.
 *
 * Resume: read and validate config.json; take the lock; load the newest valid checkpoint (a
 * corrupt one falls back to the one before; none at all restarts from step 0, which is a pure
 * function of the config); truncate metrics.jsonl to the checkpoint's byte offset after checking
 * the SHA-256 of what stays; restore weights, optimizer, shuffling state and trainer counters;
 * train on. Steps are pure functions of that state, so the results are byte-identical.
 */
import { closeSync, existsSync, ftruncateSync, fsyncSync, openSync, rmSync, writeSync } from "node:fs";
import { createHash, type Hash } from "node:crypto";
import { join, resolve } from "node:path";
import { InputError } from "../../core/errors.ts";
import { asOsError, OsError } from "../../data/os-error.ts";
import { openChecked, readTextChecked, CAPS } from "../../data/read-file.ts";
import { RecordKeep } from "../../instrument/keep.ts";
import { loadDataset, type Dataset } from "../../data/datasets.ts";
import { diagnose, layerActivations, type Diagnosis } from "../../instrument/diagnosis.ts";
import type { StepRecord } from "../../instrument/recorder.ts";
import { batchCapNotes, type Config } from "../config.ts";
import { loadConfigFile } from "../config-file.ts";
import { checkMemory, defaultMemoryLimit, RECORD_KEEP } from "../memory.ts";
import { Trainer, type EpochResult, type NonFiniteInfo, type Stop } from "../trainer.ts";
import { encodeWeights } from "../weights.ts";
import { makeFolders, writeFileAtomic } from "./atomic.ts";
import { applyCheckpoint, CHECKPOINT_DIR, configHash, encodeCheckpoint, listCheckpoints, loadLatestCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { clearResults, inspectFolder, ManifestFile, MANIFEST_FILE, notARun, removeListed, removeRun, RUN_FILES, settleFailedRun } from "./folder.ts";
import { forEachLine } from "./lines.ts";
import { acquireLock, checkNotInUse, type RunLock } from "./lock.ts";

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
  /**
   * called on the run folder once summary.json and the weights are written; the CLI writes the
   * report here. Returns the files it wrote, which run.json then lists.
   */
  finalize?(dir: string): readonly string[] | void;
}

export interface RunOptions {
  /** refuse runs estimated to need more bytes than this (default: half of the machine's memory) */
  maxMemory?: number;
  /** polled at every step boundary: a reason (e.g. "SIGINT") stops the run there, checkpointed and resumable */
  interrupt?: () => string | null;
}

/** What any opened run ends with, trained now or kept from before. */
export interface RunOutcome {
  summary: Summary;
  outDir: string | null;
  /** true when a finished run was kept as it was ("continue" mode), nothing trained */
  kept: boolean;
  /** the step a resumed run continued from, else null */
  resumedFrom: number | null;
  /** the reason the run was interrupted (resumable), else null */
  interrupted: string | null;
  /** checkpoints that were skipped as unusable, one line each */
  notes: string[];
}

/** A run trained in this session: its outcome and the records it kept. */
export interface RunResult extends RunOutcome {
  first: StepRecord;
  last: StepRecord;
  /** every record when there are at most RECORD_KEEP, else an evenly spaced selection of them (always the first and the last); metrics.jsonl has all */
  records: StepRecord[];
}

/** Which run openRun opens (see the header for the modes). */
export type OpenRequest =
  | { mode: "fresh"; config: Config; outDir: string | null }
  | { mode: "resume"; runDir: string }
  | { mode: "continue"; config: Config; outDir: string };

/** Load the dataset a config asks for (cached per process). */
export function datasetFor(config: Config): Dataset {
  return loadDataset(config.data.dataset, { train: config.data.train, test: config.data.test });
}

/** Validate memory, load the data and build the trainer: everything that can refuse a run. */
function prepare(config: Config, opts: RunOptions): Trainer {
  checkMemory(config, opts.maxMemory ?? defaultMemoryLimit());
  return new Trainer(config, datasetFor(config));
}

/**
 * Check that a fresh run may write into `dir`: absent, empty, or a finished run with its
 * manifest (replaced). Throws InputError for a file, a folder of other things, a folder in use,
 * an unfinished run, and a finished run of an older gradlab.
 */
function checkFreshTarget(dir: string, locked = false): void {
  const f = inspectFolder(dir);
  if (f.kind === "file") throw new InputError(`${dir}: exists and is not a folder; expected a run folder (--out)`);
  if (f.kind === "foreign") throw notARun(dir, f.entries, "choose another --out (gradlab writes only into an empty folder or one of its own runs)");
  if (f.kind !== "run") return;
  if (!locked) checkNotInUse(dir);
  if (f.unfinished) {
    throw new InputError(`${dir}: holds an unfinished run; continue it with: gradlab run --resume ${dir} (in a sweep: run the sweep again with --resume), or delete the folder to start over`);
  }
  if (f.manifest === null) {
    throw new InputError(`${dir}: holds a finished run of an older gradlab (no run.json), whose files cannot be told from others; delete the folder or choose another --out`);
  }
}

/**
 * A run in progress, opened by openRun(); driven by advance() and finish(), or run to the end by
 * runSync() or runAsync() (which yields to the event loop so that signal handlers can interrupt it).
 */
export class RunSession {
  /** a session trains (a finished run kept as it was is a KeptRun) */
  readonly kept = false;
  first: StepRecord | null = null;
  last: StepRecord | null = null;
  /** the records kept in memory (see the header) */
  private readonly keep = new RecordKeep<StepRecord>(RECORD_KEEP);
  /** one line each for the batch sizes the dataset caps (batchCapNotes), for the caller to show */
  readonly batchNotes: string[];
  interrupted: string | null = null;
  private metricsFd: number | null = null;
  private metricsPos = 0;
  private metricsHash: Hash = createHash("sha256");
  private lastCheckpoint = -1;
  private secondsBefore = 0;
  private t0 = performance.now();
  private epochsSeen: number;
  private readonly hash: string;
  /** set by openFresh: without a checkpoint, an OS error removes this run's files (and the folder it created) */
  fresh: { created: boolean } | null = null;

  constructor(
    readonly trainer: Trainer,
    readonly outDir: string | null,
    readonly command: string,
    private readonly hooks: RunHooks,
    private readonly opts: RunOptions,
    private lock: RunLock | null,
    private readonly manifest: ManifestFile | null,
    readonly resumedFrom: number | null = null,
    readonly notes: string[] = [],
  ) {
    this.hash = configHash(trainer.config);
    this.epochsSeen = trainer.epochCount;
    this.batchNotes = batchCapNotes(trainer.config);
  }

  get config(): Config { return this.trainer.config; }

  /** The records kept in memory: all of them up to RECORD_KEEP, else an evenly spaced selection ending with the last. */
  get records(): StepRecord[] { return this.keep.list(); }

  private keepRecord(rec: StepRecord): void {
    this.first ??= rec;
    this.last = rec;
    this.keep.push(rec);
  }

  /**
   * Open metrics.jsonl for appending, truncated to its first `bytes` bytes (0 for a new run), whose
   * records are read back line by line (a resumed run; the checkpoint vouched for their SHA-256,
   * which is checked again here as they are read).
   */
  openMetrics(bytes: number, sha256: string | null = null): void {
    const file = join(this.outDir!, "metrics.jsonl");
    if (existsSync(file)) closeSync(openChecked(file, "expected the run's metrics.jsonl").fd);  // a FIFO or a device is refused
    this.metricsFd = openSync(file, existsSync(file) ? "r+" : "w");
    this.metricsHash = createHash("sha256");
    let read = 0;
    try {
      if (bytes > 0) {
        forEachLine(this.metricsFd, { shown: file, bytes, onBytes: (chunk) => { this.metricsHash.update(chunk); read += chunk.length; } }, (line) => {
          if (line !== "") this.keepRecord(JSON.parse(line) as StepRecord);  // bytes verified against the checkpoint's SHA-256
        });
      }
      if (read !== bytes) throw new InputError(`${file}: shorter than the ${bytes} bytes its checkpoint recorded`);
      if (sha256 !== null && this.metricsHash.copy().digest("hex") !== sha256) throw new InputError(`${file}: changed before byte ${bytes} since its checkpoint was written`);
      ftruncateSync(this.metricsFd, bytes);
    } catch (e) {
      closeSync(this.metricsFd);
      this.metricsFd = null;
      throw e;
    }
    this.metricsPos = bytes;
  }

  setSecondsBefore(s: number): void { this.secondsBefore = s; }

  private writeRecord(rec: StepRecord): void {
    if (this.metricsFd === null) return;
    const line = Buffer.from(JSON.stringify(rec) + "\n");
    try {
      for (let off = 0; off < line.length;) off += writeSync(this.metricsFd, line, off, line.length - off, this.metricsPos + off);
    } catch (e) { throw asOsError(e, join(this.outDir!, "metrics.jsonl"), "writing"); }
    this.metricsPos += line.length;
    this.metricsHash.update(line);
  }

  private seconds(): number { return this.secondsBefore + (performance.now() - this.t0) / 1000; }

  /** Write a checkpoint of the current state (metrics.jsonl is fsynced first: the checkpoint points into it). */
  checkpoint(): void {
    if (this.outDir === null || this.lastCheckpoint === this.trainer.step) return;
    try { fsyncSync(this.metricsFd!); } catch (e) { throw asOsError(e, join(this.outDir, "metrics.jsonl"), "writing"); }
    const metrics = { bytes: this.metricsPos, sha256: this.metricsHash.copy().digest("hex"), records: this.keep.count };
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
          this.keepRecord(rec);
          this.writeRecord(rec);
        }
        this.hooks.onStep?.(t, rec);
        if (t.epochCount > this.epochsSeen) { this.epochsSeen = t.epochCount; this.hooks.onEpoch?.(t, t.lastEpoch!); }
        if (every > 0 && t.step % every === 0 && !t.done) this.checkpoint();
        if (budgetMs !== Infinity && performance.now() >= deadline) return t.done;
      }
      return true;
    } catch (e) {
      throw this.fail(e);
    }
  }

  /** Abandon after an error; an OS error's line then says what of the folder is left (settleFailedRun). */
  private fail(e: unknown): unknown {
    this.abandon();
    const os = asOsError(e);
    if (!(os instanceof OsError) || this.outDir === null) return e;
    return os.withKept(settleFailedRun(this.outDir, this.manifest?.listed ?? RUN_FILES, { fresh: this.fresh !== null, created: this.fresh?.created ?? false }));
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
        const written = this.hooks.finalize?.(this.outDir);
        if (written) this.manifest?.add(written);
        if (this.interrupted === null) rmSync(join(this.outDir, CHECKPOINT_DIR), { recursive: true, force: true });
      }
      return {
        summary, first: this.first!, last: this.last!, records: this.keep.list(), outDir: this.outDir,
        kept: false, interrupted: this.interrupted, resumedFrom: this.resumedFrom, notes: this.notes,
      };
    } catch (e) {
      throw this.fail(e);
    } finally {
      this.abandon();
    }
  }

  private summarize(seconds: number): Summary {
    const t = this.trainer;
    const status = this.interrupted !== null ? "interrupted" : t.stopped ? "stopped" : "complete";
    const test = status === "complete" ? t.lastEpoch : null;
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
      records: this.keep.list(), epochs: t.epochs, finalLoss: t.finalLoss, activations: layerActivations(t.model),
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

/** A finished run that "continue" mode keeps as it was: its summary, nothing trained. */
export class KeptRun {
  readonly kept = true;
  constructor(readonly outDir: string, readonly summary: Summary) {}

  /** The outcome, read from the folder. */
  runSync(): RunOutcome {
    return { summary: this.summary, outDir: this.outDir, kept: true, resumedFrom: null, interrupted: null, notes: [] };
  }

  /** As runSync(), for callers that drive sessions asynchronously. */
  async runAsync(): Promise<RunOutcome> { return this.runSync(); }
}

/**
 * Open a run — the one entry point for the CLI, suites, sweeps and sweep workers. Validates
 * everything first; bad input of any kind throws InputError before the folder is touched.
 * @example
 * openRun({ mode: "fresh", config, outDir: "runs/seed" }, "gradlab run seed").runSync().summary.testAccuracy
 * openRun({ mode: "resume", runDir: "runs/seed" }, "gradlab run --resume runs/seed", hooks, { interrupt })
 * openRun({ mode: "continue", config, outDir: "runs/init/act=tanh" }, command).runSync().kept
 */
export function openRun(req: Exclude<OpenRequest, { mode: "continue" }>, command: string, hooks?: RunHooks, opts?: RunOptions): RunSession;
export function openRun(req: OpenRequest, command: string, hooks?: RunHooks, opts?: RunOptions): RunSession | KeptRun;
export function openRun(req: OpenRequest, command: string, hooks: RunHooks = {}, opts: RunOptions = {}): RunSession | KeptRun {
  if (req.mode === "fresh") return openFresh(req.config, req.outDir, command, hooks, opts);
  if (req.mode === "resume") return openResume(req.runDir, command, hooks, opts);
  return openContinue(req.config, req.outDir, command, hooks, opts);
}

/** "fresh": create (or replace a finished run in) `outDir` and start a run; in memory without a folder. */
function openFresh(config: Config, outDir: string | null, command: string, hooks: RunHooks, opts: RunOptions): RunSession {
  const dir = outDir === null ? null : resolve(outDir);
  if (dir) checkFreshTarget(dir);
  const trainer = prepare(config, opts);
  if (dir === null) return new RunSession(trainer, null, command, hooks, opts, null, null);
  const created = !existsSync(dir);
  let lock: RunLock | null = null;
  let ours = false;  // once the folder holds nothing of anyone else's, RUN_FILES there are this run's
  try {
    makeFolders(dir);
    lock = acquireLock(dir);
    checkFreshTarget(dir, true);  // again, now that we hold the lock
    const before = inspectFolder(dir);
    if (before.kind === "run" && before.manifest) removeRun(dir, before.manifest);
    ours = true;
    const manifest = new ManifestFile(dir, RUN_FILES);
    manifest.write();  // listed before they are written
    writeFileAtomic(join(dir, "config.json"), JSON.stringify(config, null, 2) + "\n");
    const session = new RunSession(trainer, dir, command, hooks, opts, lock, manifest);
    session.fresh = { created };
    session.openMetrics(0);
    return session;
  } catch (e) {
    lock?.release();
    try {
      if (created) rmSync(dir, { recursive: true, force: true });
      else if (ours) removeListed(dir, [...RUN_FILES, MANIFEST_FILE]);
    } catch { /* what could not be removed stays, as the manifest lists it */ }
    throw asOsError(e, undefined, undefined, created || ours ? "nothing was kept" : "the folder was not changed");
  }
}

/** "resume": continue the unfinished run in `runDir` from its newest valid checkpoint (see the header). */
function openResume(runDir: string, command: string, hooks: RunHooks, opts: RunOptions): RunSession {
  const dir = resolve(runDir);
  const f = inspectFolder(dir);
  if (f.kind === "absent") throw new InputError(`${runDir}: no such run folder (--resume)`);
  if (f.kind === "file") throw new InputError(`${runDir}: is a file; expected a run folder (--resume)`);
  checkNotInUse(dir, runDir);
  if (f.kind !== "run" || !f.hasConfig) {
    throw new InputError(f.kind === "foreign" && f.entries.includes("config.json")
      ? notARun(runDir, f.entries, "nothing to resume").message
      : `${runDir}: not a run folder (no config.json); nothing to resume`);
  }
  if ((f.status === "complete" || f.status === "stopped") && listCheckpoints(dir).length === 0) {
    throw new InputError(`${runDir}: the run is already finished (${f.status}); nothing to resume`);
  }
  const config = loadConfigFile(join(dir, "config.json"));
  const trainer = prepare(config, opts);
  const lock = acquireLock(dir);
  try {
    const metricsFile = join(dir, "metrics.jsonl");
    const found = loadLatestCheckpoint(dir, trainer, configHash(config), metricsFile);
    if (found) applyCheckpoint(trainer, found.checkpoint);
    const manifest = clearResults(dir, f.manifest);
    const session = new RunSession(trainer, dir, command, hooks, opts, lock, manifest, found ? found.checkpoint.step : 0, found ? found.notes : []);
    session.openMetrics(found ? found.checkpoint.metrics.bytes : 0, found ? found.checkpoint.metrics.sha256 : null);
    if (found) session.setSecondsBefore(found.checkpoint.seconds);
    return session;
  } catch (e) {
    lock.release();
    throw asOsError(e, undefined, undefined, `the run stays resumable: gradlab run --resume ${runDir}`);
  }
}

/**
 * "continue": the run of `config` in `outDir` carried on from wherever it got. A folder whose
 * config.json is not `config` throws InputError before anything is touched.
 */
function openContinue(config: Config, outDir: string, command: string, hooks: RunHooks, opts: RunOptions): RunSession | KeptRun {
  const dir = resolve(outDir);
  const f = inspectFolder(dir);
  if (f.kind !== "run" || !f.hasConfig) return openFresh(config, dir, command, hooks, opts);
  let theirs: Config;
  try { theirs = loadConfigFile(join(dir, "config.json")); } catch (e) {
    throw new InputError(`${outDir}: its config.json is not a valid config (${e instanceof Error ? e.message : String(e)}); delete the folder to start over`);
  }
  if (configHash(theirs) !== configHash(config)) {
    throw new InputError(`${outDir}: holds a run of another config than this one (config.json differs); delete the folder or choose another --out`);
  }
  if (f.unfinished) return openResume(dir, command, hooks, opts);
  checkNotInUse(dir, outDir);
  return new KeptRun(dir, JSON.parse(readTextChecked(join(dir, "summary.json"), { cap: CAPS.small, expected: "expected the run's summary.json" })) as Summary);
}
