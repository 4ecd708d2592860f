/**
 * Reading a run folder for `gradlab report` and `gradlab compare`: config.json (validated with
 * the config schema, src/experiment/config.ts), summary.json and every line of metrics.jsonl
 * (validated with the run schema, src/experiment/run-schema.ts). Nothing in the folder is
 * trusted: the first bad value is an InputError of one line naming the file, the line and the
 * field, e.g. `runs/x/metrics.jsonl: line 17: layers[0].hist.grad must be an array of 24 counts …, got "x"`.
 *
 * metrics.jsonl is read line by line in chunks, never as one string, and only a bounded, evenly
 * spaced selection of its records is kept (RecordKeep, with the first and the last), so a report
 * of a huge run needs bounded memory; a run of up to KEEP_RECORDS records keeps them all. The
 * file's size cap (src/data/read-file.ts) stays as a guard.
 *
 * parseRun takes the files' contents instead of a folder, so a run folder can be checked in
 * memory (the property tests do).
 */
import { grouped } from "../core/format.ts";
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { CAPS, readTextChecked } from "../data/read-file.ts";
import { parseConfig } from "../experiment/config.ts";
import { linesOf } from "../experiment/run-folder/lines.ts";
import type { Summary } from "../experiment/run-folder/session.ts";
import { checkProbe, checkRecord, checkSummary, type ProbeFile, type SummaryFile } from "../experiment/run-schema.ts";
import { RecordKeep } from "../instrument/keep.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import type { ReportRun } from "./html.ts";

/** Records a report keeps at most (evenly spaced, plus the last): a run of up to this many keeps all. */
export const KEEP_RECORDS = 4096;

/** A path as shown in messages: relative to the working directory when inside it. */
export function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A JSON object from a file's text; `file` is the name messages show. */
function jsonObject(text: string, file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(v)) throw new InputError(`${file}: expected a JSON object`);
  return v;
}

/**
 * summary.json's text, validated.
 * @example parseSummary('{"steps": "many"}', "runs/x/summary.json")
 *   // InputError: runs/x/summary.json: steps must be a whole number ≥ 0 (training steps taken), got "many"
 */
export function parseSummary(text: string, file: string): SummaryFile {
  const checked = checkSummary(jsonObject(text, file));
  if (!checked.ok) throw new InputError(`${file}: ${checked.problem}`);
  return checked.value;
}

/** probe.json's text, validated (run-schema.ts probeSchema). */
export function parseProbe(text: string, file: string): ProbeFile {
  const checked = checkProbe(jsonObject(text, file));
  if (!checked.ok) throw new InputError(`${file}: ${checked.problem}`);
  return checked.value;
}

/**
 * config.json's text, validated with the config schema. gradlab writes it resolved, and the
 * object is returned as written (the report shows it so); one that leaves out defaults is
 * returned with them filled in, so the report finds every field.
 */
export function parseRunConfig(text: string, file: string): Record<string, unknown> {
  const raw = jsonObject(text, file);
  const config = parseConfig(raw, file);
  return JSON.stringify(config) === JSON.stringify(raw) ? raw : (config as unknown as Record<string, unknown>);
}

/**
 * Records of metrics.jsonl from its lines (without their "\n"), in order: each non-blank line
 * must be one valid record, steps must increase, and at least one record must be there. Keeps
 * at most `keep` records, evenly spaced, plus the last.
 * @example parseMetricsLines(['{"step":0,"loss":2.3,"layers":[]}'], "m.jsonl") // [{ step: 0, epoch: null, loss: 2.3, accuracy: null, layers: [] }]
 */
export function parseMetricsLines(lines: Iterable<string>, file: string, keep = KEEP_RECORDS): StepRecord[] {
  return keptRecords(lines, file, keep).records;
}

/** parseMetricsLines, with how many records the lines held (more than kept when over `keep`). */
function keptRecords(lines: Iterable<string>, file: string, keep: number): { records: StepRecord[]; total: number } {
  const kept = new RecordKeep<StepRecord>(Math.max(2, keep));
  for (const r of metricsRecords(lines, file)) kept.push(r);
  return { records: kept.list(), total: kept.count };
}

/**
 * Every record of metrics.jsonl from its lines, checked, one at a time (nothing is held): each
 * non-blank line must be one valid record, steps must increase, and at least one record must be
 * there. Bad input is an InputError naming the file, the line and the field.
 */
export function* metricsRecords(lines: Iterable<string>, file: string): Generator<StepRecord> {
  let n = 0;
  let count = 0;
  let lastStep = -1;
  for (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    let v: unknown;
    try {
      v = JSON.parse(n === 1 ? line.replace(/^\uFEFF/, "") : line);
    } catch {
      throw new InputError(`${file}: line ${n} is not valid JSON`);
    }
    const checked = checkRecord(v);
    if (!checked.ok) throw new InputError(`${file}: line ${n}: ${checked.problem}`);
    const step = checked.value.step;
    if (step <= lastStep) throw new InputError(`${file}: line ${n}: step must be greater than the previous record's (${lastStep}), got ${step}`);
    lastStep = step;
    count++;
    // null stands where the writer had NaN/±Inf or did not measure; the report shows it as missing.
    yield checked.value as unknown as StepRecord;
  }
  if (count === 0) throw new InputError(`${file}: no records (the file is empty)`);
}

