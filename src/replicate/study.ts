/**
 * What a replication study is: a suite of gradlab runs at a chosen scale, the rows that put a
 * paper's published number or claim beside the number gradlab measured in those runs, and the
 * paper's figure re-drawn from the runs. Studies are pure: they build suite JSON and read
 * records; running and writing live in replicate.ts.
 *
 * A row "holds" in one of three ways, named by its `kind`:
 *   value      gradlab's number is within `tolerance` of the paper's number;
 *   ordering   the paper's ordering (A < B, each layer below the next) holds in gradlab's numbers;
 *   magnitude  gradlab's number is on the side of a threshold the paper's claim implies
 *              (e.g. "vanishes": below 1e-2 of the output's gradient).
 */
import type { StepRecord, LayerRecord } from "../instrument/recorder.ts";
import { decadeRange, logTick, OKABE_ITO, type ChartOption } from "../report/charts.ts";
import { fmtNum } from "../report/html.ts";

/** How much of the paper's setup a run reproduces: tiny (tests), quick (< 10 min on two cores), full. */
export type Scale = "tiny" | "quick" | "full";
/** The scales, smallest first. */
export const SCALES: readonly Scale[] = ["tiny", "quick", "full"];

/** How a row is judged (see the header). */
export type RowKind = "value" | "ordering" | "magnitude";

/** One line of the table: quantity | paper | gradlab | tolerance | holds, with how it was judged. */
export interface Row {
  quantity: string;
  /** the paper's number or claim, with where it is in the paper */
  paper: string;
  /** what gradlab measured, as printed */
  gradlab: string;
  /** the tolerance or the criterion the row is judged by */
  tolerance: string;
  holds: boolean;
  kind: RowKind;
  /** why it holds or not, in a sentence */
  reason: string;
  /** whether the paper cell was checked against the text of the paper (false: taken from the study's docs; see notes) */
  verified: boolean;
}

/** One finished run of a study, as read from its run folder. */
export interface RunView {
  label: string;
  /** summary.json's fields the rows read */
  summary: { testAccuracy?: number; finalLoss?: number; status?: string; steps?: number };
  /** metrics.jsonl's records (step 0 first) */
  records: StepRecord[];
}

/** A figure of the report page: an ECharts option and its size. */
export interface Figure { id: string; caption: string; option: ChartOption; width: number; height: number }

/** A replication study: its runs, its rows, its figures and its notes (see the header). */
export interface Study {
  /** the name on the command line */
  name: string;
  /** the paper, as cited */
  citation: string;
  /** one line: what is replicated */
  summary: string;
  /** the suite JSON (src/experiment/suite.ts) of the runs at this scale */
  suite(scale: Scale): Record<string, unknown>;
  /** the rows, computed from the runs (keyed by their labels) */
  rows(runs: ReadonlyMap<string, RunView>, scale: Scale): Row[];
  /** the paper's figures, re-drawn from the runs */
  figures(runs: ReadonlyMap<string, RunView>): Figure[];
  /** what was reduced at this scale and why the conclusion survives; what could not be verified */
  notes(scale: Scale): string;
}

// ---------------------------------------------------------------------------------------------
// Reading runs.

/** The run with this label; a study's own suite always has it, so a missing one is a bug. */
export function run(runs: ReadonlyMap<string, RunView>, label: string): RunView {
  const r = runs.get(label);
  if (!r) throw new Error(`replication: no run labelled ${JSON.stringify(label)} (have ${[...runs.keys()].join(", ")})`);
  return r;
}

/** The record at initialization (step 0). */
export function initial(r: RunView): StepRecord {
  const rec = r.records[0];
  if (!rec || rec.step !== 0) throw new Error(`replication: run ${r.label} has no record of step 0`);
  return rec;
}

/** The hidden layers of an MLP's record: its dense layers but the output layer (the last), input side first. */
export function hiddenLayers(rec: StepRecord): LayerRecord[] {
  return rec.layers.slice(0, -1).filter((l) => l.type === "dense");
}

