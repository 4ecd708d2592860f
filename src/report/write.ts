/**
 * Reads a run folder (config.json, metrics.jsonl, summary.json) and writes its report next to
 * it: report.html, metrics.csv, time.csv (recurrent runs only) and charts/<id>.png (one per
 * chart, for slides). Every file is written to a temporary name and renamed into place, so a
 * failure leaves no half-written file. Bad input is an InputError with one line naming the
 * file, e.g. `runs/x/metrics.jsonl: line 17 is not valid JSON`.
 *
 * metrics.jsonl is read line by line, never whole: the report, its charts and `compare` get an
 * evenly spaced selection of at most RECORD_KEEP records (RecordKeep: every record when there
 * are no more, always the first and the last), and metrics.csv and time.csv are written a record
 * at a time from further passes over the file, so memory stays bounded whatever the run's length.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { CAPS, readTextChecked } from "../data/read-file.ts";
import { RECORD_KEEP } from "../experiment/memory.ts";
import { writeFileAtomic } from "../experiment/run-folder/atomic.ts";
import { linesOf } from "../experiment/run-folder/lines.ts";
import { RecordKeep } from "../instrument/keep.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import type { ChartSpec } from "./charts.ts";
import { metricsCsvHeader, metricsCsvRows, TIME_CSV_HEADER, timeCsvRows } from "./csv.ts";
import { renderComparison, renderReport, safeLabels, type CompareInput, type ReportRun } from "./html.ts";
import { svgToPng } from "./render.ts";

export interface WriteOptions {
  /** also write charts/<id>.png (default true) */
  png?: boolean;
  /** PNG pixels per SVG pixel (default 2) */
  pngScale?: number;
}

/** A path as shown in messages: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** A run folder's file as text: a regular file of at most `cap` bytes (read-file.ts). */
function readText(file: string, cap: number): string {
  if (!existsSync(file)) throw new InputError(`${shown(file)}: no such file (is this a gradlab run folder?)`);
  return readTextChecked(file, { cap, expected: "expected a file of a gradlab run folder", shown: shown(file) });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function readJsonObject(file: string): Record<string, unknown> {
  const text = readText(file, CAPS.small).replace(/^\uFEFF/, "");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${shown(file)}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(v)) throw new InputError(`${shown(file)}: expected a JSON object`);
  return v;
}

/** What makes a line a metrics record: the fields the report reads. */
function recordProblem(v: unknown): string | null {
  if (!isObject(v)) return "is not a JSON object";
  if (typeof v.step !== "number") return `has no numeric "step"`;
  if (!Array.isArray(v.layers)) return `has no "layers" array`;
  for (const [i, l] of v.layers.entries()) {
    if (!isObject(l) || typeof l.name !== "string" || typeof l.type !== "string" || !isObject(l.params)) {
      return `layers[${i}] is not a layer record (expected {"name", "type", "params", …})`;
    }
  }
  return null;
}

/**
 * One line of metrics.jsonl (its 0-based `index` in the file): a record, or null for a blank
 * line; a bad line is an InputError naming its number.
 */
export function parseMetricsLine(line: string, index: number, file = "metrics.jsonl"): StepRecord | null {
  if (line.trim() === "") return null;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new InputError(`${shown(file)}: line ${index + 1} is not valid JSON`);
  }
  const problem = recordProblem(v);
  if (problem) throw new InputError(`${shown(file)}: line ${index + 1} ${problem}`);
  return v as unknown as StepRecord;
}

const noRecords = (file: string) => new InputError(`${shown(file)}: no records (the file is empty)`);

/** Parse metrics.jsonl: one record per non-empty line; the first bad line is an InputError. */
export function parseMetrics(text: string, file = "metrics.jsonl"): StepRecord[] {
  const records: StepRecord[] = [];
  text.split("\n").forEach((line, i) => {
    const r = parseMetricsLine(line, i, file);
    if (r) records.push(r);
  });
  if (records.length === 0) throw noRecords(file);
  return records;
}

/** The records of a metrics.jsonl, checked, read line by line (the file is never held whole). */
function* metricsRecords(file: string): Generator<StepRecord> {
  if (!existsSync(file)) throw new InputError(`${shown(file)}: no such file (is this a gradlab run folder?)`);
  for (const [line, i] of linesOf(file, "expected a file of a gradlab run folder", shown(file))) {
    const r = parseMetricsLine(line, i, file);
    if (r) yield r;
  }
}

/** What one pass over metrics.jsonl learns: the kept records, every parameter key, whether any record has time-step data. */
interface MetricsScan { records: StepRecord[]; keys: string[]; timeData: boolean }

function scanMetrics(file: string): MetricsScan {
  const keep = new RecordKeep<StepRecord>(RECORD_KEEP);
  const keys = new Set<string>();  // in order of first appearance, as paramKeys
  let timeData = false;
  for (const r of metricsRecords(file)) {
    keep.push(r);
    for (const l of r.layers) {
      for (const k of Object.keys(l.params)) keys.add(k);
      if (Array.isArray(l.hGradNorm)) timeData = true;
    }
  }
  if (keep.count === 0) throw noRecords(file);
  return { records: keep.list(), keys: [...keys], timeData };
}

