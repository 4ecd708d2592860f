/**
 * A worker thread of a sweep: receives one run at a time, trains it into its run folder with
 * its report, and posts back the summary (or the error's one-line message; OS errors included). Runs are
 * independent and seeded, so a run gives the same metrics on any thread.
 */
import { parentPort } from "node:worker_threads";
import { InputError } from "../core/errors.ts";
import { asOsError } from "../data/os-error.ts";
import { runPlan, type WorkerJob, type WorkerReply } from "../experiment/sweep.ts";
import { writeReport } from "../report/write.ts";

parentPort!.on("message", (job: WorkerJob) => {
  let reply: WorkerReply;
  try {
    const r = runPlan(job.config, job.outDir, job.command, { finalize: (dir) => writeReport(dir, { png: job.png }) }, job.resume);
    reply = { index: job.index, ok: true, summary: r.summary, kept: r.kept, resumedFrom: r.resumedFrom };
  } catch (raw) {
    // An OS error (a full disk, a folder it may not read) is one line like any bad input; the
    // main thread cannot turn it into one after the fact, since only the message crosses over.
    const e = asOsError(raw);
    reply = { index: job.index, ok: false, error: e instanceof Error ? e.message : String(e), input: e instanceof InputError };
  }
  parentPort!.postMessage(reply);
});
