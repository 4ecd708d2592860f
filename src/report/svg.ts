/**
 * A static SVG renderer for the charts gradlab draws: the subset of ECharts options that
 * charts.ts and the replication figures write (titles, a legend, one or more grids, category /
 * value / log axes, line, scatter and heatmap series, a horizontal mark line, a continuous
 * visual map), drawn the way ECharts draws them, with no DOM and no chart library.
 *
 * Why not ECharts' own server-side renderer (which the browser lab still uses, interactively):
 * a report's eight to twenty charts took it 0.2–0.4 s, most of a short run's report, and its
 * code took another 0.1 s to load; this file draws the same charts in a few milliseconds. What
 * it does not know it refuses (an unknown series or axis type throws), so a new kind of chart
 * cannot silently come out blank.
 *
 * The output is one <svg> element with its own id space (`idPrefix`), the same for the same
 * option whatever was drawn before; text is escaped for XML, and control characters show as a
 * visible \u001b.
 *
 * @example drawSvg({ xAxis: { type: "value" }, yAxis: { type: "value" }, series: [{ type: "line", data: [[0, 1], [1, 2]] }] }, 400, 300).startsWith("<svg") // true
 */
import { grouped } from "../core/format.ts";
import { ramp, type ChartOption } from "./charts.ts";
import { esc } from "./escape.ts";

// The option subset this file reads (every field optional, as in ECharts).
interface TextStyleOpt { fontSize?: number; fontWeight?: string; color?: string; fontFamily?: string; lineHeight?: number }
interface AxisOpt {
  type?: string; gridIndex?: number; position?: string; data?: unknown[];
  name?: string; nameGap?: number; nameTextStyle?: TextStyleOpt;
  min?: unknown; max?: unknown; minInterval?: number; boundaryGap?: boolean;
  axisLabel?: { fontSize?: number; formatter?: unknown; interval?: unknown };
  axisLine?: { show?: boolean }; splitLine?: { show?: boolean };
}
interface LineStyleOpt { color?: string; width?: number; type?: string; opacity?: number }
interface SeriesOpt {
  type?: string; name?: unknown; data?: unknown[]; color?: string; xAxisIndex?: number; yAxisIndex?: number;
  showSymbol?: boolean; symbol?: string; symbolSize?: number; lineStyle?: LineStyleOpt; itemStyle?: { color?: string };
  markLine?: { data?: { yAxis?: number }[]; label?: { formatter?: unknown; fontSize?: number }; lineStyle?: LineStyleOpt };
}
interface TitleOpt { text?: unknown; subtext?: unknown; left?: unknown; top?: unknown; itemGap?: number; textStyle?: TextStyleOpt; subtextStyle?: TextStyleOpt }
interface LegendOpt { show?: boolean; left?: unknown; top?: unknown; itemWidth?: number; itemGap?: number; textStyle?: TextStyleOpt }
interface GridOpt { left?: unknown; right?: unknown; top?: unknown; bottom?: unknown; width?: unknown; height?: unknown }
interface VisualMapOpt { min?: unknown; max?: unknown; inRange?: { color?: string[] }; itemWidth?: number; itemHeight?: number; right?: unknown; top?: unknown; text?: unknown[]; textStyle?: TextStyleOpt }
type Many<T> = T | T[] | undefined;
interface OptionSubset {
  backgroundColor?: unknown; color?: unknown; textStyle?: TextStyleOpt;
  title?: Many<TitleOpt>; legend?: Many<LegendOpt>; grid?: Many<GridOpt>; xAxis?: Many<AxisOpt>; yAxis?: Many<AxisOpt>;
  series?: Many<SeriesOpt>; visualMap?: Many<VisualMapOpt>;
}

// ECharts' default look (its light theme), so the report reads like the lab.
const PALETTE = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc"];
const TITLE_COLOR = "#464646", SUBTITLE_COLOR = "#6e7079", AXIS_COLOR = "#6e7079", SPLIT_COLOR = "#dbdee4", LEGEND_COLOR = "#333";
const LABEL_SIZE = 12;

const arr = <T>(x: T | T[] | null | undefined): T[] => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);
const num = (x: unknown): x is number => typeof x === "number";
/** A coordinate as SVG text: two decimals at most. */
const n = (x: number): string => String(Math.round(x * 100) / 100);

