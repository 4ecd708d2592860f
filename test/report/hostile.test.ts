// Hostile run folders through report and compare: each class of bad field (wrong type, missing
// field, a "NaN" string, a huge array, deep nesting, a line that is not an object, an empty
// file, a summary of the wrong type, …) is refused with ONE line naming the file, the line and
// the field path, nothing is written, and the CLI exits with code 2. The expected messages are
// the run schema's wording (src/experiment/run-schema.ts) for the field each case breaks.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { writeComparison, writeReport } from "../../src/report/write.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";
import { cnnRecords, rnnRecords, synthRun } from "./synthetic.ts";

type Json = any;

/** A valid run folder (CNN or RNN records); `edit` may change the records, the summary or the config, or replace a file's text. */
function folder(edit: (f: { records: Json[]; summary: Json; config: Json; text: Record<string, string> }) => void, kind: "cnn" | "rnn" = "cnn"): string {
  const dir = join(tempDir("gradlab-hostile-"), "run");
  mkdirSync(dir);
  const s = synthRun(kind === "cnn" ? cnnRecords() : rnnRecords(), kind);
  const f = { records: JSON.parse(JSON.stringify(s.records)), summary: JSON.parse(JSON.stringify(s.summary)), config: JSON.parse(JSON.stringify(s.config)), text: {} as Record<string, string> };
  edit(f);
  writeFileSync(join(dir, "config.json"), f.text["config.json"] ?? JSON.stringify(f.config));
  writeFileSync(join(dir, "summary.json"), f.text["summary.json"] ?? JSON.stringify(f.summary));
  writeFileSync(join(dir, "metrics.jsonl"), f.text["metrics.jsonl"] ?? f.records.map((r: Json) => JSON.stringify(r)).join("\n") + "\n");
  return dir;
}

/** The one-line InputError `f` throws. */
function refusal(f: () => unknown): string {
  try { f(); } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).not.toMatch(/\n/);
    return (e as Error).message;
  }
  throw new Error("expected an InputError");
}

/** n levels of [[[…]]] as JSON text: nesting far beyond any real record (and beyond a recursive stringify). */
const deep = (n: number) => "[".repeat(n) + "]".repeat(n);

