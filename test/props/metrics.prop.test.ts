// metrics.jsonl import (src/report/write.ts parseMetrics) under generated input:
// files made of valid records, records with a field removed or retyped, torn lines (what a
// killed run leaves at the end), garbage and blank lines, with \n or \r\n endings, all end in
// the records or one clean InputError naming the file (and the line, when one is bad).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseMetrics } from "../../src/report/write.ts";
import { clean, RUNS } from "./clean.ts";

/** A record shaped like the recorder's (README, "What is measured"). */
const RECORD = fc.record({
  step: fc.nat({ max: 10_000 }),
  loss: fc.oneof(fc.double({ min: 0, max: 10, noNaN: true }), fc.constant(null)),
  layers: fc.array(fc.record({
    name: fc.constantFrom("dense1", "rnn1", "conv1"),
    type: fc.constantFrom("dense", "rnn", "conv2d"),
    params: fc.dictionary(fc.constantFrom("weight", "bias", "weight_hh"), fc.record({ gradNorm: fc.double({ noNaN: true }), nonFinite: fc.nat({ max: 3 }) }), { maxKeys: 2 }),
    deltaNorm: fc.option(fc.double({ noNaN: true })),
    hGradNorm: fc.option(fc.array(fc.double({ noNaN: true }), { maxLength: 4 })),
  }), { maxLength: 3 }),
});

/** One line: a record as written, mutated, torn, or not a record at all. */
const LINE = fc.oneof(
  { arbitrary: RECORD.map((r) => JSON.stringify(r)), weight: 6 },
  { arbitrary: fc.tuple(RECORD, fc.constantFrom("step", "layers", "name", "type", "params"), fc.jsonValue({ maxDepth: 1 })).map(([r, key, v]) => {
    const o = JSON.parse(JSON.stringify(r));
    const target = key === "step" || key === "layers" ? o : o.layers[0] ?? o;
    if (v === null) delete target[key]; else target[key] = v;
    return JSON.stringify(o);
  }), weight: 2 },
  { arbitrary: fc.tuple(RECORD, fc.nat()).map(([r, cut]) => { const s = JSON.stringify(r); return s.slice(0, cut % s.length); }), weight: 1 },
  { arbitrary: fc.oneof(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? "")), weight: 1 },
  { arbitrary: fc.constantFrom("", " ", "\t"), weight: 1 },
);

const FILE = fc.tuple(fc.array(LINE, { maxLength: 6 }), fc.constantFrom("\n", "\r\n"), fc.boolean())
  .map(([lines, eol, last]) => lines.join(eol) + (last ? eol : ""));

describe("parseMetrics on generated input", () => {
  it(`${RUNS} generated files: records, or one clean InputError naming the file`, () => {
    let parsed = 0;
    fc.assert(fc.property(FILE, (text) => {
      const records = clean(() => parseMetrics(text, "/runs/x/metrics.jsonl"), "/runs/x/metrics.jsonl: ");
      if (records === null) return true;
      parsed++;
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) {
        expect(typeof r.step).toBe("number");
        expect(Array.isArray(r.layers)).toBe(true);
      }
      return true;
    }), { numRuns: RUNS });
    expect(parsed).toBeGreaterThan(RUNS / 50);  // both outcomes are exercised
  });
});
