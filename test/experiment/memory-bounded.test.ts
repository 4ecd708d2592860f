// Memory stays bounded whatever train.epochs and record.every are: the session keeps at most
// RECORD_KEEP records (every record still goes to metrics.jsonl), the report reads metrics.jsonl
// line by line and writes metrics.csv a record at a time (byte-identical to the CSV made from all
// records at once), batch sizes larger than the dataset are capped with one line on stderr, and
// train.epochs 1e12 starts, trains and stops on SIGINT with an estimate of a normal size.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/experiment/config.ts";
import { checkMemory, estimateMemory, RECORD_KEEP } from "../../src/experiment/memory.ts";
import { forEachLine, MAX_LINE } from "../../src/experiment/run-folder/lines.ts";
import { applyCheckpoint, configHash, decodeCheckpoint, encodeCheckpoint } from "../../src/experiment/run-folder/checkpoint.ts";
import { datasetFor, openRun } from "../../src/experiment/run-folder/session.ts";
import { Trainer } from "../../src/experiment/trainer.ts";
import { metricsToCsv } from "../../src/report/csv.ts";
import { parseMetrics, readRun, writeReport } from "../../src/report/write.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "gradlab.js");

/** A 784-5-10 sigmoid net recorded at every step (no histograms: the records stay small and quick). */
const tiny = (train: number, extra: { train?: object; data?: object } = {}) => ({
  name: "tiny", data: { train, test: 100, ...extra.data },
  model: { layers: [{ type: "dense", units: 5, activation: "sigmoid" }, { type: "dense", units: 10 }] },
  optimizer: { type: "sgd", lr: 0.1 }, train: { epochs: 1, batchSize: 4, ...extra.train }, record: { every: 1, histograms: false },
});

