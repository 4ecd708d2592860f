/**
 * The experiment config: a zod schema for the JSON a user writes (the public contract in README.md),
 * defaults filled in, and bad input turned into ONE line that names the field, what was expected
 * and what was found, e.g. `model.layers[1].activation: expected one of sigmoid, …; got "sigmod"`.
 * Also reads config files and the presets in experiments/ (one JSON file each).
 */
import { z } from "zod";
import { InputError } from "../core/errors.ts";
import { INIT_NAMES } from "../core/init.ts";
import type { Field } from "../core/layers/kind.ts";
import { childSpecs, KINDS, LAYER_TYPES } from "../core/layers/registry.ts";
import { checkNoDuplicateKeys } from "./json-text.ts";
import { formatPath as formatJsonPath, valueAt, type JsonPath } from "./json-path.ts";
import { closest } from "./suggest.ts";
import type { InitSpec, LayerSpec, LossName, ModelSpec, OptimizerSpec } from "../core/spec.ts";

/** Where the data come from and how an image is presented to the network. */
export interface DataSpec {
  dataset: "mnist" | "fashion-mnist" | { idx: string };  // default "mnist"
  view: "flat" | "image" | "rows" | "pixels" | "pixels-permuted";  // default "flat"
  train: number;  // training examples used, default 60000
  test: number;   // test examples used, default 10000
}
/** What to do when the loss, a gradient or a weight becomes NaN or ±Inf (see trainer.ts). */
export type OnNonFinite = "stop" | "skip-step" | "continue";
export interface TrainSpec {
  epochs: number; batchSize: number; seed: number; evalBatchSize: number;  // 5, 32, 1, 1000
  /** steps between checkpoints of a run folder; 0 = none (an interrupt still writes one); default 1000 */
  checkpointEvery: number;
  onNonFinite: OnNonFinite;  // default "stop"
}
export interface RecordSpec { every: number; histograms: boolean }  // record every 100 steps; histograms on
export interface Config {
  name: string; description?: string; data: DataSpec; model: ModelSpec; loss: LossName;
  optimizer: OptimizerSpec; train: TrainSpec; record: RecordSpec;
}


// ---------------------------------------------------------------------------------------------
// Building blocks. Every schema's `error` is the "<what>" of `expected <what>; got <value>`, so
// one formatter (describeIssue, below) turns any zod issue into the documented one-line message.

const LOSSES = ["cross_entropy", "mse"] as const satisfies readonly LossName[];
const VIEWS = ["flat", "image", "rows", "pixels", "pixels-permuted"] as const;
const OPTIMIZERS = ["sgd", "adam", "rmsprop"] as const;
const ON_NON_FINITE = ["stop", "skip-step", "continue"] as const satisfies readonly OnNonFinite[];
/** Examples in the train/test split of each built-in dataset. */
const DATASET_SIZES = { mnist: { train: 60000, test: 10000 }, "fashion-mnist": { train: 60000, test: 10000 } } as const;

/** `one of a, b, c`: the form an unknown name is answered with. */
const oneOfText = (values: readonly string[]) => `one of ${values.join(", ")}`;
const oneOf = <const T extends readonly string[]>(values: T) => z.enum(values as unknown as readonly [T[number], ...T[number][]], { error: oneOfText(values) });

/** A finite number (zod 4 rejects ±Infinity and NaN) within bounds; every failure reads `what`. */
function num(what: string, bounds: { int?: boolean; gt?: number; gte?: number; lt?: number; lte?: number } = {}) {
  const e = { error: what };
  let s = bounds.int ? z.int(e) : z.number(e);
  if (bounds.gt !== undefined) s = s.gt(bounds.gt, e);
  if (bounds.gte !== undefined) s = s.gte(bounds.gte, e);
  if (bounds.lt !== undefined) s = s.lt(bounds.lt, e);
  if (bounds.lte !== undefined) s = s.lte(bounds.lte, e);
  return s;
}
const posInt = () => num("a positive integer", { int: true, gte: 1 });
const posNum = () => num("a positive number", { gt: 0 });
const unitRight = () => num("a number in [0, 1)", { gte: 0, lt: 1 });
const bool = () => z.boolean({ error: "true or false" });

/** A strict object: an unknown key is an error that suggests the nearest allowed key. */
function obj<S extends z.core.$ZodLooseShape>(shape: S, what = "an object") {
  const allowed = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => (iss.code === "unrecognized_keys" ? unknownKeyText(iss.keys[0] ?? "", allowed) : what),
  });
}

