/**
 * Live charts: the report's chart builders (src/report/charts.ts) drawn by ECharts in the page,
 * so a chart here is the chart of the HTML report, option for option, narrowed to the width of
 * its box when that is smaller (a phone). Each chart has a text alternative: an aria-label with
 * its latest values and a table of the numbers drawn, folded under it. A ChartBoard keeps one
 * ECharts instance per chart and re-draws from the bounded record store when asked (the page
 * asks at most ~10 times a second).
 */
import { HeatmapChart, LineChart, ScatterChart } from "echarts/charts";
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, VisualMapComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import {
  compareCharts, deltaNormChart, depthProfileChart, gradHeatmapChart, gradNormChart, lossChart, niceCeil, pascanuChart, recurrentLayers, saturationChart,
  sharedScales, timeHeatmapChart, timeNormChart, wrapText, type ChartSpec, type CompareRun, type RunData, type Scales,
} from "../report/charts.ts";
import { fill, fmt, h } from "./dom.ts";

echarts.use([LineChart, ScatterChart, HeatmapChart, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A spec drawn `width` pixels wide instead of its own width. Panels placed in pixels (a grid's
 * left and width) move and shrink in proportion. Below 600 px (a phone) the subtitle is wrapped
 * anew, the legend goes under the plot, and side-by-side panels are stacked, each keeping its
 * height; everything else ECharts lays out itself.
 * @example narrowed(spec, 380).width // 380
 */
export function narrowed(spec: ChartSpec, width: number): ChartSpec {
  if (width >= spec.width) return spec;
  const opt = spec.option;
  const phone = width < 600;
  const grids: Obj[] = (Array.isArray(opt.grid) ? opt.grid : opt.grid ? [opt.grid] : []).filter(isObj);
  let title = opt.title, legend = opt.legend;
  let extraTop = 0, extraBottom = 0;
  if (phone && isObj(title) && typeof title.subtext === "string" && title.subtext) {
    const sub = wrapText(title.subtext.replace(/\n/g, " "), Math.floor((width - 24) / 6.2));
    extraTop = 15 * (sub.split("\n").length - title.subtext.split("\n").length);
    title = { ...title, subtext: sub };
  }
  if (phone && isObj(legend)) {
    legend = { ...legend, orient: "horizontal", type: "scroll", left: 8, right: 8, top: undefined, bottom: 2 };
    extraBottom = 30;
  }
  const num = (v: unknown) => (typeof v === "number" ? v : 0);
  const panels = grids.filter((g) => typeof g.width === "number" && typeof g.left === "number");
  let height = spec.height + extraTop + extraBottom;
  let grid: Obj[];
  if (phone && panels.length > 1) {
    // Stacked panels: each as tall as before, one under another, full width.
    const top0 = num(panels[0].top) + extraTop, plotH = spec.height - num(panels[0].top) - num(panels[0].bottom), gap = 64;
    grid = grids.map((g, i) => ({ ...g, left: 70, width: undefined, right: 16, top: top0 + i * (plotH + gap), bottom: undefined, height: plotH }));
    height = top0 + grids.length * (plotH + gap) + extraBottom;
  } else {
    const maxRight = Math.max(0, ...panels.map((g) => num(g.left) + num(g.width)));
    const f = maxRight > 0 && phone ? (width - 16) / maxRight : width / spec.width;
    grid = grids.map((g) => {
      const o: Obj = { ...g };
      if (typeof o.width === "number") { o.left = Math.round(num(o.left) * f); o.width = Math.round(num(o.width) * f); }
      else if (phone && typeof o.right === "number" && !opt.visualMap) o.right = 16;
      if (typeof o.top === "number") o.top = o.top + extraTop;
      if (typeof o.bottom === "number") o.bottom = o.bottom + extraBottom;
      return o;
    });
  }
  return { ...spec, width, height, option: { ...opt, title, legend, grid: Array.isArray(opt.grid) ? grid : grid[0] } };
}

/** One chart on the page, with its table of numbers folded beneath. */
export class LiveChart {
  readonly el: HTMLElement;
  readonly plot: HTMLDivElement;
  private readonly table: HTMLElement;
  private chart: echarts.ECharts | null = null;
  spec: ChartSpec | null = null;

  constructor(readonly key: string) {
    this.plot = h("div", { class: "chart", role: "img", "data-chart": key, tabindex: 0 });
    this.table = h("div", { class: "chart-table-body" });
    const details = h("details", { class: "chart-table" }, h("summary", { text: "the numbers (table)" }), this.table);
    details.addEventListener("toggle", () => { if (details.open && this.spec) fill(this.table, chartTable(this.spec)); });
    this.el = h("div", { class: "chart-box", "data-box": key }, this.plot, details);
  }

  /** Draw `spec`, at most `maxWidth` pixels wide. */
  draw(full: ChartSpec, maxWidth = full.width): void {
    const spec = narrowed(full, Math.max(240, Math.floor(maxWidth)));
    if (!this.chart) {
      this.chart = echarts.init(this.plot, null, { renderer: "canvas", width: spec.width, height: spec.height });
    } else if (!this.spec || this.spec.width !== spec.width || this.spec.height !== spec.height) {
      this.chart.resize({ width: spec.width, height: spec.height });
    }
    this.plot.style.width = `${spec.width}px`;
    this.plot.style.height = `${spec.height}px`;
    // Series are replaced whole (their number can change); the rest merges, so a legend
    // entry the reader switched off stays off.
    this.chart.setOption(spec.option, { replaceMerge: ["series"] });
    this.spec = spec;
    this.plot.setAttribute("aria-label", describeChart(spec));
    const details = this.table.parentElement as HTMLDetailsElement | null;
    if (details?.open) fill(this.table, chartTable(spec));
  }

  /** The names of the series ECharts is drawing (what a test checks). */
  drawnSeries(): string[] {
    const opt = this.chart?.getOption() as { series?: { name?: string }[] } | undefined;
    return (opt?.series ?? []).map((s) => String(s.name ?? ""));
  }

  /** The number of points ECharts holds per series. */
  drawnPoints(): number[] {
    const opt = this.chart?.getOption() as { series?: { data?: unknown[] }[] } | undefined;
    return (opt?.series ?? []).map((s) => s.data?.length ?? 0);
  }

  dispose(): void { this.chart?.dispose(); this.chart = null; }
}

/** A text summary for screen readers: the title and each series' latest value. */
export function describeChart(spec: ChartSpec): string {
  const parts = spec.series.slice(0, 12).map((s) => {
    const last = s.data[s.data.length - 1];
    return last ? `${s.name} ${typeof last[1] === "number" ? fmt(last[1]) : String(last[last.length - 1])}` : `${s.name} no data`;
  });
  return `${spec.title}. ${parts.length ? `Latest: ${parts.join(", ")}.` : ""}`;
}

/**
 * The numbers a chart draws as a table: per series, every point when there are at most 12
 * (a depth profile: one per layer), else the first, the last, the smallest and the largest.
 */
export function chartTable(spec: ChartSpec): HTMLTableElement {
  const cell = (p: (number | string)[] | undefined) => (p ? p.map((v) => (typeof v === "number" ? fmt(v) : v)).join(": ") : "–");
  const rows = spec.series.map((sr) => {
    const pts = sr.data;
    let text: string;
    if (pts.length <= 12) text = pts.map((p) => cell(p)).join(" · ");
    else {
      const vals = pts.map((p) => p[p.length - 1]).filter((v): v is number => typeof v === "number");
      text = `${pts.length} points; first ${cell(pts[0])}, last ${cell(pts[pts.length - 1])}, smallest ${fmt(Math.min(...vals))}, largest ${fmt(Math.max(...vals))}`;
    }
    return h("tr", {}, h("th", { scope: "row", text: sr.name }), h("td", { text: text || "no data" }));
  });
  return h("table", { class: "numbers" }, h("caption", { text: spec.title }), h("tbody", {}, ...rows));
}

/** The headline chart of one run: the depth profile. */
export function headlineCharts(run: RunData, scales: Scales = {}): ChartSpec[] {
  return [depthProfileChart(run, scales)];
}

/** The live charts of one run below the headline, in page order. */
export function liveCharts(run: RunData, scales: Scales = {}): ChartSpec[] {
  const charts = [deltaNormChart(run, scales), gradNormChart(run, scales), gradHeatmapChart(run, scales), lossChart(run, scales), saturationChart(run, scales)];
  const rnn = recurrentLayers(run.records);
  if (rnn.length) {
    charts.push(timeNormChart(run, scales));
    for (const name of rnn) charts.push(timeHeatmapChart(run, name, scales));
    charts.push(pascanuChart(run, scales));
  }
  return charts;
}

export interface BoardRun extends RunData { label: string }

/**
 * The chart area: one column of charts for a single run, or for A/B the overlays of both runs
 * followed by each chart of A beside the same chart of B, on shared axes.
 */
export class ChartBoard {
  private charts = new Map<string, LiveChart>();
  /**
   * @param charts the charts of one run (liveCharts, headlineCharts)
   * @param overlays whether A/B mode starts with the charts that overlay both runs
   */
  constructor(readonly el: HTMLElement, private readonly charts1: (run: RunData, scales: Scales) => ChartSpec[] = liveCharts, private readonly overlays = true) {}

  render(runs: BoardRun[]): void {
    const rows: { key: string; caption?: string; specs: { key: string; spec: ChartSpec; label?: string }[] }[] = [];
    const avail = Math.max(240, this.el.clientWidth || 760);
    let perCell = avail;
    if (runs.length === 1) {
      for (const spec of this.charts1(runs[0], {})) rows.push({ key: spec.id, specs: [{ key: `${spec.id}:a`, spec }] });
    } else {
      const scales = sharedScales(runs);
      // A loss axis that ends on a round number (sharedScales gives the largest loss itself).
      if (scales.loss) scales.loss = [0, niceCeil(scales.loss[1])];
      if (this.overlays) for (const spec of compareCharts(runs as CompareRun[])) rows.push({ key: spec.id, specs: [{ key: spec.id, spec }] });
      const perRun = runs.map((r) => this.charts1(r, scales));
      // side by side when both fit at two thirds of their width or more, else one above the other
      perCell = avail >= 2 * 500 + 10 ? (avail - 10) / 2 : avail;
      const ids = [...new Set(perRun.flatMap((cs) => cs.map((c) => c.id)))];
      for (const id of ids) {
        rows.push({
          key: id,
          specs: runs.flatMap((r, i) => {
            const spec = perRun[i].find((c) => c.id === id);
            return spec ? [{ key: `${id}:${i === 0 ? "a" : "b"}`, spec, label: r.label }] : [];
          }),
        });
      }
    }
    const wanted = new Set(rows.flatMap((r) => r.specs.map((s) => s.key)));
    for (const [key, chart] of this.charts) if (!wanted.has(key)) { chart.dispose(); this.charts.delete(key); }
    const nodes: HTMLElement[] = [];
    for (const row of rows) {
      const cells = row.specs.map(({ key, spec, label }) => {
        let chart = this.charts.get(key);
        if (!chart) { chart = new LiveChart(key); this.charts.set(key, chart); }
        chart.draw(spec, label ? perCell : avail);
        return label ? h("figure", { class: "chart-cell" }, h("figcaption", { text: label }), chart.el) : chart.el;
      });
      nodes.push(h("div", { class: "chart-row", "data-row": row.key }, ...cells));
    }
    // Re-attaching the same chart elements keeps their ECharts instances.
    this.el.replaceChildren(...nodes);
  }

  chart(key: string): LiveChart | undefined { return this.charts.get(key); }
  keys(): string[] { return [...this.charts.keys()]; }

  clear(): void {
    for (const c of this.charts.values()) c.dispose();
    this.charts.clear();
    this.el.replaceChildren();
  }
}
