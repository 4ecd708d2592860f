/**
 * CSV export of metrics records (RFC 4180: comma-separated, quoted when needed, CRLF-free "\n"
 * line ends). Numbers are written with String(x) (and -0 as "-0"), which round-trips every double;
 * null and absent values are empty cells. metricsToCsv has one row per recorded step × layer;
 * timeToCsv one row per step × recurrent layer × time step.
 *
 * @example
 * metricsToCsv(records).split("\n")[0]
 * // "step,epoch,loss,accuracy,layer,type,deltaNorm,gain,act_mean,act_std,saturated,dead,
 * //  sigmaMax,pascanu,weight_gradNorm,weight_gradMeanAbs,…,bias_nonFinite,bias_zeros"
 */
import type { LayerRecord, ParamRecord, StepRecord } from "../instrument/recorder.ts";

/** The per-parameter statistics, in column order. */
export const PARAM_STATS = ["gradNorm", "gradMeanAbs", "gradMaxAbs", "gradRms", "updateRatio", "nonFinite", "zeros"] as const satisfies readonly (keyof ParamRecord)[];

const BASE_COLUMNS = ["step", "epoch", "loss", "accuracy", "layer", "type", "deltaNorm", "gain", "act_mean", "act_std", "saturated", "dead", "sigmaMax", "pascanu"];

/** A cell: numbers exactly (String round-trips), null/undefined empty, text quoted when needed. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (Object.is(v, -0)) return "-0"; // String(-0) is "0"
  const s = String(v);
  return /[",\n\r]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

const row = (cells: unknown[]) => cells.map(cell).join(",");

/** Parameter keys over all layers and records, in order of first appearance (weight, bias, …). */
export function paramKeys(records: readonly StepRecord[]): string[] {
  const keys = new Set<string>();
  for (const r of records) for (const l of r.layers) for (const k of Object.keys(l.params)) keys.add(k);
  return [...keys];
}

/** One row per recorded step × layer; the columns of each parameter key p are p_gradNorm, …, p_nonFinite, p_zeros. */
export function metricsToCsv(records: readonly StepRecord[]): string {
  const keys = paramKeys(records);
  return metricsCsvHeader(keys) + records.map((r) => metricsCsvRows(r, keys)).join("");
}

/** metricsToCsv's header line (with its "\n") for the parameter keys `keys` (paramKeys of all the records). */
export function metricsCsvHeader(keys: readonly string[]): string {
  return row([...BASE_COLUMNS, ...keys.flatMap((k) => PARAM_STATS.map((s) => `${k}_${s}`))]) + "\n";
}

/**
 * metricsToCsv's lines for one record (each with its "\n"), so a long run's CSV can be written a
 * record at a time: metricsCsvHeader(keys) + Σ metricsCsvRows(r, keys) is metricsToCsv(records).
 */
export function metricsCsvRows(r: StepRecord, keys: readonly string[]): string {
  if (r.layers.length === 0) return row([r.step, r.epoch, r.loss, r.accuracy]) + "\n";
  let out = "";
  for (const l of r.layers) {
    const a = l.activation;
    out += row([
      r.step, r.epoch, r.loss, r.accuracy, l.name, l.type, l.deltaNorm, l.gain,
      a?.mean, a?.std, a?.saturated, a?.dead, l.sigmaMax, l.pascanu,
      ...keys.flatMap((k) => PARAM_STATS.map((s) => l.params[k]?.[s])),
    ]) + "\n";
  }
  return out;
}

/** One row per recorded step × recurrent layer × time step t (0 = first input). */
export function timeToCsv(records: readonly StepRecord[]): string {
  return TIME_CSV_HEADER + records.map(timeCsvRows).join("");
}

/** timeToCsv's header line (with its "\n"). */
export const TIME_CSV_HEADER = row(["step", "layer", "t", "hGradNorm", "cGradNorm"]) + "\n";

/** timeToCsv's lines for one record (each with its "\n"): TIME_CSV_HEADER + Σ timeCsvRows(r) is timeToCsv(records). */
export function timeCsvRows(r: StepRecord): string {
  let out = "";
  for (const l of r.layers) {
    if (!l.hGradNorm) continue;
    l.hGradNorm.forEach((h, t) => { out += row([r.step, l.name, t, h, l.cGradNorm?.[t]]) + "\n"; });
  }
  return out;
}

