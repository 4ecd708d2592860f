/**
 * Node-side rendering of chart options: SVG with ECharts' server-side renderer (no DOM, no
 * canvas) and PNG from that SVG with resvg (system fonts; DejaVu Sans preferred).
 */
import { createRequire } from "node:module";
import * as echarts from "echarts/core";
// Each registers itself with ECharts (as echarts.use would): only what charts.ts draws, the same
// set as the browser's charts-view.ts. The whole of ECharts, or its chart and component index
// files, took two to three times as long to load, at every report.
import "echarts/lib/chart/heatmap";
import "echarts/lib/chart/line";
import "echarts/lib/chart/scatter";
import "echarts/lib/component/grid";
import "echarts/lib/component/legend";
import "echarts/lib/component/markLine";
import "echarts/lib/component/title";
import "echarts/lib/component/tooltip";
import "echarts/lib/component/visualMap";
import { SVGRenderer } from "echarts/renderers";
import type { ChartOption, ChartSpec } from "./charts.ts";

echarts.use([SVGRenderer]);

/** resvg's native module, loaded on the first PNG (a report without PNGs never loads it). */
let resvg: typeof import("@resvg/resvg-js") | null = null;
const loadResvg = () => (resvg ??= createRequire(import.meta.url)("@resvg/resvg-js") as typeof import("@resvg/resvg-js"));

export interface SvgOptions {
  width: number;
  height: number;
  /**
   * Prefix for the ids and classes ECharts puts in the SVG (clip paths, hover styles). Several
   * SVGs inlined in one HTML page share one id space, so each needs its own prefix; a fixed
   * prefix also makes the output independent of how many charts the process drew before.
   */
  idPrefix?: string;
}

/**
 * Render an ECharts option to an SVG string, animation off.
 * @example renderSvg({ xAxis: { type: "value" }, yAxis: {}, series: [] }, { width: 400, height: 300 }).startsWith("<svg") // true
 */
export function renderSvg(option: ChartOption, { width, height, idPrefix = "gl0" }: SvgOptions): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width, height });
  try {
    chart.setOption({ ...option, animation: false } as echarts.EChartsCoreOption);
    const svg = chart.renderToSVGString();
    // zrender names things zr<instance>-…; rename them in attributes and the style block only.
    // Its style classes (cls-N) are numbered by a counter shared by every chart of the process, so
    // they are renumbered here in order of appearance: a chart's SVG is then the same whichever
    // charts the process drew before it (a report written by `gradlab report` is the run's, byte for byte).
    // Control characters in a name (ECharts writes them raw; XML forbids most) show as a visible \u001b.
    const classes = new Map<string, number>();
    return svg.replace(/(class="|id="|url\(#|\.)zr\d+-/g, `$1${idPrefix}-`)
      .replace(new RegExp(`(${idPrefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-cls-)(\\d+)`, "g"), (_, head: string, n: string) => {
        if (!classes.has(n)) classes.set(n, classes.size);
        return `${head}${classes.get(n)}`;
      })
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  } finally {
    chart.dispose();
  }
}

/** Render a chart spec at its own size. */
export function chartSvg(chart: ChartSpec, idPrefix?: string): string {
  return renderSvg(chart.option, { width: chart.width, height: chart.height, idPrefix: idPrefix ?? `gl-${chart.id}` });
}

/**
 * Rasterize an SVG to PNG bytes with resvg, at `scale` × the SVG's size (2 for slides), on white.
 * Fonts: the system's, with DejaVu Sans for the generic families.
 */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const r = new (loadResvg().Resvg)(svg, {
    background: "#ffffff",
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  return new Uint8Array(r.render().asPng());
}
