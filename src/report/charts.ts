/**
 * Every chart of gradlab, defined once: pure functions from metrics records to an ECharts option
 * (no DOM, no node:*), so the HTML report, the PNG export (both drawn by svg.ts, which reads
 * the subset of options written here) and the browser app (ECharts) draw the same pictures. Each builder returns a ChartSpec: the option plus the numbers it plots (`series`),
 * so tools and tests can read what was drawn without parsing SVG.
 *
 * Axes must not mislead: norms go on log axes whose range is whole decades (shared between runs
 * in comparisons), points that a log axis cannot show (≤ 0, NaN, ±Inf, null) are dropped and
 * counted in the subtitle, every layer keeps one colour in every chart (Okabe–Ito, or viridis
 * by depth for deep stacks; both colour-blind safe), and every axis names its quantity and unit.
 *
 * @example
 * const charts = runCharts({ records });            // depth-profile, loss, grad-norm, delta-norm, …
 * echartsInstance.setOption(charts[0].option);      // in the browser
 */
import { profileLayers, weightKeyOf } from "../instrument/profile.ts";
import type { LayerRecord, StepRecord } from "../instrument/recorder.ts";
import { ACT_HIST_EDGES, GRAD_HIST_EDGES } from "../instrument/stats.ts";

/** An ECharts option object (kept structural so this module needs no echarts import). */
export type ChartOption = Record<string, unknown>;

/** One plotted series: line points are [x, y]; heatmap cells are [x label, y label, value]. */
export interface SeriesData {
  name: string;
  /** which panel of a multi-panel chart ("init" or "end" for histograms) */
  panel?: string;
  data: (number | string)[][];
}

export interface ChartSpec {
  /** stable id, also the PNG file name: "loss", "grad-norm", "time-heatmap-lstm1", … */
  id: string;
  title: string;
  subtitle: string;
  width: number;
  height: number;
  option: ChartOption;
  /** exactly the numbers drawn, series by series */
  series: SeriesData[];
  /** [min, max] of the value axis (log axes: powers of ten) or colour scale, when fixed */
  range?: [number, number];
}

/** The ids of the charts of one run (time-heatmap has one chart per recurrent layer). */
export const CHART_IDS = {
  depthProfile: "depth-profile",
  loss: "loss",
  gradNorm: "grad-norm",
  deltaNorm: "delta-norm",
  gradHeatmap: "grad-heatmap",
  timeHeatmap: "time-heatmap",
  gradHist: "grad-hist",
  actHist: "act-hist",
  saturation: "saturation",
  timeNorm: "time-norm",
  pascanu: "pascanu",
} as const;

/** The charts of a comparison that overlay runs in one picture. */
export const COMPARE_IDS = {
  loss: "cmp-loss",
  accuracy: "cmp-accuracy",
  depth: "cmp-depth",
  time: "cmp-time",
} as const;

/** The data one run's charts are drawn from. */
export interface RunData {
  records: StepRecord[];
  /** per-epoch test accuracy (summary.epochs); epoch is 1-based */
  epochs?: { epoch: number; testAccuracy: number }[];
  /** steps per epoch, to place the per-epoch test accuracy on the step axis */
  stepsPerEpoch?: number;
}

/** Fixed axis ranges, so the charts of several runs can share them. Computed by sharedScales. */
export interface Scales {
  /** log range of the depth profile's ‖δ‖ panel */
  profileDelta?: [number, number];
  /** log range of the depth profile's ‖ΔW‖/‖W‖ panel */
  profileUpdate?: [number, number];
  gradNorm?: [number, number];
  deltaNorm?: [number, number];
  /** log10 range of the layer × step heatmap colours */
  gradHeat?: [number, number];
  /** log10 range of the time × step heatmap colours */
  timeHeat?: [number, number];
  hNorm?: [number, number];
  pascanu?: [number, number];
  gradHist?: number;
  actHist?: number;
  loss?: [number, number];
  stepMax?: number;
}

// ---------------------------------------------------------------------------------------------
// Colours, numbers, sampling.

/** Okabe & Ito (2008) colour-blind-safe palette, ordered for contrast on white (yellow last). */
export const OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
/** viridis at 0, 0.1, …, 1 (perceptually uniform, colour-blind safe) */
const VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725"];

/**
 * The colour at u ∈ [0, 1] of a scale through "#rrggbb" stops, linearly interpolated (the
 * heatmaps' visual map, and viridis by depth).
 * @example ramp(["#000000", "#ffffff"], 0.5) // "#808080"
 */
export function ramp(colors: readonly string[], u: number): string {
  const x = Math.min(1, Math.max(0, u)) * (colors.length - 1);
  const i = Math.min(colors.length - 2, Math.floor(x));
  const f = x - i;
  const a = colors[i], b = colors[i + 1];
  const ch = (s: string, k: number) => parseInt(s.slice(1 + 2 * k, 3 + 2 * k), 16);
  const mix = [0, 1, 2].map((k) => Math.round(ch(a, k) + f * (ch(b, k) - ch(a, k))).toString(16).padStart(2, "0"));
  return `#${mix.join("")}`;
}

/** viridis at u ∈ [0, 1]. */
const viridis = (u: number): string => ramp(VIRIDIS, u);

/**
 * One colour per layer, by position from input to output: Okabe–Ito for up to 8 layers, else
 * viridis by depth (dark = input) so a deep stack reads as a gradient of colour.
 * @example layerColors(["dense1", "dense2"]).get("dense2") // "#D55E00"
 */
export function layerColors(names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  names.forEach((n, i) => out.set(n, names.length <= OKABE_ITO.length ? OKABE_ITO[i] : viridis(0.9 * i / Math.max(1, names.length - 1))));
  return out;
}

/** A number a chart can show on a log axis. */
const positive = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;
const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Whole decades around the positive values: [10^⌊log min⌋, 10^⌈log max⌉], at least one decade
 * wide, within what a double holds: from 1e-323 (1e-324 is 0) to the largest double (1e309 is
 * Infinity, and an axis ending there has no scale).
 */
export function decadeRange(values: Iterable<number>): [number, number] | undefined {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (positive(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (lo === Infinity) return undefined;
  const a = Math.min(307, Math.max(-323, Math.floor(Math.log10(lo)))), b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
  return [Number(`1e${a}`), b > 308 ? Number.MAX_VALUE : Number(`1e${b}`)]; // 10 ** -4 is 0.00009999999999999999; "1e-4" parses exactly
}

/** The union of ranges (for sharing an axis between runs). */
function unionRange(rs: ([number, number] | undefined)[]): [number, number] | undefined {
  const ok = rs.filter((r): r is [number, number] => r !== undefined);
  return ok.length ? [Math.min(...ok.map((r) => r[0])), Math.max(...ok.map((r) => r[1]))] : undefined;
}

/** The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ x (an axis end a reader can read). @example niceCeil(249) // 250 */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 0;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * (1 - 1e-12)) return m * p;
  return 10 * p;
}

