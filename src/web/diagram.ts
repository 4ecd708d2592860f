/**
 * The network diagram: input on the left, output on the right, every layer a column of units
 * coloured by the error reaching it, ‖δ‖ = ‖∂ℓ/∂z‖ (mean per-example norm, the quantity of
 * metrics.jsonl; log scale, viridis: dark = little, yellow = much) — how fast the layer learns.
 * The band into each column is as thick as that layer's ‖δ‖ too, so vanishing reads as bands
 * and colours fading toward the input without reading a number. A unit's size is its share of
 * the layer's error over the batch (mean |δ_u|, relative to the layer's largest), so dead or
 * saturated units shrink. Recurrent layers show one cell per time step, coloured by
 * ‖∂ℓ/∂h_t‖ on the same scale. A and B share one scale (diagramRange of both). NaN and ±Inf
 * are drawn as such (a red ring, the value written out), never as a size or colour. The SVG
 * scales to its box, so a deep network and its legend stay in view.
 */
import type { LayerRecord, StepRecord } from "../instrument/recorder.ts";
import { fmt, s, viridis } from "./dom.ts";
import type { LayerInfo, ModelInfo, UnitStats } from "./protocol.ts";

const COL_W = 96;
const UNIT_R = 7;
const MAX_DOTS = 8;
const MAX_CELLS = 20;
const TOP = 30;
const BODY_H = MAX_DOTS * 2 * UNIT_R + (MAX_DOTS - 1) * 4;
const LEGEND_W = 120;
const BAD = "#c0392b";

interface Column {
  info: LayerInfo | null;
  rec: LayerRecord | undefined;
  units: UnitStats | undefined;
  title: string;
  sub: string;
}

const positive = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;
const nonFinite = (v: unknown): boolean => typeof v === "number" && !Number.isFinite(v);

/** The errors a record's diagram colours: every ‖δ‖ and ‖∂ℓ/∂h_t‖. */
function errorsOf(rec: StepRecord | undefined): number[] {
  const out: number[] = [];
  for (const l of rec?.layers ?? []) {
    if (l.deltaNorm !== null) out.push(l.deltaNorm);
    if (l.hGradNorm) out.push(...l.hGradNorm);
  }
  return out;
}

/**
 * The log10 colour range for diagrams of these records: whole decades around every positive
 * finite ‖δ‖ and ‖∂ℓ/∂h_t‖ (at least one decade), so the diagrams of A and B share one scale.
 * @example diagramRange([{ …, layers: [{ deltaNorm: 0.003 }, { deltaNorm: 0.2 }] }]) // [-3, 0]
 */
export function diagramRange(recs: readonly (StepRecord | undefined)[]): [number, number] {
  const ok = recs.flatMap(errorsOf).filter(positive);
  if (!ok.length) return [-1, 0];
  const lo = Math.floor(Math.log10(Math.min(...ok))), hi = Math.ceil(Math.log10(Math.max(...ok)));
  return [lo, Math.max(lo + 1, hi)];
}

/**
 * Draws the diagram for a model and a record (either may be missing) into `svg`, colouring on
 * the log10 `range` (diagramRange of every diagram shown).
 */
