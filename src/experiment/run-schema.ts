/**
 * The published schema of a run folder's files that report, compare and the lab read: one record
 * of metrics.jsonl (a recorded step with its layers and their parameters), and summary.json
 * (config.json is the config schema of config.ts). The readers validate every record with it;
 * docs/metrics.schema.json is generated from it (scripts/metrics-schema.ts); the writers' types
 * (recorder.ts, session.ts) are checked against it by test/report/run-schema-types.test.ts.
 *
 * JSON has no NaN or ±Infinity: a statistic that was non-finite is written as null, and null is
 * allowed wherever that can happen. Fields that only gradlab's own engine can fill (batch
 * accuracy, histograms, gate saturation, …) may be absent, so other tools (a PyTorch probe) can
 * write the format; an absent statistic reads as null, and the report leaves it out.
 * Unknown keys are ignored (dropped), so later versions may add fields.
 *
 * A bad value is one line naming the field path and what was expected, e.g.
 * `layers[0].hist.grad must be an array of 24 counts, got "x"`.
 */
import { z } from "zod";
import { ACT_HIST_EDGES, GRAD_HIST_EDGES } from "../instrument/stats.ts";
import { formatPath as formatJsonPath, valueAt, type JsonPath } from "./json-path.ts";

/** The version of the format described here; bumped on an incompatible change only. */
export const RUN_SCHEMA_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Building blocks. Every schema's `error` is the "<what>" of `<path> must be <what>, got <value>`.

const what = (text: string) => ({ error: text });
const NULL_NOTE = "null stands for NaN or ±Infinity";

/** A finite number ≥ 0, or null (a non-finite statistic). */
const stat = (text = `a number ≥ 0 or null (${NULL_NOTE})`) => z.number(what(text)).gte(0, what(text)).nullable();
/** A finite number of any sign, or null. */
const real = (text = `a number or null (${NULL_NOTE})`) => z.number(what(text)).nullable();
/** A fraction in [0, 1], or null. */
const fraction = (text = "a fraction in [0, 1] or null") => z.number(what(text)).gte(0, what(text)).lte(1, what(text)).nullable();
/** A whole number ≥ 0. */
const count = (text = "a whole number ≥ 0") => z.int(what(text)).gte(0, what(text));

