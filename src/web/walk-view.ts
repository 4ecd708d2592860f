/**
 * Step-through backprop: the worker runs one batch forward, then hands back the error at every
 * stage on its way down (without training); this view walks it one multiplication at a time.
 * At each layer the error arriving from above, ∂ℓ/∂y, is first multiplied elementwise by the
 * activation's derivative f′(z), giving δ = ∂ℓ/∂z, then by Wᵀ, giving ∂ℓ/∂x for the layer below.
 * Each bar is a size (mean over the batch of the per-example L2 norm, log scale); each step
 * says by what factor it changed and why. A NaN or infinite size is drawn as a red bar across
 * the whole scale with the value written out, never as a length.
 */
import { kindOf } from "../core/layers/registry.ts";
import { diverging, fill, fmt, h, s } from "./dom.ts";
import type { Walk, WalkStage } from "./protocol.ts";

export interface WalkPoint {
  label: string;
  value: number;
  /** value / previous value (null for the first point) */
  factor: number | null;
  explain: string;
  /** the vector at this point, for the first example of the batch */
  vec: Float32Array;
  /** [28, 28] when the vector is an input image's gradient */
  image: boolean;
}

/** The step's label, as the stage's layer kind words it (src/core/layers/registry.ts). */
function through(st: WalkStage): string {
  return kindOf(st.type)?.walk.through(st.name) ?? `through ${st.name}`;
}

/**
 * The sequence of sizes the walk visits: ∂ℓ/∂logits, then per layer (output → input) δ after
 * f′(z) and ∂ℓ/∂x after Wᵀ.
 */
export function walkPoints(w: Walk): WalkPoint[] {
  const pts: WalkPoint[] = [];
  const first = w.stages[0];
  if (!first) return pts;
  pts.push({ label: "∂ℓ/∂logits at the output", value: first.inNorm, factor: null, vec: first.inVec, image: false,
    explain: `The error starts at the output: softmax minus the one-hot label (divided by the batch size ${w.batch}). Its size, averaged over the batch, is ${fmt(first.inNorm)}.` });
  for (const st of w.stages) {
    let prev = pts[pts.length - 1].value;
    if (st.deltaNorm !== null && st.activation !== "linear") {
      const f = st.deltaNorm / prev;
      pts.push({
        label: `× f′(z) of ${st.name} (${st.activation})`, value: st.deltaNorm, factor: f, vec: st.deltaVec!, image: false,
        explain: `Multiplying elementwise by ${st.activation}′(z): here f′(z) averages ${fmt(st.meanDf)} and can never exceed ${fmt(st.maxDf)}, so the error's size goes from ${fmt(prev)} to ${fmt(st.deltaNorm)} (×${fmt(f)}).`,
      });
      prev = st.deltaNorm;
    }
    const f = st.outNorm / prev;
    const explain = kindOf(st.type)?.walk.explain?.(st.name, st.outShape);
    const isImage = st.outShape.reduce((a, b) => a * b, 1) === 784 && st === w.stages[w.stages.length - 1];
    pts.push({
      label: through(st), value: st.outNorm, factor: f, vec: st.outVec, image: isImage,
      explain: explain
        ? `${explain}; its size goes from ${fmt(prev)} to ${fmt(st.outNorm)} (×${fmt(f)}).${isImage ? " This is ∂ℓ/∂x, the error at the input pixels (drawn at the right)." : ""}`
        : `Back ${through(st).replace(/^× /, "through ")}: the size goes from ${fmt(prev)} to ${fmt(st.outNorm)} (×${fmt(f)}).`,
    });
  }
  return pts;
}