/** Read a run folder and scan its metrics; every problem is an InputError naming the folder or file. */
function scanRun(runDir: string): { run: ReportRun; scan: MetricsScan; metricsFile: string } {
  const dir = resolve(runDir);
  let isDir = false;
  try { isDir = statSync(dir).isDirectory(); } catch { /* missing */ }
  if (!isDir) throw new InputError(`${shown(dir)}: ${existsSync(dir) ? "is a file, not a run folder" : "no such run folder"}`);
  const config = readJsonObject(join(dir, "config.json"));
  const summary = readJsonObject(join(dir, "summary.json"));
  const metricsFile = join(dir, "metrics.jsonl");
  const scan = scanMetrics(metricsFile);
  return { run: { config, summary, records: scan.records }, scan, metricsFile };
}

/**
 * Read a run folder; every problem is an InputError naming the folder or file. `records` are all
 * of metrics.jsonl's up to RECORD_KEEP, else an evenly spaced selection ending with the last.
 */
export function readRun(runDir: string): ReportRun {
  return scanRun(runDir).run;
}

/** Text made a record at a time from another pass over metrics.jsonl, in pieces of about 1 MB (for writeFileAtomic). */
function* perRecord(file: string, header: string, rows: (r: StepRecord) => string): Generator<string> {
  let out = header;
  for (const r of metricsRecords(file)) {
    out += rows(r);
    if (out.length >= 1 << 20) { yield out; out = ""; }
  }
  yield out;
}

/** Collects each chart's SVG while the HTML is rendered, for the PNG export. */
function collector(): { charts: [ChartSpec, string][]; onChart: (c: ChartSpec, svg: string) => void } {
  const charts: [ChartSpec, string][] = [];
  return { charts, onChart: (c, svg) => charts.push([c, svg]) };
}

/**
 * Render everything first, then write: a rendering failure leaves the folder as it was (a file
 * given as pieces is made while it is written, and a failure there leaves it as it was).
 */
function writeAll(outDir: string, files: [string, string | Uint8Array | Iterable<string>][]): string[] {
  mkdirSync(outDir, { recursive: true });
  if (files.some(([f]) => f.startsWith("charts/"))) mkdirSync(join(outDir, "charts"), { recursive: true });
  const written: string[] = [];
  for (const [name, data] of files) {
    const file = join(outDir, name);
    writeFileAtomic(file, data);
    written.push(file);
  }
  return written;
}

/**
 * Write the report of the run in `runDir` into that folder. Returns the files written.
 * @example writeReport("runs/seed") // ["…/report.html", "…/metrics.csv", "…/charts/loss.png", …]
 */
export function writeReport(runDir: string, opts: WriteOptions = {}): string[] {
  const { run, scan, metricsFile } = scanRun(runDir);
  const col = collector();
  const files: [string, string | Uint8Array | Iterable<string>][] = [
    ["report.html", renderReport(run, { onChart: col.onChart })],
    ["metrics.csv", perRecord(metricsFile, metricsCsvHeader(scan.keys), (r) => metricsCsvRows(r, scan.keys))],
  ];
  if (scan.timeData) files.push(["time.csv", perRecord(metricsFile, TIME_CSV_HEADER, timeCsvRows)]);
  if (opts.png ?? true) for (const [c, svg] of col.charts) files.push([`charts/${c.id}.png`, svgToPng(svg, opts.pngScale)]);
  return writeAll(resolve(runDir), files);
}

/**
 * Read several run folders and write a comparison into `outDir`: report.html, runs.csv (one
 * row per run) and charts/<id>.png. Run labels are the folder names.
 */
export function writeComparison(runDirs: readonly string[], outDir: string, opts: WriteOptions = {}): string[] {
  if (runDirs.length === 0) throw new InputError("compare: expected at least one run folder");
  const labels = safeLabels(runDirs.map((d) => basename(resolve(d))));
  const runs: CompareInput[] = runDirs.map((d, i) => ({ ...readRun(d), label: labels[i] }));
  const col = collector();
  const html = renderComparison(runs, { onChart: col.onChart });
  const csv = ["label,testAccuracy,finalLoss,steps,verdict,depthRatio,command,grade,deltaRatio", ...runs.map((r) => {
    const s = r.summary;
    const q = (v: unknown) => { const t = v === null || v === undefined ? "" : String(v); return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t; };
    return [r.label, s.testAccuracy, s.finalLoss, s.steps, s.diagnosis?.verdict, s.diagnosis?.depthRatio, s.command, s.diagnosis?.grade, s.diagnosis?.deltaRatio].map(q).join(",");
  })].join("\n") + "\n";
  const files: [string, string | Uint8Array][] = [["report.html", html], ["runs.csv", csv]];
  if (opts.png ?? true) for (const [c, svg] of col.charts) files.push([`charts/${c.id}.png`, svgToPng(svg, opts.pngScale)]);
  return writeAll(resolve(outDir), files);
}