/** Tick label of a log axis: 0.01 … 100 plainly, else 1e-5. */
export function logTick(v: number): string {
  if (v === 0) return "0";
  const e = Math.log10(Math.abs(v));
  if (Math.abs(e - Math.round(e)) < 1e-9 && (e < -2 || e > 3)) return `1e${Math.round(e)}`;
  return Number(v.toPrecision(3)).toString();
}

/** At most `max` indices of 0..n-1, evenly spaced, always the first and the last. */
export function sampleIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < max; k++) {
    const i = Math.round((k * (n - 1)) / (max - 1));
    if (out[out.length - 1] !== i) out.push(i);
  }
  return out;
}

/** Most points per line and cells per heatmap side drawn; beyond that, evenly spaced samples. */
const MAX_POINTS = 1000;
const MAX_HEAT_COLS = 100;
const MAX_HEAT_ROWS = 60;

/** "3 values ≤ 0 or not finite not shown (log axis)" or "". */
function droppedNote(n: number): string {
  return n === 0 ? "" : `${n} value${n === 1 ? "" : "s"} ≤ 0 or not finite not shown (log axis)`;
}
const joinNotes = (...notes: string[]) => notes.filter((s) => s !== "").join(" · ");

/** The weight tensor whose gradient stands for the layer (as in the diagnosis). */
export const weightKey = weightKeyOf;

/** Layer names in order of first appearance (input → output). */
export function layerNames(records: readonly StepRecord[]): string[] {
  const seen = new Set<string>();
  for (const r of records) for (const l of r.layers) seen.add(l.name);
  return [...seen];
}

/** The record a layer had at a step, by name. */
const layerAt = (r: StepRecord, name: string) => r.layers.find((l) => l.name === name);

const isRecurrent = (l: LayerRecord) => Array.isArray(l.hGradNorm);

// ---------------------------------------------------------------------------------------------
// Common option parts.

const FONT = "DejaVu Sans, Verdana, Arial, sans-serif";
const W = 760;

/** Chart height that leaves room for a vertical legend of n entries. */
const heightFor = (entries: number, min = 400) => Math.max(min, 110 + 20 * entries);

/** Break text into lines of at most `max` characters at " · " or spaces. */
export function wrapText(text: string, max: number): string {
  const lines: string[] = [];
  let cur = "";
  for (const word of text.split(" ")) {
    if (cur !== "" && cur.length + 1 + word.length > max) { lines.push(cur); cur = word === "·" ? "" : word; continue; }
    cur = cur === "" ? (word === "·" ? "" : word) : `${cur} ${word}`;
  }
  if (cur !== "") lines.push(cur);
  return lines.join("\n");
}

/** Title, subtitle, legend (vertical, at the right, sized to its labels) and the room left for the plot. */
function frame(title: string, subtitle: string, legendLabels: readonly string[] | null, width = W, axisRoom = 0): { base: ChartOption; top: number; right: number } {
  const sub = wrapText(subtitle, Math.floor((width - 24) / 6.2));
  const lines = sub === "" ? 0 : sub.split("\n").length;
  const top = 54 + 15 * lines;
  const longest = Math.max(0, ...(legendLabels ?? []).map((l) => l.length));
  const legendRoom = legendLabels && legendLabels.length ? Math.min(300, 48 + 7.2 * longest) + 16 : 40;
  const base: ChartOption = {
    animation: false,
    backgroundColor: "#ffffff",
    textStyle: { fontFamily: FONT },
    title: { text: title, subtext: sub, left: 12, top: 8, itemGap: 6, textStyle: { fontSize: 15 }, subtextStyle: { fontSize: 11, color: "#555", lineHeight: 15 } },
    // The legend starts just right of the plot (not right-aligned): a text measure that
    // underestimates DejaVu's width (ECharts' in the lab) would run right-aligned labels off the edge.
    ...(legendLabels && legendLabels.length ? { legend: { type: "plain", orient: "vertical", left: width - legendRoom + 14, top: top + 4, textStyle: { fontSize: 11 }, itemWidth: 22 } } : {}),
    tooltip: { trigger: "axis" },
  };
  return { base, top: top + 14, right: legendRoom + axisRoom };
}

/** The plot area left by a frame. */
const plotGrid = (f: { top: number; right: number }): ChartOption => ({ left: 78, right: f.right, top: f.top, bottom: 52 });

function stepAxis(stepMax?: number): ChartOption {
  return { type: "value", name: "training step", nameLocation: "middle", nameGap: 28, min: 0, ...(stepMax !== undefined ? { max: stepMax } : {}), splitLine: { show: false } };
}

function logAxis(name: string, range: [number, number] | undefined): ChartOption {
  return {
    type: "log", logBase: 10, name, nameLocation: "middle", nameGap: 56,
    ...(range ? { min: range[0], max: range[1] } : {}),
    axisLabel: { formatter: logTick },
  };
}

function line(name: string, data: (number | string)[][], color: string, dash: "solid" | "dashed" | "dotted" = "solid", extra: ChartOption = {}): ChartOption {
  return {
    type: "line", name, data, color,
    showSymbol: data.length <= 60, symbolSize: 4,
    lineStyle: { color, width: 2, type: dash },
    itemStyle: { color },
    ...extra,
  };
}

function spec(id: string, title: string, subtitle: string, option: ChartOption, series: SeriesData[], height: number, width = W, range?: [number, number]): ChartSpec {
  return { id, title, subtitle, width, height, option, series, ...(range ? { range } : {}) };
}

/** A subtitle part for sampled lines: "every 3rd recorded step shown" style. */
function sampledNote(n: number, shown: number, what: string): string {
  return shown < n ? `${shown} of ${n} ${what} shown, evenly spaced` : "";
}

// ---------------------------------------------------------------------------------------------
// The depth profile: the lesson at a glance.

/**
 * The depth profile: per layer (input layer on the left; normalization layers left out), how
 * fast it learns — ‖δ‖, the mean per-example ‖∂ℓ/∂z‖ at its pre-activation, which for a dense
 * layer is the per-example bias gradient ‖∂ℓ/∂b‖ ("how fast the biases learn"), and the update
 * ratio ‖ΔW‖/‖W‖ of its weights — at initialization (dashed, the first record) and now (solid,
 * the last record), each in its own panel on a log axis. Unlike ‖∂L/∂W‖, neither grows with the
 * layer's fan-in, so a falling line toward the input is the vanishing gradient itself.
 *
 * @example
 * const c = depthProfileChart({ records });
 * c.series.map((s) => s.name) // ["‖δ‖ at init (step 0)", "‖δ‖ now (step 9374)", "‖ΔW‖/‖W‖ at init (step 0)", …]
 */
