// Reading metrics.jsonl as a stream: lines are cut correctly across read chunks (64 KB), a huge
// run keeps a bounded, evenly spaced selection with its first and last record, a normal run
// keeps every record unchanged, and the size cap still refuses a file that is too large.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileLines, KEEP_RECORDS, parseMetrics, parseMetricsLines, parseRun, readRun } from "../../src/report/read-run.ts";
import { metricsToCsv } from "../../src/report/csv.ts";
import { reportFiles, writeReport } from "../../src/report/write.ts";
import { tempDir } from "../helpers/cli.ts";
import { cnnRecords, synthRun } from "./synthetic.ts";

/** A small valid record at `step`. */
const record = (step: number) => ({ step, epoch: 0, loss: 1 / (1 + step), accuracy: 0.5, layers: [{ name: "dense1", type: "dense", params: { weight: { gradNorm: step } }, deltaNorm: 0.1, gain: null, activation: null }] });

describe("metrics.jsonl as a stream", () => {
  it("cuts lines across chunk boundaries: long lines, multi-byte characters split between chunks, no final newline", () => {
    const file = join(tempDir(), "m.jsonl");
    // 600,001 'é' (2 bytes each) straddle the 1 MB chunk edge (run-folder/lines.ts) at an odd offset.
    const lines = ["a", "é".repeat(600_001), "", "x".repeat(65_535), "last"];
    writeFileSync(file, lines.join("\n"));
    expect([...fileLines(file)]).toEqual(lines);
    writeFileSync(file, lines.join("\n") + "\n");
    expect([...fileLines(file)]).toEqual(lines);
  });

  it("200,000 records stream through, at most `keep` + 1 are held: evenly spaced, first and last kept", () => {
    function* lines() { for (let s = 0; s < 200_000; s++) yield JSON.stringify(record(s)); }
    const kept = parseMetricsLines(lines(), "m.jsonl", 100);
    expect(kept.length).toBeLessThanOrEqual(101);
    expect(kept.length).toBeGreaterThan(50);
    expect(kept[0].step).toBe(0);
    expect(kept[kept.length - 1].step).toBe(199_999);
    // RecordKeep's stride is a power of two: 200,000 / 100 → 2048, so kept steps are 0, 2048, 4096, …
    const gaps = new Set(kept.slice(1, -1).map((r, i) => r.step - kept[i].step));
    expect([...gaps]).toEqual([2048]);
  });

  it("a run of up to KEEP_RECORDS records keeps every record, exactly as written", () => {
    const dir = join(tempDir(), "run");
    mkdirSync(dir);
    const s = synthRun(cnnRecords(), "cnn");
    const records = Array.from({ length: 500 }, (_, i) => ({ ...cnnRecords()[i % 6], step: i }));
    writeFileSync(join(dir, "config.json"), JSON.stringify(s.config));
    writeFileSync(join(dir, "summary.json"), JSON.stringify(s.summary));
    writeFileSync(join(dir, "metrics.jsonl"), records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    expect(KEEP_RECORDS).toBeGreaterThanOrEqual(500);
    expect(readRun(dir).records).toEqual(records);
  });

  it("a huge metrics.jsonl on disk is read to a bounded selection", () => {
    const dir = join(tempDir(), "run");
    mkdirSync(dir);
    const s = synthRun(cnnRecords(), "cnn");
    writeFileSync(join(dir, "config.json"), JSON.stringify(s.config));
    writeFileSync(join(dir, "summary.json"), JSON.stringify(s.summary));
    writeFileSync(join(dir, "metrics.jsonl"), Array.from({ length: 3 * KEEP_RECORDS }, (_, i) => JSON.stringify(record(i))).join("\n") + "\n");
    const run = readRun(dir);
    expect(run.records.length).toBeLessThanOrEqual(KEEP_RECORDS + 1);
    expect(run.records[0].step).toBe(0);
    expect(run.records[run.records.length - 1].step).toBe(3 * KEEP_RECORDS - 1);
    expect(run.recordCount).toBe(3 * KEEP_RECORDS);
  });

  it("writeReport's metrics.csv holds every record, from memory when all were kept and from passes over the file when not", () => {
    // the two ways must give the bytes metricsToCsv gives for every record of the file
    for (const n of [50, 3 * KEEP_RECORDS]) {
      const dir = join(tempDir(), `run-${n}`);
      mkdirSync(dir);
      const s = synthRun(cnnRecords(), "cnn");
      writeFileSync(join(dir, "config.json"), JSON.stringify(s.config));
      writeFileSync(join(dir, "summary.json"), JSON.stringify(s.summary));
      const text = Array.from({ length: n }, (_, i) => JSON.stringify(record(i))).join("\n") + "\n";
      writeFileSync(join(dir, "metrics.jsonl"), text);
      const run = readRun(dir);
      expect(run.recordCount).toBe(n);
      expect(run.records.length === n).toBe(n <= KEEP_RECORDS);
      writeReport(dir, { png: false });
      expect(readFileSync(join(dir, "metrics.csv"), "utf8")).toBe(metricsToCsv(parseMetrics(text)));
    }
  });
});

describe("records of another tool", () => {
  it("only the required fields (no accuracy, epoch, activation, hist, statistics but gradNorm): the report renders and says what is missing", () => {
    const s = synthRun(cnnRecords(), "probe");
    const lines = [0, 100, 200].map((step) => JSON.stringify({
      step, loss: 2.3 / (1 + step / 100),
      layers: [
        { name: "fc1", type: "Linear", params: { weight: { gradNorm: 0.01 * (1 + step / 100) }, bias: { gradNorm: 0.005 } } },
        { name: "fc2", type: "Linear", params: { weight: { gradNorm: 0.3 } } },
      ],
    }));
    const run = parseRun({ config: JSON.stringify(s.config), summary: "{}", metrics: lines }, "runs/probe");
    expect(run.records[0].layers[0]).toEqual({ name: "fc1", type: "Linear", params: { weight: { gradNorm: 0.01, gradMeanAbs: null, gradMaxAbs: null, gradRms: null, updateRatio: null, nonFinite: null }, bias: { gradNorm: 0.005, gradMeanAbs: null, gradMaxAbs: null, gradRms: null, updateRatio: null, nonFinite: null } }, deltaNorm: null, gain: null, activation: null });
    const html = String(reportFiles(run, { png: false })[0][1]);
    expect(html).toContain("histograms were not recorded");
    expect(html).toContain('id="chart-grad-norm"');
  });
});
