/**
 * Terminal tables for a run: per layer the depth profile first — ‖δ‖ (the error reaching the
 * layer: how fast it learns) and the update ratio ‖ΔW‖/‖W‖ — then the gain between layers, the
 * weight-gradient norm (labelled for what it is: it grows with the fan-in), saturated and dead
 * fractions; and ‖δ‖ over training as sparklines.
 */
import type { LayerRecord, StepRecord } from "../instrument/recorder.ts";
import { weightKeyOf } from "../instrument/profile.ts";
import { sparkline } from "../report/sparkline.ts";
import { printableLine } from "./printable.ts";

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

/** The statistics of the tensor that stands for a layer (weight, or a recurrent layer's weight_ih_l0). */
function weightParam(l: LayerRecord) {
  const key = weightKeyOf(l);
  return key === undefined ? undefined : l.params[key];
}

/** A gradient norm, or "NaN (12)" / "Infinity (12)" with the count of NaN/Inf entries: never 0 for an exploded gradient. */
export function normCell(p: { gradNorm: number | null; nonFinite: number } | undefined): string {
  if (!p) return "–";
  return p.nonFinite > 0 ? `${p.gradNorm === null ? "non-finite" : String(p.gradNorm)} (${p.nonFinite})` : num(p.gradNorm);
}

/** Render rows as aligned columns; the first row is the header. Control characters in a cell are made visible (see printable.ts). */
export function columns(cells: string[][]): string {
  const rows = cells.map((r) => r.map(printableLine));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? "")].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")).join("\n");
}

/**
 * The per-layer table of one record, input layer first: ‖δ‖ and ‖ΔW‖/‖W‖ (the depth profile),
 * the gain ‖δ_l‖/‖δ_l+1‖, ‖∂L/∂W‖ (with the NaN/Inf count when there is one), saturated and dead.
 */
export function layerTable(rec: StepRecord): string {
  const rows = [["layer", "‖δ‖", "‖ΔW‖/‖W‖", "gain", "‖∂L/∂W‖ (∝ fan-in)", "saturated", "dead"]];
  for (const l of rec.layers) {
    const w = weightParam(l);
    rows.push([`${l.name} (${l.type})`, num(l.deltaNorm), num(w?.updateRatio), num(l.gain), normCell(w), pct(l.activation?.saturated), pct(l.activation?.dead)]);
  }
  return columns(rows);
}

/** Per layer: a log-scale sparkline of its ‖δ‖ over the records, first → last. */
export function sparkTable(records: StepRecord[]): string {
  if (records.length === 0) return "";
  const rows = [["layer", "‖δ‖ over training", "first", "last"]];
  records[0].layers.forEach((l, i) => {
    const values = records.map((r) => r.layers[i]?.deltaNorm ?? NaN);
    if (values.every((v) => Number.isNaN(v))) return;
    rows.push([l.name, sparkline(values, 24), num(values[0]), num(values[values.length - 1])]);
  });
  return columns(rows);
}

/**
 * The `gradlab presets` listing: name, description and the number of runs of a suite, names
 * aligned on their escaped width.
 * @example presetsTable([{ name: "seed", description: "784-5-5-10", runs: 1 }]) // "seed  784-5-5-10"
 */
export function presetsTable(presets: { name: string; description: string; runs: number }[]): string {
  const names = presets.map((p) => printableLine(p.name));
  const w = Math.max(...names.map((n) => n.length));
  return presets.map((p, i) => `${names[i].padEnd(w)}  ${printableLine(p.description)}${p.runs > 1 ? ` (${p.runs} runs)` : ""}`).join("\n");
}
