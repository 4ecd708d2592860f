// The writers' types (recorder.ts, session.ts, diagnosis.ts, trainer.ts) and the run schema the
// readers use (run-schema.ts) must not drift apart. The type assertions below are checked by
// `npm run typecheck` (tsc fails on a drift); the runtime test checks the same on records of a
// real run: a record the engine writes parses to itself, so no field is unknown to the schema.
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { parseConfig } from "../../src/experiment/config.ts";
import type { Summary } from "../../src/experiment/run-folder/session.ts";
import {
  activationRecordSchema, checkRecord, diagnosisSchema, epochResultSchema, gateRecordSchema, histRecordSchema,
  layerRecordSchema, paramRecordSchema, stepRecordSchema, stopSchema, summarySchema,
} from "../../src/experiment/run-schema.ts";
import { Trainer, type EpochResult, type Stop } from "../../src/experiment/trainer.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import type { Diagnosis } from "../../src/instrument/diagnosis.ts";
import type { ActivationRecord, GateRecord, LayerRecord, ParamRecord, StepRecord } from "../../src/instrument/recorder.ts";

/** null read as "no number": what the report sees of a parsed record. */
type Unnulled<T> = T extends null ? never
  : T extends readonly (infer U)[] ? Unnulled<U>[]
  : T extends object ? { [K in keyof T]: Unnulled<T[K]> }
  : T;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Fits<A, B> = [A] extends [B] ? true : false;
type Keys<S extends { shape: object }> = keyof S["shape"];

// 1. Every record and summary the writers produce is valid input of the schema (the schema also
// takes null where a statistic can be NaN or ±Infinity, which JSON writes as null).
const recordFits: Fits<StepRecord, z.input<typeof stepRecordSchema>> = true;
const summaryFits: Fits<Summary, z.input<typeof summarySchema>> = true;
// 2. The same fields at every level (a field added to a writer must be added to the schema).
const stepKeys: Equal<keyof StepRecord, Keys<typeof stepRecordSchema>> = true;
const layerKeys: Equal<keyof LayerRecord, Keys<typeof layerRecordSchema>> = true;
const paramKeys: Equal<keyof ParamRecord, Keys<typeof paramRecordSchema>> = true;
const activationKeys: Equal<keyof ActivationRecord, Keys<typeof activationRecordSchema>> = true;
const gateKeys: Equal<keyof GateRecord, Keys<typeof gateRecordSchema>> = true;
const histKeys: Equal<keyof NonNullable<LayerRecord["hist"]>, Keys<typeof histRecordSchema>> = true;
const diagnosisKeys: Equal<keyof Diagnosis, Keys<typeof diagnosisSchema>> = true;
const epochKeys: Equal<keyof EpochResult, Keys<typeof epochResultSchema>> = true;
const stopKeys: Equal<keyof Stop, Keys<typeof stopSchema>> = true;
// summary.json adds only the optional schemaVersion to what session.ts writes.
const summaryKeys: Equal<keyof Summary | "schemaVersion", Keys<typeof summarySchema>> = true;
// 3. What the readers hand the report, with null standing for a missing number, is a StepRecord.
const readerFits: Fits<Unnulled<z.output<typeof stepRecordSchema>>, StepRecord> = true;

describe("run schema and writer types", () => {
  it("agree at the type level (checked by tsc; these constants only exist if it compiles)", () => {
    expect([recordFits, summaryFits, stepKeys, layerKeys, paramKeys, activationKeys, gateKeys, histKeys, diagnosisKeys, epochKeys, stopKeys, summaryKeys, readerFits].every((x) => x)).toBe(true);
  });

  it("a real run's records (dense and LSTM) parse to themselves: no field unknown to the schema, none reordered", () => {
    const base = { name: "t", optimizer: { type: "sgd", lr: 0.5 }, train: { epochs: 1, batchSize: 32, seed: 2 }, record: { every: 2 } };
    const configs = [
      parseConfig({ ...base, data: { dataset: "mnist", view: "flat", train: 96, test: 50 }, model: { layers: [{ type: "dense", units: 4, activation: "relu" }, { type: "dense", units: 10 }] } }),
      parseConfig({ ...base, data: { dataset: "mnist", view: "rows", train: 96, test: 50 }, model: { layers: [{ type: "lstm", units: 4 }, { type: "dense", units: 10 }] } }),
    ];
    let n = 0;
    for (const config of configs) {
      const t = new Trainer(config, loadDataset("mnist", { train: 96, test: 50 }));
      while (!t.done) {
        const r = t.trainStep();
        if (!r) continue;
        const line = JSON.stringify(r);
        const checked = checkRecord(JSON.parse(line));
        expect(checked.ok).toBe(true);
        if (checked.ok) expect(JSON.stringify(checked.value)).toBe(line);
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(4);
  });
});