/**
 * The error text of a union tagged by "type": `whatObject` when the input is not an object,
 * else the list of types. (zod's types declare only the tag issue; it also raises invalid_type.)
 */
const tagged = (whatObject: string, types: readonly string[]) => (iss: { code: string }) =>
  (iss.code === "invalid_type" ? whatObject : oneOfText(types));

// ---------------------------------------------------------------------------------------------
// Initializers, layers, model.

const initName = oneOf(INIT_NAMES);
const initObject = obj({
  type: initName,
  std: posNum().optional(),    // normal only
  scale: posNum().optional(),  // uniform only
  gain: posNum().optional(),
}).superRefine((init, ctx) => {
  if (init.std !== undefined && init.type !== "normal") {
    ctx.addIssue({ code: "custom", path: ["std"], message: `nothing (std applies only to init "normal")` });
  }
  if (init.scale !== undefined && init.type !== "uniform") {
    ctx.addIssue({ code: "custom", path: ["scale"], message: `nothing (scale applies only to init "uniform")` });
  }
});
const init = z.union([initName, initObject], {
  error: `an init name (${oneOfText(INIT_NAMES)}) or an object {"type", "std", "scale", "gain"}`,
}) satisfies z.ZodType<InitSpec>;

const layerName = z.string({ error: "a layer name" })
  .regex(/^[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*$/, { error: "a layer name of letters, digits and _ (parts joined by . or -)" })
  .max(100, { error: "a layer name of at most 100 characters" })
  .optional();

/** The layers of a model, or of a residual block: at least one. */
const layerList: z.ZodType<LayerSpec[]> = z.lazy(() =>
  z.array(layer, { error: "an array of layers" }).min(1, { error: "a non-empty array of layers" }));

/** The zod schema of a field a layer kind declares (src/core/layers/kind.ts). */
function fieldSchema(field: Field): z.ZodType {
  const t = field.type;
  const s: z.ZodType =
    t.kind === "number" ? num(t.what, t)
    : t.kind === "bool" ? bool()
    : t.kind === "oneOf" ? oneOf(t.values)
    : t.kind === "init" ? init
    : t.kind === "either" ? z.union(t.options.map(fieldSchema), { error: t.what })
    : layerList;
  return field.required ? s : s.optional();
}

/** One branch per layer kind of the registry: its type, a name, and the fields it declares. */
const branches = KINDS.map((k) => obj({
  type: z.literal(k.type), name: layerName,
  ...(Object.fromEntries(Object.entries(k.fields).map(([key, f]) => [key, fieldSchema(f)])) as Record<string, z.ZodType>),
}));
const layer = z.discriminatedUnion("type", branches as [(typeof branches)[number], ...typeof branches], {
  error: tagged(`a layer object like {"type": "dense", "units": 10}`, LAYER_TYPES),
}) as unknown as z.ZodType<LayerSpec>;

/** Explicit layer names become parameter names (`fc1.weight`), so no two layers may share one. */
function checkUniqueNames(layers: LayerSpec[], path: (string | number)[], seen: Map<string, string>, ctx: z.RefinementCtx): void {
  layers.forEach((l, i) => {
    if (l.name !== undefined) {
      const first = seen.get(l.name);
      if (first !== undefined) {
        ctx.addIssue({ code: "custom", path: [...path, i, "name"], message: `a name not already used (${first} is called "${l.name}")` });
      } else {
        seen.set(l.name, formatPath(["model", ...path, i]));
      }
    }
    const children = childSpecs(l);
    if (children) checkUniqueNames(children, [...path, i, "layers"], seen, ctx);
  });
}

const model = obj({ layers: layerList }, `an object {"layers": [...]}`)
  .superRefine((m, ctx) => checkUniqueNames(m.layers, ["layers"], new Map(), ctx)) satisfies z.ZodType<ModelSpec>;

// ---------------------------------------------------------------------------------------------
// Optimizer, data, training, recording, and the whole config.

const optimizerCommon = {
  lr: posNum(),
  weightDecay: num("a non-negative number", { gte: 0 }).optional(),
  clipNorm: posNum().optional(),
  clipValue: posNum().optional(),
};
const optimizer = z.discriminatedUnion("type", [
  obj({ type: z.literal("sgd"), ...optimizerCommon, momentum: unitRight().optional(), nesterov: bool().optional() })
    .superRefine((o, ctx) => {
      if (o.nesterov === true && !(o.momentum !== undefined && o.momentum > 0)) {
        ctx.addIssue({ code: "custom", path: ["nesterov"], message: "false unless momentum > 0 (Nesterov needs momentum)" });
      }
    }),
  obj({
    type: z.literal("adam"), ...optimizerCommon,
    betas: z.tuple([unitRight(), unitRight()], { error: "a pair [beta1, beta2], each in [0, 1)" }).optional(),
    eps: posNum().optional(),
  }),
  obj({
    type: z.literal("rmsprop"), ...optimizerCommon, momentum: unitRight().optional(),
    alpha: unitRight().optional(), eps: posNum().optional(),
  }),
], { error: tagged(`an object like {"type": "sgd", "lr": 0.1}`, OPTIMIZERS) }) satisfies z.ZodType<OptimizerSpec>;

const dataset = z.union([
  z.enum(["mnist", "fashion-mnist"]),
  obj({ idx: z.string({ error: "a folder of IDX files" }).min(1, { error: "a folder of IDX files" }) }),
], { error: `one of mnist, fashion-mnist, {"idx": "DIR"}` });

const data = obj({
  dataset: dataset.default("mnist"),
  view: oneOf(VIEWS).default("flat"),
  train: posInt().default(60000),
  test: posInt().default(10000),
}).superRefine((d, ctx) => {
  if (typeof d.dataset !== "string") return;  // an IDX folder: the loader checks its size
  const size = DATASET_SIZES[d.dataset];
  for (const split of ["train", "test"] as const) {
    if (d[split] > size[split]) {
      ctx.addIssue({
        code: "custom", path: [split],
        message: `a positive integer ≤ ${size[split]} (${d.dataset} has ${size[split]} ${split} examples)`,
      });
    }
  }
}) satisfies z.ZodType<DataSpec>;

/** The batch sizes a config gets when it names none. */
const BATCH_DEFAULTS = { batchSize: 32, evalBatchSize: 1000 } as const;

/**
 * The batch sizes a run of `config` uses: train.batchSize and train.evalBatchSize capped at the
 * training and test sets (the trainer never builds a batch larger than the set it reads).
 * @example batchSizes({ ...config, train: { ...config.train, evalBatchSize: 1e8 } }).evalBatchSize // 10000 (the test set)
 */
export function batchSizes(config: Config): { batchSize: number; evalBatchSize: number } {
  return { batchSize: Math.min(config.train.batchSize, config.data.train), evalBatchSize: Math.min(config.train.evalBatchSize, config.data.test) };
}

/**
 * One line per batch size the config asks for that the dataset caps, for stderr. A default size
 * larger than a small set (evalBatchSize 1000 for 500 test examples) is capped without a word.
 * @example batchCapNotes(config) // ["train.evalBatchSize 100000000 is larger than the 10000 test examples; evaluating in batches of 10000"]
 */
export function batchCapNotes(config: Config): string[] {
  const { train, data } = config;
  const notes: string[] = [];
  if (train.batchSize > data.train && train.batchSize !== BATCH_DEFAULTS.batchSize) {
    notes.push(`train.batchSize ${train.batchSize} is larger than the ${data.train} training examples; training in batches of ${data.train}`);
  }
  if (train.evalBatchSize > data.test && train.evalBatchSize !== BATCH_DEFAULTS.evalBatchSize) {
    notes.push(`train.evalBatchSize ${train.evalBatchSize} is larger than the ${data.test} test examples; evaluating in batches of ${data.test}`);
  }
  return notes;
}

const train = obj({
  epochs: posInt().default(5),
  batchSize: posInt().default(BATCH_DEFAULTS.batchSize),
  seed: num("a non-negative integer", { int: true, gte: 0 }).default(1),
  evalBatchSize: posInt().default(BATCH_DEFAULTS.evalBatchSize),
  checkpointEvery: num("a non-negative integer (0 = no periodic checkpoints)", { int: true, gte: 0 }).default(1000),
  onNonFinite: oneOf(ON_NON_FINITE).default("stop"),
}) satisfies z.ZodType<TrainSpec>;

const record = obj({ every: posInt().default(100), histograms: bool().default(true) }) satisfies z.ZodType<RecordSpec>;

/** The whole config. `prefault({})` runs an omitted section through its schema, filling its defaults. */
export const configSchema = obj({
  name: z.string({ error: "a non-empty string" }).min(1, { error: "a non-empty string" })
    .max(200, { error: "a string of at most 200 characters" }),
  description: z.string({ error: "a string" }).max(2000, { error: "a string of at most 2000 characters" }).optional(),
  data: data.prefault({}),
  model,
  loss: oneOf(LOSSES).default("cross_entropy"),
  optimizer,
  train: train.prefault({}),
  record: record.prefault({}),
}, "a JSON object") satisfies z.ZodType<Config>;

// ---------------------------------------------------------------------------------------------
// Turning zod's issues into one line.

type Path = JsonPath;
const formatPath = (path: Path) => formatJsonPath(path, "config");

/** A value as the user wrote it, in JSON, cut to 60 characters. */
function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  let text: string | undefined;
  try { text = JSON.stringify(value); } catch { text = undefined; }
  if (text === undefined) return typeof value;
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/** `unknown key; did you mean "units"?` when a key is close to one allowed here, else the list. */
function unknownKeyText(key: string, allowed: readonly string[]): string {
  const best = closest(key, allowed);
  return best !== undefined ? `unknown key; did you mean "${best}"?` : `unknown key; allowed: ${allowed.join(", ")}`;
}

const isMissing = (raw: unknown, path: Path) => valueAt(raw, path) === undefined;
const samePath = (a: Path, b: Path) => a.length === b.length && a.every((s, i) => s === b[i]);

/**
 * The issue to report: zod's first, except that a missing key whose object also has an unknown
 * key reports the unknown key (`{"unit": 5}` is a typo of `units`, not two separate problems).
 */
function firstIssue(issues: readonly z.core.$ZodIssue[], base: Path, raw: unknown): z.core.$ZodIssue {
  const first = issues[0];
  if (first.code === "unrecognized_keys" || first.path.length === 0 || !isMissing(raw, [...base, ...first.path])) return first;
  const parent = first.path.slice(0, -1);
  return issues.find((i) => i.code === "unrecognized_keys" && samePath(i.path, parent)) ?? first;
}

/** One line for one issue at `base` (the path of the union it came from, if any). */
function describeIssue(issue: z.core.$ZodIssue, base: Path, raw: unknown): string {
  const path = [...base, ...issue.path];
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    // A branch whose input had the right type (it failed deeper, or on a range) says more than
    // the union's summary; a union where every branch rejected the type gets the summary.
    const typeMismatch = (i: z.core.$ZodIssue) =>
      i.path.length === 0 && (i.code === "invalid_type" || i.code === "invalid_value");
    const branch = issue.errors.find((b) => b.length > 0 && !typeMismatch(b[0]));
    if (branch) return describeIssue(firstIssue(branch, path, raw), path, raw);
  }
  if (issue.code === "unrecognized_keys") return `${formatPath([...path, issue.keys[0] ?? ""])}: ${issue.message}`;
  const got = valueAt(raw, path);
  return got === undefined
    ? `${formatPath(path)}: required (${issue.message})`
    : `${formatPath(path)}: expected ${issue.message}; got ${show(got)}`;
}

