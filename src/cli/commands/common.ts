/**
 * What the commands share: the command-line overrides of a config, where human text goes (stdout,
 * or stderr under --json so that stdout holds one JSON document), the runs table, and small
 * argument checks. Loaded only once a command runs (main.ts imports the commands lazily).
 */
import { availableParallelism } from "node:os";
import { InputError } from "../../core/errors.ts";
import { parseConfig, type Config } from "../../experiment/config.ts";
import { resolveExperimentArg } from "../../experiment/config-file.ts";
import type { Summary } from "../../experiment/run-folder/session.ts";
import type { Suite } from "../../experiment/suite.ts";
import { printable } from "../printable.ts";
import { columns, num } from "../table.ts";

/** Where a command's output goes. */
export interface Output {
  /** true under --json: `say` writes to stderr and `json` writes the one document to stdout */
  readonly json: boolean;
  /** human text, control characters made visible (names, paths and labels are user text) */
  say(text: string): void;
  /** the command's one JSON document (only under --json) */
  document(value: unknown): void;
}

/**
 * The output of a command: human text on stdout, or with `json` on stderr, stdout then holding
 * exactly one JSON document, written by `document`.
 * @example output(true).say("run folder: runs/seed") // to stderr
 */
export function output(json: boolean): Output {
  return {
    json,
    say: (text) => { (json ? process.stderr : process.stdout).write(`${printable(text)}\n`); },
    document: (value) => { if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`); },
  };
}

/** The config overrides every training command takes. */
export interface Overrides { epochs?: unknown; seed?: unknown; train?: unknown; test?: unknown; every?: unknown }

/** Apply command-line overrides to a resolved config and re-validate it. */
export function override(config: Config, o: Overrides): Config {
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
export function loadConfig(arg: string, o: Overrides): { config: Config; source: string } {
  const e = resolveExperimentArg(arg);
  if (e.kind === "suite") throw new InputError(`${arg}: is a suite of ${e.suite.runs.length} runs; expected a single config here`);
  return { config: override(e.config, o), source: e.source };
}

/** A suite with the overrides applied to every run. */
export function overrideSuite(suite: Suite, o: Overrides): Suite {
  return { ...suite, runs: suite.runs.map((r) => ({ ...r, config: override(r.config, o) })) };
}

/** One run's line in a table or a JSON document: accuracy, verdict, first/last gradient ratios. */
export interface RunRow {
  label: string;
  /** the run failed (no summary) */
  failed: boolean;
  /** null when the run failed or its summary.json has none (another tool's run folder) */
  testAccuracy: number | null;
  verdict: string | null;
  grade: string | null;
  /** ‖δ‖ of the first profiled layer over the last's */
  deltaRatio: number | null;
  /** ‖∂L/∂W‖ of the first profiled layer over the last's */
  depthRatio: number | null;
  /** ‖∂ℓ/∂h_1‖/‖∂ℓ/∂h_T‖ of the first recurrent layer */
  timeRatio: number | null;
}

/**
 * What a row reads of a summary: gradlab's Summary, or a validated summary.json, which another
 * tool's run folder may leave without the accuracy or the diagnosis (src/experiment/run-schema.ts).
 */
export interface RowSummary {
  testAccuracy?: number | null;
  diagnosis?: Pick<Summary["diagnosis"], "verdict"> & { grade?: string | null; deltaRatio?: number | null; depthRatio?: number | null; timeRatios?: Record<string, number | null> } | null;
}

/** The row of a run from its summary (null: the run failed). */
export function runRow(label: string, s: RowSummary | null): RunRow {
  const d = s?.diagnosis;
  const time = d ? Object.values(d.timeRatios ?? {}) : [];
  return {
    label, failed: s === null, testAccuracy: typeof s?.testAccuracy === "number" ? s.testAccuracy : null, verdict: d?.verdict ?? null, grade: d?.grade ?? null,
    deltaRatio: d?.deltaRatio ?? null, depthRatio: d?.depthRatio ?? null, timeRatio: time.length ? time[0] : null,
  };
}

/** One row per run: test accuracy, verdict, first/last layer and first/last time-step gradient ratios. */
export function runsTable(rows: RunRow[]): string {
  const out = [["run", "test acc", "verdict", "first/last layer ‖δ‖", "first/last layer ‖∂L/∂W‖", "‖∂ℓ/∂h_1‖/‖∂ℓ/∂h_T‖"]];
  for (const r of rows) {
    out.push([
      r.label, r.failed ? "error" : r.testAccuracy === null ? "–" : `${(100 * r.testAccuracy).toFixed(2)}%`,
      r.verdict === null ? "–" : r.grade ? `${r.verdict} (${r.grade})` : r.verdict,
      num(r.deltaRatio), num(r.depthRatio), r.timeRatio === null ? "–" : num(r.timeRatio),
    ]);
  }
  return columns(out);
}

/** A name as a folder name. */
export function safeName(name: string): string {
  return name.replace(/[^\w.-]+/g, "_") || "run";
}

/** --workers: a whole number from 1 to 256, default the number of cores. */
export function workerCount(text: string | undefined): number {
  if (text === undefined) return availableParallelism();
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InputError(`--workers: expected a whole number from 1 to 256; got ${JSON.stringify(text)}`);
  return n;
}

/** The command line as a shell would take it back (recorded in the run folder). */
export function commandLine(): string {
  return ["gradlab", ...process.argv.slice(2)].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