/** [case, edit, file, expected message after "<file>: "] */
const CASES: [string, Parameters<typeof folder>[0], string, string, ("cnn" | "rnn")?][] = [
  ["wrong type (hist.grad a string)", (f) => { f.records[1].layers[0].hist.grad = "x"; }, "metrics.jsonl",
    `line 2: layers[0].hist.grad must be an array of 24 counts (whole numbers ≥ 0, one per log10 |∂L/∂W| bin) or [], got "x"`],
  ["wrong type (activation a number)", (f) => { f.records[0].layers[4].activation = 7; }, "metrics.jsonl",
    `line 1: layers[4].activation must be an object {"mean", "std", "saturated", "dead"} or null, got 7`],
  ["missing field (a parameter's gradNorm)", (f) => { delete f.records[2].layers[2].params.bias.gradNorm; }, "metrics.jsonl",
    "line 3: layers[2].params.bias.gradNorm is missing (must be a number ≥ 0 or null (null stands for NaN or ±Infinity))"],
  ["missing field (step)", (f) => { delete f.records[5].step; }, "metrics.jsonl",
    "line 6: step is missing (must be a whole number ≥ 0 (the training step))"],
  ["NaN as a string", (f) => { f.records[3].loss = "NaN"; }, "metrics.jsonl",
    `line 4: loss must be a number or null (null stands for NaN or ±Infinity), got "NaN"`],
  ["Infinity (1e999 parses to it)", (f) => { f.text["metrics.jsonl"] = f.records.map((r: Json) => JSON.stringify(r)).join("\n").replace(/"deltaNorm":0\.9/, `"deltaNorm":1e999`); }, "metrics.jsonl",
    "line 1: layers[5].deltaNorm must be a number ≥ 0 or null (null stands for NaN or ±Infinity), got Infinity"],
  ["negative norm", (f) => { f.records[0].layers[0].params.weight.gradMaxAbs = -1; }, "metrics.jsonl",
    "line 1: layers[0].params.weight.gradMaxAbs must be a number ≥ 0 or null (null stands for NaN or ±Infinity), got -1"],
  ["huge array (200,000 time steps)", (f) => { f.records[4].layers[0].hGradNorm = new Array(200_000).fill(0.5); }, "metrics.jsonl",
    "line 5: layers[0].hGradNorm must be an array of at most 100000 numbers ≥ 0 (or null), one per time step, got an array of 200000", "rnn"],
  ["huge array (5,000 layers)", (f) => { f.records[0].layers = Array.from({ length: 5000 }, (_, i) => ({ name: `d${i}`, type: "dense", params: {} })); }, "metrics.jsonl",
    "line 1: layers must be an array of at most 1000 layer records, got an array of 5000"],
  ["deep nesting in a field", (f) => { f.text["metrics.jsonl"] = JSON.stringify(f.records[0]).replace(`"name":"pool1",`, `"name":"pool1","gates":${deep(100_000)},`); }, "metrics.jsonl",
    `line 1: layers[1].gates[0] must be an object {"name", "low", "high"}, got an array of 1`],
  ["deep nesting in the summary", (f) => { f.text["summary.json"] = JSON.stringify(f.summary).replace(`"epochs":`, `"epochs":${deep(100_000)},"was":`); }, "summary.json",
    `epochs[0] must be an object {"epoch", "testAccuracy", …}, got an array of 1`],
  ["a line that is not an object", (f) => { f.text["metrics.jsonl"] = `${JSON.stringify(f.records[0])}\n[1, 2]\n`; }, "metrics.jsonl",
    "line 2: the record must be a JSON object (one metrics record), got an array of 2"],
  ["a line that is a string", (f) => { f.text["metrics.jsonl"] = `"step"\n`; }, "metrics.jsonl",
    `line 1: the record must be a JSON object (one metrics record), got "step"`],
  ["a torn last line", (f) => { f.text["metrics.jsonl"] = `${JSON.stringify(f.records[0])}\n{"step": 10, "lo`; }, "metrics.jsonl",
    "line 2 is not valid JSON"],
  ["an empty file", (f) => { f.text["metrics.jsonl"] = ""; }, "metrics.jsonl", "no records (the file is empty)"],
  ["steps going back", (f) => { f.records[3].step = 5; }, "metrics.jsonl",
    "line 4: step must be greater than the previous record's (20), got 5"],
  ["two layers of one name", (f) => { f.records[0].layers[3].name = "conv1"; }, "metrics.jsonl",
    `line 1: layers[3].name must be a name not used by another layer of the record (layers[0] is also called "conv1"), got "conv1"`],
  ["a __proto__ parameter", (f) => { f.text["metrics.jsonl"] = JSON.stringify(f.records[0]).replace(`"params":{"weight"`, `"params":{"__proto__":{"gradNorm":1},"weight"`); }, "metrics.jsonl",
    "line 1: layers[0].params.__proto__ is not allowed (a key that would reach the object's prototype)"],
  ["summary: steps of the wrong type", (f) => { f.summary.steps = "many"; }, "summary.json",
    `steps must be a whole number ≥ 0 (training steps taken), got "many"`],
  ["summary: an unknown verdict", (f) => { f.summary.diagnosis = { verdict: "fine", findings: [] }; }, "summary.json",
    `diagnosis.verdict must be one of healthy, vanishing, exploding, diverged, dead, stopped, got "fine"`],
  ["summary: not an object", (f) => { f.text["summary.json"] = "[]"; }, "summary.json", "expected a JSON object"],
  ["config: not a config", (f) => { f.config.optimizer = { type: "sgd", lr: -1 }; }, "config.json",
    "optimizer.lr: expected a positive number; got -1"],
];

describe("report and compare on hostile run folders", () => {
  for (const [name, edit, file, message, kind] of CASES) {
    it(`${name}: ${file} is named with the field, nothing is written`, () => {
      const dir = folder(edit, kind);
      const before = readdirSync(dir).sort();
      expect(refusal(() => writeReport(dir, { png: false }))).toBe(`${join(dir, file)}: ${message}`);
      expect(readdirSync(dir).sort()).toEqual(before);
      const good = folder(() => {});
      const out = join(tempDir(), "cmp");
      expect(refusal(() => writeComparison([good, dir], out, { png: false }))).toBe(`${join(dir, file)}: ${message}`);
      expect(existsSync(out)).toBe(false);
    });
  }

  it("the CLI: report and compare exit 2 with the one line; compare no longer accepts the folder", { timeout: 300_000 }, () => {
    for (const [, edit, file, message] of [CASES[18]]) {
      const dir = folder(edit);
      const line = `gradlab: ${join(dir, file)}: ${message}\n`;
      const report = gradlab(["report", dir, "--no-png"]);
      expect([report.code, report.stderr, report.stdout]).toEqual([2, line, ""]);
      const out = join(tempDir(), "cmp");
      const compare = gradlab(["compare", folder(() => {}), dir, "--out", out, "--no-png"]);
      expect([compare.code, compare.stderr, compare.stdout]).toEqual([2, line, ""]);
      expect(existsSync(out)).toBe(false);
    }
  });
});