export function drawDiagram(svg: SVGSVGElement, model: ModelInfo | null, rec: StepRecord | undefined, units: UnitStats[], label: string, range: [number, number] = diagramRange([rec])): void {
  svg.replaceChildren();
  if (!model) {
    svg.setAttribute("viewBox", "0 0 400 60");
    svg.setAttribute("style", "max-width: 400px");
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
  const [lo, hi] = range;
  /** position of a value on the colour scale, 0..1 (null: nothing to colour by) */
  const u = (v: number | null | undefined) => (positive(v) ? Math.min(1, Math.max(0, (Math.log10(v) - lo) / (hi - lo))) : null);

  const width = Math.max(560, cols.length * COL_W + LEGEND_W + 10);
  const height = TOP + BODY_H + 62;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("style", `max-width: ${width}px`);
  const when = rec ? `step ${rec.step}` : "waiting for the first measurement";
  svg.append(s("text", { x: 4, y: 14, class: "dg-label", text: `${label} · ${when} · the error flows right to left, output → input` }));
  const midY = TOP + BODY_H / 2;
  const cx = (i: number) => 40 + i * COL_W;

  // Bands into each column: thickness and colour = the error reaching that layer, ‖δ‖.
  cols.forEach((c, i) => {
    if (i === 0) return;
    const d = c.rec?.deltaNorm ?? (c.rec?.hGradNorm ? c.rec.hGradNorm[c.rec.hGradNorm.length - 1] : null);
    const t = u(d);
    const bad = nonFinite(d);
    svg.append(s("line", {
      x1: cx(i - 1) + 14, y1: midY, x2: cx(i) - 14, y2: midY, "stroke-width": t === null ? (bad ? 3 : 1) : 2 + 14 * t,
      stroke: bad ? BAD : t === null ? "#ccc" : viridis(t), "stroke-linecap": "round", "stroke-dasharray": bad ? "4 3" : null, class: "dg-band",
    }, s("title", { text: `into ${c.title}: ‖δ‖ = ${fmt(d)}` })));
  });
  // Skip arcs of residual blocks.
  for (const r of residuals) {
    const x1 = cx(r.from), x2 = cx(r.to);
    svg.append(s("path", { d: `M ${x1} ${TOP - 4} C ${x1 + 20} ${TOP - 22}, ${x2 - 20} ${TOP - 22}, ${x2} ${TOP - 4}`, fill: "none", stroke: "#555", "stroke-dasharray": "4 3", class: "dg-skip" }, s("title", { text: `${r.name}: residual connection (identity path)` })));
  }
  cols.forEach((c, i) => {
    const x = cx(i);
    const g = s("g", { class: "dg-col", "data-layer": c.title });
    const tip: string[] = [c.title];
    if (c.info === null) {
      g.append(s("rect", { x: x - 12, y: midY - 40, width: 24, height: 80, fill: "#eee", stroke: "#888" }));
    } else if (c.rec?.hGradNorm && c.rec.hGradNorm.length) {
      // One cell per time step (sampled), t = 0 at the top.
      const hg = c.rec.hGradNorm;
      const n = Math.min(hg.length, MAX_CELLS);
      const cellH = BODY_H / n;
      for (let k = 0; k < n; k++) {
        const t = Math.round((k * (hg.length - 1)) / Math.max(1, n - 1));
        const v = u(hg[t]);
        g.append(s("rect", { x: x - 12, y: TOP + k * cellH, width: 24, height: Math.max(1, cellH - 1), fill: nonFinite(hg[t]) ? BAD : v === null ? "#ddd" : viridis(v), class: "dg-cell" }, s("title", { text: `${c.title} t=${t}: ‖∂ℓ/∂h_t‖ = ${fmt(hg[t])}` })));
      }
      g.append(s("text", { x: x + 16, y: TOP + 8, class: "dg-tiny", text: "t=0" }));
      g.append(s("text", { x: x + 16, y: TOP + BODY_H, class: "dg-tiny", text: `t=${hg.length - 1}` }));
      tip.push(`‖∂ℓ/∂h_t‖ from ${fmt(hg[0])} (t=0) to ${fmt(hg[hg.length - 1])} (t=${hg.length - 1})`);
    } else if (c.info.params === 0 && !c.units) {
      // Shape-only layers (flatten, pooling): a thin bar.
      g.append(s("rect", { x: x - 3, y: midY - 30, width: 6, height: 60, fill: "#ccc" }));
    } else {
      const unitsTotal = c.units?.units ?? c.info.outShape[0] ?? 1;
      const n = Math.min(MAX_DOTS, c.units ? c.units.meanAbsDelta.length : unitsTotal);
      const gap = n > 1 ? (BODY_H - 2 * UNIT_R) / (n - 1) : 0;
      const y0 = n > 1 ? TOP + UNIT_R : midY;
      const d = c.rec?.deltaNorm;
      const t = u(d);
      const bad = nonFinite(d);
      const shares = c.units ? Array.from(c.units.meanAbsDelta.subarray(0, n)) : [];
      const share = Math.max(0, ...shares.filter(positive));
      for (let k = 0; k < n; k++) {
        const v = c.units ? c.units.meanAbsDelta[k] : null;
        const r = positive(v) && share > 0 ? UNIT_R * (0.35 + 0.65 * Math.sqrt(v / share)) : UNIT_R;
        g.append(s("circle", {
          cx: x, cy: y0 + k * gap, r, fill: t === null ? "#fff" : viridis(t), stroke: bad || nonFinite(v) ? BAD : "#333", "stroke-width": bad ? 2 : 0.8, class: "dg-unit",
        }, s("title", { text: `${c.title} unit ${k}: mean |δ| over the batch = ${fmt(v)}` })));
      }
      if (unitsTotal > n) g.append(s("text", { x: x + 11, y: TOP + BODY_H, class: "dg-tiny", text: `+${unitsTotal - n}` }));
    }
    if (c.rec && c.rec.deltaNorm !== null) tip.push(`‖δ‖ = ${fmt(c.rec.deltaNorm)}`);
    if (c.units?.meanDf !== null && c.units?.meanDf !== undefined) tip.push(`mean f′(z) = ${fmt(c.units.meanDf)} (max ${fmt(c.units.maxDf)})`);
    g.append(s("title", { text: tip.join("\n") }));
    g.append(s("text", { x, y: TOP + BODY_H + 18, "text-anchor": "middle", class: "dg-name", text: c.title }));
    g.append(s("text", { x, y: TOP + BODY_H + 32, "text-anchor": "middle", class: "dg-sub", text: c.sub }));
    if (c.info !== null && c.rec && c.rec.deltaNorm !== null) {
      g.append(s("text", { x, y: TOP + BODY_H + 46, "text-anchor": "middle", class: nonFinite(c.rec.deltaNorm) ? "dg-num dg-bad" : "dg-num", text: `‖δ‖ ${fmt(c.rec.deltaNorm, 2)}` }));
    }
    svg.append(g);
  });
  // Legend: the colour scale in decades.
  const lx = width - LEGEND_W + 24, ly = TOP, lh = BODY_H;
  const steps = 24;
  for (let k = 0; k < steps; k++) {
    svg.append(s("rect", { x: lx, y: ly + (lh * (steps - 1 - k)) / steps, width: 12, height: lh / steps + 0.5, fill: viridis(k / (steps - 1)) }));
  }
  const every = Math.ceil((hi - lo) / 6); // at most ~7 labels
  for (let d = hi; d >= lo; d -= every) {
    const y = ly + lh * (1 - (d - lo) / (hi - lo));
    svg.append(s("text", { x: lx + 16, y: y + 4, class: "dg-tiny", text: `1e${d}` }));
  }
  svg.append(s("text", { x: lx - 8, y: ly + lh + 18, class: "dg-tiny", text: "‖δ‖: colour," }));
  svg.append(s("text", { x: lx - 8, y: ly + lh + 30, class: "dg-tiny", text: "band width" }));
}