export function depthProfileChart(run: RunData, scales: Scales = {}): ChartSpec {
  const recs = run.records;
  const first = recs[0], last = recs[recs.length - 1];
  const names = first ? profileNames(first, last) : [];
  const when: [string, StepRecord, "dashed" | "solid"][] = [];
  if (first) when.push([`at init (step ${first.step})`, first, "dashed"]);
  if (last && last !== first) when.push([`now (step ${last.step})`, last, "solid"]);
  const quantities = [
    { key: "delta", label: "‖δ‖", color: OKABE_ITO[0], value: (l: LayerRecord) => l.deltaNorm },
    { key: "update", label: "‖ΔW‖/‖W‖", color: OKABE_ITO[1], value: (l: LayerRecord) => { const k = weightKeyOf(l); return k === undefined ? null : l.params[k].updateRatio; } },
  ] as const;
  const series: SeriesData[] = [];
  const opt: ChartOption[] = [];
  const values: number[][] = [[], []];
  let dropped = 0;
  // a recurrent layer records its error per time step (‖∂ℓ/∂h_t‖), not one ‖δ‖: named, not counted as dropped
  const perStep = new Set<string>();
  quantities.forEach((q, gi) => {
    for (const [label, rec, dash] of when) {
      const data: (number | string)[][] = [];
      for (const name of names) {
        const l = layerAt(rec, name);
        const v = l ? q.value(l) : undefined;
        if (positive(v)) { data.push([name, v]); values[gi].push(v); } else if (q.key === "delta" && v == null && Array.isArray(l?.hGradNorm)) perStep.add(name); else dropped++;
      }
      const sname = `${q.label} ${label}`;
      series.push({ name: sname, panel: q.key, data });
      opt.push(line(sname, data, q.color, dash, { xAxisIndex: gi, yAxisIndex: gi, showSymbol: true, symbolSize: 6 }));
    }
  });
  const ranges = [scales.profileDelta ?? decadeRange(values[0]), scales.profileUpdate ?? decadeRange(values[1])];
  const title = "Depth profile: how fast each layer learns";
  const subtitle = joinNotes(
    "left: ‖δ‖, the error reaching each layer (mean per-example ‖∂ℓ/∂z‖ = ‖∂ℓ/∂b‖, how fast its biases learn); right: ‖ΔW‖/‖W‖, how much one update changes its weights",
    "input layer on the left, log scale · dashed: at initialization, solid: now",
    perStep.size ? `the error reaching ${[...perStep].join(", ")} is recorded per time step (‖∂ℓ/∂h_t‖ against t, in its own chart), so no ‖δ‖ is shown for ${perStep.size === 1 ? "it" : "them"}` : "",
    droppedNote(dropped), names.length === 0 ? "no layer with weights" : "",
  );
  const f = frame(title, subtitle, series.map((s) => s.name));
  const panelW = (W - 78 - f.right - 70) / 2;
  const lefts = [78, 78 + panelW + 70];
  const xAxis = (gi: number): ChartOption => ({ type: "category", gridIndex: gi, data: names, name: "layer (input → output)", nameLocation: "middle", nameGap: 30, boundaryGap: false, axisLabel: { fontSize: 10 } });
  const yAxis = (gi: number): ChartOption => ({ ...logAxis(gi === 0 ? "‖δ‖ (mean per example)" : "‖ΔW‖/‖W‖ per update", ranges[gi]), gridIndex: gi, nameGap: 52 });
  const option: ChartOption = {
    ...f.base,
    tooltip: { trigger: "item" },
    grid: lefts.map((left) => ({ left, width: panelW, top: f.top, bottom: 52 })),
    xAxis: [xAxis(0), xAxis(1)],
    yAxis: [yAxis(0), yAxis(1)],
    series: opt,
  };
  return spec(CHART_IDS.depthProfile, title, subtitle, option, series, 400, W, ranges[0]);
}

/** The depth profile's layers, input → output: those of the first record, then any new in the last. */
function profileNames(first: StepRecord, last: StepRecord): string[] {
  const names = profileLayers(first).map((l) => l.name);
  for (const l of profileLayers(last)) if (!names.includes(l.name)) names.push(l.name);
  return names;
}

// ---------------------------------------------------------------------------------------------
// The charts of one run.

/**
 * Training loss (left axis) and batch accuracy (right axis, 0–100 %) against the step, plus
 * the test accuracy after each epoch when known.
 */