/** Whether records carry any recurrent per-time-step data (so time.csv is worth writing). */
export const hasTimeData = (records: readonly StepRecord[]) => records.some((r) => r.layers.some((l) => Array.isArray(l.hGradNorm)));

/** Parse RFC 4180 CSV into rows of cells (quoted cells may hold commas, quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let cur: string[] = [], field = "", i = 0, quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ",") { cur.push(field); field = ""; i++; continue; }
    if (c === "\n" || c === "\r") {
      cur.push(field); rows.push(cur); cur = []; field = "";
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
      continue;
    }
    field += c; i++;
  }
  if (field !== "" || cur.length) { cur.push(field); rows.push(cur); }
  return rows;
}

/** An empty cell is null; anything else a number ("NaN" and "Infinity" included). */
const numOrNull = (s: string | undefined) => (s === undefined || s === "" ? null : Number(s));

/**
 * Rebuild records from metricsToCsv output (and, optionally, timeToCsv output for hGradNorm and
 * cGradNorm): the inverse of the export for every exported field. Histograms and gate values are
 * not exported and do not come back.
 */
export function csvToRecords(metricsCsv: string, timeCsv?: string): StepRecord[] {
  const [header, ...rows] = parseCsv(metricsCsv);
  const col = new Map(header.map((h, i) => [h, i]));
  const get = (r: string[], name: string) => r[col.get(name) ?? -1];
  const keys: string[] = [];
  for (const h of header) if (h.endsWith("_gradNorm")) keys.push(h.slice(0, -"_gradNorm".length));
  const records: StepRecord[] = [];
  const byStep = new Map<number, StepRecord>();
  for (const r of rows) {
    const step = Number(get(r, "step"));
    let rec = byStep.get(step);
    if (!rec) {
      rec = { step, epoch: Number(get(r, "epoch")), loss: numOrNull(get(r, "loss")) as number, accuracy: numOrNull(get(r, "accuracy")) as number, layers: [] };
      byStep.set(step, rec);
      records.push(rec);
    }
    if (get(r, "layer") === undefined || get(r, "type") === undefined || get(r, "type") === "") continue; // a step without layers
    const params: Record<string, ParamRecord> = {};
    for (const k of keys) {
      if (PARAM_STATS.every((s) => (get(r, `${k}_${s}`) ?? "") === "")) continue; // the layer has no such tensor
      const p = Object.fromEntries(PARAM_STATS.map((s) => [s, numOrNull(get(r, `${k}_${s}`))]));
      if (p.zeros === null) delete p.zeros; // records written before zeros were counted have none
      params[k] = p as unknown as ParamRecord;
    }
    const mean = numOrNull(get(r, "act_mean"));
    const layer: LayerRecord = {
      name: get(r, "layer"), type: get(r, "type"), params,
      deltaNorm: numOrNull(get(r, "deltaNorm")), gain: numOrNull(get(r, "gain")),
      activation: mean === null ? null : { mean, std: numOrNull(get(r, "act_std"))!, saturated: numOrNull(get(r, "saturated")), dead: numOrNull(get(r, "dead")) },
    };
    const sigma = numOrNull(get(r, "sigmaMax")), pascanu = numOrNull(get(r, "pascanu"));
    if (sigma !== null) layer.sigmaMax = sigma;
    if (pascanu !== null) layer.pascanu = pascanu;
    rec.layers.push(layer);
  }
  if (timeCsv !== undefined) {
    const [th, ...trows] = parseCsv(timeCsv);
    const tc = new Map(th.map((h, i) => [h, i]));
    for (const r of trows) {
      const rec = byStep.get(Number(r[tc.get("step")!]));
      const layer = rec?.layers.find((l) => l.name === r[tc.get("layer")!]);
      if (!layer) continue;
      const t = Number(r[tc.get("t")!]);
      (layer.hGradNorm ??= [])[t] = numOrNull(r[tc.get("hGradNorm")!]) as number;
      const c = r[tc.get("cGradNorm")!];
      if (c !== "" && c !== undefined) (layer.cGradNorm ??= [])[t] = Number(c);
    }
  }
  return records;
}
