/**
 * A replication: run a study's suite (src/experiment/sweep.ts, resumable: finished runs are
 * kept), read every run folder back (metrics.jsonl and summary.json, as any other reader does),
 * compute the rows from them, and write DIR/replication.json
 * `{"study", "scale", "citation", "rows": [{"quantity", "paper", "gradlab", "tolerance", "holds",
 * "kind", "reason", "verified"}], "notes"}` and DIR/report.html. The rows are computed from the
 * folders alone, so `computeReplication` on a folder gives the same rows as the run that made it.
 */
import { join, resolve } from "node:path";
import { z } from "zod";
import { InputError } from "../core/errors.ts";
import { expandSuite } from "../experiment/suite.ts";
import { closest } from "../experiment/suggest.ts";
import { runSuite, type PlanResult, type SweepOptions } from "../experiment/sweep.ts";
import { writeFileAtomic } from "../experiment/run-folder/atomic.ts";
import { readRun } from "../report/read-run.ts";
import { STUDIES } from "./studies/index.ts";
import { SCALES, type Row, type RunView, type Scale, type Study } from "./study.ts";

/** replication.json, as written (and as tests validate it). */
export const replicationSchema = z.strictObject({
  study: z.string(),
  scale: z.enum(SCALES as [Scale, ...Scale[]]),
  citation: z.string(),
  rows: z.array(z.strictObject({
    quantity: z.string().min(1), paper: z.string().min(1), gradlab: z.string().min(1), tolerance: z.string().min(1),
    holds: z.boolean(), kind: z.enum(["value", "ordering", "magnitude"]), reason: z.string().min(1), verified: z.boolean(),
  })).min(1),
  notes: z.string().min(1),
});
/** The contents of replication.json. */
export type Replication = z.infer<typeof replicationSchema>;

/**
 * The study of this name, or an InputError naming the nearest one.
 * @example findStudy("he2015").name // "he2015"
 * @example findStudy("glorot") // InputError: unknown study "glorot"; did you mean "glorot2010"? …
 */
export function findStudy(name: string): Study {
  const found = STUDIES.find((s) => s.name === name);
  if (found) return found;
  const names = STUDIES.map((s) => s.name);
  const best = closest(name, names) ?? names.find((n) => n.startsWith(name.toLowerCase()));
  throw new InputError(`unknown study ${JSON.stringify(name)}; ${best !== undefined ? `did you mean ${JSON.stringify(best)}? ` : ""}expected one of ${names.join(", ")}`);
}

/** The run labels of a study's suite at a scale, in order. */
export function studyLabels(study: Study, scale: Scale): string[] {
  return expandSuite(study.suite(scale), `replicate ${study.name}`).runs.map((r) => r.label);
}

/** Read the run folders of a study under `root` and compute its replication (nothing is trained). */
export function computeReplication(study: Study, scale: Scale, root: string): { replication: Replication; runs: Map<string, RunView> } {
  const runs = new Map<string, RunView>();
  for (const label of studyLabels(study, scale)) {
    const r = readRun(join(resolve(root), label));
    runs.set(label, { label, summary: r.summary, records: r.records });
  }
  const rows: Row[] = study.rows(runs, scale);
  const replication = replicationSchema.parse({ study: study.name, scale, citation: study.citation, rows, notes: study.notes(scale) });
  return { replication, runs };
}

/** How to run a study's suite: sweep.ts's options (workers, the worker entry, hooks) and the command recorded in each run. */
export interface ReplicateOptions extends Pick<SweepOptions, "workers" | "workerEntry" | "finalize" | "onStart" | "onDone" | "png"> {
  command: string;
}

/**
 * Run a study at a scale into `root` (one run folder per run, suite.json; finished runs of an
 * earlier call are kept), then compute and write replication.json and report.html.
 * A run that fails with bad input makes the whole replication fail with its message.
 */
export async function replicate(study: Study, scale: Scale, root: string, opts: ReplicateOptions): Promise<Replication> {
  const suite = expandSuite(study.suite(scale), `replicate ${study.name}`);
  const results: PlanResult[] = await runSuite(suite, root, { ...opts, resume: true });
  const failed = results.find((r) => r.error !== null);
  if (failed) throw new InputError(`replicate ${study.name}: run ${failed.label} failed: ${failed.error}`);
  const { replication, runs } = computeReplication(study, scale, root);
  writeFileAtomic(join(resolve(root), "replication.json"), JSON.stringify(replication, null, 2) + "\n");
  const { replicationPage } = await import("./report.ts");
  writeFileAtomic(join(resolve(root), "report.html"), replicationPage(study, replication, runs));
  return replication;
}

/** The table the command prints: quantity | paper | gradlab | tolerance | holds; a paper cell not checked against the paper's text says "(unverified)". */
export function replicationTable(rep: Replication): string[][] {
  return [
    ["quantity", "paper", "gradlab", "tolerance", "holds"],
    ...rep.rows.map((r) => [r.quantity, `${r.paper}${r.verified ? "" : " (unverified)"}`, r.gradlab, r.tolerance, `${r.holds ? "yes" : "NO"} (${r.kind})`]),
  ];
}

/** The table as Markdown (the README's Replications section is made of these). */
export function replicationMarkdown(rep: Replication): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  const [head, ...body] = replicationTable(rep);
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...body.map((r) => `| ${r.map(cell).join(" | ")} |`)].join("\n");
}
