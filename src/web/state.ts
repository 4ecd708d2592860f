/**
 * All state of the lab in one declarative table (after TensorFlow Playground's state.ts),
 * serialized to the URL hash, seed included, so a copied link reproduces the run:
 *   #name=seed&view=flat&train=60000&…&layers=!((type:dense,units:5,activation:sigmoid,…),…)&seed=1
 * Each row names a hash key, the config path it stands for, its kind and its bounds. Run fields
 * belong to one configuration; in A/B mode (`ab=1`) configuration B writes only the fields where
 * it differs from A, as `b.lr=0.1`. The seed is shared: A and B always start from the same one.
 *
 * Decoding never trusts the hash: unknown keys, malformed numbers, out-of-range values and bad
 * layer notation are reported one line each and replaced by the default; keys are looked up in
 * the table only (a `__proto__` key is just an unknown key); text is only ever shown as text.
 * Pure: no DOM, so it is tested in Node.
 */
import seedPreset from "../../experiments/seed.json" with { type: "json" };
import { parseConfig, type Config } from "../experiment/config.ts";
import { childSpecs, kindOf } from "../core/layers/registry.ts";
import type { LayerSpec } from "../core/spec.ts";
import { decodeRison, encodeRison, RisonError } from "./rison.ts";

/** A config as JSON, before validation (what the URL and the editor hold). */
export type RawConfig = Record<string, unknown>;

/** Training speeds offered, in steps per second; the lab opens on the slowest, slow enough to narrate. */
export const SPEEDS = ["10", "30", "100", "300", "1000", "max"] as const;
export type Speed = (typeof SPEEDS)[number];

export interface UiState {
  /** training speed: steps per second, or as fast as the engine goes */
  speed: Speed;
}

export interface LabState {
  a: RawConfig;
  /** configuration B in A/B mode, else null */
  b: RawConfig | null;
  ui: UiState;
}

type Kind =
  | { kind: "int"; min: number; max: number }
  | { kind: "num"; min: number; max: number; minOpen?: boolean; maxOpen?: boolean }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "bool" }
  | { kind: "text"; maxLength: number }
  | { kind: "pair"; min: number; max: number; maxOpen?: boolean }
  | { kind: "layers" };

/** run: one per configuration (A, and B as `b.key`); shared: both configurations; ui: the page. */
export type Field = Kind & { key: string; label: string; scope: "run" | "shared" | "ui"; path?: readonly string[] };

const VIEWS = ["flat", "image", "rows", "pixels", "pixels-permuted"] as const;

/**
 * The table. Bounds are the lab's: within what the config schema accepts and small enough for a
 * browser tab (the full MNIST split sizes, batch ≤ 2048, …).
 */
export const FIELDS: readonly Field[] = [
  { key: "name", label: "name", scope: "run", path: ["name"], kind: "text", maxLength: 200 },
  { key: "view", label: "data view", scope: "run", path: ["data", "view"], kind: "enum", values: VIEWS },
  { key: "train", label: "training examples", scope: "run", path: ["data", "train"], kind: "int", min: 1, max: 60000 },
  { key: "test", label: "test examples", scope: "run", path: ["data", "test"], kind: "int", min: 1, max: 10000 },
  { key: "layers", label: "layers", scope: "run", path: ["model", "layers"], kind: "layers" },
  { key: "loss", label: "loss", scope: "run", path: ["loss"], kind: "enum", values: ["cross_entropy", "mse"] },
  { key: "opt", label: "optimizer", scope: "run", path: ["optimizer", "type"], kind: "enum", values: ["sgd", "adam", "rmsprop"] },
  { key: "lr", label: "learning rate", scope: "run", path: ["optimizer", "lr"], kind: "num", min: 0, minOpen: true, max: 100 },
  { key: "momentum", label: "momentum", scope: "run", path: ["optimizer", "momentum"], kind: "num", min: 0, max: 1, maxOpen: true },
  { key: "nesterov", label: "Nesterov", scope: "run", path: ["optimizer", "nesterov"], kind: "bool" },
  { key: "betas", label: "Adam betas", scope: "run", path: ["optimizer", "betas"], kind: "pair", min: 0, max: 1, maxOpen: true },
  { key: "alpha", label: "RMSprop alpha", scope: "run", path: ["optimizer", "alpha"], kind: "num", min: 0, max: 1, maxOpen: true },
  { key: "eps", label: "epsilon", scope: "run", path: ["optimizer", "eps"], kind: "num", min: 0, minOpen: true, max: 1 },
  { key: "wd", label: "weight decay", scope: "run", path: ["optimizer", "weightDecay"], kind: "num", min: 0, max: 10 },
  { key: "clipNorm", label: "clip norm", scope: "run", path: ["optimizer", "clipNorm"], kind: "num", min: 0, minOpen: true, max: 1e6 },
  { key: "clipValue", label: "clip value", scope: "run", path: ["optimizer", "clipValue"], kind: "num", min: 0, minOpen: true, max: 1e6 },
  { key: "epochs", label: "epochs", scope: "run", path: ["train", "epochs"], kind: "int", min: 1, max: 1000 },
  { key: "batch", label: "batch size", scope: "run", path: ["train", "batchSize"], kind: "int", min: 1, max: 2048 },
  { key: "evalBatch", label: "evaluation batch", scope: "run", path: ["train", "evalBatchSize"], kind: "int", min: 1, max: 10000 },
  { key: "onNonFinite", label: "on NaN/Inf", scope: "run", path: ["train", "onNonFinite"], kind: "enum", values: ["stop", "skip-step", "continue"] },
  { key: "every", label: "record every", scope: "run", path: ["record", "every"], kind: "int", min: 1, max: 1_000_000 },
  { key: "hist", label: "histograms", scope: "run", path: ["record", "histograms"], kind: "bool" },
  { key: "seed", label: "seed", scope: "shared", path: ["train", "seed"], kind: "int", min: 0, max: 2 ** 31 - 1 },
  { key: "ab", label: "A/B mode", scope: "ui", kind: "bool" },
  { key: "speed", label: "speed", scope: "ui", kind: "enum", values: SPEEDS },
];

