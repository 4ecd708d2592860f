/**
 * CSV export: the columns the README lists, one row per step × layer, and an exact round trip of
 * every exported number (String(x) is the shortest text that parses back to the same double).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LayerRecord, StepRecord } from "../../src/instrument/recorder.ts";
import { csvToRecords, metricsToCsv, parseCsv, timeToCsv } from "../../src/report/csv.ts";
import { cnnRecords, param, rnnRecords } from "./synthetic.ts";

/** Records without what the CSV leaves out (histograms, gates). */
const exported = (records: StepRecord[]) => records.map((r) => ({ ...r, layers: r.layers.map(({ hist: _h, gates: _g, ...l }) => l) }));

describe("metricsToCsv", () => {
  it("has the documented columns, with the union of parameter keys and empty cells where absent", () => {
    const csv = metricsToCsv(rnnRecords(4));
    const [header, first] = parseCsv(csv);
    expect(header.slice(0, 14)).toEqual(["step", "epoch", "loss", "accuracy", "layer", "type", "deltaNorm", "gain", "act_mean", "act_std", "saturated", "dead", "sigmaMax", "pascanu"]);
    // Changed: p_zeros (exact-zero gradient entries) follows p_nonFinite.
    const stats = ["gradNorm", "gradMeanAbs", "gradMaxAbs", "gradRms", "updateRatio", "nonFinite", "zeros"];
    expect(header.slice(14)).toEqual(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight", "bias"].flatMap((k) => stats.map((s) => `${k}_${s}`)));
    // lstm1 has no dense weight: those cells are empty
    expect(first[header.indexOf("layer")]).toBe("lstm1");
    expect(first[header.indexOf("weight_gradNorm")]).toBe("");
    expect(first[header.indexOf("deltaNorm")]).toBe("");
    expect(parseCsv(csv)).toHaveLength(1 + 6 * 3);
  });

  it("round-trips CNN and RNN records exactly (with time.csv for ‖∂ℓ/∂h_t‖ and ‖∂ℓ/∂c_t‖)", () => {
    for (const records of [cnnRecords(), rnnRecords(7)]) {
      const back = csvToRecords(metricsToCsv(records), timeToCsv(records));
      expect(back).toEqual(exported(records));
    }
  });

  it("time.csv has one row per step × recurrent layer × t, t = 0 first", () => {
    const rows = parseCsv(timeToCsv(rnnRecords(5)));
    expect(rows[0]).toEqual(["step", "layer", "t", "hGradNorm", "cGradNorm"]);
    expect(rows).toHaveLength(1 + 6 * 2 * 5);
    expect(rows[1]).toEqual(["0", "lstm1", "0", String(0.5 * 0.6 ** 4), String(0.3 * 0.8 ** 4)]);
    expect(rows[6][1]).toBe("rnn1");
    expect(rows[6][4]).toBe(""); // a vanilla RNN has no cell state
  });

  it("round-trips any doubles (subnormals, -0, NaN, ±Infinity, nulls) and names that need quoting", () => {
    const double = fc.oneof(fc.double(), fc.constant(-0), fc.constant(5e-324));
    fc.assert(fc.property(
      fc.array(fc.tuple(double, double, double, fc.option(double, { nil: null })), { minLength: 1, maxLength: 5 }),
      fc.string({ maxLength: 12 }),
      (rows, name) => {
        const records: StepRecord[] = rows.map(([a, b, c, d], i) => {
          const layer: LayerRecord = {
            name: `${name},"x"\n${i % 2}`, type: "dense", params: { weight: { ...param(a), gradMaxAbs: b, updateRatio: d } },
            deltaNorm: c, gain: d, activation: { mean: b, std: c, saturated: d, dead: null },
          };
          return { step: i, epoch: 0, loss: a, accuracy: b, layers: [layer] };
        });
        const back = csvToRecords(metricsToCsv(records));
        expect(back).toEqual(records);
        // toEqual treats -0 and 0 alike; compare the bits of one field too
        back.forEach((r, i) => expect(Object.is(r.loss, records[i].loss)).toBe(true));
      },
    ), { numRuns: 200 });
  });
});
