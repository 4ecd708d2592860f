// 10,000 generated run folders (config.json, summary.json, metrics.jsonl as text, read through
// the same parseRun as `gradlab report` and `gradlab compare`, in memory): every folder is either
// read, or refused with one clean InputError naming a file of the folder, and never throws
// anything else or hangs. The folders that are valid (a small fraction) are rendered through
// the real renderer: report.html with every chart's SVG (src/report/svg.ts), metrics.csv and time.csv, and
// a comparison with the previous valid folder; only the PNG export (resvg) is skipped.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRun } from "../../src/report/read-run.ts";
import { comparisonFiles, reportFiles } from "../../src/report/write.ts";
import type { ReportRun } from "../../src/report/html.ts";
import { clean, RUNS } from "./clean.ts";

/**
 * A statistic: 0, a positive double down to the smallest subnormal (5e-324) and up to 1e8, or
 * null. (ECharts' tick computation asserted on a loss below about 1e-19; the report's own
 * renderer, src/report/svg.ts, must draw them all.)
 */
const stat = fc.oneof(fc.constant(0), fc.double({ min: 5e-324, max: 1e8, noNaN: true }), fc.constant(null));
const frac = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(null));

const PARAM = fc.record({
  gradNorm: stat, gradMeanAbs: stat, gradMaxAbs: stat, gradRms: stat, updateRatio: stat,
  nonFinite: fc.oneof(fc.nat({ max: 5 }), fc.constant(null)), zeros: fc.nat({ max: 100 }),
}, { requiredKeys: ["gradNorm"] });

const LAYER = fc.record({
  name: fc.constantFrom("dense1", "conv1", "lstm1", "encoder.0", "block1-dense2", "pool1"),
  type: fc.constantFrom("dense", "conv2d", "lstm", "gru", "Linear", "maxpool2d"),
  params: fc.dictionary(fc.constantFrom("weight", "bias", "weight_ih_l0", "weight_hh_l0"), PARAM, { maxKeys: 3 }),
  deltaNorm: stat, gain: stat,
  activation: fc.option(fc.record({ mean: fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constant(null)), std: stat, saturated: frac, dead: frac }, { requiredKeys: ["mean", "std"] })),
  hist: fc.record({
    grad: fc.oneof(fc.constant([]), fc.array(fc.nat({ max: 50 }), { minLength: 24, maxLength: 24 })),
    act: fc.oneof(fc.constant(null), fc.constant([]), fc.array(fc.nat({ max: 50 }), { minLength: 22, maxLength: 22 })),
  }),
  hGradNorm: fc.array(stat, { maxLength: 5 }), cGradNorm: fc.array(stat, { maxLength: 5 }),
  sigmaMax: stat, pascanu: stat,
  gates: fc.array(fc.record({ name: fc.constantFrom("f", "z", "i"), low: frac, high: frac }), { maxLength: 2 }),
}, { requiredKeys: ["name", "type", "params"] });

/** A record without its step (steps are assigned in order below). */
const RECORD = fc.record({
  epoch: fc.oneof(fc.nat({ max: 3 }), fc.constant(null)),
  loss: fc.oneof(fc.constant(0), fc.double({ min: 1e-15, max: 1e4, noNaN: true }), fc.constant(null)),
  accuracy: frac,
  layers: fc.uniqueArray(LAYER, { selector: (l) => l.name, maxLength: 3 }),
}, { requiredKeys: ["loss", "layers"] });

/** Replace the value at a random path of `v` (objects and arrays walked by `pick`) with `x`. */
function mutate(v: unknown, pick: number[], x: unknown): unknown {
  if (v === null || typeof v !== "object" || pick.length === 0) return x;
  const keys = Object.keys(v);
  if (keys.length === 0) return x;
  const k = keys[pick[0] % keys.length];
  const copy: any = Array.isArray(v) ? [...v] : { ...v };
  copy[k] = pick.length === 1 ? x : mutate(copy[k], pick.slice(1), x);
  if (x === undefined) delete copy[k];
  return copy;
}

/** Any JSON value, subnormal numbers included (see `stat`). */
function tame(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(tame);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tame(x)]));
  return v;
}

/** A value that breaks a field: wrong types, "NaN", undefined (removes the key), huge or nested. */
const HOSTILE = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).map(tame),
  fc.constantFrom<unknown>(undefined, "NaN", "x", -1, 1.5, 1e300, [], {}, null, true),
  fc.constant([[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]),
);

/** A uniform 0..99, for rates (fast-check's doubles lean toward the ends of their range). */
const PERCENT = fc.noBias(fc.integer({ min: 0, max: 99 }));

/** Text of a JSON value, sometimes mutated at one path. */
const maybeMutated = (base: fc.Arbitrary<unknown>, rate: number) => fc.tuple(base, PERCENT, fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), HOSTILE)
  .map(([v, p, pick, x]) => JSON.stringify(p < 100 * rate ? mutate(v, pick, x) : v) ?? "null");