describe("records are kept bounded and streamed", () => {
  it("the heap a run holds does not grow with its records: +<1 MB from step 5,000 to 10,000 (all records held: +7 MB)", () => {
    // A child process with --expose-gc measures heapUsed after a full collection at steps 5,000
    // and 10,000 of an in-memory run recording every step. Holding every record (as the session
    // once did) measured 20.7 → 27.7 MB here; the bounded keep measured 17.14 → 17.17 MB.
    // (Peak RSS is not used: it follows the garbage collector's heap sizing more than what is held.)
    const script = `
      const { parseConfig } = await import(${JSON.stringify(join(ROOT, "src/experiment/config.ts"))});
      const { openRun } = await import(${JSON.stringify(join(ROOT, "src/experiment/run-folder/session.ts"))});
      const config = parseConfig(${JSON.stringify(tiny(40000))});
      const heap = [];
      const s = openRun({ mode: "fresh", config, outDir: null }, "test", { onStep(t) { if (t.step % 5000 === 0) { globalThis.gc(); heap.push(process.memoryUsage().heapUsed); } } });
      s.advance();
      console.log(JSON.stringify({ heap, kept: s.records.length, first: s.records[0].step, last: s.records.at(-1).step }));`;
    const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 110_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { heap: number[]; kept: number; first: number; last: number };
    expect(out.heap).toHaveLength(2);
    expect(out.heap[1] - out.heap[0]).toBeLessThan(2 ** 20);
    // 10,000 records through a keep of 4,096: stride 4 → steps 0, 4, …, 9996 and the last, 9999
    expect(out.kept).toBe(2501);
    expect([out.first, out.last]).toEqual([0, 9999]);
  });

  it("a run of more records than RECORD_KEEP: metrics.jsonl has all, the session and the report's reader keep ≤ RECORD_KEEP, metrics.csv is the CSV of all", () => {
    const dir = join(tempDir(), "run");
    const steps = RECORD_KEEP + 200;  // 4,296 steps of 4 examples, each recorded
    const config = parseConfig(tiny(4 * steps));
    const r = openRun({ mode: "fresh", config, outDir: dir }, "test", { finalize: (d) => writeReport(d, { png: false }) }).runSync();
    const text = readFileSync(join(dir, "metrics.jsonl"), "utf8");
    const all = parseMetrics(text);
    expect(all.map((x) => x.step)).toEqual(Array.from({ length: steps }, (_, i) => i));
    // RecordKeep halves to every other record once past 4,096: steps 0, 2, …, 4294 and the last, 4295
    expect(r.records.map((x) => x.step)).toEqual([...Array.from({ length: steps / 2 }, (_, i) => 2 * i), steps - 1]);
    const read = readRun(dir).records;
    expect(read.map((x) => x.step)).toEqual(r.records.map((x) => x.step));
    // the CSV written a record at a time from the file is the one made from all records at once
    expect(readFileSync(join(dir, "metrics.csv"), "utf8")).toBe(metricsToCsv(all));
    expect(r.summary.steps).toBe(steps);
  });

  it("per-epoch results stay bounded: an even selection ending with the last epoch, and a checkpoint taken after thinning resumes exactly", () => {
    // 4 examples, batch 4: one step per epoch, 60 epochs, a keep of 8 results. The kept epochs
    // follow RecordKeep's rule (test/instrument/keep.test.ts): 60 results through a keep of 8
    // give stride 8 → epochs 1, 9, …, 57 and the last, 60.
    const config = parseConfig(tiny(4, { train: { epochs: 60 }, data: { test: 20 } }));
    const data = datasetFor(config);
    const whole = new Trainer(config, data, "f32", 8);
    while (whole.step < whole.totalSteps) whole.trainStep();
    expect(whole.epochCount).toBe(60);
    expect(whole.epochs.map((e) => e.epoch)).toEqual([1, 9, 17, 25, 33, 41, 49, 57, 60]);
    expect(whole.lastEpoch!.epoch).toBe(60);

    // stop at epoch 37 (already thinned), checkpoint, resume in a fresh trainer, finish
    const first = new Trainer(config, data, "f32", 8);
    while (first.step < 37) first.trainStep();
    const bytes = encodeCheckpoint(first, { configSha256: configHash(config), metrics: { bytes: 0, sha256: "0".repeat(64), records: 0 }, seconds: 1 });
    const second = new Trainer(config, data, "f32", 8);
    applyCheckpoint(second, decodeCheckpoint(bytes, second, configHash(config), "ck"));
    while (second.step < second.totalSteps) second.trainStep();
    expect(second.epochs).toEqual(whole.epochs);
    expect(second.model.params.map((p) => Array.from(p.value))).toEqual(whole.model.params.map((p) => Array.from(p.value)));

    // a checkpoint whose list is not the kept selection is refused, naming the field
    const wrong = new Trainer(config, data, "f32", 4);
    expect(() => decodeCheckpoint(bytes, wrong, configHash(config), "ck")).toThrow(/ck: state\.epochs/);
  });

  it("forEachLine: lines across 1 MB chunks, a last line without \\n, a line over MAX_LINE refused naming it", () => {
    const dir = tempDir();
    const file = join(dir, "lines.txt");
    // lines of 333,333 bytes: the 1 MB (1,048,576-byte) chunks split most of them
    const lines = Array.from({ length: 7 }, (_, i) => String(i).repeat(333_333));
    writeFileSync(file, lines.join("\n") + "\n\n" + "é-last");
    const got: [string, number][] = [];
    const fd = openSync(file, "r");
    try { forEachLine(fd, { shown: file }, (line, i) => got.push([line, i])); } finally { closeSync(fd); }
    expect(got.map(([l]) => l)).toEqual([...lines, "", "é-last"]);
    expect(got.map(([, i]) => i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // only the first `bytes` bytes, each seen by onBytes
    let seen = 0;
    const firstTwo: string[] = [];
    const fd2 = openSync(file, "r");
    try { forEachLine(fd2, { shown: file, bytes: 2 * 333_334, onBytes: (c) => { seen += c.length; } }, (l) => firstTwo.push(l)); } finally { closeSync(fd2); }
    expect(firstTwo).toEqual(lines.slice(0, 2));
    expect(seen).toBe(2 * 333_334);
    writeFileSync(file, "ok\n" + "x".repeat(MAX_LINE + 1));
    const fd3 = openSync(file, "r");
    try { expect(() => forEachLine(fd3, { shown: "m.jsonl" }, () => {})).toThrow(`m.jsonl: line 2 is longer than ${MAX_LINE} bytes; expected one metrics record per line`); } finally { closeSync(fd3); }
  });
});

describe("batch sizes are capped at the dataset", () => {
  const raw = tiny(64, { train: { batchSize: 1000, evalBatchSize: 1e8 } });

  it("the estimate uses the capped sizes (64 and 100), not 10⁸ examples (which would be 314 GB)", () => {
    const config = parseConfig(raw);
    const e = estimateMemory(config);
    expect([e.batchSize, e.evalBatchSize]).toEqual([64, 100]);
    expect(e.activationBytes).toBeLessThan(2 ** 20);
    expect(() => checkMemory(config, 2 * 2 ** 30)).not.toThrow();
  });

  it("the CLI runs it and says so in one line per batch on stderr", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "c.json"), JSON.stringify(raw));
    const r = gradlab(["run", join(dir, "c.json"), "--out", join(dir, "o"), "--quiet", "--no-png"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      "gradlab: train.batchSize 1000 is larger than the 64 training examples; training in batches of 64\n" +
      "gradlab: train.evalBatchSize 100000000 is larger than the 100 test examples; evaluating in batches of 100\n");
    // 64 examples in batches of 64: one step
    expect(JSON.parse(readFileSync(join(dir, "o", "summary.json"), "utf8")).steps).toBe(1);
  });
});

describe("train.epochs 1e12", () => {
  it("starts at once with an estimate of a normal size, trains, and stops on SIGINT resumable", async () => {
    const dir = tempDir();
    const raw = tiny(64, { train: { batchSize: 64, epochs: 1e12 } });
    const config = parseConfig(raw);
    const e = estimateMemory(config);
    // 1 step per epoch: 10¹² steps; the records are bounded by RECORD_KEEP, so the estimate stays near the runtime's
    expect(e.steps).toBe(1e12);
    expect(e.bytes).toBeLessThan(2 ** 30);
    writeFileSync(join(dir, "c.json"), JSON.stringify(raw));
    const out = join(dir, "o");
    const child = spawn(process.execPath, [BIN, "run", join(dir, "c.json"), "--out", out, "--no-png"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
    const code = new Promise<number | null>((res) => child.on("exit", (c) => res(c)));
    // wait until a few steps are in metrics.jsonl, then interrupt
    const lines = () => (existsSync(join(out, "metrics.jsonl")) ? readFileSync(join(out, "metrics.jsonl"), "utf8").split("\n").length - 1 : 0);
    const deadline = Date.now() + 100_000;
    while (lines() < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGINT");
    expect(await code).toBe(130);
    expect(stdout).toMatch(/1000000000000 epoch\(s\): 1\.00e\+12 steps \(a very long run\), about \d+ MB of memory\n/);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary.status).toBe("interrupted");
    expect(summary.steps).toBeGreaterThanOrEqual(5);
  });
});
