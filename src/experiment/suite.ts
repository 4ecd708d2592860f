/**
 * Suites and sweeps: one file that expands into many runs. A suite has a `base` config (which
 * may hold template variables) and `variants` and/or a `grid`:
 *   { "name": "init", "description": "…",
 *     "base": { …config…, "model": { "layers": [{ "repeat": 5, "layers": [{ "type": "dense", "units": 100, "activation": "$act", "init": "$init" }] }, …] } },
 *     "grid": { "act": ["tanh", "softsign", "sigmoid"], "init": ["standard", "glorot"], "train.seed": [1, 2] },
 *     "variants": [{ "label": "baseline" }, { "label": "clipped", "set": { "optimizer.clipNorm": 1 } }] }
 * Grid keys with a "." or "[" are config paths; other keys are template variables: a string
 * "$act" becomes the value (any JSON type), "${act}" inside a longer string is interpolated.
 * Top-level `vars` are constants shared by every run (they do not appear in labels).
 * `{"repeat": n, "layers": [...]}` inside a layers list stands for n copies of those layers.
 * The runs are variants × grid points (cartesian), in a fixed order; pure, so the browser can
 * expand presets too.
 */
import { InputError } from "../core/errors.ts";
import { parseConfig, type Config } from "./config.ts";

export interface RunPlan {
  /** unique within the suite, safe as a folder name: "act=tanh,init=glorot" */
  label: string;
  /** the values that distinguish this run (for tables) */
  vars: Record<string, unknown>;
  config: Config;
}

export interface Suite { name: string; description: string; runs: RunPlan[] }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether a parsed JSON file is a suite (has "base") rather than a single config. */
export function isSuite(raw: unknown): boolean {
  return isObject(raw) && "base" in raw;
}

/** Split "model.layers[1].activation" into ["model", "layers", 1, "activation"]. */
export function parsePath(path: string, where: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([A-Za-z_][\w]*)|\[(\d+)\]|(\.)/gy;
  let m: RegExpExecArray | null;
  let expectName = true;
  while (re.lastIndex < path.length && (m = re.exec(path))) {
    if (m[1] !== undefined) { if (!expectName) break; out.push(m[1]); expectName = false; }
    else if (m[2] !== undefined) { out.push(Number(m[2])); expectName = false; }
    else if (expectName) { out.length = 0; break; } // ".." or a leading "."
    else expectName = true;
  }
  const unsafe = out.some((k) => k === "__proto__" || k === "constructor" || k === "prototype");
  if (re.lastIndex !== path.length || out.length === 0 || expectName || unsafe) {
    throw new InputError(`${where}: expected a config path like "model.layers[1].activation"; got ${JSON.stringify(path)}`);
  }
  return out;
}

/** Set a value at a path in a JSON object (creating objects on the way; arrays must exist). */
export function setPath(root: Record<string, unknown>, path: string, value: unknown, where: string): void {
  const keys = parsePath(path, where);
  let node: unknown = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i];
    const container = node as Record<string | number, unknown>;
    if (typeof k === "number") {
      if (!Array.isArray(node) || k >= node.length) throw new InputError(`${where}: ${path}: index ${k} is out of range`);
    } else if (!Object.hasOwn(container, k) || (!isObject(container[k]) && !Array.isArray(container[k]))) {
      container[k] = typeof keys[i + 1] === "number" ? [] : {};
    }
    node = container[k];
  }
  const last = keys[keys.length - 1];
  if (typeof last === "number" && (!Array.isArray(node) || last > node.length)) throw new InputError(`${where}: ${path}: index ${last} is out of range`);
  (node as Record<string | number, unknown>)[last] = value;
}

/**
 * Replace "$var" and "${var}" by their values and expand {"repeat", "layers"} items. A value may
 * itself hold variables ("$mlp" → a layer list using "$act"), up to 16 levels deep.
 */
function substitute(node: unknown, vars: Record<string, unknown>, where: string, depth = 0): unknown {
  if (depth > 16) throw new InputError(`${where}: template variables nest more than 16 levels (a variable that refers to itself?)`);
  if (typeof node === "string") {
    const whole = /^\$([A-Za-z_]\w*)$/.exec(node);
    if (whole) {
      if (!Object.hasOwn(vars, whole[1])) throw new InputError(`${where}: template variable $${whole[1]} has no value; give it in "vars", "grid" or a variant's "vars"`);
      return substitute(structuredClone(vars[whole[1]]), vars, where, depth + 1);
    }
    return node.replace(/\$\{([A-Za-z_]\w*)\}/g, (_, name: string) => {
      if (!Object.hasOwn(vars, name)) throw new InputError(`${where}: template variable \${${name}} has no value`);
      return String(vars[name]);
    });
  }
  if (Array.isArray(node)) {
    const out: unknown[] = [];
    for (const item of node) {
      const v = substitute(item, vars, where, depth);
      if (isObject(v) && "repeat" in v && Object.keys(v).every((k) => k === "repeat" || k === "layers")) {
        const n = v.repeat;
        if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > 1000 || !Array.isArray(v.layers)) {
          throw new InputError(`${where}: {"repeat": n, "layers": [...]} needs a whole number 0..1000 and a layers list; got repeat ${JSON.stringify(n)}`);
        }
        for (let i = 0; i < (n as number); i++) out.push(...structuredClone(v.layers as unknown[]));
      } else out.push(v);
    }
    return out;
  }
  if (isObject(node)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = substitute(v, vars, where, depth);
    return out;
  }
  return node;
}

