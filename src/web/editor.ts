/**
 * The architecture editor: one row per layer (residual blocks hold their own rows), each with
 * its type, size, activation, initialization and, for recurrent layers, W_hh's init and
 * returnSequences, as its kind declares them (src/core/layers/registry.ts); rows can be moved,
 * removed and added. It edits the raw layer list (any JSON,
 * since it may come from a URL) and shows under the offending row why a network cannot be
 * built, with the path the config error names; each valid row shows its output shape and
 * parameter count, as the worker built them.
 */
import type { EditorControl } from "../core/layers/kind.ts";
import { kindOf, LAYER_TYPES } from "../core/layers/registry.ts";
import { fill, h } from "./dom.ts";
import type { LayerInfo, ModelInfo } from "./protocol.ts";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** A sensible layer of `type`, keeping what carries over from the layer it replaces (its kind's editor defaults). */
export function defaultLayer(type: string, prev: Json = {}): Json {
  const units = typeof prev.units === "number" ? prev.units : typeof prev.filters === "number" ? prev.filters : 32;
  const activation = typeof prev.activation === "string" ? prev.activation : "relu";
  const init = typeof prev.init === "string" ? prev.init : undefined;
  return kindOf(type)?.editor.defaults({ units, activation, init }) ?? { type, units };
}

/** The config path an error message starts with, down to its deepest layer: "model.layers[1].layers[0]". */
export function errorLayerPath(message: string): string | null {
  const m = /^model\.layers((?:\[\d+\](?:\.layers(?=\[))?)*)/.exec(message);
  return m && m[1] ? `model.layers${m[1]}` : null;
}

export interface EditorProps {
  layers: unknown;
  model: ModelInfo | null;
  /** why the config cannot run, or null */
  error: string | null;
  /** true while the worker is still checking the shapes */
  checking: boolean;
  onChange(layers: unknown[]): void;
}

/** Renders the editor into `el`, keeping keyboard focus on the same control across renders. */
export function renderEditor(el: HTMLElement, props: EditorProps): void {
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
  const raw = props.layers;
  if (!Array.isArray(raw)) {
    fill(el, h("p", { class: "error", role: "alert", text: "model.layers: expected a list of layers" }),
      h("button", { "data-key": "reset-layers", onclick: () => props.onChange([{ type: "dense", units: 10 }]) }, "Start from one output layer"));
    return;
  }
  const root = clone(raw) as unknown[];
  const errorPath = props.error ? errorLayerPath(props.error) : null;
  let errorShown = false;
  const info = new Map<string, LayerInfo>((props.model?.layers ?? []).map((l) => [l.path, l]));
  const commit = () => props.onChange(root);

  const list = (items: unknown[], path: string, depth: number): HTMLElement => {
    const ol = h("ol", { class: "layers", start: 0, "aria-label": depth ? "layers of the residual block" : "layers, input to output" });
    items.forEach((item, i) => {
      const p = `${path}[${i}]`;
      const l: Json = isObject(item) ? item : {};
      const key = (k: string) => `${p}:${k}`;
      const set = (k: string, v: unknown) => { if (v === undefined) delete l[k]; else l[k] = v; items[i] = l; commit(); };
      const type = typeof l.type === "string" ? l.type : "";
      const controls: HTMLElement[] = [];
      const select = (k: string, label: string, options: string[], value: unknown, onPick: (v: string) => void) => {
        const known = typeof value === "string" && options.includes(value);
        const sel = h("select", { "data-key": key(k), "aria-label": `${label} of layer ${i}`, title: label },
          ...(!known ? [h("option", { value: "", selected: true, text: value === undefined ? "(default)" : "(custom)" })] : []),
          ...options.map((o) => h("option", { value: o, selected: o === value, text: o })));
        sel.addEventListener("change", () => { if (sel.value) onPick(sel.value); });
        controls.push(h("label", { class: "ctl" }, h("span", { text: label }), sel));
      };
      const number = (k: string, label: string, min: number, optional = false) => {
        const v = l[k];
        const inp = h("input", { type: "number", min, step: 1, value: typeof v === "number" ? v : "", "data-key": key(k), "aria-label": `${label} of layer ${i}`, class: "num", placeholder: optional ? "auto" : "" });
        inp.addEventListener("change", () => {
          if (inp.value.trim() === "" && optional) { set(k, undefined); return; }
          const n = Number(inp.value);
          // Any number goes into the raw config; the schema and the limits explain bad ones in place.
          set(k, Number.isFinite(n) ? n : inp.value);
        });
        controls.push(h("label", { class: "ctl" }, h("span", { text: label }), inp));
      };
      select("type", "type", [...LAYER_TYPES], type, (t) => { items[i] = defaultLayer(t, l); commit(); });
      const kind = kindOf(type);
      const control = (c: EditorControl) => {
        if (c.control === "number") number(c.key, c.label, c.min, c.optional);
        else if (c.control === "select") select(c.key, c.label, [...c.options], l[c.key] ?? c.shown, (v) => set(c.key, v === c.unsetOn ? undefined : v));
        else {
          const cb = h("input", { type: "checkbox", checked: l[c.key] === true, "data-key": key(c.id), "aria-label": `${c.aria}, layer ${i}` });
          cb.addEventListener("change", () => set(c.key, cb.checked ? true : undefined));
          controls.push(h("label", { class: "ctl inline" }, cb, h("span", { text: c.label })));
        }
      };
      for (const c of kind?.editor.controls ?? []) control(c);
      const container = kind?.role === "container";
      const move = (d: number) => { const j = i + d; if (j < 0 || j >= items.length) return; [items[i], items[j]] = [items[j], items[i]]; commit(); };
      const buttons = h("span", { class: "row-buttons" },
        h("button", { type: "button", class: "icon", "data-key": key("up"), "aria-label": `move layer ${i} up`, title: "move up", disabled: i === 0, onclick: () => move(-1) }, "↑"),
        h("button", { type: "button", class: "icon", "data-key": key("down"), "aria-label": `move layer ${i} down`, title: "move down", disabled: i === items.length - 1, onclick: () => move(1) }, "↓"),
        h("button", { type: "button", class: "icon", "data-key": key("add"), "aria-label": `add a layer after layer ${i}`, title: "add a layer after this one", onclick: () => { items.splice(i + 1, 0, defaultLayer(container ? "dense" : type || "dense", l)); commit(); } }, "+"),
        h("button", { type: "button", class: "icon", "data-key": key("remove"), "aria-label": `remove layer ${i}`, title: "remove", disabled: items.length === 1, onclick: () => { items.splice(i, 1); commit(); } }, "✕"));
      const li = info.get(p);
      const shape = li ? h("span", { class: "shape", text: `→ [${li.outShape.join("×")}]${li.params ? ` · ${li.params.toLocaleString("en")} params` : ""}` }) : null;
      const name = li?.name ?? (typeof l.name === "string" ? l.name : "");
      const row = h("li", { class: `layer depth-${depth}`, "data-path": p },
        h("div", { class: "layer-head" }, h("span", { class: "layer-name", text: name || `layer ${i}`, title: kind?.about ?? "" }), shape, buttons),
        h("div", { class: "layer-controls" }, ...controls));
      if (!isObject(item)) row.append(h("p", { class: "error", text: `${p}: expected a layer object like {"type": "dense", "units": 10}` }));
      if (container) {
        const inner = Array.isArray(l.layers) ? (l.layers as unknown[]) : (l.layers = []) as unknown[];
        row.append(list(inner, `${p}.layers`, depth + 1));
      }
      if (errorPath === p && props.error) { row.append(h("p", { class: "error", role: "alert", text: props.error })); row.classList.add("invalid"); errorShown = true; }
      ol.append(row);
    });
    return ol;
  };
  const tree = list(root, "model.layers", 0);
  const footer = h("div", { class: "editor-foot" },
    h("button", {
      type: "button", "data-key": "add-hidden",
      onclick: () => { const last = root.length - 1; const hidden = isObject(root[last - 1]) ? (root[last - 1] as Json) : { type: "dense", units: 32, activation: "sigmoid" }; root.splice(Math.max(0, last), 0, clone(hidden)); commit(); },
    }, "+ hidden layer"),
    props.checking ? h("span", { class: "muted", text: "checking shapes…" }) : null,
    props.model && !props.error ? h("span", { class: "muted", text: `${props.model.params.toLocaleString("en")} parameters` }) : null);
  const general = props.error && !errorShown ? h("p", { class: "error", role: "alert", text: props.error }) : null;
  fill(el, tree, general, footer);
  if (focused) el.querySelector<HTMLElement>(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}