/** Parse a whole metrics.jsonl text: every record (the text is in memory already; see metricsRecords). */
export function parseMetrics(text: string, file = "metrics.jsonl"): StepRecord[] {
  return [...metricsRecords(text.split("\n"), shown(file))];
}

/**
 * The lines of a run's metrics.jsonl (run-folder/lines.ts: read in chunks, a line at a time; a
 * final line without "\n" is a line too). The file is closed when the loop ends, also by a throw.
 */
export function* fileLines(path: string, file: string = shown(path)): Generator<string> {
  for (const [line] of linesOf(path, "expected a metrics.jsonl of one JSON record per line", file)) yield line;
}

/** The contents of a run folder's files: whole texts, and metrics.jsonl as lines. */
export interface RunTexts { config: string; summary: string; metrics: Iterable<string> }

/**
 * A run from its files' contents; `dir` is the folder as messages show it. Every problem is an
 * InputError naming the file.
 * @example parseRun({ config, summary, metrics: text.split("\n") }, "runs/x")
 */
export function parseRun(texts: RunTexts, dir: string, keep = KEEP_RECORDS): ReportRun {
  const config = parseRunConfig(texts.config, join(dir, "config.json"));
  const summary = parseSummary(texts.summary, join(dir, "summary.json"));
  const records = parseMetricsLines(texts.metrics, join(dir, "metrics.jsonl"), keep);
  // The renderer reads every diagnosis field it needs with a fallback (headline, ratios, text).
  return { config, summary: summary as Partial<Summary>, records };
}

/** A run folder's small file as text: a regular file of at most `cap` bytes (read-file.ts). */
function readText(file: string, cap: number): string {
  if (!existsSync(file)) throw new InputError(`${shown(file)}: no such file (is this a gradlab run folder?)`);
  return readTextChecked(file, { cap, expected: "expected a file of a gradlab run folder", shown: shown(file) });
}

/** The folder, resolved, after checking it is one. */
function runFolder(runDir: string): string {
  const dir = resolve(runDir);
  let isDir = false;
  try { isDir = statSync(dir).isDirectory(); } catch { /* missing */ }
  if (!isDir) throw new InputError(`${shown(dir)}: ${existsSync(dir) ? "is a file, not a run folder" : "no such run folder"}`);
  return dir;
}

/**
 * Read a run folder; every problem is an InputError naming the folder or file. metrics.jsonl is
 * read line by line (64 MB at most per line) with no limit on its length: memory is bounded by
 * the kept records, not by the file.
 */
export function readRun(runDir: string, keep = KEEP_RECORDS): ReportRun {
  const dir = runFolder(runDir);
  const file = (name: string) => join(dir, name);
  // A folder recorded outside gradlab's engine (the PyTorch probe) has probe.json instead of config.json.
  let config: Record<string, unknown>;
  let probe: ProbeFile | undefined;
  if (!existsSync(file("config.json")) && existsSync(file("probe.json"))) {
    probe = parseProbe(readText(file("probe.json"), CAPS.small), shown(file("probe.json")));
    config = { name: probe.name, description: probeDescription(probe) };
  } else {
    config = parseRunConfig(readText(file("config.json"), CAPS.small), shown(file("config.json")));
  }
  const summary = parseSummary(readText(file("summary.json"), CAPS.small), shown(file("summary.json")));
  const metrics = file("metrics.jsonl");
  if (!existsSync(metrics)) throw new InputError(`${shown(metrics)}: no such file (is this a gradlab run folder?)`);
  const { records, total } = keptRecords(fileLines(metrics), shown(metrics), keep);
  return { config, summary: summary as Partial<Summary>, records, recordCount: total, ...(probe ? { probe } : {}) };
}

/** "A PyTorch model (Net, 101,770 parameters) recorded by gradlab-probe every 100 steps, trained with SGD (lr 0.1)." */
function probeDescription(p: ProbeFile): string {
  const model = p.model.class ? `${p.model.class}${p.model.params !== undefined ? `, ${grouped(p.model.params)} parameters` : ""}` : null;
  const group = p.optimizer?.groups?.[0];
  const lr = group && typeof group.lr === "number" ? ` (lr ${group.lr})` : "";
  return `A PyTorch model${model ? ` (${model})` : ""} recorded by ${p.source}${p.every ? ` every ${p.every} steps` : ""}${p.optimizer ? `, trained with ${p.optimizer.type}${lr}` : ""}.`;
}

/**
 * A run folder's summary.json, validated (compare's table reads it).
 * @example readSummary("runs/seed").testAccuracy // 0.9
 */
export function readSummary(runDir: string): SummaryFile {
  const file = join(runFolder(runDir), "summary.json");
  return parseSummary(readText(file, CAPS.small), shown(file));
}