/** Width of text in DejaVu Sans, estimated per character (it is wide: ~0.6 em on average). */
export function textWidth(s: string, size: number): number {
  let w = 0;
  for (const ch of s) w += /[il.,:;'|!‖ ]/.test(ch) ? 0.32 : /[mwMW@%]/.test(ch) ? 0.9 : /[A-Z0-9]/.test(ch) ? 0.68 : 0.6;
  return w * size;
}

interface TextStyle { size: number; color: string; weight?: string; anchor?: "start" | "middle" | "end" }

/** One line of text whose vertical middle is at y. */
function text(s: string, x: number, y: number, st: TextStyle, rotate = 0): string {
  const base = y + 0.36 * st.size; // the middle of a capital
  const attrs = `font-size="${st.size}" fill="${st.color}"${st.weight ? ` font-weight="${st.weight}"` : ""}${st.anchor && st.anchor !== "start" ? ` text-anchor="${st.anchor}"` : ""}`;
  if (rotate === 0) return `<text x="${n(x)}" y="${n(base)}" ${attrs}>${esc(s)}</text>`;
  // rotated about (x, y): the baseline offset turns with the text
  const r = (rotate * Math.PI) / 180;
  return `<text transform="translate(${n(x - Math.sin(r) * 0.36 * st.size)} ${n(y + Math.cos(r) * 0.36 * st.size)}) rotate(${rotate})" ${attrs}>${esc(s)}</text>`;
}

const DASHES: Record<string, (w: number) => string> = {
  solid: () => "",
  dashed: (w) => ` stroke-dasharray="${n(5 * Math.max(1, w / 1.5))} ${n(5 * Math.max(1, w / 1.5))}"`,
  dotted: (w) => ` stroke-dasharray="${n(Math.max(1, w))} ${n(2 * Math.max(1, w))}"`,
};
const dash = (type: unknown, w: number) => (DASHES[(type as string) ?? "solid"] ?? DASHES.solid)(w);

// ---------------------------------------------------------------------------------------------
// Numbers on axes.

/** ECharts' nice number: 1, 2, 3, 5 or 10 times a power of ten, rounded to the nearest. */
function nice(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const e = Math.floor(Math.log10(x)), f = x / 10 ** e;
  const m = f < 1.5 ? 1 : f < 2.5 ? 2 : f < 4 ? 3 : f < 7 ? 5 : 10;
  return m * 10 ** e;
}

/** A tick value without floating-point dust (0.30000000000000004 → 0.3). */
const clean = (x: number) => Number(x.toPrecision(12));

interface Axis {
  opt: AxisOpt;
  type: "category" | "value" | "log";
  horizontal: boolean;
  /** pixel range: [start, end] with start at the minimum (left, or bottom) */
  p0: number; p1: number;
  /** where the axis line sits (y of an x axis, x of a y axis) and which way labels go */
  at: number; outward: -1 | 1;
  categories: string[];
  boundaryGap: boolean;
  min: number; max: number;
  ticks: number[];
  /** value → pixel; undefined for what the axis cannot show */
  pos(v: unknown): number | undefined;
}

/** Interval and rounded extent of a value axis, as ECharts' interval scale makes them. */
function valueScale(o: AxisOpt, lo: number, hi: number): { min: number; max: number; ticks: number[] } {
  let min = typeof o.min === "number" ? o.min : Math.min(0, lo);
  let max = typeof o.max === "number" ? o.max : Math.max(0, hi);
  if (!(max > min)) max = min + 1;
  let step = nice((max - min) / 5);
  if (typeof o.minInterval === "number") step = Math.max(step, o.minInterval);
  if (typeof o.min !== "number") min = Math.floor(min / step) * step;
  if (typeof o.max !== "number") max = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  // at most a few dozen ticks, even where step is lost in the magnitude of min (t + step === t)
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9 && ticks.length < 40; k++) ticks.push(clean(k * step));
  if (typeof o.min === "number" && ticks[0] !== min) ticks.unshift(min);
  return { min, max, ticks };
}

/** The exponents a log axis can span: 1e-323 is the smallest power of ten a double holds (10 ** -324 is 0), 10 ** 308.25… the largest double. */
const E_MIN = -323, E_MAX = Math.log10(Number.MAX_VALUE);

