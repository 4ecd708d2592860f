/**
 * Terminal tables for a run: per layer the weight-gradient norm, δ norm, gain between layers,
 * saturated and dead fractions, at two records side by side (initialization and the end).
 */
import type { LayerRecord, StepRecord } from "../instrument/recorder.ts";
import { sparkline } from "../report/sparkline.ts";

/** 3 significant digits, exponent form outside [1e-3, 1e4). @example num(0.000123) // "1.23e-4" */
export function num(x: number | null | undefined): string {
  if (x === null || x === undefined) return "–";
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return x.toPrecision(3);
  return x.toExponential(2).replace("e-", "e-").replace(/e\+?/, "e");
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(0)}%`);

function weightGrad(l: LayerRecord): number | null {
  const p = l.params.weight ?? l.params.weight_ih;
  return p ? p.gradNorm : null;
}

/** Render rows as aligned columns; the first row is the header. */
export function columns(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? "")].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")).join("\n");
}

/** The per-layer table of one record. */
export function layerTable(rec: StepRecord): string {
  const rows = [["layer", "‖∇W‖", "‖δ‖", "gain", "saturated", "dead"]];
  for (const l of rec.layers) {
    rows.push([`${l.name} (${l.type})`, num(weightGrad(l)), num(l.deltaNorm), num(l.gain), pct(l.activation?.saturated), pct(l.activation?.dead)]);
  }
  return columns(rows);
}

/** Per layer: a log-scale sparkline of its weight-gradient norm over the records, first → last. */
export function sparkTable(records: StepRecord[]): string {
  if (records.length === 0) return "";
  const rows = [["layer", "‖∇W‖ over training", "first", "last"]];
  records[0].layers.forEach((l, i) => {
    const values = records.map((r) => weightGrad(r.layers[i]) ?? NaN);
    if (values.every((v) => Number.isNaN(v))) return;
    rows.push([l.name, sparkline(values, 24), num(values[0]), num(values[values.length - 1])]);
  });
  return columns(rows);
}