/** Layer names: PyTorch's qualified module names ("encoder.0.fc") and gradlab's ("dense1", "block1-dense2"). */
const NAME = /^[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*$/;
/** Parameter keys as PyTorch names them: weight, bias, weight_ih_l0, running_mean, … */
const PARAM_KEY = /^(?!(?:__proto__|constructor|prototype)$)[A-Za-z_][A-Za-z0-9_]*$/;
/** Keys that would reach an object's prototype if copied onto a plain object. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** The most layers in a record, parameters in a layer, time steps in a sequence, gates in a cell. */
export const RUN_LIMITS = { layers: 1000, params: 64, timeSteps: 100_000, gates: 16 } as const;

const name = (text: string, max: number) => z.string(what(text)).regex(NAME, what(text)).max(max, what(text));

/** Histogram counts on the fixed bins of src/instrument/stats.ts: exactly `bins` counts, or none. */
const counts = (bins: number, whose: string) => {
  const text = `an array of ${bins} counts (whole numbers ≥ 0, one per ${whose} bin) or []`;
  return z.union([z.array(count(), what(text)).length(bins, what(text)), z.array(count(), what(text)).max(0, what(text))], what(text));
};

/** Bins of the weight-gradient histogram (one below the first edge, one per edge). */
export const GRAD_BINS = GRAD_HIST_EDGES.length + 1;
/** Bins of the activation histogram. */
export const ACT_BINS = ACT_HIST_EDGES.length + 1;

// ---------------------------------------------------------------------------------------------
// One metrics record. Key order follows the recorder's, so a record parses to itself.

/** Per parameter tensor: statistics of the gradient of the batch-mean loss, and of the update. */
export const paramRecordSchema = z.object({
  gradNorm: stat().describe("L2 norm of the gradient of the batch-mean loss"),
  gradMeanAbs: stat().default(null).describe("mean |g| over the tensor's entries"),
  gradMaxAbs: stat().default(null).describe("max |g|"),
  gradRms: stat().default(null).describe("root mean square of g"),
  updateRatio: stat().default(null).describe("‖W_after − W_before‖ / ‖W_before‖ for the update applied at this step (null: not measured or ‖W‖ = 0)"),
  nonFinite: count().nullable().default(null).describe("NaN/±Inf entries of the gradient (then the statistics above are null)"),
  zeros: count().optional().describe("entries of the gradient that are exactly 0"),
}, what("an object of gradient statistics {\"gradNorm\", …}")).meta({
  description: "Statistics of one parameter tensor's gradient at this step: L2 norm, mean and max |g|, RMS; ‖ΔW‖/‖W‖ of the update; NaN/Inf and exact-zero entry counts.",
});

/** Activation statistics of a layer's output over the batch. */
export const activationRecordSchema = z.object({
  mean: real().describe("mean of the layer's output f(z) over the batch"),
  std: stat().describe("standard deviation of f(z)"),
  saturated: fraction().default(null).describe("sigmoid/tanh/softsign: fraction of (example, unit) pairs with |f′(z)| < 0.01·max f′; else null"),
  dead: fraction().default(null).describe("relu: fraction of units with z ≤ 0 for every example of the batch; else null"),
}, what("an object {\"mean\", \"std\", \"saturated\", \"dead\"} or null")).meta({
  description: "Mean and standard deviation of the layer's output over the batch; fraction of saturated units (sigmoid/tanh) and of dead units (ReLU), else null.",
});

/** Saturation of one gate of a recurrent cell over the sequence and the batch. */
export const gateRecordSchema = z.object({
  name: name("a gate name", 40).describe("the gate: f (LSTM forget), z (GRU update), …"),
  low: fraction().describe("fraction of gate values below 0.01"),
  high: fraction().describe("fraction of gate values above 0.99"),
}, what("an object {\"name\", \"low\", \"high\"}"));

/** Histograms at this step on fixed bins, so runs compare. */
export const histRecordSchema = z.object({
  grad: counts(GRAD_BINS, "log10 |∂L/∂W|").describe(`counts of |∂L/∂W| of the layer's weight on the bins [0, 1e-10), [1e-10, 10^-9.5), …, [10^0.5, 10), [10, ∞): ${GRAD_BINS} counts`),
  act: counts(ACT_BINS, "activation").nullable().describe(`counts of f(z) on the bins (−∞, −1), [−1, −0.9), …, [0.9, 1), [1, ∞): ${ACT_BINS} counts`),
}, what("an object {\"grad\": [counts], \"act\": [counts] or null}"));

const paramsSchema = z.record(
  z.string().regex(PARAM_KEY),
  paramRecordSchema,
  what("an object of parameter records keyed by PyTorch's names (weight, bias, weight_ih_l0, …)"),
).refine((p) => Object.keys(p).length <= RUN_LIMITS.params, what(`at most ${RUN_LIMITS.params} parameters`));

const timeSeries = (text: string) => z.array(stat(`a number ≥ 0 or null`), what(text)).max(RUN_LIMITS.timeSteps, what(text));

/** One layer of a record, in model order (input side first). */
export const layerRecordSchema = z.object({
  name: name("a layer name of letters, digits and _ (parts joined by . or -), at most 100 characters", 100)
    .describe("the layer's name, unique in the record: gradlab's (dense1, lstm1) or PyTorch's qualified module name (encoder.0)"),
  type: name("a layer type (letters, digits, _), at most 40 characters", 40).describe("dense, conv2d, lstm, … or the PyTorch module class (Linear, Conv2d, LSTM)"),
  params: paramsSchema.describe("the layer's parameter tensors by PyTorch's names (weight, bias, weight_ih_l0, …)"),
  deltaNorm: stat().default(null).describe("δ: mean over the batch of the per-example L2 norm of ∂ℓ/∂z at the layer's pre-activation; null for layers without one"),
  gain: stat().default(null).describe("deltaNorm / deltaNorm of the next layer toward the output that has one; null for the last"),
  activation: activationRecordSchema.nullable().default(null),
  hist: histRecordSchema.optional().describe("histograms on fixed bins (gradlab's engine; absent: the report leaves the histogram charts empty)"),
  hGradNorm: timeSeries(`an array of at most ${RUN_LIMITS.timeSteps} numbers ≥ 0 (or null), one per time step`).optional()
    .describe("recurrent layers: mean per-example ‖∂ℓ/∂h_t‖ for t = 0..T−1 in sequence order"),
  cGradNorm: timeSeries(`an array of at most ${RUN_LIMITS.timeSteps} numbers ≥ 0 (or null), one per time step`).optional()
    .describe("LSTM: mean per-example ‖∂ℓ/∂c_t‖ for t = 0..T−1"),
  sigmaMax: stat().optional().describe("recurrent layers: largest singular value of W_hh"),
  pascanu: stat().optional().describe("σ_max(W_hh)·γ (γ = 1/4 sigmoid, 1 tanh): below 1 is Pascanu et al.'s sufficient condition for vanishing"),
  gates: z.array(gateRecordSchema, what(`an array of at most ${RUN_LIMITS.gates} gate records`)).max(RUN_LIMITS.gates, what(`an array of at most ${RUN_LIMITS.gates} gate records`)).optional()
    .describe("gated cells: saturation of each gate over the sequence and the batch"),
}, what("a layer object {\"name\", \"type\", \"params\", …}")).meta({
  description: "One layer: its parameters' gradient statistics; δ = mean per-example ‖∂ℓ/∂z‖ and the gain to the next layer; activation statistics; for recurrent layers ‖∂ℓ/∂h_t‖ (and ‖∂ℓ/∂c_t‖) per time step in sequence order, σ_max(W_hh), σ_max·γ and gate saturation; histograms.",
});

/** One line of metrics.jsonl: one recorded step. */
export const stepRecordSchema = z.object({
  step: count("a whole number ≥ 0 (the training step)").describe("the training step; step 0 is before the first update. Steps increase from line to line"),
  epoch: count("a whole number ≥ 0 (the epoch, from 0) or null").nullable().default(null).describe("the epoch the step belongs to, from 0"),
  loss: real().describe("the batch-mean training loss at this step"),
  accuracy: fraction("a fraction in [0, 1] (the batch accuracy) or null").default(null).describe("the fraction of this step's batch classified correctly"),
  layers: z.array(layerRecordSchema, what(`an array of at most ${RUN_LIMITS.layers} layer records`)).max(RUN_LIMITS.layers, what(`an array of at most ${RUN_LIMITS.layers} layer records`)),
}, what("a JSON object (one metrics record)")).superRefine((r, ctx) => {
  // Charts and tables find a layer by its name: two layers of one record may not share one.
  const seen = new Map<string, number>();
  r.layers.forEach((l, i) => {
    const first = seen.get(l.name);
    if (first === undefined) seen.set(l.name, i);
    else ctx.addIssue({ code: "custom", path: ["layers", i, "name"], message: `a name not used by another layer of the record (layers[${first}] is also called "${l.name}")` });
  });
}).meta({
  title: "gradlab metrics record",
  description: "One line of metrics.jsonl: the gradients, activations and updates measured at one training step (step 0 = before the first update).",
});

// ---------------------------------------------------------------------------------------------
// summary.json

const VERDICTS = ["healthy", "vanishing", "exploding", "diverged", "dead", "stopped"] as const;
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, what(`one of ${values.join(", ")}`));