/** Whole decades of a log axis, thinned to at most about eight labels. */
function logScale(o: AxisOpt, lo: number, hi: number): { min: number; max: number; ticks: number[] } {
  // an end beyond a double's range (a max of Infinity, a min of 1e-400 = 0) is clamped into it
  const within = (e: number) => Math.min(E_MAX, Math.max(E_MIN, e));
  let e0 = within(typeof o.min === "number" && o.min > 0 ? Math.log10(o.min) : Number.isFinite(lo) ? Math.floor(Math.log10(lo)) : 0);
  let e1 = within(typeof o.max === "number" && o.max > 0 ? Math.log10(o.max) : Number.isFinite(hi) ? Math.ceil(Math.log10(hi)) : e0 + 1);
  if (!(e1 > e0)) { if (e0 + 1 <= E_MAX) e1 = e0 + 1; else e0 = e1 - 1; }
  const every = Math.max(1, Math.ceil((e1 - e0) / 8));
  const ticks: number[] = [];
  for (let e = Math.ceil(e0 - 1e-9); e <= e1 + 1e-9 && ticks.length < 40; e += every) ticks.push(clean(10 ** e));
  return { min: 10 ** e0, max: 10 ** e1, ticks };
}

function makeAxis(o: AxisOpt, horizontal: boolean, rect: Rect, side: number, data: unknown[]): Axis {
  const type = (o.type ?? (horizontal ? "category" : "value")) as Axis["type"];
  if (type !== "category" && type !== "value" && type !== "log") throw new Error(`chart SVG: axis type ${String(o.type)} is not drawn`);
  const [p0, p1] = horizontal ? [rect.x0, rect.x1] : [rect.y1, rect.y0];
  const at = horizontal ? rect.y1 : side === 0 ? rect.x0 : rect.x1;
  const outward = (horizontal ? 1 : side === 0 ? -1 : 1) as -1 | 1;
  const base = { opt: o, type, horizontal, p0, p1, at, outward };
  if (type === "category") {
    const categories = arr(o.data).map((c) => String(c));
    const boundaryGap = o.boundaryGap !== false;
    const k = categories.length;
    const index = new Map(categories.map((c, i) => [c, i]));
    const pos = (v: unknown) => {
      const i = typeof v === "number" ? v : index.get(String(v));
      if (i === undefined || !Number.isFinite(i)) return undefined;
      if (boundaryGap) return p0 + ((i + 0.5) / Math.max(1, k)) * (p1 - p0);
      return k <= 1 ? (p0 + p1) / 2 : p0 + (i / (k - 1)) * (p1 - p0);
    };
    return { ...base, categories, boundaryGap, min: 0, max: k, ticks: [], pos };
  }
  const values = data.filter((v): v is number => typeof v === "number" && Number.isFinite(v) && (type !== "log" || v > 0));
  const lo = values.length ? Math.min(...values) : Number.NaN, hi = values.length ? Math.max(...values) : Number.NaN;
  const s = type === "log" ? logScale(o, lo, hi) : valueScale(o, values.length ? lo : 0, values.length ? hi : 1);
  const f = type === "log" ? Math.log10 : (x: number) => x;
  const a = f(s.min), b = f(s.max);
  const pos = (v: unknown) => {
    if (typeof v !== "number" || !Number.isFinite(v) || (type === "log" && v <= 0)) return undefined;
    return p0 + ((f(v) - a) / (b - a)) * (p1 - p0);
  };
  return { ...base, categories: [], boundaryGap: false, ...s, pos };
}

/** The category indices that get a label: the option's interval function, or every k-th so labels do not overlap. */
function shownCategories(ax: Axis, size: number): number[] {
  const k = ax.categories.length;
  const interval = ax.opt.axisLabel?.interval;
  if (typeof interval === "function") return ax.categories.map((_, i) => i).filter((i) => interval(i, ax.categories[i]));
  if (typeof interval === "number") return ax.categories.map((_, i) => i).filter((i) => i % (interval + 1) === 0);
  const spacing = Math.abs(ax.p1 - ax.p0) / Math.max(1, ax.boundaryGap ? k : k - 1);
  const need = ax.horizontal ? Math.max(...ax.categories.map((c) => textWidth(c, size)), 0) + 6 : size + 4;
  const every = Math.max(1, Math.ceil(need / Math.max(spacing, 1e-9)));
  return ax.categories.map((_, i) => i).filter((i) => i % every === 0);
}