/** "act=tanh,init=glorot" → a string safe as a folder name */
function labelOf(parts: string[]): string {
  return parts.join(",").replace(/[^\w.,=+-]+/g, "_").slice(0, 120) || "run";
}

const valueText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/**
 * Expand a suite file's JSON into validated run plans. Every run's config is checked with
 * parseConfig, its errors prefixed with the run's label.
 * @example expandSuite({name: "s", base: seed, grid: {"train.seed": [1, 2]}}, "s.json").runs.length // 2
 */
export function expandSuite(raw: unknown, source: string): Suite {
  if (!isObject(raw)) throw new InputError(`${source}: expected a suite object with "name" and "base"`);
  const allowed = ["name", "description", "vars", "base", "grid", "variants"];
  for (const k of Object.keys(raw)) if (!allowed.includes(k)) throw new InputError(`${source}: ${k}: unknown key; allowed: ${allowed.join(", ")}`);
  const name = raw.name;
  if (typeof name !== "string" || name.length === 0 || name.length > 200) throw new InputError(`${source}: name: expected a non-empty string of at most 200 characters`);
  if (!isObject(raw.base)) throw new InputError(`${source}: base: expected a config object`);
  const shared = raw.vars ?? {};
  if (!isObject(shared)) throw new InputError(`${source}: vars: expected an object of {name: value}`);
  const grid = raw.grid ?? {};
  if (!isObject(grid)) throw new InputError(`${source}: grid: expected an object of {key: [values…]}`);
  for (const [k, vs] of Object.entries(grid)) {
    if (!Array.isArray(vs) || vs.length === 0) throw new InputError(`${source}: grid.${k}: expected a non-empty list of values`);
  }
  const variants = raw.variants ?? [{}];
  if (!Array.isArray(variants) || variants.length === 0) throw new InputError(`${source}: variants: expected a non-empty list`);
  // cartesian product of the grid, first key slowest
  let points: [string, unknown][][] = [[]];
  for (const [k, vs] of Object.entries(grid)) points = points.flatMap((p) => (vs as unknown[]).map((v) => [...p, [k, v] as [string, unknown]]));
  const runs: RunPlan[] = [];
  const seen = new Set<string>();
  if (variants.length * points.length > 10_000) throw new InputError(`${source}: the suite expands to ${variants.length * points.length} runs; at most 10000`);
  variants.forEach((variant, vi) => {
    const where = `${source}: variants[${vi}]`;
    if (!isObject(variant)) throw new InputError(`${where}: expected an object {label, vars, set}`);
    for (const k of Object.keys(variant)) if (!["label", "vars", "set"].includes(k)) throw new InputError(`${where}.${k}: unknown key; allowed: label, vars, set`);
    const vvars = variant.vars ?? {};
    const vset = variant.set ?? {};
    if (!isObject(vvars) || !isObject(vset)) throw new InputError(`${where}: vars and set must be objects`);
    for (const point of points) {
      const vars: Record<string, unknown> = { ...shared, ...vvars };
      const sets: [string, unknown][] = Object.entries(vset);
      for (const [k, v] of point) {
        if (/[.[]/.test(k)) sets.push([k, v]);
        else vars[k] = v;
      }
      const labelParts = [...(typeof variant.label === "string" ? [variant.label] : []), ...point.map(([k, v]) => `${k.split(".").pop()}=${valueText(v)}`)];
      const label = labelOf(labelParts);
      if (seen.has(label)) throw new InputError(`${where}: two runs would both be labelled "${label}"; give the variants distinct labels`);
      seen.add(label);
      // Paths are set first, then variables substituted, so a variant's value may use "$var" too.
      const unresolved = structuredClone(raw.base) as Record<string, unknown>;
      for (const [path, value] of sets) setPath(unresolved, path, structuredClone(value), where);
      const cfg = substitute(unresolved, vars, where) as Record<string, unknown>;
      cfg.name = `${name}/${label}`;
      runs.push({ label, vars: Object.fromEntries([...Object.entries(vvars), ...point]), config: parseConfig(cfg, `${source} (run ${label})`) });
    }
  });
  return { name, description: typeof raw.description === "string" ? raw.description : "", runs };
}
