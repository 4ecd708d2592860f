// --json on run, sweep and compare: stdout holds exactly one JSON document (the run's summary,
// the sweep's table, the comparison's table) and every human line goes to stderr. The expected
// documents are the run folders' own files (summary.json) and the runs the suite declares.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { gradlab, tempDir } from "../helpers/cli.ts";

const TIMEOUT = 600_000; // real runs through the CLI; slow on a shared machine

describe("--json", () => {
  const dir = tempDir();
  const base = {
    name: "tiny", data: { train: 64, test: 32 },
    model: { layers: [{ type: "dense", units: 4, activation: "sigmoid" }, { type: "dense", units: 10 }] },
    optimizer: { type: "sgd", lr: 0.1 }, train: { epochs: 1, batchSize: 32 }, record: { every: 1 },
  };
  writeFileSync(join(dir, "tiny.json"), JSON.stringify(base));
  writeFileSync(join(dir, "suite.json"), JSON.stringify({ name: "pair", description: "two seeds", base, grid: { "train.seed": [1, 2] } }));

  it("run: the summary.json document on stdout, the human text on stderr", () => {
    const r = gradlab(["run", "tiny.json", "--out", "one", "--json", "--no-png"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout); // the whole of stdout is one document
    expect(doc).toEqual(JSON.parse(readFileSync(join(dir, "one", "summary.json"), "utf8")));
    expect(doc.steps).toBe(2); // 64 examples in batches of 32
    expect(r.stderr).toContain("test accuracy");
    expect(r.stderr).toContain(`run folder: ${resolve(dir, "one")}`);
    expect(r.stderr).toContain("At initialization (step 0)");
  }, TIMEOUT);

  it("sweep: the table as one document; compare: the comparison's table as one document", () => {
    const s = gradlab(["sweep", "suite.json", "--out", "pair", "--workers", "1", "--json"], { cwd: dir });
    expect(s.code, s.stderr).toBe(0);
    const sweep = JSON.parse(s.stdout);
    expect(sweep.suite).toBe("pair");
    expect(sweep.total).toBe(2);
    expect(sweep.shard).toBeNull();
    expect(sweep.runs.map((r: { label: string }) => r.label)).toEqual(["seed=1", "seed=2"]);
    for (const run of sweep.runs) {
      const summary = JSON.parse(readFileSync(join(run.dir, "summary.json"), "utf8"));
      expect(run.testAccuracy).toBe(summary.testAccuracy);
      expect(run.verdict).toBe(summary.diagnosis.verdict);
      expect(run.error).toBeNull();
    }
    expect(sweep.comparison).toBe(join(resolve(dir, "pair"), "compare", "report.html"));
    expect(s.stderr).toMatch(/first\/last layer ‖δ‖/); // the human table went to stderr

    const c = gradlab(["compare", "pair", "--out", "cmp", "--json", "--no-png"], { cwd: dir });
    expect(c.code, c.stderr).toBe(0);
    const cmp = JSON.parse(c.stdout);
    expect(cmp.report).toBe(join(resolve(dir, "cmp"), "report.html"));
    expect(cmp.runs.map((r: { dir: string }) => r.dir)).toEqual(sweep.runs.map((r: { dir: string }) => r.dir));
    expect(cmp.runs.map((r: { testAccuracy: number }) => r.testAccuracy)).toEqual(sweep.runs.map((r: { testAccuracy: number }) => r.testAccuracy));
    expect(c.stderr).toContain("comparison report:");
  }, TIMEOUT);

  it("without --json the same text is on stdout, and a refusal under --json leaves stdout empty", () => {
    const c = gradlab(["compare", "pair", "--out", "cmp2", "--no-png"], { cwd: dir });
    expect(c.code).toBe(0);
    expect(c.stdout).toContain("comparison report:");
    expect(() => JSON.parse(c.stdout)).toThrow();
    const bad = gradlab(["run", "tiny.json", "--json", "--epochs", "0"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
  }, TIMEOUT);
});
