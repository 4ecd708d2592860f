/**
 * Reads a run folder (config.json, metrics.jsonl, summary.json) and writes its report next to
 * it: report.html, metrics.csv, time.csv (recurrent runs only) and charts/<id>.png (one per
 * chart, for slides). The files are written as one (writeFilesAtomic): each to a temporary name,
 * all renamed into place once all are written, so a failure (a full disk, a read-only folder)
 * leaves the folder as it was and is one line naming the file (os-error.ts). Bad input is an
 * InputError with one line naming the file, e.g. `runs/x/metrics.jsonl: line 17 is not valid JSON`.
 */
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { CAPS, readTextChecked } from "../data/read-file.ts";
import { asOsError } from "../data/os-error.ts";
import { writeFilesAtomic } from "../experiment/run-folder/atomic.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import type { ChartSpec } from "./charts.ts";
import { hasTimeData, metricsToCsv, timeToCsv } from "./csv.ts";
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

/** Parse metrics.jsonl: one record per non-empty line; the first bad line is an InputError. */
export function parseMetrics(text: string, file = "metrics.jsonl"): StepRecord[] {
  const records: StepRecord[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new InputError(`${shown(file)}: line ${i + 1} is not valid JSON`);
    }
    const problem = recordProblem(v);
    if (problem) throw new InputError(`${shown(file)}: line ${i + 1} ${problem}`);
    records.push(v as unknown as StepRecord);
  });
  if (records.length === 0) throw new InputError(`${shown(file)}: no records (the file is empty)`);
  return records;
}

/** Read a run folder; every problem is an InputError naming the folder or file. */
export function readRun(runDir: string): ReportRun {
  const dir = resolve(runDir);
  let isDir = false;
  try { isDir = statSync(dir).isDirectory(); } catch { /* missing */ }
  if (!isDir) throw new InputError(`${shown(dir)}: ${existsSync(dir) ? "is a file, not a run folder" : "no such run folder"}`);
  const config = readJsonObject(join(dir, "config.json"));
  const summary = readJsonObject(join(dir, "summary.json"));
  const metricsFile = join(dir, "metrics.jsonl");
  const records = parseMetrics(readText(metricsFile, CAPS.metrics), metricsFile);
  return { config, summary, records };
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
function writeAll(outDir: string, files: [string, string | Uint8Array][]): string[] {
  const folders = [outDir, ...(files.some(([f]) => f.startsWith("charts/")) ? [join(outDir, "charts")] : [])];
  const created: string[] = [];
  try {
    for (const f of folders) {
      try {
        const first = mkdirSync(f, { recursive: true });
        if (first !== undefined) created.push(first);
      } catch (e) { throw asOsError(e, f, "creating the folder", "nothing was written"); }
    }
    return writeFilesAtomic(files.map(([name, data]) => [join(outDir, name), data] as const), created.length ? "nothing was written" : "no file of the folder was changed");
  } catch (e) {
    for (const c of created.reverse()) try { rmSync(c, { recursive: true, force: true }); } catch { /* gone already */ }
    throw e;
  }
}

/**
 * Write the report of the run in `runDir` into that folder. Returns the files written.
 * @example writeReport("runs/seed") // ["…/report.html", "…/metrics.csv", "…/charts/loss.png", …]
 */
export function writeReport(runDir: string, opts: WriteOptions = {}): string[] {
  const run = readRun(runDir);
  const col = collector();
  const files: [string, string | Uint8Array][] = [["report.html", renderReport(run, { onChart: col.onChart })], ["metrics.csv", metricsToCsv(run.records)]];
  if (hasTimeData(run.records)) files.push(["time.csv", timeToCsv(run.records)]);
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
