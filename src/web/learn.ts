/**
 * The learn panel: four short lessons, each tied to the network training in the lab.
 *   1. What a gradient is: a 2-D function, its gradient arrows, a steepest-ascent path.
 *   2. Sigmoid and its derivative (never above 0.25), with the live model's mean f′(z) per layer.
 *   3. Why a product of many such factors vanishes, with the live model's measured gains.
 *   4. Which remedy fixes which factor, each one click away (here, or as B in A/B mode).
 */
import type { StepRecord } from "../instrument/recorder.ts";
import { fill, fmt, h, s, viridis } from "./dom.ts";
import type { Curve, UnitStats } from "./protocol.ts";
import { REMEDIES } from "./remedies.ts";

export interface LearnLive {
  curves: Curve[];
  units: UnitStats[];
  last: StepRecord | undefined;
  /** the activation of the model's first hidden layer, if any */
  activation: string | null;
  /** each layer's activation, by layer name */
  layerActivations: Record<string, string | null>;
  /**
   * per remedy id, why it would change nothing (null: it applies): `here` for the network being
   * edited ("apply"), `ab` for A, which "compare in A/B" starts from
   */
  remedyNotes: Record<string, { here: string | null; ab: string | null }>;
}

// ---------------------------------------------------------------------------------------------
// 1. A 2-D function and its gradient.

/** Two hills and a gentle bowl: f(x, y) on [−3, 3]². */
export function hills(x: number, y: number): number {
  return 1.2 * Math.exp(-((x - 1) ** 2 + (y - 1) ** 2) / 1.2) + 0.8 * Math.exp(-((x + 1.3) ** 2 + (y + 0.8) ** 2) / 0.8) - 0.02 * (x * x + y * y);
}

/** ∇f by central differences. @example gradient(hills, 1, 1) // ≈ [−0.04, −0.04] near the top */
export function gradient(f: (x: number, y: number) => number, x: number, y: number, e = 1e-5): [number, number] {
  return [(f(x + e, y) - f(x - e, y)) / (2 * e), (f(x, y + e) - f(x, y - e)) / (2 * e)];
}

/** Steepest ascent from (x, y): repeated steps of size η along ∇f, until it flattens out. */
export function ascent(f: (x: number, y: number) => number, x: number, y: number, eta = 0.25, steps = 80): [number, number][] {
  const path: [number, number][] = [[x, y]];
  for (let k = 0; k < steps; k++) {
    const [gx, gy] = gradient(f, x, y);
    if (Math.hypot(gx, gy) < 1e-3) break;
    x += eta * gx;
    y += eta * gy;
    path.push([x, y]);
  }
  return path;
}

class GradientDemo {
  readonly el: HTMLElement;
  private start: [number, number] = [-2.4, 2.2];
  private canvas: HTMLCanvasElement;
  private readout: HTMLElement;
  private background: ImageData | null = null;
  private readonly size = 300;

  constructor() {
    this.canvas = h("canvas", { width: this.size, height: this.size, tabindex: 0, class: "grad-canvas", role: "img", "aria-label": "a landscape f(x, y) with its gradient arrows and a steepest-ascent path; arrow keys move the start" });
    this.readout = h("p", { class: "muted", "aria-live": "polite" });
    this.canvas.addEventListener("click", (e) => {
      const r = this.canvas.getBoundingClientRect();
      this.start = [this.toX(((e.clientX - r.left) / r.width) * this.size), this.toY(((e.clientY - r.top) / r.height) * this.size)];
      this.draw();
    });
    this.canvas.addEventListener("keydown", (e) => {
      const d: Record<string, [number, number]> = { ArrowLeft: [-0.2, 0], ArrowRight: [0.2, 0], ArrowUp: [0, 0.2], ArrowDown: [0, -0.2] };
      const m = d[e.key];
      if (!m) return;
      e.preventDefault();
      this.start = [Math.max(-3, Math.min(3, this.start[0] + m[0])), Math.max(-3, Math.min(3, this.start[1] + m[1]))];
      this.draw();
    });
    this.el = h("div", { class: "lesson-body" }, this.canvas, h("div", {},
      h("p", { text: "A gradient is the direction in which a function rises fastest, and its length is how fast. For f(x, y) it is the pair of partial derivatives ∇f = (∂f/∂x, ∂f/∂y): the arrows. Following them step by step climbs to a peak (the white path: steepest ascent). Training does the opposite on the loss: it steps against ∇L, downhill, by the learning rate." }),
      h("p", { text: "In a network, ∇L has one entry per weight; the lab's charts show its size for each layer. When that size is tiny for the first layers, their weights barely move: the vanishing gradient." }),
      h("p", { class: "muted", text: "Click the map (or focus it and use the arrow keys) to start the path elsewhere." }),
      this.readout));
    this.draw();
  }