const METRICS = fc.tuple(
  fc.array(fc.tuple(RECORD, fc.integer({ min: 0, max: 50 })), { maxLength: 5 }),
  PERCENT, fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), HOSTILE, fc.nat(),
  fc.constantFrom("none", "none", "none", "blank", "torn", "garbage", "crlf"),
).map(([recs, p, pick, x, at, extra]) => {
  let step = 0;
  let records: unknown[] = recs.map(([r, gap]) => ({ step: (step += gap), ...r }));
  if (p < 80 && records.length > 0) records = mutate(records, [at % records.length, ...pick], x) as unknown[];
  let lines = Array.from(records, (r) => JSON.stringify(r) ?? "");
  if (extra === "blank") lines.splice(at % (lines.length + 1), 0, "", "  ");
  if (extra === "torn" && lines.length) lines[lines.length - 1] = lines[lines.length - 1].slice(0, at % lines[lines.length - 1].length);
  if (extra === "garbage") lines.splice(at % (lines.length + 1), 0, ["[]", "5", "\"x\"", "{", "null"][at % 5]);
  if (extra === "crlf") lines = lines.map((l) => `${l}\r`);
  return lines;
});

const SUMMARY = maybeMutated(fc.record({
  name: fc.string({ maxLength: 8 }), status: fc.constantFrom("complete", "stopped", "interrupted"),
  testAccuracy: frac, testLoss: stat, finalLoss: stat, steps: fc.nat({ max: 300 }),
  epochs: fc.array(fc.record({ epoch: fc.integer({ min: 1, max: 3 }), testAccuracy: frac, trainLoss: stat }), { maxLength: 3 }),
  diagnosis: fc.record({
    verdict: fc.constantFrom("healthy", "vanishing", "exploding", "diverged", "dead", "stopped"), grade: fc.constantFrom("mild", "severe", null),
    headline: fc.string({ maxLength: 10 }), deltaRatio: stat, depthRatio: stat, timeRatios: fc.dictionary(fc.constantFrom("lstm1", "rnn1"), stat, { maxKeys: 2 }),
    findings: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }), text: fc.string({ maxLength: 10 }),
  }, { requiredKeys: ["verdict", "findings"] }),
  stopped: fc.option(fc.record({ step: fc.nat(), reason: fc.string({ maxLength: 8 }) })),
  command: fc.string({ maxLength: 12 }),
}, { requiredKeys: [] }), 0.7);

const CONFIG = maybeMutated(fc.record({
  name: fc.constantFrom("x", "run <1>"),
  data: fc.constant({ dataset: "mnist", view: "rows", train: 100, test: 10 }),
  model: fc.constant({ layers: [{ type: "dense", units: 10 }] }),
  optimizer: fc.constant({ type: "sgd", lr: 0.1 }),
  train: fc.record({ epochs: fc.integer({ min: 1, max: 3 }), batchSize: fc.constant(32) }),
}), 0.7);

const FOLDER = fc.record({ config: CONFIG, summary: SUMMARY, metrics: METRICS });

describe("report and compare on generated run folders", () => {
  it(`${RUNS} folders: read or one clean InputError naming the file; the valid ones render`, { timeout: 600_000 }, () => {
    let valid = 0, compared = 0;
    let previous: ReportRun | null = null;
    let slowest = 0;
    fc.assert(fc.property(FOLDER, (f) => {
      const t0 = performance.now();
      const run = clean(() => parseRun(f, "/runs/x"), "/runs/x/");
      if (run !== null) {
        valid++;
        const files = reportFiles(run, { png: false });
        expect(files.map(([name]) => name).slice(0, 2)).toEqual(["report.html", "metrics.csv"]);
        expect(files[0][1]).toMatch(/<\/html>\n$/);
        if (previous !== null && valid % 4 === 0) {
          compared++;
          const cmp = comparisonFiles([{ ...previous, label: "a" }, { ...run, label: "b" }], { png: false });
          expect(cmp.map(([name]) => name)).toEqual(["report.html", "runs.csv"]);
        }
        previous = run;
      }
      slowest = Math.max(slowest, performance.now() - t0);
      return true;
    }), { numRuns: RUNS });
    // Both outcomes happen, and enough folders are valid to exercise the renderer.
    expect(valid).toBeGreaterThan(RUNS / 500);
    expect(valid).toBeLessThan(RUNS / 10);
    expect(compared).toBeGreaterThan(RUNS / 5000);
    // No folder takes long (a hang would also hit the test's timeout).
    expect(slowest).toBeLessThan(30_000);
    console.log(`run folders: ${valid} valid (rendered), ${compared} comparisons, slowest ${slowest.toFixed(0)} ms`);
  });
});
