/**
 * A few DOM helpers. Text is only ever set as text (textContent, attribute values), never as
 * HTML, so nothing that comes from a URL, a file or a config can become markup or script.
 */

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
type Child = Node | string | null | undefined | false;

/**
 * An element with attributes, event handlers (`onclick`) and children (strings become text).
 * @example h("button", { class: "primary", onclick: play }, "Play")
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element, as h() for HTML. @example s("rect", { x: 0, y: 0, width: 10, height: 10 }) */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (k === "text") el.textContent = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

/** Replace an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

/** A number as a reader wants it: 3 significant digits, exponent form when tiny or huge. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined) return "–";
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

/** Trigger a download of text as a file. */
export function download(name: string, text: string, type = "text/plain"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** viridis at u ∈ [0, 1] (dark purple → yellow; perceptually uniform, colour-blind safe). */
const VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725"];
export function viridis(u: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const ch = (c: string, k: number) => parseInt(c.slice(1 + 2 * k, 3 + 2 * k), 16);
  const a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return `#${[0, 1, 2].map((k) => Math.round(ch(a, k) + f * (ch(b, k) - ch(a, k))).toString(16).padStart(2, "0")).join("")}`;
}

/** Diverging blue ↔ orange for signed values in [−1, 1] (readable with red–green colour blindness). */
export function diverging(u: number): string {
  const t = Math.max(-1, Math.min(1, Number.isFinite(u) ? u : 0));
  const mix = (a: number[], b: number[], f: number) => a.map((x, k) => Math.round(x + f * (b[k] - x)));
  const white = [247, 247, 247], blue = [33, 102, 172], orange = [230, 97, 1];
  const c = t < 0 ? mix(white, blue, -t) : mix(white, orange, t);
  return `rgb(${c.join(",")})`;
}