/** The first recurrent layer of a record (one with ‖∂ℓ/∂h_t‖). */
export function recurrentLayer(rec: StepRecord): LayerRecord {
  const l = rec.layers.find((x) => Array.isArray(x.hGradNorm));
  if (!l) throw new Error("replication: the record has no recurrent layer");
  return l;
}

/**
 * ‖∂ℓ/∂h_t‖ / ‖∂ℓ/∂h_T‖ of a recurrent layer for t = `from` + 1 (1-based; default the first step):
 * how much of the last step's gradient reaches step t.
 * @example timeRatio({ ...layer, hGradNorm: [0.01, 0.1, 1] }) // 0.01
 */
export function timeRatio(l: LayerRecord, from = 0): number {
  const h = l.hGradNorm ?? [];
  return h.length === 0 ? NaN : h[from] / h[h.length - 1];
}

/** A number shown with 3 significant digits (exponent form outside [1e-3, 1e4)), as the run report shows it. @example fmt(0.000123) // "1.23e-4" */
export const fmt = fmtNum;

/** An accuracy 0..1 as a percentage. @example pct(0.9651) // "96.51%" */
export const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(100 * x).toFixed(2)}%`);

/** Whether each number is strictly below the next. @example increasing([1, 2, 3]) // true */
export function increasing(xs: readonly number[]): boolean {
  return xs.length > 1 && xs.every((x, i) => i === 0 || (Number.isFinite(x) && xs[i - 1] < x));
}

// ---------------------------------------------------------------------------------------------
// Figures: line charts with a log axis where norms are drawn.

/** One line of a figure: its legend name and its [x, y] points. */
export interface Line { name: string; data: [number, number][] }

/**
 * A line chart option: one series per line, points ≤ 0 or non-finite dropped on a log axis.
 * @example lineFigure("f", "‖δ‖ per layer", "layer", "‖δ‖", [{ name: "tanh", data: [[1, 0.1], [2, 0.5]] }], true)
 */
export function lineFigure(id: string, caption: string, xName: string, yName: string, lines: readonly Line[], logY: boolean, width = 720, height = 380): Figure {
  const keep = (p: [number, number]) => Number.isFinite(p[1]) && (!logY || p[1] > 0);
  // a log axis spans whole decades around the points drawn
  const range = logY ? decadeRange(lines.flatMap((l) => l.data.filter(keep).map((p) => p[1]))) : undefined;
  // The legend at the right, one line per series, sized to the longest name (as the report's
  // charts): a row at the bottom would need scrolling, which a static picture cannot do.
  const legendRoom = Math.min(280, 48 + 7 * Math.max(0, ...lines.map((l) => l.name.length)));
  const option: ChartOption = {
    color: OKABE_ITO,
    title: { text: caption, left: "center", textStyle: { fontSize: 14 } },
    legend: { type: "plain", orient: "vertical", left: width - legendRoom, top: 50, textStyle: { fontSize: 11 }, itemWidth: 22 },
    grid: { left: 70, right: legendRoom + 10, top: 50, bottom: 55 },
    xAxis: { type: "value", name: xName, nameLocation: "middle", nameGap: 28, minInterval: 1 },
    yAxis: { type: logY ? "log" : "value", name: yName, nameLocation: "middle", nameGap: 55, ...(logY ? { axisLabel: { formatter: logTick } } : {}), ...(range ? { min: range[0], max: range[1] } : {}) },
    series: lines.map((l) => ({ type: "line", name: l.name, showSymbol: l.data.length <= 40, data: l.data.filter(keep) })),
  };
  return { id, caption, option, width, height };
}

/** The loss of a run over its records, for a figure. */
export function lossLine(r: RunView, name = r.label): Line {
  return { name, data: r.records.map((rec) => [rec.step, rec.loss] as [number, number]) };
}
