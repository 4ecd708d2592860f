/**
 * `gradlab sweep` (and `gradlab run` of a suite): every run of a suite or sweep grid on worker
 * threads, one run folder each, then a table and a comparison report. Under --json stdout holds
 * the table as one JSON document.
 */
import { join, resolve } from "node:path";
import { resolveExperimentArg } from "../../experiment/config-file.ts";
import { checkOutFolder } from "../../experiment/out-path.ts";
import { makeFolders } from "../../experiment/run-folder/atomic.ts";
import { asOsError } from "../../data/os-error.ts";
import { expandSuite, type Suite } from "../../experiment/suite.ts";
import { parseShard, runSuite } from "../../experiment/sweep.ts";
import { writeComparison, writeReport } from "../../report/write.ts";
import { SWEEP_WORKER_ENTRY } from "../entries.ts";
import { printableLine } from "../printable.ts";
import { shardFromEnv } from "../scheduler.ts";
import { commandLine, output, overrideSuite, runRow, runsTable, safeName, workerCount, type Output, type Overrides, type RunRow } from "./common.ts";

/** The options of `gradlab sweep`. */
export type SweepOpts = Overrides & { out?: string; workers?: string; shard?: string; quiet?: boolean; png?: boolean; resume?: boolean; json?: boolean };

/** The sweep command's action: --shard, else the batch scheduler's variables, else every run. */
export async function sweepCommand(file: string, opts: SweepOpts): Promise<void> {
  const out = output(opts.json === true);
  const e = resolveExperimentArg(file);
  const suite = e.kind === "suite" ? e.suite : expandSuite({ name: e.config.name, base: e.config }, file);
  const fromEnv = opts.shard === undefined ? shardFromEnv(process.env) : undefined;
  const shard = opts.shard !== undefined ? parseShard(String(opts.shard)) : fromEnv?.shard;
  if (fromEnv) out.say(`gradlab: shard ${fromEnv.shard[0]}/${fromEnv.shard[1]} from ${fromEnv.from}`);
  const root = opts.out ?? `runs/${safeName(suite.name)}`;
  checkOutFolder(root, "--out");
  await runSuiteCli(overrideSuite(suite, opts), root, workerCount(opts.workers), shard, !!opts.quiet, opts.png === true, out, opts.resume === true);
}

/** One run of a sweep in the --json document. */
interface SweepRun extends RunRow { dir: string; error: string | null; kept: boolean; resumedFrom: number | null }

/** Run a suite and print one line per run plus a closing table (or, under --json, one document). */
export async function runSuiteCli(suite: Suite, outRoot: string, workers: number, shard: [number, number] | undefined, quiet: boolean, png: boolean, out: Output, resume = false): Promise<void> {
  const say = out.say;
  const n = shard ? suite.runs.filter((_, i) => i % shard[1] === shard[0]).length : suite.runs.length;
  // Before the first line is printed: a folder that cannot be made is then the only line.
  try { makeFolders(resolve(outRoot)); } catch (e) { throw asOsError(e, resolve(outRoot), "creating the folder"); }
  say(`gradlab: ${printableLine(suite.name)} — ${n} run(s)${shard ? ` (shard ${shard[0]}/${shard[1]} of ${suite.runs.length})` : ""} on ${Math.min(workers, n)} worker(s) → ${resolve(outRoot)}`);
  let done = 0;
  const results = await runSuite(suite, outRoot, {
    workers, shard, command: commandLine(), png, resume,
    workerEntry: SWEEP_WORKER_ENTRY,
    finalize: (dir) => writeReport(dir, { png }),
    onStart: (plan) => { if (!quiet) say(`  start  ${printableLine(plan.label)}`); },
    onDone: (r) => {
      done++;
      const s = r.summary;
      say(`  [${done}/${n}] ${printableLine(r.label)}: ${s ? `test accuracy ${(100 * s.testAccuracy).toFixed(2)}%, ${s.diagnosis.grade ? `${s.diagnosis.verdict} (${s.diagnosis.grade})` : s.diagnosis.verdict}${r.kept ? " (finished before; kept)" : r.resumedFrom != null ? ` (resumed from step ${r.resumedFrom})` : ""}` : `error: ${printableLine(String(r.error))}`}`);
    },
  });
  const rows = results.map((r) => runRow(r.label, r.summary));
  say(`\n${runsTable(rows)}\n`);
  const ok = results.filter((r) => r.summary);
  let comparison: string | null = null;
  if (ok.length > 1) {
    const dir = join(resolve(outRoot), shard && shard[1] > 1 ? `compare.${shard[0]}-of-${shard[1]}` : "compare");
    writeComparison(ok.map((r) => r.dir), dir, { png });
    comparison = join(dir, "report.html");
    say(`comparison report: ${comparison}`);
  }
  const runs: SweepRun[] = results.map((r, i) => ({ ...rows[i], dir: r.dir, error: r.error, kept: r.kept === true, resumedFrom: r.resumedFrom ?? null }));
  out.document({ suite: suite.name, out: resolve(outRoot), shard: shard ?? null, total: suite.runs.length, runs, comparison });
  if (results.some((r) => r.error)) process.exitCode = 2;
}