export function lossChart(run: RunData, scales: Scales = {}): ChartSpec {
  const recs = run.records;
  const idx = sampleIndices(recs.length, MAX_POINTS);
  const loss: number[][] = [], acc: number[][] = [];
  let dropped = 0;
  for (const i of idx) {
    const r = recs[i];
    if (finite(r.loss)) loss.push([r.step, r.loss]); else dropped++;
    if (finite(r.accuracy)) acc.push([r.step, r.accuracy]);
  }
  const series: SeriesData[] = [{ name: "loss", data: loss }, { name: "batch accuracy", data: acc }];
  const opt: ChartOption[] = [
    line("loss", loss, OKABE_ITO[0]),
    line("batch accuracy", acc, OKABE_ITO[1], "solid", { yAxisIndex: 1, lineStyle: { color: OKABE_ITO[1], width: 1.5, opacity: 0.8 } }),
  ];
  const test: number[][] = [];
  if (run.epochs?.length) {
    const spe = run.stepsPerEpoch;
    for (const e of run.epochs) {
      // The epoch's last step; without stepsPerEpoch, the last recorded step of that epoch.
      const x = spe !== undefined ? e.epoch * spe - 1 : Math.max(...recs.filter((r) => r.epoch === e.epoch - 1).map((r) => r.step));
      if (Number.isFinite(x) && finite(e.testAccuracy)) test.push([x, e.testAccuracy]);
    }
    series.push({ name: "test accuracy", data: test });
    opt.push({ type: "scatter", name: "test accuracy", data: test, yAxisIndex: 1, symbol: "diamond", symbolSize: 11, color: OKABE_ITO[2], itemStyle: { color: OKABE_ITO[2] } });
  }
  const subtitle = joinNotes(
    `loss: mean over the batch (nats) · accuracy: fraction of the batch correct${run.epochs?.length ? " · diamonds: test accuracy after each epoch" : ""}`,
    sampledNote(recs.length, idx.length, "recorded steps"),
    dropped ? `${dropped} non-finite loss value${dropped === 1 ? "" : "s"} not shown` : "",
  );
  const title = "Loss and accuracy during training";
  const f = frame(title, subtitle, series.map((s) => s.name), W, 48);
  const option: ChartOption = {
    ...f.base,
    grid: plotGrid(f),
    xAxis: stepAxis(scales.stepMax),
    yAxis: [
      { type: "value", name: "loss (nats)", nameLocation: "middle", nameGap: 50, ...(scales.loss ? { min: scales.loss[0], max: scales.loss[1] } : { min: 0 }) },
      { type: "value", name: "accuracy (%)", nameLocation: "middle", nameGap: 40, min: 0, max: 1, splitLine: { show: false }, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}` } },
    ],
    series: opt,
  };
  return spec(CHART_IDS.loss, title, subtitle, option, series, 400);
}

/** One log-axis line per layer over training: `value(layer)` is the quantity plotted. */
function perLayerLog(
  run: RunData, id: string, title: string, axisName: string, what: string,
  value: (l: LayerRecord) => number | null | undefined, range: [number, number] | undefined, stepMax: number | undefined,
): ChartSpec {
  const recs = run.records;
  const names = layerNames(recs);
  const colors = layerColors(names);
  const idx = sampleIndices(recs.length, MAX_POINTS);
  let dropped = 0;
  const series: SeriesData[] = [];
  const all: number[] = [];
  for (const name of names) {
    const data: number[][] = [];
    let has = false; // the layer reports this quantity at all (a shape-only layer has no δ)
    for (const i of idx) {
      const l = layerAt(recs[i], name);
      const v = l ? value(l) : undefined;
      if (v === undefined) continue;
      has = true;
      if (positive(v)) { data.push([recs[i].step, v]); all.push(v); } else dropped++;
    }
    if (has) series.push({ name, data });
  }
  const r = range ?? decadeRange(all);
  const subtitle = joinNotes(`${what}; one line per layer, log scale`, sampledNote(recs.length, idx.length, "recorded steps"), droppedNote(dropped), series.length === 0 ? "no layer has this quantity" : "");
  const f = frame(title, subtitle, series.map((s) => s.name));
  const option: ChartOption = {
    ...f.base,
    grid: plotGrid(f),
    xAxis: stepAxis(stepMax),
    yAxis: logAxis(axisName, r),
    series: series.map((s) => line(s.name, s.data, colors.get(s.name)!)),
  };
  return spec(id, title, subtitle, option, series, heightFor(series.length), W, r);
}

/**
 * ‖∂L/∂W‖ of each layer's weight tensor over training (log y). Not how fast a layer learns: the
 * norm sums δ times the layer's inputs over its fan-in, so a wide first layer shows a large one.
 */
export function gradNormChart(run: RunData, scales: Scales = {}): ChartSpec {
  return perLayerLog(
    run, CHART_IDS.gradNorm, "Weight-gradient norm ‖∂L/∂W‖ per layer", "‖∂L/∂W‖ (L2 norm)",
    "L2 norm of the gradient of the batch-mean loss w.r.t. each layer's weight matrix; it grows with the layer's fan-in (a weight gradient is δ times the layer's input, summed over the batch, and a first layer on MNIST has 784 inputs), so a wide first layer can show the largest ‖∂L/∂W‖ while its ‖δ‖ is the smallest: for how fast a layer learns, read the depth profile",
    (l) => { const k = weightKey(l); return k === undefined ? undefined : l.params[k].gradNorm; },
    scales.gradNorm, scales.stepMax,
  );
}

/** Mean per-example ‖δ‖ = ‖∂ℓ/∂z‖ at each layer's pre-activation over training (log y). */
export function deltaNormChart(run: RunData, scales: Scales = {}): ChartSpec {
  return perLayerLog(
    run, CHART_IDS.deltaNorm, "Back-propagated error δ per layer", "‖δ‖ = ‖∂ℓ/∂z‖ (mean per example)",
    "mean over examples of the L2 norm of δ = ∂ℓ/∂z at the layer's pre-activation",
    (l) => (l.deltaNorm === null ? undefined : l.deltaNorm),
    scales.deltaNorm, scales.stepMax,
  );
}

/** log10 of the layer's weight-gradient norm, or null when it has none / it is not positive. */
function log10Grad(l: LayerRecord | undefined): number | null | undefined {
  if (!l) return undefined;
  const k = weightKey(l);
  if (k === undefined) return undefined;
  const v = l.params[k].gradNorm;
  return positive(v) ? Math.log10(v) : null;
}

function heatmapOption(
  title: string, subtitle: string, xName: string, yName: string, xs: string[], ys: string[],
  cells: [number, number, number][], range: [number, number], colorName: string, height: number,
): ChartOption {
  const f = frame(title, subtitle, null);
  return {
    ...f.base,
    tooltip: { position: "top" },
    grid: { left: 110, right: 110, top: f.top, bottom: 58 },
    xAxis: { type: "category", data: xs, name: xName, nameLocation: "middle", nameGap: 34, splitArea: { show: false } },
    yAxis: { type: "category", data: ys, name: yName, nameLocation: "middle", nameGap: 92, splitArea: { show: false } },
    visualMap: {
      type: "continuous", min: range[0], max: range[1], calculable: false, orient: "vertical", right: 12, top: "middle",
      itemHeight: Math.max(100, height - f.top - 130), text: [`${range[1].toFixed(1)}`, `${range[0].toFixed(1)}`],
      textStyle: { fontSize: 11 }, precision: 1, inRange: { color: VIRIDIS },
    },
    series: [{ type: "heatmap", name: colorName, data: cells, emphasis: { disabled: true } }],
  };
}

/** log10 range for heatmap colours, whole units: [⌊min⌋, ⌈max⌉]. */
function log10Range(values: number[]): [number, number] {
  if (values.length === 0) return [-1, 0];
  const a = Math.floor(Math.min(...values)), b = Math.max(a + 1, Math.ceil(Math.max(...values)));
  return [a, b];
}

/**
 * Heatmap of log10 ‖∂L/∂W‖: one row per weighted layer (the input layer at the BOTTOM), one
 * column per recorded step. Vanishing gradients show as a dark bottom band.
 */
export function gradHeatmapChart(run: RunData, scales: Scales = {}): ChartSpec {
  const recs = run.records;
  const names = layerNames(recs).filter((n) => recs.some((r) => { const l = layerAt(r, n); return l !== undefined && weightKey(l) !== undefined; }));
  const cols = sampleIndices(recs.length, MAX_HEAT_COLS);
  const rows = sampleIndices(names.length, MAX_HEAT_ROWS).map((i) => names[i]);
  const cells: [number, number, number][] = [];
  const data: (string | number)[][] = [];
  let dropped = 0;
  cols.forEach((ri, x) => rows.forEach((name, y) => {
    const v = log10Grad(layerAt(recs[ri], name));
    if (v === undefined) return;
    if (v === null) { dropped++; return; }
    cells.push([x, y, v]);
    data.push([recs[ri].step, name, v]);
  }));
  const range = scales.gradHeat ?? log10Range(cells.map((c) => c[2]));
  const subtitle = joinNotes(
    "colour: log10 of the weight-gradient L2 norm; rows: layers, input at the bottom",
    sampledNote(recs.length, cols.length, "recorded steps"), sampledNote(names.length, rows.length, "layers"),
    dropped ? `${dropped} cell${dropped === 1 ? "" : "s"} with a zero or non-finite norm left blank` : "",
  );
  const title = "Gradient flow: log10 ‖∂L/∂W‖ by layer and step";
  const height = Math.max(320, 150 + 26 * rows.length);
  const option = heatmapOption(title, subtitle, "training step", "layer (input at bottom)", cols.map((i) => String(recs[i].step)), rows, cells, range, "log10 ‖∂L/∂W‖", height);
  return spec(CHART_IDS.gradHeatmap, title, subtitle, option, [{ name: "log10 ‖∂L/∂W‖", data }], height, W, range);
}

/** A file-name-safe form of a layer name. */
function safeId(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/**
 * For one recurrent layer: heatmap of log10 ‖∂ℓ/∂h_t‖ with time step t as rows (t = 1, the
 * first input, at the bottom; t = 1…T as in the diagnosis, hGradNorm[t − 1]) and recorded
 * steps as columns.
 */
export function timeHeatmapChart(run: RunData, layer: string, scales: Scales = {}, id = `${CHART_IDS.timeHeatmap}-${safeId(layer)}`): ChartSpec {
  const recs = run.records.filter((r) => layerAt(r, layer)?.hGradNorm);
  const T = Math.max(0, ...recs.map((r) => layerAt(r, layer)!.hGradNorm!.length));
  const cols = sampleIndices(recs.length, MAX_HEAT_COLS);
  const ts = sampleIndices(T, MAX_HEAT_ROWS);
  const cells: [number, number, number][] = [];
  const data: (string | number)[][] = [];
  let dropped = 0;
  cols.forEach((ri, x) => {
    const h = layerAt(recs[ri], layer)!.hGradNorm!;
    ts.forEach((t, y) => {
      if (t >= h.length) return;
      const v = h[t];
      if (!positive(v)) { dropped++; return; }
      const lv = Math.log10(v);
      cells.push([x, y, lv]);
      data.push([recs[ri].step, t + 1, lv]);
    });
  });
  const range = scales.timeHeat ?? log10Range(cells.map((c) => c[2]));
  const subtitle = joinNotes(
    `colour: log10 of the mean per-example ‖∂ℓ/∂h_t‖ in ${layer}; rows: time steps, t = 1 (first input) at the bottom`,
    sampledNote(recs.length, cols.length, "recorded steps"), sampledNote(T, ts.length, "time steps"),
    dropped ? `${dropped} zero or non-finite cell${dropped === 1 ? "" : "s"} left blank` : "",
  );
  const title = `Gradient through time in ${layer}: log10 ‖∂ℓ/∂h_t‖`;
  const height = Math.max(340, Math.min(620, 150 + 12 * ts.length));
  const option = heatmapOption(title, subtitle, "training step", "time step t (t = 1 at bottom)", cols.map((i) => String(recs[i].step)), ts.map((t) => String(t + 1)), cells, range, "log10 ‖∂ℓ/∂h_t‖", height);
  return spec(id, title, subtitle, option, [{ name: `${layer} log10 ‖∂ℓ/∂h_t‖`, data }], height, W, range);
}

/** The category of exact zeros in the gradient histograms. */
export const ZERO_LABEL = "= 0";

/** Category labels of histogram bins: "<-10", "-10", "-9.5", …, "≥1" (log10 |g|) or "<-1", …, "≥1". */
export function histLabels(edges: readonly number[], log: boolean): string[] {
  const f = (e: number) => (log ? Number(Math.log10(e).toFixed(2)) : Number(e.toFixed(2))).toString();
  return [`<${f(edges[0])}`, ...edges.slice(0, -1).map(f), `≥${f(edges[edges.length - 1])}`];
}

/**
 * Histograms at initialization and at the end, side by side with a shared y axis, one line
 * per layer (Glorot & Bengio 2010, figs. 6–7). y is the fraction of the layer's entries in
 * each bin, so layers of different sizes compare.
 */
function histChart(run: RunData, kind: "grad" | "act", shared: number | undefined): ChartSpec {
  const recs = run.records;
  const first = recs[0], last = recs[recs.length - 1];
  const names = layerNames(recs);
  const colors = layerColors(names);
  const edges = kind === "grad" ? GRAD_HIST_EDGES : ACT_HIST_EDGES;
  // Gradients: exact zeros get their own first category ("= 0"), taken out of the lowest bin.
  const labels = kind === "grad" ? [ZERO_LABEL, ...histLabels(edges, true)] : histLabels(edges, false);
  const series: SeriesData[] = [];
  const opt: ChartOption[] = [];
  let ymax = 0;
  let mostZeros: { name: string; fraction: number; panel: string } | null = null;
  const panels: [string, StepRecord | undefined, number][] = [["init", first, 0], ["end", last, 1]];
  for (const [panel, rec, gi] of panels) {
    if (!rec) continue;
    for (const l of rec.layers) {
      const counts = kind === "grad" ? l.hist?.grad : l.hist?.act;
      if (!counts || counts.length === 0) continue;
      const total = counts.reduce((s, c) => s + c, 0);
      const frac = (c: number) => (total > 0 ? c / total : 0);
      let data: (string | number)[][];
      if (kind === "grad") {
        const k = weightKey(l);
        const zeros = k === undefined ? undefined : l.params[k]?.zeros;
        // Without a zero count (records from before it was measured) the "= 0" point is left out.
        const split = typeof zeros === "number" && zeros <= counts[0] ? [[ZERO_LABEL, frac(zeros)], [labels[1], frac(counts[0] - zeros)]] : [[labels[1], frac(counts[0])]];
        data = [...split, ...counts.slice(1).map((c, i) => [labels[i + 2] ?? String(i + 1), frac(c)])];
        if (typeof zeros === "number" && total > 0 && (mostZeros === null || zeros / total > mostZeros.fraction)) mostZeros = { name: l.name, fraction: zeros / total, panel };
      } else {
        data = counts.map((c, k) => [labels[k] ?? String(k), frac(c)]);
      }
      for (const d of data) ymax = Math.max(ymax, d[1] as number);
      series.push({ name: l.name, panel, data });
      opt.push(line(l.name, data, colors.get(l.name)!, panel === "init" ? "dashed" : "solid", { xAxisIndex: gi, yAxisIndex: gi, showSymbol: true, symbolSize: 3 }));
    }
  }
  const top = shared ?? (ymax > 0 ? Math.min(1, Math.ceil(ymax * 10) / 10) : 1);
  const what = kind === "grad" ? "|∂L/∂W| of each layer's weights, log10 bins of half a decade" : "activation values f(z), bins of 0.1 on [−1, 1]";
  const title = kind === "grad" ? "Weight-gradient histograms at initialization and at the end" : "Activation histograms at initialization and at the end";
  const zeroNote = mostZeros === null ? "" : `"= 0": entries exactly zero, which come from inputs that are 0 for the whole batch (blank border pixels give exactly zero weight gradients)${mostZeros.fraction > 0 ? `; most: ${mostZeros.name}, ${(100 * mostZeros.fraction).toFixed(0)}% ${mostZeros.panel === "init" ? "at initialization" : "at the end"}` : ""}`;
  const subtitle = joinNotes(
    `${what}; y: fraction of the layer's entries`,
    zeroNote,
    series.length === 0 ? "histograms were not recorded (record.histograms is off)" : "",
  );
  const xName = kind === "grad" ? "log10 |∂L/∂W| (bin start)" : "activation (bin start)";
  // Label whole decades (gradients) or −1, −0.5, 0, 0.5, 1 (activations), plus the end bins.
  const lastBin = labels.length - 1;
  const o = kind === "grad" ? 1 : 0; // the "= 0" category comes first
  const labelled = (k: number) => k === 0 || k === lastBin || (k > 1 + o && k < lastBin - 1 && (k - 1 - o) % (kind === "grad" ? 4 : 5) === 0);
  const f = frame(title, subtitle, [...new Set(series.map((s) => s.name))]);
  const panelW = (W - 78 - f.right - 40) / 2;
  const lefts = [78, 78 + panelW + 40];
  const axis = (gi: number): ChartOption => ({ type: "category", gridIndex: gi, data: labels, name: xName, nameLocation: "middle", nameGap: 30, axisLabel: { interval: (k: number) => labelled(k), fontSize: 10 }, axisTick: { alignWithLabel: true } });
  const yAxis = (gi: number): ChartOption => ({ type: "value", gridIndex: gi, min: 0, max: top, name: gi === 0 ? "fraction of entries (%)" : "", nameLocation: "middle", nameGap: 44, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}` } });
  const height = heightFor(names.length, 380);
  const option: ChartOption = {
    ...f.base,
    tooltip: { trigger: "item" },
    grid: lefts.map((left) => ({ left, width: panelW, top: f.top + 16, bottom: 52 })),
    xAxis: [axis(0), axis(1)],
    yAxis: [yAxis(0), yAxis(1)],
    series: opt,
  };
  option.title = [
    option.title as ChartOption,
    { text: `at initialization (step ${first?.step ?? "–"}), dashed`, left: lefts[0] + 8, top: f.top - 6, textStyle: { fontSize: 11, fontWeight: "normal" } },
    { text: `at the end (step ${last?.step ?? "–"}), solid`, left: lefts[1] + 8, top: f.top - 6, textStyle: { fontSize: 11, fontWeight: "normal" } },
  ];
  return spec(kind === "grad" ? CHART_IDS.gradHist : CHART_IDS.actHist, title, subtitle, option, series, height, W, [0, top]);
}

export const gradHistChart = (run: RunData, scales: Scales = {}): ChartSpec => histChart(run, "grad", scales.gradHist);
export const actHistChart = (run: RunData, scales: Scales = {}): ChartSpec => histChart(run, "act", scales.actHist);

/**
 * Fraction of saturated units (sigmoid/tanh: |f′(z)| < 1 % of its maximum; solid) and of dead
 * ReLU units (z ≤ 0 for the whole batch; dashed) per layer over training, 0–100 %.
 */
export function saturationChart(run: RunData, scales: Scales = {}): ChartSpec {
  const recs = run.records;
  const names = layerNames(recs);
  const colors = layerColors(names);
  const idx = sampleIndices(recs.length, MAX_POINTS);
  const series: SeriesData[] = [];
  const opt: ChartOption[] = [];
  for (const name of names) {
    for (const key of ["saturated", "dead"] as const) {
      const data: number[][] = [];
      for (const i of idx) {
        const v = layerAt(recs[i], name)?.activation?.[key];
        if (finite(v)) data.push([recs[i].step, v]);
      }
      if (data.length === 0) continue;
      const sname = `${name} ${key}`;
      series.push({ name: sname, data });
      opt.push(line(sname, data, colors.get(name)!, key === "saturated" ? "solid" : "dashed"));
    }
  }
  const title = "Saturated and dead units per layer";
  const subtitle = joinNotes(
    "saturated (solid): |f′(z)| < 1% of its max (sigmoid, tanh) · dead (dashed): relu z ≤ 0 for the whole batch",
    sampledNote(recs.length, idx.length, "recorded steps"),
    series.length === 0 ? "no saturating (sigmoid/tanh) or relu layer in this model" : "",
  );
  const f = frame(title, subtitle, series.map((s) => s.name));
  const option: ChartOption = {
    ...f.base,
    grid: plotGrid(f),
    xAxis: stepAxis(scales.stepMax),
    yAxis: { type: "value", min: 0, max: 1, name: "fraction of units (%)", nameLocation: "middle", nameGap: 44, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}` } },
    series: opt,
  };
  return spec(CHART_IDS.saturation, title, subtitle, option, series, heightFor(series.length), W, [0, 1]);
}

