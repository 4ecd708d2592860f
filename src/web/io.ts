/**
 * What goes in and out of the lab as files and text: the CLI equivalent of a configuration
 * ("Show as CLI"), metrics exports in the CLI's schema (metrics.jsonl, metrics.csv, time.csv),
 * and reading a CLI run's metrics.jsonl (or metrics.csv) back for viewing. A file read here is
 * untrusted: every record is rebuilt field by field from what the schema allows. Pure.
 */
import type { Config } from "../experiment/config.ts";
import type { ActivationRecord, GateRecord, LayerRecord, ParamRecord, StepRecord } from "../instrument/recorder.ts";
import { csvToRecords, hasTimeData, metricsToCsv, timeToCsv } from "../report/csv.ts";

/** A name safe in a file or folder name: "seed", "depth_depth_3". */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^[._-]+|[._-]+$/g, "").slice(0, 60) || "lab";
}

/**
 * The config file and the command that run the same experiment from the CLI.
 * @example cliFor(seedConfig).command // "npx gradlab run seed.json --out runs/seed"
 */
export function cliFor(config: Config): { fileName: string; json: string; command: string } {
  const base = safeName(config.name);
  return {
    fileName: `${base}.json`,
    json: `${JSON.stringify(config, null, 2)}\n`,
    command: `npx gradlab run ${base}.json --out runs/${base}`,
  };
}

/** metrics.jsonl exactly as the CLI writes it: one JSON record per line. */
export function metricsJsonl(records: readonly StepRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join("\n") + (records.length ? "\n" : "");
}

export { hasTimeData, metricsToCsv, timeToCsv };

// ---------------------------------------------------------------------------------------------
// Reading metrics files.

/** Largest metrics file read (a full 5-epoch seed run with every = 1 is about 15 MB). */
export const MAX_METRICS_BYTES = 200 * 2 ** 20;
const NAME = /^[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*$/;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** A number field: a number, or null (JSON has no NaN; the CLI writes non-finite values as null). */
const numOrNull = (v: unknown): number | null => (typeof v === "number" ? v : null);

function numbers(v: unknown, where: string, max = 100_000): number[] {
  if (!Array.isArray(v) || v.length > max) throw new Error(`${where}: expected a list of at most ${max} numbers`);
  return v.map((x) => (typeof x === "number" ? x : NaN));
}

function layerFrom(v: unknown, where: string): LayerRecord {
  if (!isObject(v)) throw new Error(`${where}: expected a layer object`);
  const { name, type, params } = v;
  if (typeof name !== "string" || !NAME.test(name) || name.length > 100) throw new Error(`${where}.name: expected a layer name of letters, digits, _ . -`);
  if (typeof type !== "string" || !NAME.test(type) || type.length > 40) throw new Error(`${where}.type: expected a layer type`);
  if (!isObject(params)) throw new Error(`${where}.params: expected an object`);
  const ps: Record<string, ParamRecord> = {};
  for (const [k, p] of Object.entries(params)) {
    if (!KEY.test(k) || FORBIDDEN.has(k) || !isObject(p)) throw new Error(`${where}.params: unexpected entry ${JSON.stringify(k.slice(0, 40))}`);
    ps[k] = {
      gradNorm: numOrNull(p.gradNorm) as number, gradMeanAbs: numOrNull(p.gradMeanAbs) as number, gradMaxAbs: numOrNull(p.gradMaxAbs) as number,
      gradRms: numOrNull(p.gradRms) as number, updateRatio: numOrNull(p.updateRatio), nonFinite: numOrNull(p.nonFinite) as number,
      ...(p.zeros !== undefined ? { zeros: numOrNull(p.zeros) as number } : {}),
    };
  }
  const a = v.activation;
  const activation: ActivationRecord | null = isObject(a) ? { mean: numOrNull(a.mean) as number, std: numOrNull(a.std) as number, saturated: numOrNull(a.saturated), dead: numOrNull(a.dead) } : null;
  const out: LayerRecord = { name, type, params: ps, deltaNorm: numOrNull(v.deltaNorm), gain: numOrNull(v.gain), activation };
  if (v.hGradNorm !== undefined) out.hGradNorm = numbers(v.hGradNorm, `${where}.hGradNorm`);
  if (v.cGradNorm !== undefined) out.cGradNorm = numbers(v.cGradNorm, `${where}.cGradNorm`);
  if (typeof v.sigmaMax === "number") out.sigmaMax = v.sigmaMax;
  if (typeof v.pascanu === "number") out.pascanu = v.pascanu;
  if (Array.isArray(v.gates)) {
    out.gates = v.gates.filter(isObject).slice(0, 16).map((g): GateRecord => ({ name: typeof g.name === "string" && NAME.test(g.name) ? g.name : "gate", low: numOrNull(g.low) as number, high: numOrNull(g.high) as number }));
  }
  if (isObject(v.hist)) {
    out.hist = { grad: numbers(v.hist.grad ?? [], `${where}.hist.grad`, 1000), act: v.hist.act === null ? null : numbers(v.hist.act ?? [], `${where}.hist.act`, 1000) };
  }
  return out;
}

/** A metrics record rebuilt from untrusted JSON; throws naming the first bad field. */
export function recordFrom(v: unknown, where: string): StepRecord {
  if (!isObject(v)) throw new Error(`${where}: expected a JSON object`);
  if (typeof v.step !== "number" || !Number.isInteger(v.step) || v.step < 0) throw new Error(`${where}: expected a whole-number "step"`);
  if (!Array.isArray(v.layers) || v.layers.length > 1000) throw new Error(`${where}: expected a "layers" list`);
  return {
    step: v.step,
    epoch: typeof v.epoch === "number" ? v.epoch : 0,
    loss: numOrNull(v.loss) as number,
    accuracy: numOrNull(v.accuracy) as number,
    layers: v.layers.map((l, i) => layerFrom(l, `${where}: layers[${i}]`)),
  };
}

/**
 * Records from a metrics.jsonl (one JSON record per line) or a metrics.csv written by the CLI.
 * Throws one line naming the file, the line and what is wrong.
 * @example parseMetricsFile('{"step":0,"epoch":0,"loss":2.3,"accuracy":0.1,"layers":[]}\n', "m.jsonl").length // 1
 */
export function parseMetricsFile(text: string, fileName: string): StepRecord[] {
  const shown = fileName.slice(0, 80);
  if (text.length > MAX_METRICS_BYTES) throw new Error(`${shown}: larger than ${MAX_METRICS_BYTES / 2 ** 20} MB`);
  let records: StepRecord[];
  if (/\.csv$/i.test(fileName) || /^step,epoch,loss/.test(text)) {
    let raw: StepRecord[];
    try { raw = csvToRecords(text); } catch (e) { throw new Error(`${shown}: not a gradlab metrics.csv (${(e as Error).message})`); }
    records = raw.map((r, i) => recordFrom(r, `${shown}: row ${i + 1}`));
  } else {
    records = [];
    const lines = text.split(/\r?\n/);
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      let v: unknown;
      try { v = JSON.parse(line); } catch { throw new Error(`${shown}: line ${i + 1} is not valid JSON (is this a gradlab metrics.jsonl?)`); }
      records.push(recordFrom(v, `${shown}: line ${i + 1}`));
    });
  }
  if (records.length === 0) throw new Error(`${shown}: no metrics records in the file`);
  for (let i = 1; i < records.length; i++) {
    if (records[i].step <= records[i - 1].step) throw new Error(`${shown}: steps must increase (step ${records[i].step} after ${records[i - 1].step})`);
  }
  return records;
}