const BY_KEY = new Map(FIELDS.map((f) => [f.key, f]));
/** Longest hash accepted; a real one is well under 2 kB. */
export const MAX_HASH_LENGTH = 30_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function getPath(root: unknown, path: readonly string[]): unknown {
  let cur = root;
  for (const k of path) {
    if (!isObject(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

export function setPath(root: RawConfig, path: readonly string[], value: unknown): void {
  let cur: Record<string, unknown> = root;
  for (const k of path.slice(0, -1)) {
    if (!isObject(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

/**
 * The part of a config the lab represents: every run and shared field of the table, nothing
 * else. `data.dataset` is always mnist in the browser.
 * @example rawFromConfig(seedJson).optimizer // { type: "sgd", lr: 0.5 }
 */
export function rawFromConfig(config: unknown): RawConfig {
  const raw: RawConfig = {};
  for (const f of FIELDS) {
    if (f.scope === "ui" || !f.path) continue;
    const v = getPath(config, f.path);
    if (v !== undefined) setPath(raw, f.path, clone(v));
  }
  return raw;
}

/**
 * Where a config differs from what its link gives back: the dotted paths of the leaves the
 * table cannot hold (settings left at their defaults do not count; `description` is not a
 * setting). A preset listed here would not survive the URL.
 * @example unrepresented(parseConfig({ ...seed, train: { seed: 1, checkpointEvery: 10 } })) // ["train.checkpointEvery"]
 */
export function unrepresented(config: Config): string[] {
  let back: unknown;
  try {
    back = parseConfig({ ...rawFromConfig(config), data: { ...(rawFromConfig(config).data as object), dataset: "mnist" } });
  } catch {
    return ["(the config cannot be rebuilt from its link)"];
  }
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string[]) => {
    if (path.length === 1 && path[0] === "description") return;
    if (isObject(a) && isObject(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], [...path, k]);
      return;
    }
    if (!same(a, b)) out.push(path.join("."));
  };
  walk(config, back, []);
  return out;
}

/**
 * The state the lab opens on: the seed preset, training at 10 steps per second, so the first
 * hundred steps, where the first layer learns slowest, take ten seconds to watch.
 */
export function defaultState(): LabState {
  return { a: rawFromConfig(seedPreset), b: null, ui: { speed: "10" } };
}

/** The full config of one side, for validation: B always carries A's seed. */
export function sideConfig(state: LabState, side: "a" | "b"): RawConfig {
  const raw = clone(side === "b" && state.b ? state.b : state.a);
  const seed = getPath(state.a, ["train", "seed"]);
  if (seed !== undefined) setPath(raw, ["train", "seed"], seed);
  return { ...raw, data: { ...(isObject(raw.data) ? raw.data : {}), dataset: "mnist" } };
}

// ---------------------------------------------------------------------------------------------
// Values in the hash.

/** Percent-encodes all but letters, digits and - _ . ~ ! * ' ( ) : , / (all safe in a fragment). */
function escapeValue(s: string): string {
  return encodeURIComponent(s).replace(/%3A/g, ":").replace(/%2C/g, ",").replace(/%2F/g, "/");
}

function encodeValue(f: Field, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  switch (f.kind) {
    case "int": case "num": return typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;
    case "bool": return v === true ? "1" : v === false ? "0" : undefined;
    case "enum": case "text": return typeof v === "string" ? escapeValue(v) : undefined;
    case "pair": return Array.isArray(v) ? v.map(String).join(",") : undefined;
    case "layers":
      try { return escapeValue(encodeRison(v)); } catch { return undefined; }
  }
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const show = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 39)}…` : s);

function parseNumber(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

function rangeText(k: { min: number; max: number; minOpen?: boolean; maxOpen?: boolean }): string {
  return `${k.minOpen ? ">" : "≥"} ${k.min} and ${k.maxOpen ? "<" : "≤"} ${k.max}`;
}

function inRange(v: number, k: { min: number; max: number; minOpen?: boolean; maxOpen?: boolean }): boolean {
  return (k.minOpen ? v > k.min : v >= k.min) && (k.maxOpen ? v < k.max : v <= k.max);
}

/** One value from the hash, or a problem (one line: what was expected, what was found). */
function decodeValue(f: Field, text: string): { value: unknown } | { problem: string } {
  switch (f.kind) {
    case "int": {
      const v = parseNumber(text);
      if (v === undefined || !Number.isInteger(v) || !inRange(v, f)) return { problem: `expected a whole number ${rangeText(f)}; got ${show(text)}` };
      return { value: v };
    }
    case "num": {
      const v = parseNumber(text);
      if (v === undefined || !inRange(v, f)) return { problem: `expected a number ${rangeText(f)}; got ${show(text)}` };
      return { value: v };
    }
    case "bool":
      if (text === "1" || text === "true") return { value: true };
      if (text === "0" || text === "false") return { value: false };
      return { problem: `expected 1 or 0; got ${show(text)}` };
    case "enum":
      if (!f.values.includes(text)) return { problem: `expected one of ${f.values.join(", ")}; got ${show(text)}` };
      return { value: text };
    case "text":
      if (text.length > f.maxLength) return { problem: `expected at most ${f.maxLength} characters; got ${text.length}` };
      return { value: text };
    case "pair": {
      const parts = text.split(",");
      const vs = parts.map(parseNumber);
      if (parts.length !== 2 || vs.some((v) => v === undefined || !inRange(v, f))) return { problem: `expected two numbers ${rangeText(f)}, like 0.9,0.999; got ${show(text)}` };
      return { value: vs };
    }
    case "layers":
      try {
        const v = decodeRison(text);
        if (!Array.isArray(v)) return { problem: "expected a list of layers !(…)" };
        return { value: v };
      } catch (e) {
        if (e instanceof RisonError) return { problem: `bad layer notation ${e.message}` };
        throw e;
      }
  }
}

/**
 * A value typed into a control, checked as the hash's value would be: the value, or a problem.
 * @example fieldFromText(field("lr"), "0.1") // { value: 0.1 }
 */
export function fieldFromText(f: Field, text: string): { value: unknown } | { problem: string } {
  return decodeValue(f, text.trim());
}

/** The table row for a hash key. @example field("lr").path // ["optimizer", "lr"] */
export function field(key: string): Field {
  const f = BY_KEY.get(key);
  if (!f) throw new Error(`no field ${key}`);
  return f;
}

/**
 * The hash for a state (without "#"): every field of A in table order, then `ab=1` and the
 * fields where B differs from A, then the page settings.
 * @example encodeState(defaultState()).startsWith("name=seed&view=flat&train=60000") // true
 */
export function encodeState(s: LabState): string {
  const parts: string[] = [];
  const put = (key: string, text: string | undefined) => { if (text !== undefined) parts.push(`${key}=${text}`); };
  for (const f of FIELDS) if (f.scope !== "ui") put(f.key, encodeValue(f, getPath(s.a, f.path!)));
  if (s.b) {
    put("ab", "1");
    for (const f of FIELDS) {
      if (f.scope !== "run") continue;
      const vb = getPath(s.b, f.path!);
      if (same(vb, getPath(s.a, f.path!))) continue;
      // A field B lacks but A has is written empty: "b.momentum=".
      put(`b.${f.key}`, vb === undefined ? "" : encodeValue(f, vb));
    }
  }
  put("speed", encodeValue(BY_KEY.get("speed")!, s.ui.speed));
  return parts.join("&");
}

/**
 * Reads a hash (with or without "#"). Fields not given keep the default (the seed preset); bad
 * ones keep it too and are reported, one line each. Never throws.
 * @example decodeState("#lr=0.1&seed=7").state.a.optimizer // { type: "sgd", lr: 0.1 }
 * @example decodeState("#lr=1e999").problems // ['lr: expected a number > 0 and ≤ 100; got "1e999"']
 */
export function decodeState(hash: string): { state: LabState; problems: string[] } {
  const state = defaultState();
  const problems: string[] = [];
  let text = hash.startsWith("#") ? hash.slice(1) : hash;
  if (text.length > MAX_HASH_LENGTH) return { state, problems: [`the link's settings are ${text.length} characters long, more than the ${MAX_HASH_LENGTH} allowed; opened the seed experiment instead`] };
  text = text.trim();
  if (text === "") return { state, problems };
  const seen = new Set<string>();
  const bValues: [Field, string][] = [];
  let ab = false;
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    let key: string, value: string;
    try {
      key = decodeURIComponent(rawKey);
      value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1));
    } catch {
      problems.push(`${show(rawKey)}: malformed %-escape; ignored`);
      continue;
    }
    if (seen.has(key)) { problems.push(`${show(key)}: given twice; the first is used`); continue; }
    seen.add(key);
    const isB = key.startsWith("b.");
    const f = BY_KEY.get(isB ? key.slice(2) : key);
    if (!f || (isB && f.scope !== "run")) { problems.push(`${show(key)}: unknown setting; ignored`); continue; }
    if (isB) { bValues.push([f, value]); continue; }
    const d = decodeValue(f, value);
    if ("problem" in d) { problems.push(`${f.key} (${f.label}): ${d.problem}; the default is used`); continue; }
    if (f.key === "ab") ab = d.value as boolean;
    else if (f.key === "speed") state.ui.speed = d.value as Speed;
    else setPath(state.a, f.path!, d.value);
  }
  if (ab) {
    state.b = clone(state.a);
    for (const [f, value] of bValues) {
      if (value === "") { setPath(state.b, f.path!, undefined); continue; }
      const d = decodeValue(f, value);
      if ("problem" in d) { problems.push(`b.${f.key} (B's ${f.label}): ${d.problem}; A's value is used`); continue; }
      setPath(state.b, f.path!, d.value);
    }
  } else if (bValues.length) problems.push(`b.* settings are given without ab=1; ignored`);
  return { state, problems };
}

// ---------------------------------------------------------------------------------------------
// What a browser tab can train.

/** Largest sizes the lab builds (a bigger network would exhaust a tab's memory, not teach more). */
export const LAB_LIMITS = { layers: 64, units: 4096, filters: 512, kernel: 28, window: 28 } as const;

/**
 * The first reason a validated config cannot run in the browser, as one line naming the field,
 * or null.
 * @example labLimits({ …seed, model: { layers: [{ type: "dense", units: 1e9 }] } })
 *   // 'model.layers[0].units: at most 4096 in the browser lab; got 1000000000'
 */
export function labLimits(config: Config): string | null {
  if (config.data.dataset !== "mnist") return `data.dataset: the browser lab has only mnist; got ${JSON.stringify(config.data.dataset)}`;
  let count = 0;
  const walk = (layers: LayerSpec[], path: string): string | null => {
    for (const [i, l] of layers.entries()) {
      const p = `${path}[${i}]`;
      if (++count > LAB_LIMITS.layers) return `${p}: at most ${LAB_LIMITS.layers} layers in the browser lab`;
      const check = (key: string, v: number | undefined, max: number) => (v !== undefined && v > max ? `${p}.${key}: at most ${max} in the browser lab; got ${v}` : null);
      // every number field its kind marks as a size, in the kind's field order
      for (const [key, field] of Object.entries(kindOf(l.type)?.fields ?? {})) {
        const v = (l as unknown as Record<string, unknown>)[key];
        const problem = field.sizes && typeof v === "number" ? check(key, v, LAB_LIMITS[field.sizes]) : null;
        if (problem) return problem;
      }
      const children = childSpecs(l);
      if (children) {
        const inner = walk(children, `${p}.layers`);
        if (inner) return inner;
      }
    }
    return null;
  };
  return walk(config.model.layers, "model.layers");
}