/** Recurrent layer names in order. */
export function recurrentLayers(records: readonly StepRecord[]): string[] {
  return layerNames(records).filter((n) => records.some((r) => { const l = layerAt(r, n); return l !== undefined && isRecurrent(l); }));
}

/** A log line over t = 1…T (values[t − 1]), dropping what a log axis cannot show. */
function timeLine(values: readonly number[] | undefined): { data: number[][]; dropped: number; kept: number[] } {
  const data: number[][] = [], kept: number[] = [];
  let dropped = 0;
  if (!values) return { data, dropped, kept };
  const ts = sampleIndices(values.length, MAX_POINTS);
  for (const t of ts) { const v = values[t]; if (positive(v)) { data.push([t + 1, v]); kept.push(v); } else dropped++; }
  return { data, dropped, kept };
}

/**
 * ‖∂ℓ/∂h_t‖ against the time step t, at initialization (dashed) and at the end (solid), per
 * recurrent layer (LSTM: ‖∂ℓ/∂c_t‖ dotted), log y. t = 1…T (the diagnosis' convention). A straight falling line toward t = 1 is
 * exponential decay through time.
 */
export function timeNormChart(run: RunData, scales: Scales = {}): ChartSpec {
  const recs = run.records;
  const names = recurrentLayers(recs);
  const colors = layerColors(layerNames(recs));
  const first = recs[0], last = recs[recs.length - 1];
  const series: SeriesData[] = [];
  const opt: ChartOption[] = [];
  const all: number[] = [];
  let dropped = 0;
  for (const name of names) {
    const pairs: [string, StepRecord, "dashed" | "solid"][] = [["init", first, "dashed"], ["end", last, "solid"]];
    for (const [when, rec, dash] of pairs) {
      const l = layerAt(rec, name);
      for (const [q, values, style] of [["h", l?.hGradNorm, dash], ["c", l?.cGradNorm, "dotted"]] as const) {
        if (!values) continue;
        const { data, dropped: d, kept } = timeLine(values);
        dropped += d;
        all.push(...kept);
        const sname = `${name} ‖∂ℓ/∂${q}_t‖ ${when} (step ${rec.step})`;
        series.push({ name: sname, panel: when, data });
        // ‖∂ℓ/∂c_t‖ is dotted and thinner; its initialization line is also faded.
        const color = colors.get(name)!;
        opt.push(line(sname, data, color, style, q === "c" ? { lineStyle: { color, width: 1.5, type: style, opacity: when === "init" ? 0.5 : 1 } } : {}));
      }
    }
  }
  const r = scales.hNorm ?? decadeRange(all);
  const title = "Gradient through time: ‖∂ℓ/∂h_t‖ against t";
  const subtitle = joinNotes(
    "mean per-example norm of ∂ℓ/∂h_t; t = 1 is the first input, t = T the last · dashed: initialization, solid: end",
    droppedNote(dropped), names.length === 0 ? "no recurrent layer" : "",
  );
  const f = frame(title, subtitle, series.map((s) => s.name), W + 80);
  const option: ChartOption = {
    ...f.base,
    grid: plotGrid(f),
    xAxis: { type: "value", name: "time step t (1 = first input)", nameLocation: "middle", nameGap: 28, min: 1, splitLine: { show: false } },
    yAxis: logAxis("‖∂ℓ/∂h_t‖ (mean per example)", r),
    series: opt,
  };
  return spec(CHART_IDS.timeNorm, title, subtitle, option, series, heightFor(series.length), W + 80, r);
}

