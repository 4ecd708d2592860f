/**
 * writeReport on a bad run folder: an InputError with ONE line naming the folder or file (and
 * the line of metrics.jsonl), and nothing written into the folder.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { writeComparison, writeReport } from "../../src/report/write.ts";
import { tempDir } from "../helpers/cli.ts";
import { cnnRecords, synthRun } from "./synthetic.ts";

/** The message of the InputError `f` throws (fails on any other outcome). */
function inputError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const m = (e as Error).message;
    expect(m).not.toMatch(/\n/);
    return m;
  }
  throw new Error("expected an InputError");
}

/** A valid synthetic run folder; `edit` breaks one file. */
function runFolder(edit: (dir: string) => void = () => {}): string {
  const dir = join(tempDir("gradlab-report-err-"), "run");
  mkdirSync(dir);
  const s = synthRun(cnnRecords(), "cnn");
  writeFileSync(join(dir, "config.json"), JSON.stringify(s.config));
  writeFileSync(join(dir, "summary.json"), JSON.stringify(s.summary));
  writeFileSync(join(dir, "metrics.jsonl"), s.records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  edit(dir);
  return dir;
}

const files = (dir: string) => readdirSync(dir).sort();

describe("writeReport on bad input", () => {
  it("a missing folder", () => {
    const dir = join(tempDir(), "nope");
    expect(inputError(() => writeReport(dir))).toBe(`${dir}: no such run folder`);
  });

  it("a file instead of a folder", () => {
    const file = join(tempDir(), "x.json");
    writeFileSync(file, "{}");
    expect(inputError(() => writeReport(file))).toBe(`${file}: is a file, not a run folder`);
  });

  it("each missing file is named", () => {
    for (const name of ["config.json", "summary.json", "metrics.jsonl"]) {
      const dir = runFolder((d) => rmSync(join(d, name)));
      expect(inputError(() => writeReport(dir))).toBe(`${join(dir, name)}: no such file (is this a gradlab run folder?)`);
      expect(files(dir)).not.toContain("report.html");
    }
  });

  it("a corrupt metrics.jsonl line is reported with its number", () => {
    const dir = runFolder((d) => {
      const good = (step: number) => JSON.stringify({ ...cnnRecords()[0], step });
      writeFileSync(join(d, "metrics.jsonl"), [...Array.from({ length: 16 }, (_, i) => good(i)), `{"step": 17, "loss": 2.3, "layers": [`, good(18)].join("\n"));
    });
    const before = files(dir);
    expect(inputError(() => writeReport(dir))).toBe(`${join(dir, "metrics.jsonl")}: line 17 is not valid JSON`);
    expect(files(dir)).toEqual(before); // nothing half-written
  });

  it("a JSON line that is not a metrics record, and an empty metrics file", () => {
    const a = runFolder((d) => writeFileSync(join(d, "metrics.jsonl"), `${JSON.stringify(cnnRecords()[0])}\n{"foo": 1}\n`));
    expect(inputError(() => writeReport(a))).toBe(`${join(a, "metrics.jsonl")}: line 2: step is missing (must be a whole number ≥ 0 (the training step))`);
    const b = runFolder((d) => writeFileSync(join(d, "metrics.jsonl"), `{"step": 0, "loss": 1, "layers": [{"name": "x"}]}\n`));
    expect(inputError(() => writeReport(b))).toMatch(/metrics\.jsonl: line 1: layers\[0\]\.type is missing \(must be a layer type/);
    const c = runFolder((d) => writeFileSync(join(d, "metrics.jsonl"), "\n"));
    expect(inputError(() => writeReport(c))).toBe(`${join(c, "metrics.jsonl")}: no records (the file is empty)`);
  });

  it("corrupt summary.json or config.json", () => {
    const a = runFolder((d) => writeFileSync(join(d, "summary.json"), `{"name": "x",`));
    expect(inputError(() => writeReport(a))).toMatch(new RegExp(`^${join(a, "summary.json").replace(/[.\\/]/g, "\\$&")}: not valid JSON \\(`));
    const b = runFolder((d) => writeFileSync(join(d, "config.json"), `[1, 2]`));
    expect(inputError(() => writeReport(b))).toBe(`${join(b, "config.json")}: expected a JSON object`);
  });

  it("writeComparison names the bad folder, and needs at least one", () => {
    const good = runFolder();
    const bad = join(tempDir(), "missing");
    expect(inputError(() => writeComparison([good, bad], join(tempDir(), "out")))).toBe(`${bad}: no such run folder`);
    expect(inputError(() => writeComparison([], join(tempDir(), "out")))).toBe("compare: expected at least one run folder");
  });
});
