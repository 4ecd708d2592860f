// docs/metrics.schema.json, the published form of the run schema: the committed file is what
// `npm run schema` writes today (else it is stale), and read back as a validator (zod's
// fromJSONSchema, which knows nothing of run-schema.ts) it accepts records of a real run and
// gradlab's own summary, and refuses what the zod schema refuses.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../src/experiment/config.ts";
import { runSchemaDocument } from "../../src/experiment/run-schema-doc.ts";
import { RUN_SCHEMA_VERSION } from "../../src/experiment/run-schema.ts";
import { Trainer } from "../../src/experiment/trainer.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import type { StepRecord } from "../../src/instrument/recorder.ts";
import { cnnRecords, rnnRecords, synthRun } from "./synthetic.ts";

const FILE = join(import.meta.dirname, "../../docs/metrics.schema.json");

/** Records of a short real run of the seed network (320 examples, 10 steps, recorded every 3). */
function realRecords(): StepRecord[] {
  const config = parseConfig({
    name: "s", data: { dataset: "mnist", view: "flat", train: 320, test: 100 },
    model: { layers: [{ type: "dense", units: 5, activation: "sigmoid" }, { type: "dense", units: 10 }] },
    optimizer: { type: "sgd", lr: 0.5 }, train: { epochs: 1, batchSize: 32, seed: 3 }, record: { every: 3 },
  });
  const t = new Trainer(config, loadDataset("mnist", { train: 320, test: 100 }));
  const out: StepRecord[] = [];
  while (!t.done) { const r = t.trainStep(); if (r) out.push(r); }
  return out;
}

describe("docs/metrics.schema.json", () => {
  it("is up to date with the zod schema (run `npm run schema` after changing src/experiment/run-schema.ts)", () => {
    expect(readFileSync(FILE, "utf8")).toBe(runSchemaDocument());
  });

  it("carries the schema version", () => {
    expect(JSON.parse(readFileSync(FILE, "utf8")).schemaVersion).toBe(RUN_SCHEMA_VERSION);
  });

  it("read back as a validator, accepts gradlab's records and summary and refuses bad fields", () => {
    const doc = JSON.parse(readFileSync(FILE, "utf8"));
    const record = z.fromJSONSchema(doc);
    const summary = z.fromJSONSchema({ ...doc.$defs.summary, $defs: doc.$defs });
    const records = [...realRecords(), ...cnnRecords(), ...rnnRecords()];
    expect(records.length).toBeGreaterThan(10);
    for (const r of records) expect(record.safeParse(JSON.parse(JSON.stringify(r))).success).toBe(true);
    expect(summary.safeParse(synthRun(cnnRecords(), "cnn").summary).success).toBe(true);
    const good = JSON.parse(JSON.stringify(cnnRecords()[0]));
    const bad = (edit: (r: any) => void) => { const r = structuredClone(good); edit(r); return record.safeParse(r).success; };
    // Each of these is refused by run-schema.ts too (test/report/hostile.test.ts).
    expect(bad((r) => { r.layers[0].hist.grad = "x"; })).toBe(false);
    expect(bad((r) => { r.layers[0].hist.grad = [1, 2]; })).toBe(false);
    expect(bad((r) => { r.step = "many"; })).toBe(false);
    expect(bad((r) => { delete r.layers[0].params.weight.gradNorm; })).toBe(false);
    expect(bad((r) => { r.loss = "NaN"; })).toBe(false);
    expect(bad((r) => { r.accuracy = 2; })).toBe(false);
    expect(bad(() => {})).toBe(true);
    expect(summary.safeParse({ steps: "many" }).success).toBe(false);
  });
});
