/**
 * What goes in and out of the lab as files and text: the CLI equivalent of a configuration
 * ("Show as CLI"), metrics exports in the CLI's schema (metrics.jsonl, metrics.csv, time.csv),
 * and reading a CLI run's metrics.jsonl (or metrics.csv) back for viewing. A file read here is
 * untrusted: every record is checked against the run schema the CLI's readers use. Pure.
 */
import type { Config } from "../experiment/config.ts";
import { checkRecord } from "../experiment/run-schema.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import { csvToRecords, hasTimeData, metricsToCsv, timeToCsv } from "../report/csv.ts";

/** A name safe in a file or folder name: "seed", "depth_depth_3". */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^[._-]+|[._-]+$/g, "").slice(0, 60) || "lab";
}

/**
 * The config file and the command that run the same experiment from the CLI.
 * @example cliFor(seedConfig).command // "npx gradlab run seed.json --out runs/seed"
 */
export function cliFor(config: Config): { fileName: string; json: string; command: string } {
  const base = safeName(config.name);
  return {
    fileName: `${base}.json`,
    json: `${JSON.stringify(config, null, 2)}\n`,
    command: `npx gradlab run ${base}.json --out runs/${base}`,
  };
}

/** metrics.jsonl exactly as the CLI writes it: one JSON record per line. */
export function metricsJsonl(records: readonly StepRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join("\n") + (records.length ? "\n" : "");
}

export { hasTimeData, metricsToCsv, timeToCsv };

// ---------------------------------------------------------------------------------------------
// Reading metrics files.

/** Largest metrics file read (a full 5-epoch seed run with every = 1 is about 15 MB). */
export const MAX_METRICS_BYTES = 200 * 2 ** 20;

/**
 * A metrics record checked against the run schema (src/experiment/run-schema.ts, the one the CLI's
 * report and compare use); throws one line naming the first bad field. null stands where the
 * writer had NaN/±Inf or did not measure.
 * @example recordFrom({ step: 0, loss: 2.3, layers: [] }, "m.jsonl: line 1").epoch // null
 */
export function recordFrom(v: unknown, where: string): StepRecord {
  const checked = checkRecord(v);
  if (!checked.ok) throw new Error(`${where}: ${checked.problem}`);
  return checked.value as unknown as StepRecord;
}

/**
 * Records from a metrics.jsonl (one JSON record per line) or a metrics.csv written by the CLI.
 * Throws one line naming the file, the line and what is wrong.
 * @example parseMetricsFile('{"step":0,"epoch":0,"loss":2.3,"accuracy":0.1,"layers":[]}\n', "m.jsonl").length // 1
 */
export function parseMetricsFile(text: string, fileName: string): StepRecord[] {
  const shown = fileName.slice(0, 80);
  if (text.length > MAX_METRICS_BYTES) throw new Error(`${shown}: larger than ${MAX_METRICS_BYTES / 2 ** 20} MB`);
  let records: StepRecord[];
  let at: (i: number) => string;
  if (/\.csv$/i.test(fileName) || /^step,epoch,loss/.test(text)) {
    let raw: StepRecord[];
    try { raw = csvToRecords(text); } catch (e) { throw new Error(`${shown}: not a gradlab metrics.csv (${(e as Error).message})`); }
    records = raw.map((r, i) => recordFrom(r, `${shown}: row ${i + 1}`));
    at = (i) => `row ${i + 1}`;
  } else {
    records = [];
    const lines: number[] = [];
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === "") return;
      let v: unknown;
      try { v = JSON.parse(line); } catch { throw new Error(`${shown}: line ${i + 1} is not valid JSON (is this a gradlab metrics.jsonl?)`); }
      records.push(recordFrom(v, `${shown}: line ${i + 1}`));
      lines.push(i + 1);
    });
    at = (i) => `line ${lines[i]}`;
  }
  if (records.length === 0) throw new Error(`${shown}: no metrics records in the file`);
  for (let i = 1; i < records.length; i++) {
    if (records[i].step <= records[i - 1].step) throw new Error(`${shown}: ${at(i)}: step must be greater than the previous record's (${records[i - 1].step}), got ${records[i].step}`);
  }
  return records;
}
