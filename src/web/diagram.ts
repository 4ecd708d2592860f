/**
 * The network diagram: input on the left, output on the right, every layer a column of units
 * coloured by the error reaching it, ‖δ‖ = ‖∂ℓ/∂z‖ (mean per-example norm, the quantity of
 * metrics.jsonl; log scale, viridis: dark = little, yellow = much). A unit's size is its share
 * of the layer's error over the last batch (mean |δ_u|, relative to the layer's largest), so
 * dead or saturated units shrink. Recurrent layers show one cell per time step, coloured by
 * ‖∂ℓ/∂h_t‖ on the same scale. Columns are joined by bands as thick as the layer's
 * weight-gradient norm ‖∂L/∂W‖ (log scale). Each frame uses its own scale (whole decades around
 * what is drawn), so vanishing reads as colour fading toward the input without reading a
 * number; the numbers are in each column's tooltip and caption.
 */
import type { LayerRecord, StepRecord } from "../instrument/recorder.ts";
import { fmt, s, viridis } from "./dom.ts";
import type { LayerInfo, ModelInfo, UnitStats } from "./protocol.ts";

const COL_W = 96;
const UNIT_R = 7;
const MAX_DOTS = 12;
const MAX_CELLS = 28;
const TOP = 34;
const BODY_H = 12 * 2 * UNIT_R + 11 * 4;

interface Column {
  info: LayerInfo | null;
  rec: LayerRecord | undefined;
  units: UnitStats | undefined;
  title: string;
  sub: string;
}

const weightKey = (l: LayerRecord | undefined) => (l ? (l.params.weight ? "weight" : l.params.weight_ih ? "weight_ih" : Object.keys(l.params)[0]) : undefined);
const positive = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;

/** Whole decades around the positive values (at least one decade). */
function decades(values: number[]): [number, number] {
  const ok = values.filter(positive);
  if (!ok.length) return [-1, 0];
  const lo = Math.floor(Math.log10(Math.min(...ok))), hi = Math.ceil(Math.log10(Math.max(...ok)));
  return [lo, Math.max(lo + 1, hi)];
}

/**
 * Draws the diagram for a model and its latest record (either may be missing) into `svg`.
 * Returns the log10 range used, for the legend.
 */
