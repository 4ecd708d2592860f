/**
 * The story's figures, drawn as small SVGs that scale to their box (so a phone shows them whole):
 * a log-scale line chart over categories (layers or time steps), probability bars, a
 * 28×28 picture, and the derivative of the sigmoid. No chart library: the story's first scenes
 * load in a fraction of a second. Every figure carries an aria-label that states its numbers.
 */
import { fmt, s, h } from "../dom.ts";
import { OKABE_ITO } from "../../report/charts.ts";

/** The report's colour-blind-safe palette without its yellow, too light on white. */
export const OKABE = OKABE_ITO.filter((c) => c !== "#F0E442");

/** One line of a log chart: a value per category (null: no value there). */
export interface LogSeries { name: string; values: (number | null)[]; color?: string; dashed?: boolean }

/** Decades spanned by the finite positive values (at least one). */
function decades(series: readonly LogSeries[]): [number, number] {
  const logs = series.flatMap((x) => x.values).filter((v): v is number => v !== null && Number.isFinite(v) && v > 0).map(Math.log10);
  if (!logs.length) return [-1, 0];
  const lo = Math.floor(Math.min(...logs)), hi = Math.ceil(Math.max(...logs));
  return [lo, Math.max(hi, lo + 1)];
}

/**
 * Lines over categories on a log y axis, one per series, with a legend. `label` is the figure's
 * text alternative (the caller states the numbers). Without `width`, 640 wide, or 400 on a
 * narrow screen, where at most about seven categories are labelled.
 */