/** The diagnosis stored in summary.json (src/instrument/diagnosis.ts; docs/diagnosis.md). */
export const diagnosisSchema = z.object({
  verdict: oneOf(VERDICTS),
  grade: oneOf(["mild", "severe"]).nullable().optional(),
  headline: z.string(what("a string")).optional(),
  deltaRatio: stat().optional(),
  deltaRatioEnd: stat().optional(),
  layerFactor: stat().optional(),
  layerFactorEnd: stat().optional(),
  depthRatio: stat().optional(),
  timeRatios: z.record(z.string(), z.number(what("a number or null")).nullable(), what("an object of numbers keyed by layer")).optional(),
  findings: z.array(z.string(what("a string")), what("an array of strings")),
  text: z.string(what("a string")).optional(),
}, what("an object {\"verdict\", \"findings\", …}"));

/** Per-epoch test results. */
export const epochResultSchema = z.object({
  epoch: count("a whole number ≥ 1 (the epoch, from 1)"),
  trainLoss: real().optional(),
  testAccuracy: fraction(),
  testLoss: real().optional(),
}, what("an object {\"epoch\", \"testAccuracy\", …}"));

/** Why training stopped early. */
export const stopSchema = z.object({
  step: count(),
  reason: z.string(what("a string")),
  layer: z.string(what("a string")).optional(),
  param: z.string(what("a string")).optional(),
  cause: oneOf(["loss", "gradient", "weight", "interrupted"]).optional(),
}, what("an object {\"step\", \"reason\", …} or null"));

