/**
/**
 * Reads a run folder (config.json, metrics.jsonl, summary.json; read-run.ts validates every
 * file) and writes its report next to it: report.html, metrics.csv, time.csv (recurrent runs
 * only) and charts/<id>.png (one per chart, for slides). The files are written as one
 * (writeFilesAtomic): each to a temporary name, all renamed into place once all are written, so
 * a failure (a full disk, a read-only folder) leaves the folder as it was and is one line naming
 * the file (os-error.ts). Bad input is an InputError with one line naming the file, e.g.
 * `runs/x/metrics.jsonl: line 17 is not valid JSON`.
 */
import { rmSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { asOsError } from "../data/os-error.ts";
import { makeFolders, writeFilesAtomic, type FileData } from "../experiment/run-folder/atomic.ts";
import type { ChartSpec } from "./charts.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import { hasTimeData, metricsCsvHeader, metricsCsvRows, metricsToCsv, TIME_CSV_HEADER, timeCsvRows, timeToCsv } from "./csv.ts";
import { renderComparison, renderReport, safeLabels, type CompareInput, type ReportRun } from "./html.ts";
import { fileLines, metricsRecords, readRun, shown } from "./read-run.ts";
import { svgToPng } from "./render.ts";

export { parseMetrics, readRun } from "./read-run.ts";

export interface WriteOptions {
  /** also write charts/<id>.png (default true) */
  png?: boolean;
  /** PNG pixels per SVG pixel (default 2) */
  pngScale?: number;
}

/** Collects each chart's SVG while the HTML is rendered, for the PNG export. */
function collector(): { charts: [ChartSpec, string][]; onChart: (c: ChartSpec, svg: string) => void } {
  const charts: [ChartSpec, string][] = [];
  return { charts, onChart: (c, svg) => charts.push([c, svg]) };
}

/**
 * Render everything first, then write all files as one (writeFilesAtomic): a rendering failure,
 * a full disk or a refused file leaves the folder as it was, with no temporary file. A folder
 * created here for the files is removed again when they cannot be written.
 */
function writeAll(outDir: string, files: [string, FileData][]): string[] {
  const folders = [outDir, ...(files.some(([f]) => f.startsWith("charts/")) ? [join(outDir, "charts")] : [])];
  const created: string[] = [];
  try {
    for (const f of folders) {
      try {
        const first = makeFolders(f);
        if (first !== undefined) created.push(first);
      } catch (e) { throw asOsError(e, f, "creating the folder", "nothing was written"); }
    }
    return writeFilesAtomic(files.map(([name, data]) => [join(outDir, name), data] as const), created.length ? "nothing was written" : "no file of the folder was changed");
  } catch (e) {
    for (const c of created.reverse()) try { rmSync(c, { recursive: true, force: true }); } catch { /* gone already */ }
    throw e;
  }
}

/** A run's report files, rendered in memory: report.html, metrics.csv, time.csv and (opts.png) charts/<id>.png. */
export function reportFiles(run: ReportRun, opts: WriteOptions = {}): [string, string | Uint8Array][] {
  const col = collector();
  const files: [string, string | Uint8Array][] = [["report.html", renderReport(run, { onChart: col.onChart })], ["metrics.csv", metricsToCsv(run.records)]];
  if (hasTimeData(run.records)) files.push(["time.csv", timeToCsv(run.records)]);
  if (opts.png ?? true) for (const [c, svg] of col.charts) files.push([`charts/${c.id}.png`, svgToPng(svg, opts.pngScale)]);
  return files;
}

/** The records of a run folder's metrics.jsonl, checked, read line by line (the file is never held whole). */
function* recordsOf(file: string): Generator<StepRecord> {
  yield* metricsRecords(fileLines(file), shown(file));
}

/** Text made a record at a time from a pass over metrics.jsonl, in pieces of about 1 MB (for writeFilesAtomic). */
function* perRecord(file: string, header: string, rows: (r: StepRecord) => string): Generator<string> {
  let out = header;
  for (const r of recordsOf(file)) {
    out += rows(r);
    if (out.length >= 1 << 20) { yield out; out = ""; }
  }
  yield out;
}

/**
 * Write the report of the run in `runDir` into that folder. Returns the files written. The
 * report and its charts see the kept records (readRun: all of them up to KEEP_RECORDS, else an
 * evenly spaced selection); metrics.csv and time.csv hold every record, made a record at a time
 * from further passes over metrics.jsonl, so memory stays bounded whatever the run's length.
 * @example writeReport("runs/seed") // ["…/report.html", "…/metrics.csv", "…/charts/loss.png", …]
 */
export function writeReport(runDir: string, opts: WriteOptions = {}): string[] {
  const dir = resolve(runDir);
  const run = readRun(dir);
  // Every record in memory already (up to KEEP_RECORDS): the CSVs from them, the same bytes as
  // the passes below, without reading and checking the file twice more.
  if (run.recordCount === run.records.length) return writeAll(dir, reportFiles(run, opts));
  const metrics = join(dir, "metrics.jsonl");
  // every parameter key (in order of first appearance, as paramKeys) and whether any record has time steps
  const keys = new Set<string>();
  let timeData = false;
  for (const r of recordsOf(metrics)) {
    for (const l of r.layers) {
      for (const k of Object.keys(l.params)) keys.add(k);
      if (Array.isArray(l.hGradNorm)) timeData = true;
    }
  }
  const files: [string, FileData][] = reportFiles(run, opts).filter(([name]) => name !== "metrics.csv" && name !== "time.csv");
  files.splice(1, 0, ["metrics.csv", perRecord(metrics, metricsCsvHeader([...keys]), (r) => metricsCsvRows(r, [...keys]))]);
  if (timeData) files.splice(2, 0, ["time.csv", perRecord(metrics, TIME_CSV_HEADER, timeCsvRows)]);
  return writeAll(dir, files);
}

/** A comparison's files, rendered in memory: report.html, runs.csv and (opts.png) charts/<id>.png. */
export function comparisonFiles(runs: readonly CompareInput[], opts: WriteOptions = {}): [string, string | Uint8Array][] {
  const col = collector();
  const html = renderComparison(runs, { onChart: col.onChart });
  const csv = ["label,testAccuracy,finalLoss,steps,verdict,depthRatio,command,grade,deltaRatio", ...runs.map((r) => {
    const s = r.summary;
    const q = (v: unknown) => { const t = v === null || v === undefined ? "" : String(v); return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t; };
    return [r.label, s.testAccuracy, s.finalLoss, s.steps, s.diagnosis?.verdict, s.diagnosis?.depthRatio, s.command, s.diagnosis?.grade, s.diagnosis?.deltaRatio].map(q).join(",");
  })].join("\n") + "\n";
  const files: [string, string | Uint8Array][] = [["report.html", html], ["runs.csv", csv]];
  if (opts.png ?? true) for (const [c, svg] of col.charts) files.push([`charts/${c.id}.png`, svgToPng(svg, opts.pngScale)]);
  return files;
}

/**
 * Read several run folders and write a comparison into `outDir`: report.html, runs.csv (one
 * row per run) and charts/<id>.png. Run labels are the folder names.
 */
export function writeComparison(runDirs: readonly string[], outDir: string, opts: WriteOptions = {}): string[] {
  if (runDirs.length === 0) throw new InputError("compare: expected at least one run folder");
  const labels = safeLabels(runDirs.map((d) => basename(resolve(d))));
  const runs: CompareInput[] = runDirs.map((d, i) => ({ ...readRun(d), label: labels[i] }));
  return writeAll(resolve(outDir), comparisonFiles(runs, opts));
}
