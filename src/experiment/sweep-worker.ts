/**
 * A worker thread of a sweep: receives one run at a time, trains it into its run folder, and
 * posts back the summary (or the error's one-line message). Runs are independent and seeded,
 * so a run gives the same metrics on any thread.
 */
import { parentPort } from "node:worker_threads";
import { InputError } from "../core/errors.ts";
import type { Config } from "./config.ts";
import { runExperiment } from "./run.ts";

export interface WorkerJob { index: number; config: Config; outDir: string; command: string }
export type WorkerReply =
  | { index: number; ok: true; summary: ReturnType<typeof runExperiment>["summary"] }
  | { index: number; ok: false; error: string; input: boolean };

parentPort!.on("message", (job: WorkerJob) => {
  let reply: WorkerReply;
  try {
    reply = { index: job.index, ok: true, summary: runExperiment(job.config, job.outDir, job.command).summary };
  } catch (e) {
    reply = { index: job.index, ok: false, error: e instanceof Error ? e.message : String(e), input: e instanceof InputError };
  }
  parentPort!.postMessage(reply);
});