  private toX(px: number): number { return -3 + (6 * px) / this.size; }
  private toY(py: number): number { return 3 - (6 * py) / this.size; }
  private px(x: number): number { return ((x + 3) / 6) * this.size; }
  private py(y: number): number { return ((3 - y) / 6) * this.size; }

  private draw(): void {
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    const n = this.size;
    if (!this.background) {
      this.background = ctx.createImageData(n, n);
      let lo = Infinity, hi = -Infinity;
      const vals = new Float64Array(n * n);
      for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) { const v = hills(this.toX(i), this.toY(j)); vals[j * n + i] = v; lo = Math.min(lo, v); hi = Math.max(hi, v); }
      for (let k = 0; k < n * n; k++) {
        const c = viridis((vals[k] - lo) / (hi - lo));
        this.background.data.set([parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16), 255], 4 * k);
      }
    }
    ctx.putImageData(this.background, 0, 0);
    // Gradient arrows on a grid, length ∝ |∇f| (capped).
    ctx.strokeStyle = "rgba(255,255,255,0.85)";
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.lineWidth = 1.2;
    for (let gy = -2.75; gy <= 2.76; gy += 0.5) {
      for (let gx = -2.75; gx <= 2.76; gx += 0.5) {
        const [dx, dy] = gradient(hills, gx, gy);
        const len = Math.min(0.45, Math.hypot(dx, dy) * 0.6);
        const norm = Math.hypot(dx, dy) || 1;
        const x0 = this.px(gx), y0 = this.py(gy), x1 = this.px(gx + (dx / norm) * len), y1 = this.py(gy + (dy / norm) * len);
        ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
        const a = Math.atan2(y1 - y0, x1 - x0);
        ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x1 - 5 * Math.cos(a - 0.4), y1 - 5 * Math.sin(a - 0.4)); ctx.lineTo(x1 - 5 * Math.cos(a + 0.4), y1 - 5 * Math.sin(a + 0.4)); ctx.fill();
      }
    }
    const path = ascent(hills, ...this.start);
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 3;
    ctx.beginPath();
    path.forEach(([x, y], k) => (k ? ctx.lineTo(this.px(x), this.py(y)) : ctx.moveTo(this.px(x), this.py(y))));
    ctx.stroke();
    ctx.fillStyle = "#D55E00";
    ctx.beginPath(); ctx.arc(this.px(this.start[0]), this.py(this.start[1]), 6, 0, 2 * Math.PI); ctx.fill();
    const end = path[path.length - 1];
    const [gx, gy] = gradient(hills, ...this.start);
    this.readout.textContent = `Start (${fmt(this.start[0], 2)}, ${fmt(this.start[1], 2)}): f = ${fmt(hills(...this.start))}, ∇f = (${fmt(gx, 2)}, ${fmt(gy, 2)}); ${path.length - 1} steps of 0.25·∇f reach (${fmt(end[0], 2)}, ${fmt(end[1], 2)}), f = ${fmt(hills(...end))}.`;
  }
}

// ---------------------------------------------------------------------------------------------
// 2. An activation and its derivative, from the engine's own functions.