/** Axis line, ticks, labels, name; and (into `grid`) the split lines. */
function drawAxis(ax: Axis, rect: Rect, showLine: boolean): { grid: string; axis: string } {
  const o = ax.opt;
  const size = o.axisLabel?.fontSize ?? LABEL_SIZE;
  const label = { size, color: AXIS_COLOR };
  const f = o.axisLabel?.formatter;
  const fmt = typeof f === "function" ? (v: number | string, i: number) => String(f(v, i))
    : typeof f === "string" ? (v: number | string) => f.replace("{value}", String(v)) : (v: number | string) => (typeof v === "number" ? grouped(v) : v);
  let grid = "", out = "";
  const marks: [number, string][] = ax.type === "category"
    ? shownCategories(ax, size).map((i) => [ax.pos(i)!, fmt(ax.categories[i], i)])
    : ax.ticks.map((t, i) => [ax.pos(t)!, fmt(t, i)]);
  const splitShown = o.splitLine?.show ?? ax.type !== "category";
  if (splitShown) {
    for (const [p] of marks) {
      if (ax.horizontal) grid += `<path d="M${n(Math.round(p) + 0.5)} ${n(rect.y0)}L${n(Math.round(p) + 0.5)} ${n(rect.y1)}" fill="none" stroke="${SPLIT_COLOR}"/>`;
      else grid += `<path d="M${n(rect.x0)} ${n(Math.round(p) + 0.5)}L${n(rect.x1)} ${n(Math.round(p) + 0.5)}" fill="none" stroke="${SPLIT_COLOR}"/>`;
    }
  }
  if (showLine) {
    const c = Math.round(ax.at) + 0.5;
    out += ax.horizontal ? `<path d="M${n(ax.p0)} ${n(c)}L${n(ax.p1)} ${n(c)}" stroke="${AXIS_COLOR}"/>` : `<path d="M${n(c)} ${n(ax.p0)}L${n(c)} ${n(ax.p1)}" stroke="${AXIS_COLOR}"/>`;
    for (const [p] of marks) {
      const q = Math.round(p) + 0.5;
      out += ax.horizontal ? `<path d="M${n(q)} ${n(ax.at)}L${n(q)} ${n(ax.at + 5)}" stroke="${AXIS_COLOR}"/>` : `<path d="M${n(ax.at)} ${n(q)}L${n(ax.at + 5 * ax.outward)} ${n(q)}" stroke="${AXIS_COLOR}"/>`;
    }
  }
  for (const [p, s] of marks) {
    if (ax.horizontal) out += text(s, p, ax.at + 8 + size / 2, { ...label, anchor: "middle" });
    else out += text(s, ax.at + 8 * ax.outward, p, { ...label, anchor: ax.outward < 0 ? "end" : "start" });
  }
  if (typeof o.name === "string" && o.name !== "") {
    const gap = typeof o.nameGap === "number" ? o.nameGap : 15;
    const st = { size: o.nameTextStyle?.fontSize ?? LABEL_SIZE, color: AXIS_COLOR, anchor: "middle" as const };
    const mid = (ax.p0 + ax.p1) / 2;
    // nameGap runs from the axis line to the name's near edge; a y axis name reads bottom to top
    if (ax.horizontal) out += text(o.name, mid, ax.at + gap + st.size / 2, st);
    else out += text(o.name, ax.at + (gap + st.size / 2) * ax.outward, mid, st, -90);
  }
  return { grid, axis: out };
}

// ---------------------------------------------------------------------------------------------
// Series.

interface Rect { x0: number; y0: number; x1: number; y1: number }

function gridRect(g: GridOpt, width: number, height: number): Rect {
  const px = (v: unknown, total: number, dflt: number) => (typeof v === "number" ? v : typeof v === "string" && v.endsWith("%") ? (parseFloat(v) / 100) * total : dflt);
  const x0 = px(g.left, width, 0.1 * width), y0 = px(g.top, height, 60);
  const x1 = typeof g.width === "number" ? x0 + g.width : width - px(g.right, width, 0.1 * width);
  const y1 = typeof g.height === "number" ? y0 + g.height : height - px(g.bottom, height, 60);
  return { x0, y0, x1, y1 };
}