/**
 * σ_max(W_hh)·γ over training per recurrent layer (log y), with the line at 1: below it,
 * Pascanu et al. (2013, §2.2) prove the gradient through time vanishes.
 */
export function pascanuChart(run: RunData, scales: Scales = {}): ChartSpec {
  const recs = run.records;
  const names = recurrentLayers(recs);
  const colors = layerColors(layerNames(recs));
  const idx = sampleIndices(recs.length, MAX_POINTS);
  const series: SeriesData[] = [];
  const all: number[] = [1];
  let dropped = 0;
  for (const name of names) {
    const data: number[][] = [];
    for (const i of idx) {
      const v = layerAt(recs[i], name)?.pascanu;
      if (v === undefined) continue;
      if (positive(v)) { data.push([recs[i].step, v]); all.push(v); } else dropped++;
    }
    series.push({ name, data });
  }
  const r = scales.pascanu ?? decadeRange(all);
  const title = "Pascanu's condition: σ_max(W_hh)·γ during training";
  const subtitle = joinNotes("γ = 1/4 (sigmoid), 1 (tanh); below 1 the gradient through time must vanish (Pascanu et al. 2013)", droppedNote(dropped));
  const f = frame(title, subtitle, series.map((s) => s.name));
  const option: ChartOption = {
    ...f.base,
    grid: plotGrid(f),
    xAxis: stepAxis(scales.stepMax),
    yAxis: logAxis("σ_max(W_hh)·γ", r),
    series: series.map((s, k) => line(s.name, s.data, colors.get(s.name)!, "solid", k === 0 ? {
      markLine: { silent: true, symbol: "none", data: [{ yAxis: 1 }], label: { formatter: "1: vanishing below", position: "insideEndTop", fontSize: 10 }, lineStyle: { color: "#555", type: "dashed", width: 1 } },
    } : {})),
  };
  return spec(CHART_IDS.pascanu, title, subtitle, option, series, heightFor(series.length), W, r);
}