/** A 28×28 picture of values (0..1 grey for pixels; diverging for gradients) on a canvas. */
function picture(values: Float32Array, signed: boolean, label: string): HTMLCanvasElement {
  const c = h("canvas", { width: 28, height: 28, class: "digit", role: "img", "aria-label": label });
  const ctx = c.getContext("2d");
  if (!ctx) return c;
  const img = ctx.createImageData(28, 28);
  let m = 0;
  for (let i = 0; i < 784; i++) m = Math.max(m, Math.abs(values[i] ?? 0));
  for (let i = 0; i < 784; i++) {
    const v = values[i] ?? 0;
    let rgb: number[];
    if (signed) rgb = diverging(m > 0 ? v / m : 0).slice(4, -1).split(",").map(Number);
    else { const g = Math.round(255 * (1 - Math.min(1, Math.max(0, v)))); rgb = [g, g, g]; }
    img.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

export class WalkView {
  walk: Walk | null = null;
  cursor = 0;
  private points: WalkPoint[] = [];

  constructor(readonly el: HTMLElement, private readonly request: () => void, private readonly canWalk: () => string | null) {
    el.addEventListener("keydown", (e) => {
      if ((e.target as HTMLElement).closest("input, select, textarea")) return;
      if (e.key === "ArrowRight") { this.move(1); e.preventDefault(); }
      if (e.key === "ArrowLeft") { this.move(-1); e.preventDefault(); }
    });
    this.render();
  }

  show(w: Walk): void {
    this.walk = w;
    this.points = walkPoints(w);
    this.cursor = 0;
    this.render();
  }

  move(d: number): void {
    if (!this.points.length) return;
    this.cursor = Math.max(0, Math.min(this.points.length - 1, this.cursor + d));
    this.render();
    this.el.querySelector<HTMLElement>(d > 0 ? "[data-key=walk-next]" : "[data-key=walk-prev]")?.focus();
  }

  render(): void {
    const why = this.canWalk();
    const intro = h("p", { class: "muted", text: "Pause on the next batch and follow the error backwards, one multiplication at a time: by f′(z), the activation's derivative, then by Wᵀ, the transposed weights. Nothing is trained. Keys: ← and → move." });
    const start = h("button", { type: "button", class: "primary", "data-key": "walk-start", disabled: why !== null, onclick: () => this.request() }, this.walk ? "Walk the next batch" : "Walk backprop on the next batch");
    if (!this.walk) { fill(this.el, intro, start, why ? h("p", { class: "muted", text: why }) : null); return; }
    const w = this.walk, pts = this.points, cur = pts[this.cursor];
    const logs = pts.filter((p) => Number.isFinite(p.value)).map((p) => Math.log10(Math.max(p.value, 1e-30)));
    const lo = logs.length ? Math.floor(Math.min(...logs)) - 0.2 : -1.2, hi = logs.length ? Math.max(Math.ceil(Math.max(...logs)), Math.floor(Math.min(...logs)) + 1) : 0;
    const W = 520, rowH = 22, left = 330;
    const svgW = W + left + 80, svgH = pts.length * rowH + 30;
    const svg = s("svg", { viewBox: `0 0 ${svgW} ${svgH}`, style: `max-width: ${svgW}px`, class: "walk-bars", role: "img", "aria-label": `sizes along the backward pass; step ${this.cursor + 1} of ${pts.length}` });
    pts.forEach((p, i) => {
      const y = 8 + i * rowH;
      const finite = Number.isFinite(p.value);
      const len = finite ? Math.max(2, (W * (Math.log10(Math.max(p.value, 1e-30)) - lo)) / (hi - lo)) : W;
      const on = i <= this.cursor;
      svg.append(s("text", { x: left - 8, y: y + 14, "text-anchor": "end", class: i === this.cursor ? "wb-label current" : "wb-label", text: p.label }));
      svg.append(s("rect", { x: left, y: y + 3, width: on ? len : 2, height: rowH - 6, class: on ? (!finite ? "wb-bar bad" : i === this.cursor ? "wb-bar current" : "wb-bar") : "wb-bar off" }));
      if (on) svg.append(s("text", { x: left + len + 6, y: y + 14, class: "wb-num", text: `${fmt(p.value)}${p.factor !== null ? `  (×${fmt(p.factor, 2)})` : ""}` }));
      if (on && !finite) svg.append(s("text", { x: left + 8, y: y + 14, class: "wb-num wb-bad", text: `${fmt(p.value)}: the error is no longer a number` }));
    });
    for (let d = Math.ceil(lo); d <= hi; d++) {
      const x = left + (W * (d - lo)) / (hi - lo);
      svg.append(s("line", { x1: x, x2: x, y1: 4, y2: pts.length * rowH + 10, class: "wb-grid" }));
      svg.append(s("text", { x, y: pts.length * rowH + 24, "text-anchor": "middle", class: "wb-tick", text: `1e${d}` }));
    }
    const vecMax = cur.vec.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
    const strip = h("div", { class: "strip", role: "img", "aria-label": `the vector at this step for the first example: ${cur.vec.length} values, largest |value| ${fmt(vecMax)}` },
      ...Array.from(cur.vec.slice(0, 256), (v) => h("span", { style: `background:${diverging(vecMax > 0 ? v / vecMax : 0)}`, title: fmt(v) })));
    const total = pts[pts.length - 1].value / pts[0].value; // NaN when a size is not a number: fmt writes it out
    fill(this.el,
      intro,
      h("div", { class: "walk-controls" },
        h("button", { type: "button", "data-key": "walk-prev", disabled: this.cursor === 0, onclick: () => this.move(-1) }, "◀ back"),
        h("button", { type: "button", class: "primary", "data-key": "walk-next", disabled: this.cursor === pts.length - 1, onclick: () => this.move(1) }, "next ▶"),
        h("span", { class: "muted", text: `step ${this.cursor + 1} of ${pts.length} · training step ${w.step}, batch of ${w.batch}, loss ${fmt(w.loss)}` }),
        start),
      h("div", { class: "walk-body" },
        svg,
        h("div", { class: "walk-side" },
          h("figure", {}, picture(w.image, false, `the first example of the batch, a ${w.label}`), h("figcaption", { text: `first example: a ${w.label}` })),
          cur.image ? h("figure", {}, picture(cur.vec, true, "∂ℓ/∂x at the input pixels of the first example"), h("figcaption", { text: "∂ℓ/∂x at the pixels (orange +, blue −)" })) : null)),
      h("p", { class: "walk-explain", "aria-live": "polite", text: cur.explain }),
      h("div", { class: "strip-label muted", text: `this vector for the first example (${cur.vec.length}${cur.vec.length > 256 ? ", first 256 shown" : ""} values; orange +, blue −):` }),
      strip,
      this.cursor === pts.length - 1 ? h("p", { class: "walk-total", text: `From the output to the input the error changed by ×${fmt(total)} in all: the product of every factor above.` }) : null);
  }
}