function activationPlot(curve: Curve | undefined, units: UnitStats[], layersWith: string[]): Element {
  if (!curve) return h("p", { class: "muted", text: "waiting for the engine's activation curves…" });
  const W = 420, H = 220, L = 40, B = 28, T = 10;
  const ymin = Math.min(0, ...curve.f, ...curve.df), ymax = Math.max(1, ...curve.f, ...curve.df);
  const xs = (z: number) => L + ((z + 6) / 12) * (W - L - 10);
  const ys = (v: number) => T + ((ymax - v) / (ymax - ymin)) * (H - T - B);
  const line = (vals: Float32Array) => Array.from(vals, (v, i) => `${i ? "L" : "M"}${xs(curve.z[i]).toFixed(1)},${ys(v).toFixed(1)}`).join("");
  const svg = s("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "act-plot", role: "img", "aria-label": `${curve.name}(z) and its derivative; the derivative never exceeds ${fmt(curve.maxDf)}` },
    s("line", { x1: L, x2: W - 10, y1: ys(0), y2: ys(0), class: "axis" }),
    s("line", { x1: xs(0), x2: xs(0), y1: T, y2: H - B, class: "axis" }),
    s("line", { x1: L, x2: W - 10, y1: ys(curve.maxDf), y2: ys(curve.maxDf), class: "maxline" }),
    s("text", { x: W - 12, y: ys(curve.maxDf) - 4, "text-anchor": "end", class: "tiny", text: `max f′ = ${fmt(curve.maxDf)}` }),
    s("path", { d: line(curve.f), class: "curve-f" }),
    s("path", { d: line(curve.df), class: "curve-df" }),
    s("text", { x: L + 4, y: H - 8, class: "tiny", text: "z = −6" }),
    s("text", { x: W - 12, y: H - 8, "text-anchor": "end", class: "tiny", text: "z = 6" }),
    s("text", { x: L + 4, y: T + 12, class: "tiny legend-f", text: `${curve.name}(z) (solid)` }),
    s("text", { x: L + 4, y: T + 26, class: "tiny legend-df", text: `${curve.name}′(z) (dashed)` }));
  // The live model: each layer's mean f′(z) as a tick on the right edge.
  let k = 0;
  for (const u of units) {
    if (!layersWith.includes(u.name) || u.meanDf === null) continue;
    const y = ys(u.meanDf);
    svg.append(s("line", { x1: W - 60, x2: W - 10, y1: y, y2: y, class: "live-tick" }));
    svg.append(s("text", { x: W - 62, y: y + 4 + 11 * k++, "text-anchor": "end", class: "tiny", text: `${u.name}: mean f′ ${fmt(u.meanDf, 2)}` }));
  }
  return svg;
}

// ---------------------------------------------------------------------------------------------
// 3. Products of factors.

/** ρ^k for k = 0..n. @example powers(0.25, 3) // [1, 0.25, 0.0625, 0.015625] */
export function powers(rho: number, n: number): number[] {
  return Array.from({ length: n + 1 }, (_, k) => rho ** k);
}

function productPlot(rho: number, n: number): SVGSVGElement {
  const vals = powers(rho, n);
  const W = 420, H = 160, L = 44, B = 24;
  const logs = vals.map((v) => Math.log10(v));
  const lo = Math.min(-1, Math.floor(Math.min(...logs))), hi = Math.max(1, Math.ceil(Math.max(...logs)));
  const bw = (W - L - 10) / vals.length;
  const y = (lv: number) => 8 + ((hi - lv) / (hi - lo)) * (H - 8 - B);
  const svg = s("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", class: "prod-plot", "aria-label": `${rho} to the power k for k up to ${n}: ${fmt(vals[n])} after ${n} factors` });
  for (let d = lo; d <= hi; d++) {
    svg.append(s("line", { x1: L, x2: W - 10, y1: y(d), y2: y(d), class: "wb-grid" }));
    svg.append(s("text", { x: L - 4, y: y(d) + 4, "text-anchor": "end", class: "tiny", text: `1e${d}` }));
  }
  vals.forEach((v, k) => {
    const top = y(Math.log10(v)), base = y(0);
    svg.append(s("rect", { x: L + k * bw + 1, y: Math.min(top, base), width: Math.max(1, bw - 2), height: Math.max(1, Math.abs(base - top)), fill: v < 1 ? "#0072B2" : "#D55E00" }, s("title", { text: `${rho}^${k} = ${fmt(v)}` })));
  });
  svg.append(s("text", { x: L, y: H - 6, class: "tiny", text: "layers travelled back: 0 →" }));
  return svg;
}