/**
 * Every chart of one run, in report order, the depth profile first. Recurrent charts appear only when a layer carries
 * hGradNorm; all others always appear (their subtitle says when they are empty).
 */
export function runCharts(run: RunData, scales: Scales = {}): ChartSpec[] {
  const charts = [depthProfileChart(run, scales), lossChart(run, scales), gradNormChart(run, scales), deltaNormChart(run, scales), gradHeatmapChart(run, scales)];
  const rnn = recurrentLayers(run.records);
  const ids = new Set<string>();
  for (const name of rnn) {
    let id = `${CHART_IDS.timeHeatmap}-${safeId(name)}`;
    while (ids.has(id)) id += "_";
    ids.add(id);
    charts.push(timeHeatmapChart(run, name, scales, id));
  }
  if (rnn.length) charts.push(timeNormChart(run, scales), pascanuChart(run, scales));
  charts.push(gradHistChart(run, scales), actHistChart(run, scales), saturationChart(run, scales));
  return charts;
}

// ---------------------------------------------------------------------------------------------
// Comparisons.

export interface CompareRun extends RunData { label: string }

/** Whole decades around the values of one panel of a chart. */
const panelRange = (c: ChartSpec, panel: string) => decadeRange(c.series.filter((s) => s.panel === panel).flatMap((s) => s.data.map((p) => p[1] as number)));