/**
 * summary.json. Every field is optional, so a tool that knows only some of them can write one;
 * gradlab writes them all. `schemaVersion` names the version of this format (absent: 1).
 */
export const summarySchema = z.object({
  schemaVersion: z.literal(RUN_SCHEMA_VERSION, what(`${RUN_SCHEMA_VERSION} (this gradlab reads version ${RUN_SCHEMA_VERSION} of the run folder format)`)).optional(),
  name: z.string(what("a string")).optional(),
  status: oneOf(["complete", "stopped", "interrupted"]).optional(),
  testAccuracy: fraction().optional(),
  testLoss: real().optional(),
  finalLoss: real().optional(),
  steps: count("a whole number ≥ 0 (training steps taken)").optional(),
  epochs: z.array(epochResultSchema, what("an array of per-epoch results")).max(100_000, what("an array of per-epoch results")).optional(),
  diagnosis: diagnosisSchema.optional(),
  stopped: stopSchema.nullable().optional(),
  skippedSteps: count().optional(),
  nonFinite: z.object({
    steps: count(),
    first: z.object({ step: count(), cause: oneOf(["loss", "gradient", "weight"]), tensor: z.string(what("a string")).nullable(), loss: real() }, what("an object {\"step\", \"cause\", \"tensor\", \"loss\"} or null")).nullable(),
  }, what("an object {\"steps\", \"first\"}")).optional(),
  samplesPerSecond: stat().optional(),
  seconds: stat().optional(),
  command: z.string(what("a string")).optional(),
}, what("a JSON object")).meta({
  title: "gradlab summary.json",
  description: "The outcome of a run: test accuracy and loss, steps, per-epoch results, the diagnosis and how to reproduce it.",
});

/**
 * probe.json: what a run folder recorded outside gradlab's engine says about itself, in place of
 * config.json (integrations/pytorch/gradlab_probe.py writes it): the model's recorded layers, the
 * optimizer, the command line, and what could not be measured.
 */
export const probeSchema = z.object({
  schemaVersion: z.literal(RUN_SCHEMA_VERSION, what(`${RUN_SCHEMA_VERSION} (this gradlab reads version ${RUN_SCHEMA_VERSION} of the run folder format)`)),
  source: z.string(what("a string naming the tool, e.g. \"gradlab-probe\"")).max(100, what("a string of at most 100 characters")),
  probeVersion: z.string(what("a string")).max(40, what("a string of at most 40 characters")).optional(),
  name: z.string(what("a string")).max(200, what("a string of at most 200 characters")).optional(),
  every: count().optional(),
  torch: z.string(what("a string")).max(100, what("a string of at most 100 characters")).optional(),
  command: z.array(z.string(what("a string")), what("an array of strings")).max(1000, what("an array of at most 1000 strings")).optional(),
  model: z.object({
    class: z.string(what("a string")).max(200, what("a string of at most 200 characters")).optional(),
    params: count().optional(),
    layers: z.array(z.object({
      name: z.string(what("a string")).max(500, what("a string of at most 500 characters")),
      type: z.string(what("a string")).max(100, what("a string of at most 100 characters")),
      module: z.string(what("a string")).max(200, what("a string of at most 200 characters")).optional(),
      about: z.string(what("a string")).max(1000, what("a string of at most 1000 characters")).optional(),
      params: z.record(z.string(), z.array(count(), what("an array of whole numbers (the tensor's shape)")).max(8, what("a shape of at most 8 dimensions"))).optional(),
      trainable: count().optional(),
    }, what("an object {\"name\", \"type\", …}")), what("an array of layers")).max(RUN_LIMITS.layers, what(`an array of at most ${RUN_LIMITS.layers} layers`)),
  }, what("an object {\"class\", \"params\", \"layers\"}")),
  optimizer: z.object({
    type: z.string(what("a string")).max(100, what("a string of at most 100 characters")),
    groups: z.array(z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])), what("an array of hyper-parameter objects")).max(100, what("an array of at most 100 groups")).optional(),
  }, what("an object {\"type\", \"groups\"} or null")).nullable().optional(),
  notes: z.array(z.object({
    layer: z.string(what("a string")).max(500, what("a string of at most 500 characters")),
    note: z.string(what("a string")).max(2000, what("a string of at most 2000 characters")),
  }, what("an object {\"layer\", \"note\"}")), what("an array of notes")).max(1000, what("an array of at most 1000 notes")).optional(),
}, what("a JSON object")).meta({
  title: "gradlab probe.json",
  description: "A run folder recorded outside gradlab's engine (the PyTorch probe) describes itself here instead of config.json.",
});