export function drawDiagram(svg: SVGSVGElement, model: ModelInfo | null, rec: StepRecord | undefined, units: UnitStats[], label: string): void {
  svg.replaceChildren();
  if (!model) {
    svg.setAttribute("viewBox", "0 0 400 60");
    svg.setAttribute("width", "400");
    svg.setAttribute("height", "60");
    svg.append(s("text", { x: 10, y: 34, class: "dg-note", text: `${label}: no valid network to draw` }));
    return;
  }
  // Columns: the input, then every layer that is measured or reshapes (depth-first, residual
  // blocks' layers included; the block itself is drawn as a skip arc).
  const cols: Column[] = [{ info: null, rec: undefined, units: undefined, title: "input", sub: `[${model.inShape.join("×")}]` }];
  const residuals: { from: number; to: number; name: string }[] = [];
  const layers = model.layers;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (l.type === "residual") {
      const inner = layers.slice(i + 1).filter((x) => x.path.startsWith(`${l.path}.layers[`)).length;
      residuals.push({ from: cols.length - 1, to: cols.length - 1 + inner, name: l.name });
      continue;
    }
    const r = rec?.layers.find((x) => x.name === l.name);
    cols.push({ info: l, rec: r, units: units.find((u) => u.name === l.name), title: l.name, sub: `${l.type}${l.activation && l.activation !== "linear" ? ` · ${l.activation}` : ""}` });
  }
  // One log scale for the errors (colour), one for the weight gradients (band thickness).
  const errors: number[] = [], grads: number[] = [];
  for (const c of cols) {
    if (c.rec?.hGradNorm) errors.push(...c.rec.hGradNorm);
    if (c.rec?.deltaNorm) errors.push(c.rec.deltaNorm);
    const k = weightKey(c.rec);
    if (k) grads.push(c.rec!.params[k].gradNorm);
  }
  const [lo, hi] = decades(errors);
  const u = (v: number | null | undefined) => (positive(v) ? (Math.log10(v) - lo) / (hi - lo) : null);
  const [glo, ghi] = decades(grads);
  const ug = (v: number | null | undefined) => (positive(v) ? (Math.log10(v) - glo) / (ghi - glo) : null);

  const width = Math.max(620, cols.length * COL_W + 130);
  const height = TOP + BODY_H + 74;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.append(s("text", { x: 4, y: 14, class: "dg-label", text: `${label} · ${rec ? `step ${rec.step}` : "before training"} · ← the error flows from the output back to the input` }));
  const midY = TOP + BODY_H / 2;
  const cx = (i: number) => 40 + i * COL_W;

  // Bands between columns: thickness and colour = this layer's weight-gradient norm.
  cols.forEach((c, i) => {
    if (i === 0) return;
    const k = weightKey(c.rec);
    const g = k ? c.rec!.params[k].gradNorm : null;
    const t = ug(g);
    const w = t === null ? 1 : 2 + 14 * t;
    svg.append(s("line", {
      x1: cx(i - 1) + 14, y1: midY, x2: cx(i) - 14, y2: midY, "stroke-width": w,
      stroke: t === null ? "#ccc" : "#9a9aa2", "stroke-linecap": "round", class: "dg-band",
    }, s("title", { text: `${c.title}: ‖∂L/∂W‖ = ${fmt(g)}` })));
  });
  // Skip arcs of residual blocks.
  for (const r of residuals) {
    const x1 = cx(r.from), x2 = cx(r.to);
    svg.append(s("path", { d: `M ${x1} ${TOP - 4} C ${x1 + 20} ${TOP - 26}, ${x2 - 20} ${TOP - 26}, ${x2} ${TOP - 4}`, fill: "none", stroke: "#555", "stroke-dasharray": "4 3", class: "dg-skip" }, s("title", { text: `${r.name}: residual connection (identity path)` })));
  }
  cols.forEach((c, i) => {
    const x = cx(i);
    const g = s("g", { class: "dg-col", "data-layer": c.title });
    const tip: string[] = [c.title];
    if (c.info === null) {
      g.append(s("rect", { x: x - 12, y: midY - 40, width: 24, height: 80, fill: "#eee", stroke: "#888" }));
    } else if (c.rec?.hGradNorm && c.rec.hGradNorm.length) {
      // One cell per time step (sampled), t = 0 at the top.
      const h = c.rec.hGradNorm;
      const n = Math.min(h.length, MAX_CELLS);
      const cellH = BODY_H / n;
      for (let k = 0; k < n; k++) {
        const t = Math.round((k * (h.length - 1)) / Math.max(1, n - 1));
        const v = u(h[t]);
        g.append(s("rect", { x: x - 12, y: TOP + k * cellH, width: 24, height: Math.max(1, cellH - 1), fill: v === null ? "#ddd" : viridis(v), class: "dg-cell" }, s("title", { text: `${c.title} t=${t}: ‖∂ℓ/∂h_t‖ = ${fmt(h[t])}` })));
      }
      g.append(s("text", { x: x + 16, y: TOP + 8, class: "dg-tiny", text: "t=0" }));
      g.append(s("text", { x: x + 16, y: TOP + BODY_H, class: "dg-tiny", text: `t=${h.length - 1}` }));
      tip.push(`‖∂ℓ/∂h_t‖ from ${fmt(h[0])} (t=0) to ${fmt(h[h.length - 1])} (t=${h.length - 1})`);
    } else if (c.info.params === 0 && !c.units) {
      // Shape-only layers (flatten, pooling): a thin bar.
      g.append(s("rect", { x: x - 3, y: midY - 30, width: 6, height: 60, fill: "#ccc" }));
    } else {
      const unitsTotal = c.units?.units ?? c.info.outShape[0] ?? 1;
      const n = Math.min(MAX_DOTS, c.units ? c.units.meanAbsDelta.length : unitsTotal);
      const gap = n > 1 ? (BODY_H - 2 * UNIT_R) / (n - 1) : 0;
      const y0 = n > 1 ? TOP + UNIT_R : midY;
      const t = u(c.rec?.deltaNorm);
      const share = c.units ? Math.max(...Array.from(c.units.meanAbsDelta, Math.abs)) : 0;
      for (let k = 0; k < n; k++) {
        const v = c.units ? c.units.meanAbsDelta[k] : null;
        const r = v !== null && share > 0 ? UNIT_R * (0.35 + 0.65 * Math.sqrt(v / share)) : UNIT_R;
        g.append(s("circle", {
          cx: x, cy: y0 + k * gap, r, fill: t === null ? "#fff" : viridis(t), stroke: "#333", "stroke-width": 0.8, class: "dg-unit",
        }, s("title", { text: `${c.title} unit ${k}: mean |δ| over the batch = ${fmt(v)}` })));
      }
      if (unitsTotal > n) g.append(s("text", { x: x + 11, y: TOP + BODY_H, class: "dg-tiny", text: `+${unitsTotal - n}` }));
    }
    const k = weightKey(c.rec);
    if (c.rec?.deltaNorm !== undefined && c.rec?.deltaNorm !== null) tip.push(`‖δ‖ = ${fmt(c.rec.deltaNorm)}`);
    if (k) tip.push(`‖∂L/∂W‖ = ${fmt(c.rec!.params[k].gradNorm)}`);
    if (c.units?.meanDf !== null && c.units?.meanDf !== undefined) tip.push(`mean f′(z) = ${fmt(c.units.meanDf)} (max ${fmt(c.units.maxDf)})`);
    g.append(s("title", { text: tip.join("\n") }));
    g.append(s("text", { x, y: TOP + BODY_H + 18, "text-anchor": "middle", class: "dg-name", text: c.title }));
    g.append(s("text", { x, y: TOP + BODY_H + 32, "text-anchor": "middle", class: "dg-sub", text: c.sub }));
    const caption = c.info === null ? null
      : c.rec?.deltaNorm !== null && c.rec?.deltaNorm !== undefined ? `‖δ‖ ${fmt(c.rec.deltaNorm, 2)}`
      : k ? `‖∂L/∂W‖ ${fmt(c.rec!.params[k].gradNorm, 2)}` : null;
    if (caption) g.append(s("text", { x, y: TOP + BODY_H + 46, "text-anchor": "middle", class: "dg-num", text: caption }));
    svg.append(g);
  });
  // Legend: the colour scale in decades.
  const lx = width - 96, ly = TOP, lh = BODY_H;
  const steps = 24;
  for (let k = 0; k < steps; k++) {
    svg.append(s("rect", { x: lx, y: ly + (lh * (steps - 1 - k)) / steps, width: 12, height: lh / steps + 0.5, fill: viridis(k / (steps - 1)) }));
  }
  const every = Math.ceil((hi - lo) / 6); // at most ~7 labels
  for (let d = hi; d >= lo; d -= every) {
    const y = ly + lh * (1 - (d - lo) / (hi - lo));
    svg.append(s("text", { x: lx + 16, y: y + 4, class: "dg-tiny", text: `1e${d}` }));
  }
  svg.append(s("text", { x: lx - 4, y: ly + lh + 18, class: "dg-tiny", text: "‖δ‖ (colour)" }));
  svg.append(s("text", { x: lx - 4, y: ly + lh + 32, class: "dg-tiny", text: "band: ‖∂L/∂W‖" }));
}