const colorOf = (s: SeriesOpt, i: number, palette: readonly string[]): string => s.lineStyle?.color ?? s.itemStyle?.color ?? s.color ?? palette[i % palette.length];

function symbol(kind: string, x: number, y: number, size: number, color: string): string {
  const r = size / 2;
  if (kind === "diamond") return `<path d="M${n(x)} ${n(y - r)}L${n(x + r * 0.8)} ${n(y)}L${n(x)} ${n(y + r)}L${n(x - r * 0.8)} ${n(y)}Z" fill="${color}"/>`;
  if (kind === "circle") return `<circle cx="${n(x)}" cy="${n(y)}" r="${n(r)}" fill="${color}"/>`;
  if (kind === "none") return "";
  return `<circle cx="${n(x)}" cy="${n(y)}" r="${n(r)}" fill="#fff" stroke="${color}" stroke-width="2"/>`; // emptyCircle, ECharts' default
}

/** A point of a series: [x, y] pairs, or a bare y on a category x axis (its index). */
const pointOf = (d: unknown, i: number): [unknown, unknown] => (Array.isArray(d) ? [d[0], d[1]] : [i, d]);

// ---------------------------------------------------------------------------------------------
// The chart.

/**
 * Draw an ECharts option (the subset described above) as an SVG string of width × height.
 * `idPrefix` names the clip paths and gradients, so several SVGs can share one HTML page.
 */
