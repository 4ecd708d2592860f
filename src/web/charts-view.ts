/**
 * Live charts: the report's chart builders (src/report/charts.ts) drawn by ECharts in the page,
 * so a chart here is the chart of the HTML report, option for option. A ChartBoard keeps one
 * ECharts instance per chart and re-draws from the bounded record store when asked (the page
 * asks at most ~10 times a second).
 */
import { HeatmapChart, LineChart, ScatterChart } from "echarts/charts";
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, VisualMapComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import {
  compareCharts, deltaNormChart, gradHeatmapChart, gradNormChart, lossChart, niceCeil, pascanuChart, recurrentLayers, saturationChart,
  sharedScales, timeHeatmapChart, timeNormChart, type ChartSpec, type CompareRun, type RunData, type Scales,
} from "../report/charts.ts";
import { fmt, h } from "./dom.ts";

echarts.use([LineChart, ScatterChart, HeatmapChart, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

/** One chart on the page. */
export class LiveChart {
  readonly el: HTMLDivElement;
  private chart: echarts.ECharts | null = null;
  spec: ChartSpec | null = null;

  constructor(readonly key: string) {
    this.el = h("div", { class: "chart", role: "img", "data-chart": key, tabindex: 0 });
  }

  draw(spec: ChartSpec): void {
    if (!this.chart) {
      this.chart = echarts.init(this.el, null, { renderer: "canvas", width: spec.width, height: spec.height });
    } else if (!this.spec || this.spec.width !== spec.width || this.spec.height !== spec.height) {
      this.chart.resize({ width: spec.width, height: spec.height });
    }
    this.el.style.width = `${spec.width}px`;
    this.el.style.height = `${spec.height}px`;
    // Series are replaced whole (their number can change); the rest merges, so a legend
    // entry the reader switched off stays off.
    this.chart.setOption(spec.option, { replaceMerge: ["series"] });
    this.spec = spec;
    this.el.setAttribute("aria-label", describeChart(spec));
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

/** The live charts of one run, in page order. */
export function liveCharts(run: RunData, scales: Scales = {}): ChartSpec[] {
  const charts = [gradNormChart(run, scales), gradHeatmapChart(run, scales), lossChart(run, scales), saturationChart(run, scales), deltaNormChart(run, scales)];
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
  constructor(readonly el: HTMLElement) {}

  render(runs: BoardRun[]): void {
    const rows: { key: string; caption?: string; specs: { key: string; spec: ChartSpec; label?: string }[] }[] = [];
    if (runs.length === 1) {
      for (const spec of liveCharts(runs[0])) rows.push({ key: spec.id, specs: [{ key: `${spec.id}:a`, spec }] });
    } else {
      const scales = sharedScales(runs);
      // A loss axis that ends on a round number (sharedScales gives the largest loss itself).
      if (scales.loss) scales.loss = [0, niceCeil(scales.loss[1])];
      for (const spec of compareCharts(runs as CompareRun[])) rows.push({ key: spec.id, specs: [{ key: spec.id, spec }] });
      const perRun = runs.map((r) => liveCharts(r, scales));
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
        chart.draw(spec);
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
