/**
 * Runs many experiments (a suite, a sweep grid) on worker threads, one run folder each under a
 * common root, plus `suite.json`, an index with every run's headline numbers. `shard` i/n keeps
 * only runs i, i+n, i+2n, … so a sweep can be spread over machines by any batch scheduler
 * (Kubernetes indexed jobs, Slurm arrays) and merged afterwards with `gradlab compare`.
 */
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { InputError } from "../core/errors.ts";
import { asOsError } from "../data/os-error.ts";
import type { Config } from "./config.ts";
import { makeFolders, writeFileAtomic } from "./run-folder/atomic.ts";
import { openRun, type RunHooks, type RunOutcome, type Summary } from "./run-folder/session.ts";
import type { RunPlan, Suite } from "./suite.ts";

/** A job for a worker thread; the worker runs it (runPlan with its finalize) and replies. */
export interface WorkerJob { index: number; config: Config; outDir: string; command: string; png: boolean; resume: boolean }
export type WorkerReply =
  | { index: number; ok: true; summary: Summary; kept: boolean; resumedFrom: number | null }
  | { index: number; ok: false; error: string; input: boolean };

/**
 * One run of a suite. With `resume`: `kept` when it had finished before and was not trained
 * again, `resumedFrom` the step it continued from when it had been interrupted.
 */
export interface PlanResult { index: number; label: string; vars: Record<string, unknown>; dir: string; summary: Summary | null; error: string | null; kept?: boolean; resumedFrom?: number | null }

export interface SweepOptions {
  workers: number;
  /** [i, n]: run only plans whose index ≡ i (mod n) */
  shard?: [number, number];
  command: string;
  /** the worker thread's entry module (it must answer WorkerJob messages with WorkerReply) */
  workerEntry: URL;
  /** PNG charts per run (slow: ~0.4 s per run); the worker passes it on */
  png: boolean;
  /**
   * Carry on an earlier, interrupted run of the same suite into the same root (openRun's
   * "continue" mode): finished runs are kept, unfinished ones resume from their checkpoints, missing
   * ones start. Without it a folder holding an unfinished run is an error.
   */
  resume?: boolean;
  /** called on each run folder once its run is finished, before the lock is released (in-process runs) */
  finalize?: RunHooks["finalize"];
  onStart?(plan: RunPlan, index: number): void;
  onDone?(result: PlanResult): void;
}

/**
 * One run of a suite into `outDir`, in-process or on a worker thread: carried on with `resume`
 * (openRun's "continue" mode), else trained afresh.
 */
export function runPlan(config: Config, outDir: string, command: string, hooks: RunHooks, resume: boolean): RunOutcome {
  return openRun({ mode: resume ? "continue" : "fresh", config, outDir }, command, hooks).runSync();
}

/** Parse "--shard i/n". @example parseShard("1/4") // [1, 4] */
export function parseShard(text: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
    throw new InputError(`--shard: expected i/n with 0 ≤ i < n (e.g. 0/4); got ${JSON.stringify(text)}`);
  }
  return [Number(m[1]), Number(m[2])];
}

/** The plans a shard runs, with their indices in the whole suite. */
export function shardPlans(plans: RunPlan[], shard?: [number, number]): { plan: RunPlan; index: number }[] {
  return plans.map((plan, index) => ({ plan, index })).filter(({ index }) => !shard || index % shard[1] === shard[0]);
}

/** Run a suite into `root`/<label>/ folders; resolves when every run of the shard is done. */
export async function runSuite(suite: Suite, root: string, opts: SweepOptions): Promise<PlanResult[]> {
  const outRoot = resolve(root);
  makeFolders(outRoot);
  const todo = shardPlans(suite.runs, opts.shard);
  const results: PlanResult[] = [];
  const finish = (r: PlanResult) => { results.push(r); opts.onDone?.(r); };
  const base = (plan: RunPlan, index: number) => ({ index, label: plan.label, vars: plan.vars, dir: join(outRoot, plan.label) });

  const workers = Math.max(1, Math.min(opts.workers, todo.length));
  if (workers === 1) {
    for (const { plan, index } of todo) {
      opts.onStart?.(plan, index);
      try {
        const r = runPlan(plan.config, join(outRoot, plan.label), opts.command, { finalize: opts.finalize }, opts.resume ?? false);
        finish({ ...base(plan, index), summary: r.summary, error: null, kept: r.kept, resumedFrom: r.resumedFrom });
      } catch (raw) {
        const e = asOsError(raw);  // an OS error fails this run in one line, as on a worker thread
        if (!(e instanceof InputError)) throw e;
        finish({ ...base(plan, index), summary: null, error: e.message });
      }
    }
  } else {
    await new Promise<void>((resolveAll, reject) => {
      let next = 0;
      let running = 0;
      const pool: Worker[] = [];
      const feed = (w: Worker) => {
        if (next >= todo.length) { w.terminate(); if (running === 0) resolveAll(); return; }
        const { plan, index } = todo[next++];
        running++;
        opts.onStart?.(plan, index);
        const job: WorkerJob = { index, config: plan.config, outDir: join(outRoot, plan.label), command: opts.command, png: opts.png, resume: opts.resume ?? false };
        w.postMessage(job);
      };
      for (let i = 0; i < workers; i++) {
        const w = new Worker(opts.workerEntry);
        pool.push(w);
        w.on("message", (reply: WorkerReply) => {
          running--;
          const plan = suite.runs[reply.index];
          if (reply.ok) finish({ ...base(plan, reply.index), summary: reply.summary, error: null, kept: reply.kept, resumedFrom: reply.resumedFrom });
          else if (reply.input) finish({ ...base(plan, reply.index), summary: null, error: reply.error });
          else { pool.forEach((p) => p.terminate()); reject(new Error(`run ${plan.label}: ${reply.error}`)); return; }
          feed(w);
        });
        w.on("error", (e) => { pool.forEach((p) => p.terminate()); reject(e); });
        feed(w);
      }
    });
  }
  results.sort((a, b) => a.index - b.index);
  writeIndex(outRoot, suite, results, opts.shard);
  return results;
}

/** suite.json (or suite.<i>-of-<n>.json for a shard): the index of the runs and their numbers. */
function writeIndex(outRoot: string, suite: Suite, results: PlanResult[], shard?: [number, number]): void {
  const file = join(outRoot, shard && shard[1] > 1 ? `suite.${shard[0]}-of-${shard[1]}.json` : "suite.json");
  const index = {
    name: suite.name,
    description: suite.description,
    total: suite.runs.length,
    shard: shard ?? null,
    runs: results.map((r) => ({
      label: r.label, vars: r.vars, dir: r.label, error: r.error,
      testAccuracy: r.summary?.testAccuracy ?? null,
      verdict: r.summary?.diagnosis.verdict ?? null,
      depthRatio: r.summary?.diagnosis.depthRatio ?? null,
      timeRatios: r.summary?.diagnosis.timeRatios ?? null,
    })),
  };
  writeFileAtomic(file, JSON.stringify(index, null, 2) + "\n");
}