// ---------------------------------------------------------------------------------------------

export class LearnPanel {
  private demo = new GradientDemo();
  private actSel: HTMLSelectElement;
  private actBox = h("div", { class: "act-box" });
  private liveAct = h("p", { class: "live" });
  private rho: HTMLSelectElement;
  private depth: HTMLInputElement;
  private prodBox = h("div", {});
  private prodText = h("p", { "aria-live": "polite" });
  private liveGain = h("p", { class: "live" });
  private live: LearnLive = { curves: [], units: [], last: undefined, activation: null, layerActivations: {}, remedyNotes: {} };
  /** the remedy buttons and their note cells, by remedy id */
  private remedyButtons = new Map<string, { here: HTMLButtonElement; ab: HTMLButtonElement; note: HTMLElement }>();
  private chosenAct: string | null = null;

  constructor(readonly el: HTMLElement, private readonly onRemedy: (id: string, mode: "here" | "ab") => void) {
    this.actSel = h("select", { "aria-label": "activation to plot" }, ...["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softsign", "linear"].map((a) => h("option", { value: a, text: a })));
    this.actSel.addEventListener("change", () => { this.chosenAct = this.actSel.value; this.renderAct(); });
    this.rho = h("select", { "aria-label": "factor per layer" }, ...["0.25", "0.5", "0.9", "1", "1.1", "1.5"].map((r) => h("option", { value: r, text: r, selected: r === "0.25" })));
    this.depth = h("input", { type: "range", min: 1, max: 30, value: 10, "aria-label": "number of layers" });
    this.rho.addEventListener("change", () => this.renderProduct());
    this.depth.addEventListener("input", () => this.renderProduct());
    const remedies = h("table", { class: "remedies" },
      h("thead", {}, h("tr", {}, h("th", { text: "remedy" }), h("th", { text: "fixes" }), h("th", { text: "why" }), h("th", { text: "try it" }))),
      h("tbody", {}, ...REMEDIES.map((r) => {
        const here = h("button", { type: "button", "data-key": `remedy-${r.id}`, title: "change the network being edited", onclick: () => this.onRemedy(r.id, "here") }, "apply");
        const ab = h("button", { type: "button", "data-key": `remedy-ab-${r.id}`, title: "B = network A with this remedy, trained beside it from the same seed", onclick: () => this.onRemedy(r.id, "ab") }, "compare in A/B");
        const note = h("span", { class: "muted small", id: `remedy-note-${r.id}` });
        this.remedyButtons.set(r.id, { here, ab, note });
        return h("tr", {}, h("td", { text: r.title }), h("td", { text: r.fixes }), h("td", { text: r.why }), h("td", { class: "nowrap" }, here, ab, note));
      })));
    fill(el,
      h("p", { class: "muted" }, "These lessons, told step by step with live figures: ", h("a", { href: "./story.html", text: "the story" }), "."),
      h("section", { class: "lesson" }, h("h3", { text: "1 · What a gradient is" }), this.demo.el),
      h("section", { class: "lesson" }, h("h3", { text: "2 · Sigmoid and its derivative" }),
        h("div", { class: "lesson-body" }, this.actBox, h("div", {},
          h("p", { text: "σ(z) = 1/(1 + e^−z) squashes z into (0, 1); its derivative σ′(z) = σ(z)(1 − σ(z)) is at most 1/4, at z = 0, and almost 0 once |z| > 5 (a saturated unit). Back-propagation multiplies the error by f′(z) at every layer, so a sigmoid layer passes back at most a quarter of what it receives, and far less when saturated." }),
          h("label", { class: "ctl" }, h("span", { text: "activation" }), this.actSel),
          this.liveAct))),
      h("section", { class: "lesson" }, h("h3", { text: "3 · Why a product of many factors vanishes" }),
        h("div", { class: "lesson-body" }, h("div", {}, this.prodBox), h("div", {},
          h("p", { text: "The error reaching layer l is the output's error times one factor per layer above it (f′(z) times Wᵀ). If each factor is about ρ, n layers multiply it by ρⁿ: 0.25¹⁰ ≈ 1e−6. Below 1 it vanishes exponentially, above 1 it explodes; only ρ ≈ 1 carries it intact." }),
          h("div", { class: "row" }, h("label", { class: "ctl" }, h("span", { text: "factor ρ" }), this.rho), h("label", { class: "ctl" }, h("span", { text: "layers n" }), this.depth)),
          this.prodText, this.liveGain))),
      h("section", { class: "lesson" }, h("h3", { text: "4 · Which remedy fixes what" }),
        h("p", { text: "Each remedy acts on one factor of the product. Apply one to the network being edited, or compare it in A/B mode: B becomes the current network with the remedy, and both train from the same seed on shared axes." }),
        remedies));
    this.renderProduct();
  }

