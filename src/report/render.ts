/**
 * Node-side rendering of chart options: SVG with gradlab's own static renderer (svg.ts: no DOM,
 * no canvas, no chart library) and PNG from that SVG with resvg (system fonts; DejaVu Sans
 * preferred).
 */
import { createRequire } from "node:module";
import type { ChartOption, ChartSpec } from "./charts.ts";
import { drawSvg } from "./svg.ts";

/** resvg's native module, loaded on the first PNG (a report without PNGs never loads it). */
let resvg: typeof import("@resvg/resvg-js") | null = null;
const loadResvg = () => (resvg ??= createRequire(import.meta.url)("@resvg/resvg-js") as typeof import("@resvg/resvg-js"));

export interface SvgOptions {
  width: number;
  height: number;
  /**
   * Prefix for the ids in the SVG (clip paths, gradients). Several SVGs inlined in one HTML page
   * share one id space, so each needs its own prefix.
   */
  idPrefix?: string;
}

/**
 * Render a chart option to an SVG string.
 * @example renderSvg({ xAxis: { type: "value" }, yAxis: {}, series: [] }, { width: 400, height: 300 }).startsWith("<svg") // true
 */
export function renderSvg(option: ChartOption, { width, height, idPrefix = "gl0" }: SvgOptions): string {
  return drawSvg(option, width, height, idPrefix);
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