export function logChart(categories: readonly string[], series: readonly LogSeries[], opts: { label: string; yTitle: string; xTitle: string; every?: number; width?: number }): SVGSVGElement {
  // On a phone the figure is drawn narrower rather than scaled down, so its text stays readable.
  const narrow = typeof matchMedia === "function" && matchMedia("(max-width: 560px)").matches;
  const W = opts.width ?? (narrow ? 400 : 640), H = 300, L = 64, R = 36, T = 14 + 18 * Math.ceil(series.length / 2), B = 46;
  const [lo, hi] = decades(series);
  const x = (i: number) => L + (categories.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (categories.length - 1));
  const y = (v: number) => T + ((hi - Math.log10(v)) / (hi - lo)) * (H - T - B);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "fig-svg", role: "img", "aria-label": opts.label });
  const step = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let d = lo; d <= hi; d += step) {
    svg.append(s("line", { x1: L, x2: W - R, y1: y(10 ** d), y2: y(10 ** d), class: "grid" }));
    svg.append(s("text", { x: L - 6, y: y(10 ** d) + 4, "text-anchor": "end", class: "tick", text: `1e${d}` }));
  }
  const every = Math.max(opts.every ?? 1, narrow ? Math.ceil(categories.length / 7) : 1);
  categories.forEach((c, i) => { if (i % every === 0 || i === categories.length - 1) svg.append(s("text", { x: x(i), y: H - B + 16, "text-anchor": "middle", class: "tick", text: c })); });
  svg.append(s("text", { x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle", class: "axis-title", text: opts.xTitle }));
  svg.append(s("text", { x: 14, y: (T + H - B) / 2, "text-anchor": "middle", class: "axis-title", transform: `rotate(-90 14 ${(T + H - B) / 2})`, text: opts.yTitle }));
  series.forEach((ser, k) => {
    const color = ser.color ?? OKABE[k % OKABE.length];
    let d = "";
    ser.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v) || v <= 0) return;
      d += `${d ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      svg.append(s("circle", { cx: x(i), cy: y(v), r: 4, fill: color }, s("title", { text: `${ser.name}, ${categories[i]}: ${fmt(v)}` })));
    });
    svg.append(s("path", { d, fill: "none", stroke: color, "stroke-width": 2.5, "stroke-dasharray": ser.dashed ? "6 4" : null }));
    const lx = L + (k % 2) * ((W - L - R) / 2), ly = 14 + 18 * Math.floor(k / 2);
    svg.append(s("line", { x1: lx, x2: lx + 22, y1: ly - 4, y2: ly - 4, stroke: color, "stroke-width": 3, "stroke-dasharray": ser.dashed ? "6 4" : null }));
    svg.append(s("text", { x: lx + 28, y: ly, class: "legend", text: ser.name }));
  });
  return svg;
}

/** Ten probability bars, the largest highlighted. */
export function probBars(probs: ArrayLike<number>, label: string): SVGSVGElement {
  const W = 320, H = 180, B = 22, T = 16;
  const n = probs.length, bw = W / n;
  let best = 0;
  for (let c = 1; c < n; c++) if (probs[c] > probs[best]) best = c;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "fig-svg probs", role: "img", "aria-label": label });
  for (let c = 0; c < n; c++) {
    const hgt = (H - B - T) * probs[c];
    svg.append(s("rect", { x: c * bw + 4, y: H - B - hgt, width: bw - 8, height: Math.max(1, hgt), class: c === best ? "bar best" : "bar" }));
    svg.append(s("text", { x: c * bw + bw / 2, y: H - 6, "text-anchor": "middle", class: c === best ? "tick strong" : "tick", text: String(c) }));
    if (probs[c] >= 0.05) svg.append(s("text", { x: c * bw + bw / 2, y: H - B - hgt - 4, "text-anchor": "middle", class: "tick", text: `${Math.round(100 * probs[c])}%` }));
  }
  return svg;
}

/** A [28, 28] picture of 0..1 values as ink on paper, drawn large and crisp. */
export function digitCanvas(px: ArrayLike<number>, label: string): HTMLCanvasElement {
  const c = h("canvas", { width: 28, height: 28, class: "digit-big", role: "img", "aria-label": label });
  const ctx = c.getContext("2d");
  if (!ctx) return c;
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const g = Math.round(255 * (1 - Math.max(0, Math.min(1, px[i] ?? 0))));
    img.data.set([g, g, g, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

/** A row of unit activations (0..1) as shaded squares with their values. */
export function unitRow(name: string, values: ArrayLike<number>): HTMLElement {
  return h("div", { class: "units", role: "img", "aria-label": `${name}: ${Array.from(values, (v) => fmt(v, 2)).join(", ")}` },
    h("span", { class: "units-name", text: name }),
    ...Array.from(values, (v) => h("span", { class: "unit", style: `background: rgba(0, 114, 178, ${Math.max(0, Math.min(1, v)).toFixed(2)})`, title: fmt(v, 3) })));
}

/**
 * The sigmoid's derivative on z ∈ [−6, 6] (the engine's own samples) with its maximum, and a
 * mark per layer at that layer's mean f′(z).
 */
export function slopeChart(z: ArrayLike<number>, df: ArrayLike<number>, maxDf: number, marks: { name: string; meanDf: number }[], label: string): SVGSVGElement {
  const W = 320, L = 40, R = 12, T = 12, B = 34 + 16 * marks.length, H = 210 + 16 * marks.length;
  const ymax = 0.3;
  const x = (v: number) => L + ((v + 6) / 12) * (W - L - R);
  const y = (v: number) => T + ((ymax - v) / ymax) * (H - T - B);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "fig-svg", role: "img", "aria-label": label });
  for (const v of [0, 0.1, 0.2]) {
    svg.append(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    svg.append(s("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", class: "tick", text: String(v) }));
  }
  svg.append(s("line", { x1: L, x2: W - R, y1: y(maxDf), y2: y(maxDf), class: "maxline" }));
  svg.append(s("text", { x: L + 4, y: y(maxDf) - 5, class: "tick strong", text: `max σ′ = ${fmt(maxDf)}` }));
  let d = "";
  for (let i = 0; i < z.length; i++) d += `${i ? "L" : "M"}${x(z[i]).toFixed(1)},${y(df[i]).toFixed(1)}`;
  svg.append(s("path", { d, fill: "none", stroke: OKABE[0], "stroke-width": 2.5 }));
  // Each layer's mean slope: a tick at the right edge, and a key under the axis.
  marks.forEach((m, k) => {
    const color = OKABE[1 + k], ky = H - B + 36 + 16 * k;
    svg.append(s("line", { x1: W - R - 26, x2: W - R, y1: y(m.meanDf), y2: y(m.meanDf), stroke: color, "stroke-width": 4 }));
    svg.append(s("line", { x1: L, x2: L + 18, y1: ky - 4, y2: ky - 4, stroke: color, "stroke-width": 4 }));
    svg.append(s("text", { x: L + 24, y: ky, class: "tick", text: `${m.name}: mean σ′ ${fmt(m.meanDf, 2)}` }));
  });
  svg.append(s("text", { x: (L + W - R) / 2, y: H - B + 18, "text-anchor": "middle", class: "axis-title", text: "z (−6 … 6)" }));
  return svg;
}