  update(live: LearnLive): void {
    this.live = live;
    for (const [id, { here, ab, note }] of this.remedyButtons) {
      const why = live.remedyNotes[id] ?? { here: null, ab: null };
      for (const [b, reason] of [[here, why.here], [ab, why.ab]] as const) {
        b.disabled = reason !== null;
        if (reason) b.setAttribute("aria-describedby", note.id); else b.removeAttribute("aria-describedby");
      }
      note.textContent = why.here ?? why.ab ?? "";
    }
    if (!this.chosenAct && live.activation) this.actSel.value = live.activation;
    this.renderAct();
    this.renderLiveGain();
  }

  private renderAct(): void {
    const name = this.chosenAct ?? this.live.activation ?? "sigmoid";
    this.actSel.value = name;
    const curve = this.live.curves.find((c) => c.name === name);
    const withAct = this.live.units.filter((u) => u.meanDf !== null && this.live.layerActivations[u.name] === name);
    fill(this.actBox, activationPlot(curve, this.live.units, withAct.map((u) => u.name)));
    this.liveAct.textContent = withAct.length
      ? `In your network now (step ${this.live.last?.step ?? 0}): ${withAct.map((u) => `${u.name} mean f′(z) = ${fmt(u.meanDf, 2)}`).join(", ")} — at most ${fmt(curve?.maxDf)}.`
      : "Train the network to see its layers' mean f′(z) here.";
  }

  private renderProduct(): void {
    const rho = Number(this.rho.value), n = Number(this.depth.value);
    fill(this.prodBox, productPlot(rho, n));
    this.prodText.textContent = `${rho}^${n} = ${fmt(rho ** n)}: ${rho < 1 ? "the error vanishes" : rho > 1 ? "the error explodes" : "the error keeps its size"} over ${n} layers.`;
  }

  private renderLiveGain(): void {
    const rec = this.live.last;
    const gains = rec?.layers.filter((l) => l.gain !== null && Number.isFinite(l.gain)) ?? [];
    if (!rec || gains.length === 0) { this.liveGain.textContent = "Train the network to see its measured factors here."; return; }
    const total = gains.reduce((p, l) => p * (l.gain as number), 1);
    this.liveGain.textContent = `Your network at step ${rec.step}: measured factors ‖δ_l‖/‖δ_l+1‖ ${gains.map((l) => `${l.name} ×${fmt(l.gain, 2)}`).join(", ")}; from the output to ${gains[0].name} the error is multiplied by ${fmt(total)}.`;
  }
}