/** A probe.json as read. */
export type ProbeFile = z.output<typeof probeSchema>;

/** A metrics record as read (null where the writer had NaN/±Inf or did not measure). */
export type MetricsRecord = z.output<typeof stepRecordSchema>;
/** A summary.json as read. */
export type SummaryFile = z.output<typeof summarySchema>;

// ---------------------------------------------------------------------------------------------
// One line per problem.

type Path = JsonPath;

/** JS-style path: `layers[0].hist.grad`; the empty path is `root`. */
export function formatPath(path: Path, root = "the record"): string {
  return formatJsonPath(path, root, 40);
}

/** A value as written, in JSON, cut to 60 characters (a deep or huge value is never fully stringified). */
function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (typeof value === "string") { const t = JSON.stringify(value.slice(0, 61)); return value.length > 60 ? `${t.slice(0, 60)}…"` : t; }
  if (Array.isArray(value)) return value.length === 0 ? "[]" : `an array of ${value.length}`;
  if (typeof value === "object") return "an object";
  return typeof value;
}

/** The issue to report from a union (nullable, …): a branch that failed deeper says more. */
function innermost(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const deeper = issue.errors.find((b) => b.length > 0 && b[0].path.length > 0);
    if (deeper) return innermost({ ...deeper[0], path: [...issue.path, ...deeper[0].path] });
  }
  return issue;
}

/** One line for a failed parse: `<path> must be <what>, got <value>`. */
function describe(error: z.ZodError, raw: unknown, root: string): string {
  const issue = innermost(error.issues[0]);
  const path = issue.path;
  if (issue.code === "invalid_key") {
    const key = String(path[path.length - 1] ?? "");
    return `${formatPath(path.slice(0, -1), root)} has a key ${show(key)}; keys must be names of letters, digits and _ (not __proto__, constructor or prototype)`;
  }
  if (issue.code === "unrecognized_keys") return `${formatPath(path, root)} has an unknown key ${show(issue.keys[0])}`;
  const got = valueAt(raw, path);
  const where = formatPath(path, root);
  return got === undefined && path.length > 0 ? `${where} is missing (must be ${issue.message})` : `${where} must be ${issue.message}, got ${show(got)}`;
}

/** A schema's verdict on a value: the parsed value, or one line naming the first bad field. */
export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/** `layers[2].params["__proto__"]` when a parameter key is one zod would drop silently, else null. */
function forbiddenParamKey(raw: unknown): string | null {
  const layers = (raw as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers)) return null;
  for (let i = 0; i < layers.length; i++) {
    const params = (layers[i] as { params?: unknown } | null)?.params;
    if (params === null || typeof params !== "object") continue;
    for (const k of Object.keys(params)) if (FORBIDDEN_KEYS.has(k)) return formatPath(["layers", i, "params", k]);
  }
  return null;
}

/**
 * Validate one parsed metrics line.
 * @example checkRecord({ step: 0, loss: 2.3, layers: [] }) // { ok: true, value: { step: 0, epoch: null, loss: 2.3, accuracy: null, layers: [] } }
 * @example checkRecord({ step: 0, loss: 2.3, layers: [{ name: "a", type: "dense", params: {}, hist: { grad: "x" } }] }).problem
 *   // 'layers[0].hist.grad must be an array of 24 counts (…) or [], got "x"'
 */
export function checkRecord(raw: unknown): Checked<MetricsRecord> {
  const key = forbiddenParamKey(raw);
  if (key) return { ok: false, problem: `${key} is not allowed (a key that would reach the object's prototype)` };
  const r = stepRecordSchema.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, problem: describe(r.error, raw, "the record") };
}

/**
 * Validate a parsed summary.json.
 * @example checkSummary({ steps: "many" }).problem // 'steps must be a whole number ≥ 0 (training steps taken), got "many"'
 */
export function checkSummary(raw: unknown): Checked<SummaryFile> {
  const r = summarySchema.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, problem: describe(r.error, raw, "the summary") };
}

/**
 * Validate a parsed probe.json.
 * @example checkProbe({ schemaVersion: 1, source: "gradlab-probe", model: { layers: [] } }).ok // true
 */
export function checkProbe(raw: unknown): Checked<ProbeFile> {
  const r = probeSchema.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, problem: describe(r.error, raw, "probe.json") };
}