/** Nesting allowed in raw input before parsing: far beyond any real config, far below the stack. */
const MAX_DEPTH = 64;

/** Path of the first value nested deeper than MAX_DEPTH (also catches cycles), or undefined. */
function tooDeep(value: unknown, path: PropertyKey[] = []): PropertyKey[] | undefined {
  if (value === null || typeof value !== "object") return undefined;
  if (path.length >= MAX_DEPTH) return path;
  for (const key of Object.keys(value)) {
    const found = tooDeep((value as Record<string, unknown>)[key], [...path, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return undefined;
}

/**
 * Validates a config and fills its defaults. Throws InputError with one line naming the first
 * problem, prefixed with `source` (a file name) when given.
 *
 * @example
 * parseConfig({ name: "x", model: { layers: [{ type: "dense", units: 10 }] }, optimizer: { type: "sgd", lr: 0.1 } })
 *   // → { name: "x", data: { dataset: "mnist", view: "flat", train: 60000, test: 10000 }, …,
 *   //     loss: "cross_entropy", train: { epochs: 5, batchSize: 32, seed: 1, evalBatchSize: 1000, checkpointEvery: 1000,
 *   //     onNonFinite: "stop" }, … }
 * parseConfig({ ...cfg, train: { epochs: "5" } }, "my.json")
 *   // throws InputError `my.json: train.epochs: expected a positive integer; got "5"`
 */
export function parseConfig(raw: unknown, source?: string): Config {
  const prefix = source === undefined ? "" : `${source}: `;
  const deep = tooDeep(raw);
  if (deep) {
    const where = formatPath(deep);
    const short = where.length > 100 ? `${where.slice(0, 50)}…${where.slice(-40)}` : where;
    throw new InputError(`${prefix}${short}: nested deeper than ${MAX_DEPTH} levels`);
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new InputError(prefix + describeIssue(firstIssue(result.error.issues, [], raw), [], raw));
}

// ---------------------------------------------------------------------------------------------
// JSON text with positioned syntax errors (pure, so the browser can use it too).

/**
 * Where JSON.parse gave up, as an offset and a reason: a small scanner (an explicit stack, so
 * deep nesting cannot overflow), because V8's messages carry no position for some errors.
 */
function jsonSyntaxError(text: string): { at: number; reason: string } | undefined {
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const stack: ("}" | "]")[] = [];
  // value: a value must come; item: after "," in an array; key: after "," in an object;
  // open-array / open-object: just after "[" / "{"; after: a value just ended.
  let state: "value" | "item" | "open-array" | "key" | "open-object" | "after" = "value";
  let i = 0;
  const unexpected = (what: string) => ({
    at: i,
    reason: text[i] === "'" ? "strings need double quotes"
      : text[i] === "/" ? "JSON has no comments"
      : `unexpected ${JSON.stringify(text[i])}; expected ${what}`,
  });
  /** Scans the string starting at text[i] === '"'; returns an error, or moves i past it. */
  const scanString = () => {
    const start = i;
    for (i++; i < text.length; i++) {
      const c = text[i];
      if (c === '"') { i++; return undefined; }
      if (c === "\n" || c === "\r") return { at: i, reason: "line break inside a string (missing closing quote?)" };
      if (c < " ") return { at: i, reason: "control character inside a string (escape it)" };
      if (c === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) return { at: i - 1, reason: "bad \\u escape (4 hex digits needed)" };
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) return { at: i - 1, reason: "bad escape in string" };
      }
    }
    return { at: start, reason: "unterminated string" };
  };
  for (;;) {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
    if (i >= text.length) {
      return state === "after" && stack.length === 0 ? undefined : { at: i, reason: "unexpected end of input" };
    }
    const c = text[i];
    if (state === "after") {
      const close = stack.at(-1);
      if (close === undefined) return { at: i, reason: `unexpected ${JSON.stringify(c)} after the end of the JSON value` };
      if (c === ",") { i++; state = close === "}" ? "key" : "item"; continue; }
      if (c === close) { i++; stack.pop(); continue; }
      return unexpected(`"," or "${close}"`);
    }
    if (state === "open-object" || state === "key") {
      if (c === "}" && state === "open-object") { i++; stack.pop(); state = "after"; continue; }
      if (c === "}") return { at: i, reason: `trailing comma before "}"` };
      if (c !== '"') return unexpected("a double-quoted property name");
      const err = scanString();
      if (err) return err;
      while (i < text.length && " \t\n\r".includes(text[i])) i++;
      if (text[i] !== ":") return i < text.length ? unexpected(`":" after the property name`) : { at: i, reason: "unexpected end of input" };
      i++;
      state = "value";
      continue;
    }
    if (c === "]" && state === "open-array") { i++; stack.pop(); state = "after"; continue; }
    if (c === "]" && state === "item") return { at: i, reason: `trailing comma before "]"` };
    // A value.
    if (c === "{" || c === "[") { stack.push(c === "{" ? "}" : "]"); i++; state = c === "{" ? "open-object" : "open-array"; continue; }
    state = "after";
    if (c === '"') { const err = scanString(); if (err) return err; continue; }
    const word = ["true", "false", "null"].find((w) => text.startsWith(w, i));
    if (word) { i += word.length; continue; }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) { i += m[0].length; continue; }
    return unexpected("a value");
  }
}

/** 1-based line and column of an offset (\n, \r\n and \r end lines). */
function lineColumn(text: string, at: number): string {
  const lines = text.slice(0, at).split(/\r\n|\r|\n/);
  return `${lines.length}:${lines[lines.length - 1].length + 1}`;
}

/**
 * JSON.parse with a one-line InputError naming `shown` and line:column on a syntax error, and
 * naming the path of a key that appears twice in one object (JSON.parse would keep the last).
 * @example parseJsonText('{"a": 1,}', "my.json") // throws `my.json:1:9: invalid JSON: trailing comma before "}"`
 */
export function parseJsonText(text: string, shown: string): unknown {
  const body = text.replace(/^\uFEFF/, "");
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    const err = jsonSyntaxError(body);
    throw new InputError(err
      ? `${shown}:${lineColumn(body, err.at)}: invalid JSON: ${err.reason}`
      : `${shown}: invalid JSON: ${(e as Error).message}`);
  }
  checkNoDuplicateKeys(body, shown);
  return value;
}