/** Axis ranges covering every run, so their charts share axes. */
export function sharedScales(runs: readonly RunData[]): Scales {
  const each = runs.map((r) => ({
    pd: panelRange(depthProfileChart(r), "delta"), pu: panelRange(depthProfileChart(r), "update"),
    g: gradNormChart(r).range, d: deltaNormChart(r).range, gh: gradHeatmapChart(r).range,
    th: recurrentLayers(r.records).map((n) => timeHeatmapChart(r, n).range),
    h: recurrentLayers(r.records).length ? timeNormChart(r).range : undefined,
    p: recurrentLayers(r.records).length ? pascanuChart(r).range : undefined,
    gh2: gradHistChart(r).range?.[1], ah: actHistChart(r).range?.[1],
  }));
  const losses = runs.flatMap((r) => r.records.map((x) => x.loss)).filter(finite);
  const steps = runs.flatMap((r) => r.records.map((x) => x.step));
  const max = (xs: (number | undefined)[]) => { const ok = xs.filter((x): x is number => x !== undefined); return ok.length ? Math.max(...ok) : undefined; };
  return {
    profileDelta: unionRange(each.map((e) => e.pd)),
    profileUpdate: unionRange(each.map((e) => e.pu)),
    gradNorm: unionRange(each.map((e) => e.g)),
    deltaNorm: unionRange(each.map((e) => e.d)),
    gradHeat: unionRange(each.map((e) => e.gh)),
    timeHeat: unionRange(each.flatMap((e) => e.th)),
    hNorm: unionRange(each.map((e) => e.h)),
    pascanu: unionRange(each.map((e) => e.p)),
    gradHist: max(each.map((e) => e.gh2)),
    actHist: max(each.map((e) => e.ah)),
    loss: losses.length ? [0, Math.max(...losses)] : undefined,
    stepMax: steps.length ? niceCeil(Math.max(...steps)) : undefined,
  };
}

/** ‖δ‖ of the depth profile's layers (normalization excluded), input → output; NaN where a layer has none. */
function depthProfile(rec: StepRecord | undefined): number[] {
  if (!rec) return [];
  return profileLayers(rec).map((l) => l.deltaNorm ?? Number.NaN);
}

/** Overlay of one quantity per run, one colour per run. */
function overlay(id: string, title: string, subtitle: string, xAxis: ChartOption, yAxis: ChartOption, series: SeriesData[], colorOf: (s: SeriesData) => string, dashOf: (s: SeriesData) => "solid" | "dashed" | "dotted", range?: [number, number]): ChartSpec {
  const f = frame(title, subtitle, series.map((s) => s.name));
  const option: ChartOption = {
    ...f.base,
    grid: plotGrid(f),
    xAxis, yAxis,
    series: series.map((s) => line(s.name, s.data, colorOf(s), dashOf(s))),
  };
  return spec(id, title, subtitle, option, series, heightFor(series.length), W, range);
}

/**
 * The overlay charts of a comparison: loss, batch accuracy, ‖δ‖ against depth (the depth
 * profile) at initialization and at the end, and (when any run is recurrent) ‖∂ℓ/∂h_t‖ against t.
 */
export function compareCharts(runs: readonly CompareRun[]): ChartSpec[] {
  const colorOf = new Map(runs.map((r, i) => [r.label, OKABE_ITO[i % OKABE_ITO.length]]));
  const scales = sharedScales(runs);
  const out: ChartSpec[] = [];
  const byRun = (f: (r: CompareRun) => number[][], suffix = "") => runs.map((r) => ({ name: r.label + suffix, panel: r.label, data: f(r) }));
  const steps = (r: CompareRun, v: (s: StepRecord) => number) => sampleIndices(r.records.length, MAX_POINTS).map((i) => r.records[i]).filter((s) => finite(v(s))).map((s) => [s.step, v(s)]);
  const runColor = (s: SeriesData) => colorOf.get(s.panel!)!;
  out.push(overlay(COMPARE_IDS.loss, "Loss during training", "mean batch loss (nats); one colour per run",
    stepAxis(scales.stepMax), { type: "value", min: 0, name: "loss (nats)", nameLocation: "middle", nameGap: 50 },
    byRun((r) => steps(r, (s) => s.loss)), runColor, () => "solid"));
  out.push(overlay(COMPARE_IDS.accuracy, "Batch accuracy during training", "fraction of each training batch classified correctly; one colour per run",
    stepAxis(scales.stepMax), { type: "value", min: 0, max: 1, name: "batch accuracy (%)", nameLocation: "middle", nameGap: 44, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}` } },
    byRun((r) => steps(r, (s) => s.accuracy)), runColor, () => "solid", [0, 1]));
  let dropped = 0;
  const depth: SeriesData[] = [];
  for (const r of runs) {
    for (const [when, rec] of [["init", r.records[0]], ["end", r.records[r.records.length - 1]]] as const) {
      const data: number[][] = [];
      depthProfile(rec).forEach((v, i) => { if (positive(v)) data.push([i + 1, v]); else dropped++; });
      depth.push({ name: `${r.label} ${when} (step ${rec?.step ?? "–"})`, panel: r.label, data });
    }
  }
  const dr = decadeRange(depth.flatMap((s) => s.data.map((p) => p[1] as number)));
  const maxDepth = Math.max(1, ...depth.map((s) => s.data.length ? Math.max(...s.data.map((p) => p[0] as number)) : 1));
  out.push(overlay(COMPARE_IDS.depth, "Depth profile: ‖δ‖ against depth",
    joinNotes("‖δ‖, the error reaching each weighted layer (how fast it learns), layer 1 = input side · dashed: initialization, solid: end", droppedNote(dropped)),
    { type: "value", name: "weighted layer (1 = input)", nameLocation: "middle", nameGap: 28, min: 1, max: maxDepth, minInterval: 1 },
    logAxis("‖δ‖ (mean per example)", dr), depth, runColor, (s) => (s.name.includes(" init ") ? "dashed" : "solid"), dr));
  if (runs.some((r) => recurrentLayers(r.records).length > 0)) {
    const ts: SeriesData[] = [];
    let d2 = 0;
    for (const r of runs) {
      const layer = recurrentLayers(r.records)[0];
      if (layer === undefined) continue;
      for (const [when, rec] of [["init", r.records[0]], ["end", r.records[r.records.length - 1]]] as const) {
        const { data, dropped: d } = timeLine(layerAt(rec, layer)?.hGradNorm);
        d2 += d;
        ts.push({ name: `${r.label} ${layer} ${when} (step ${rec.step})`, panel: r.label, data });
      }
    }
    out.push(overlay(COMPARE_IDS.time, "Gradient through time, per run",
      joinNotes("‖∂ℓ/∂h_t‖ of each run's first recurrent layer; t = 1 is the first input · dashed: initialization, solid: end", droppedNote(d2)),
      { type: "value", name: "time step t (1 = first input)", nameLocation: "middle", nameGap: 28, min: 1 },
      logAxis("‖∂ℓ/∂h_t‖ (mean per example)", scales.hNorm), ts, runColor, (s) => (s.name.includes(" init ") ? "dashed" : "solid"), scales.hNorm));
  }
  return out;
}