export function drawSvg(option: ChartOption, width: number, height: number, idPrefix = "gl0"): string {
  const o = option as OptionSubset;
  const font = o.textStyle?.fontFamily ?? "sans-serif";
  const palette: string[] = Array.isArray(o.color) ? o.color.map(String) : PALETTE;
  const series = arr(o.series);
  const grids = arr(o.grid).length ? arr(o.grid) : [{}];
  const rects = grids.map((g) => gridRect(g, width, height));
  const xOpts = arr(o.xAxis), yOpts = arr(o.yAxis);
  for (const s of series) if (!["line", "scatter", "heatmap"].includes(s.type ?? "")) throw new Error(`chart SVG: series type ${String(s.type)} is not drawn`);

  // The values each axis must show (for axes without a fixed range).
  const valuesOn = (dim: 0 | 1, idx: number) => series.filter((s) => ((dim === 0 ? s.xAxisIndex : s.yAxisIndex) ?? 0) === idx)
    .flatMap((s) => arr(s.data).map((d, i) => pointOf(d, i)[dim]));
  const sides = new Map<number, number>(); // y axes per grid so far: the first goes left, the second right
  const xs = xOpts.map((a, i) => makeAxis(a, true, rects[a.gridIndex ?? 0] ?? rects[0], 0, valuesOn(0, i)));
  const ys = yOpts.map((a, i) => {
    const g = a.gridIndex ?? 0, side = sides.get(g) ?? 0;
    sides.set(g, side + 1);
    return makeAxis(a, false, rects[g] ?? rects[0], a.position === "right" ? 1 : side, valuesOn(1, i));
  });

  let defs = "", gridLines = "", axes = "", body = "", over = "";
  rects.forEach((r, i) => { defs += `<clipPath id="${idPrefix}-c${i}"><rect x="${n(r.x0 - 1)}" y="${n(r.y0 - 1)}" width="${n(r.x1 - r.x0 + 2)}" height="${n(r.y1 - r.y0 + 2)}"/></clipPath>`; });
  const gridOf = (ax: Axis) => rects[ax.opt.gridIndex ?? 0] ?? rects[0];
  xs.forEach((ax) => {
    const d = drawAxis(ax, gridOf(ax), ax.opt.axisLine?.show ?? true);
    gridLines += d.grid; axes += d.axis;
  });
  ys.forEach((ax) => {
    const g = ax.opt.gridIndex ?? 0;
    const twin = (sides.get(g) ?? 0) > 1;
    // a grid's split lines come from its first y axis only, as ECharts draws them with two
    const first = ys.find((y) => (y.opt.gridIndex ?? 0) === g) === ax;
    const d = drawAxis(ax, gridOf(ax), ax.opt.axisLine?.show ?? (twin || ax.type === "category"));
    if (first) gridLines += d.grid;
    axes += d.axis;
  });

  // The visual map (heatmap colours).
  const vm = arr(o.visualMap)[0];
  const vmColors: string[] = vm?.inRange?.color ?? ["#f6efa6", "#d88273", "#bf444c"];
  const vmMin = typeof vm?.min === "number" ? vm.min : 0, vmMax = typeof vm?.max === "number" ? vm.max : 1;

  const legendItems: { name: string; color: string; dash: string; width: number; symbol: string }[] = [];
  series.forEach((s, si) => {
    const xa = xs[s.xAxisIndex ?? 0], ya = ys[s.yAxisIndex ?? 0];
    if (!xa || !ya) throw new Error(`chart SVG: series ${si} has no axes`);
    const clip = `${idPrefix}-c${xa.opt.gridIndex ?? 0}`;
    const color = colorOf(s, si, palette);
    const data = arr(s.data);
    if (s.type === "heatmap") {
      const bw = Math.abs(xa.p1 - xa.p0) / Math.max(1, xa.categories.length), bh = Math.abs(ya.p1 - ya.p0) / Math.max(1, ya.categories.length);
      let cells = "";
      for (const d of data as unknown as unknown[][]) {
        const x = xa.pos(d[0]), y = ya.pos(d[1]), v = d[2];
        if (x === undefined || y === undefined || typeof v !== "number" || !Number.isFinite(v)) continue;
        cells += `<rect x="${n(x - bw / 2)}" y="${n(y - bh / 2)}" width="${n(bw)}" height="${n(bh)}" fill="${ramp(vmColors, (v - vmMin) / (vmMax - vmMin || 1))}"/>`;
      }
      body += `<g clip-path="url(#${clip})" shape-rendering="crispEdges">${cells}</g>`;
      return;
    }
    const pts: ([number, number] | null)[] = data.map((d, i) => {
      const [vx, vy] = pointOf(d, i);
      const x = xa.pos(vx), y = ya.pos(vy);
      return x === undefined || y === undefined ? null : [x, y];
    });
    const lw = s.lineStyle?.width ?? 2;
    const op = s.lineStyle?.opacity;
    const sym = s.symbol ?? (s.type === "scatter" ? "circle" : "emptyCircle");
    const symSize = s.symbolSize ?? (s.type === "scatter" ? 10 : 4);
    if (s.type === "line") {
      let d = "", pen = false;
      for (const p of pts) {
        if (p === null) { pen = false; continue; }
        d += `${pen ? "L" : "M"}${n(p[0])} ${n(p[1])}`;
        pen = true;
      }
      if (d !== "") body += `<g clip-path="url(#${clip})"><path class="series" d="${d}" fill="none" stroke="${color}" stroke-width="${n(lw)}" stroke-linejoin="bevel"${dash(s.lineStyle?.type, lw)}${op !== undefined && op !== 1 ? ` stroke-opacity="${n(op)}"` : ""}/></g>`;
    }
    if (s.type === "scatter" || s.showSymbol !== false) {
      const r = gridOf(xa);
      let marks = "";
      for (const p of pts) if (p && p[0] >= r.x0 - 1 && p[0] <= r.x1 + 1 && p[1] >= r.y0 - 1 && p[1] <= r.y1 + 1) marks += symbol(sym, p[0], p[1], symSize, color);
      if (marks) over += `<g${op !== undefined && op !== 1 && s.type === "line" ? ` opacity="${n(op)}"` : ""}>${marks}</g>`;
    }
    const ml = s.markLine;
    for (const m of arr(ml?.data)) {
      const y = ya.pos(m.yAxis);
      if (y === undefined || !ml) continue;
      const r = gridOf(xa), ls = ml.lineStyle ?? {};
      body += `<path d="M${n(r.x0)} ${n(y)}L${n(r.x1)} ${n(y)}" fill="none" stroke="${ls.color ?? "#555"}" stroke-width="${n(ls.width ?? 1)}"${dash(ls.type ?? "dashed", ls.width ?? 1)}/>`;
      const lab = ml.label?.formatter;
      if (typeof lab === "string") over += text(lab, r.x1 - 4, y - 8, { size: ml.label?.fontSize ?? LABEL_SIZE, color: ls.color ?? "#555", anchor: "end" });
    }
    if (typeof s.name === "string" && !legendItems.some((l) => l.name === s.name)) {
      legendItems.push({ name: s.name, color, dash: s.type === "line" ? dash(s.lineStyle?.type, lw) : "", width: s.type === "line" ? lw : 0, symbol: sym });
    }
  });

  // Titles: the first is the chart's (bold), any further one a panel heading.
  let titles = "";
  for (const t of arr(o.title)) {
    const ts = t.textStyle ?? {}, ss = t.subtextStyle ?? {};
    const size = ts.fontSize ?? 18, subSize = ss.fontSize ?? 12, lh = ss.lineHeight ?? subSize * 1.3;
    const centre = t.left === "center";
    // ECharts pads a title's box by 5 px
    const x = centre ? width / 2 : (typeof t.left === "number" ? t.left : 0) + 5;
    const anchor = centre ? "middle" as const : "start" as const;
    let y = (typeof t.top === "number" ? t.top : 0) + 5 + size / 2;
    if (typeof t.text === "string" && t.text !== "") titles += text(t.text, x, y, { size, color: ts.color ?? TITLE_COLOR, weight: ts.fontWeight ?? "bold", anchor });
    y += size / 2 + (t.itemGap ?? 10) + lh / 2;
    if (typeof t.subtext === "string" && t.subtext !== "") {
      for (const lineText of t.subtext.split("\n")) { titles += text(lineText, x, y, { size: subSize, color: ss.color ?? SUBTITLE_COLOR, anchor }); y += lh; }
    }
  }

  // The legend: one line per series at (left, top), as every chart here places it (a row of
  // items would need ECharts' scrolling, which a static picture cannot do).
  let legend = "";
  const lg = arr(o.legend)[0];
  if (lg && lg.show !== false && legendItems.length) {
    const size = lg.textStyle?.fontSize ?? 12, iw = lg.itemWidth ?? 25, ih = 14, gap = lg.itemGap ?? 10;
    const x = (typeof lg.left === "number" ? lg.left : width - 150) + 5; // padded by 5 px, as ECharts does
    let y = (typeof lg.top === "number" ? lg.top : 5) + 5 + ih / 2;
    for (const it of legendItems) {
      if (it.width > 0) legend += `<path d="M${n(x)} ${n(y)}L${n(x + iw)} ${n(y)}" stroke="${it.color}" stroke-width="${n(Math.min(it.width, 2))}"${it.dash}/>`;
      legend += symbol(it.symbol === "diamond" ? "diamond" : it.symbol === "circle" ? "circle" : "emptyCircle", x + iw / 2, y, it.symbol === "diamond" ? 12 : 9, it.color);
      legend += text(it.name, x + iw + 5, y, { size, color: lg.textStyle?.color ?? LEGEND_COLOR });
      y += ih + gap * 0.7;
    }
  }

  // The visual map's colour bar, the high end on top, its range written above and below.
  let colorBar = "";
  if (vm) {
    const bw = vm.itemWidth ?? 20, bh = vm.itemHeight ?? 140;
    const x = typeof vm.right === "number" ? width - vm.right - bw : width - 30 - bw;
    const y = num(vm.top) ? vm.top : (height - bh) / 2; // "middle", ECharts' default here
    const id = `${idPrefix}-vm`;
    defs += `<linearGradient id="${id}" x1="0" y1="1" x2="0" y2="0">${vmColors.map((c, i) => `<stop offset="${n(i / Math.max(1, vmColors.length - 1))}" stop-color="${c}"/>`).join("")}</linearGradient>`;
    colorBar += `<rect x="${n(x)}" y="${n(y)}" width="${n(bw)}" height="${n(bh)}" fill="url(#${id})"/>`;
    const [hi, lo] = vm.text?.length ? vm.text.map(String) : [String(vmMax), String(vmMin)];
    const st = { size: vm.textStyle?.fontSize ?? LABEL_SIZE, color: AXIS_COLOR, anchor: "middle" as const };
    colorBar += text(hi, x + bw / 2, y - 14, st) + text(lo, x + bw / 2, y + bh + 14, st);
  }

  const bg = typeof o.backgroundColor === "string" ? `<rect width="${width}" height="${height}" fill="${esc(o.backgroundColor)}"/>` : "";
  return `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" font-family="${esc(font)}">`
    + `<defs>${defs}</defs>${bg}${gridLines}${axes}${body}${over}${colorBar}${titles}${legend}</svg>`;
}
