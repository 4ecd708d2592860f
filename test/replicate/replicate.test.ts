// `gradlab replicate`: every study at the tiny budget writes a replication.json that the schema
// accepts and a report page with its figures; rows are computed from the run folders (altering a
// metric in a folder changes the row); a second call keeps the finished runs; the command lists
// the studies and refuses an unknown one with exit 2 and the nearest name.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { computeReplication, findStudy, replicate, replicationMarkdown, replicationSchema, studyLabels } from "../../src/replicate/replication.ts";
import { STUDIES } from "../../src/replicate/studies/index.ts";
import { replicationBlocks } from "../../src/cli/commands/replicate.ts";
import { increasing, timeRatio } from "../../src/replicate/study.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

/** In-process, one run at a time (the worker entry is never used with one worker). */
const opts = { workers: 1, command: "test", png: false, workerEntry: new URL("../../src/cli/sweep-worker.boot.js", import.meta.url) };

describe("each study at the tiny budget", () => {
  for (const study of STUDIES) {
    it(`${study.name}: replication.json is well formed and report.html draws the figures`, async () => {
      const dir = tempDir(`gradlab-rep-${study.name}-`);
      const rep = await replicate(study, "tiny", dir, opts);
      const written = replicationSchema.parse(JSON.parse(readFileSync(join(dir, "replication.json"), "utf8")));
      expect(written).toEqual(rep);
      expect(written.study).toBe(study.name);
      expect(written.scale).toBe("tiny");
      // every paper cell says where in the paper it comes from
      for (const row of written.rows) expect(row.paper).toMatch(/§|Fig\.|Table|abstract/);
      const html = readFileSync(join(dir, "report.html"), "utf8");
      expect(html.match(/<figure id=/g)?.length).toBe(study.figures(computeReplication(study, "tiny", dir).runs).length);
      expect(html).toContain("<svg");
      for (const label of studyLabels(study, "tiny")) expect(existsSync(join(dir, label, "metrics.jsonl"))).toBe(true);
      // the README's table form has one line per row plus the header and the rule
      expect(replicationMarkdown(rep).split("\n")).toHaveLength(rep.rows.length + 2);
    });
  }
});

describe("rows come from the run folders", () => {
  it("altering a metric in metrics.jsonl or summary.json changes the row; a second call keeps the runs", async () => {
    const study = findStudy("nielsen-ch5");
    const dir = tempDir("gradlab-rep-alter-");
    const before = await replicate(study, "tiny", dir, opts);
    const row = (rep: typeof before, start: string) => rep.rows.find((r) => r.quantity.startsWith(start))!;
    const speeds4 = row(before, "‖∂C/∂b‖ per hidden layer at the start, [784, 30, 30, 30, 30, 10]");
    // sigmoid layers shrink the gradient on its way back (each σ′ ≤ ¼): the ordering holds at init
    expect(speeds4.holds).toBe(true);

    // Give the first hidden layer of the 4-hidden-layer net more gradient than the second at step 0.
    const file = join(dir, "start-h4", "metrics.jsonl");
    const lines = readFileSync(file, "utf8").split("\n");
    const rec = JSON.parse(lines[0]);
    expect(rec.step).toBe(0);
    rec.layers[0].params.bias.gradNorm = 1.5;
    lines[0] = JSON.stringify(rec);
    writeFileSync(file, lines.join("\n"));
    // And make the 3-hidden-layer net far better than the 2-hidden-layer one.
    const sfile = join(dir, "train-h3", "summary.json");
    const summary = JSON.parse(readFileSync(sfile, "utf8"));
    summary.testAccuracy = 0.99;
    writeFileSync(sfile, JSON.stringify(summary));

    const after = computeReplication(study, "tiny", dir).replication;
    const altered = row(after, "‖∂C/∂b‖ per hidden layer at the start, [784, 30, 30, 30, 30, 10]");
    expect(altered.gradlab.split(", ")[0]).toBe("1.50");
    expect(altered.holds).toBe(false);
    const ratio = row(after, "first / last hidden-layer");
    expect(Number(ratio.gradlab)).toBeGreaterThan(1);  // 1.5 over the last layer's ≤ 1 speed
    expect(ratio.holds).toBe(false);
    const depth = row(after, "extra hidden layers do not help");
    expect(depth.gradlab).toMatch(/^99\.00% vs/);
    expect(depth.holds).toBe(false);
    // the untouched 2-hidden-layer row is the same
    expect(row(after, "‖∂C/∂b‖ per hidden layer at the start, [784, 30, 30, 10]")).toEqual(row(before, "‖∂C/∂b‖ per hidden layer at the start, [784, 30, 30, 10]"));

    // Run again into the same folder: every run is kept (nothing retrained), so the altered metric stays.
    const kept: boolean[] = [];
    const again = await replicate(study, "tiny", dir, { ...opts, onDone: (r) => kept.push(r.kept === true) });
    expect(kept).toEqual(studyLabels(study, "tiny").map(() => true));
    expect(again).toEqual(after);
  });
});

describe("helpers", () => {
  it("increasing and timeRatio", () => {
    expect(increasing([0.01, 0.06, 0.3])).toBe(true);
    expect(increasing([0.01, 0.01])).toBe(false);
    expect(increasing([0.1])).toBe(false);  // one layer orders nothing
    const layer = { name: "rnn1", type: "rnn", params: {}, deltaNorm: null, gain: null, activation: null, hGradNorm: [0.001, 0.01, 0.1, 1] };
    expect(timeRatio(layer)).toBe(0.001);
    expect(timeRatio(layer, 2)).toBe(0.1);
  });

  it("findStudy names the nearest study", () => {
    expect(() => findStudy("he2016")).toThrow(InputError);
    expect(() => findStudy("he2016")).toThrow(/did you mean "he2015"/);
    expect(() => findStudy("nielsen")).toThrow(/did you mean "nielsen-ch5"/);
  });
});

describe("the command", () => {
  it("without a study lists every study with its citation", () => {
    const r = gradlab(["replicate"]);
    expect(r.code).toBe(0);
    for (const s of STUDIES) {
      expect(r.stdout).toContain(s.name);
      expect(r.stdout).toContain(s.citation);
    }
  });

  it("gradlab help replicate: usage, a one-sentence description, the options and examples", () => {
    const r = gradlab(["help", "replicate"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage:\n  \$ gradlab replicate \[study\]/);
    expect(r.stdout.split("Usage:\n")[1].split("\n\n")[1]).toMatch(/^[A-Z].{20,}\.$/);
    for (const flag of ["--quick", "--out <dir>", "--workers <n>", "--budget <scale>"]) expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/Examples:\n  \$ gradlab replicate\b/);
  });

  it("an unknown study exits 2 with one line and a suggestion; so does a bad --budget", () => {
    const r = gradlab(["replicate", "glorot2011"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain('did you mean "glorot2010"?');
    const b = gradlab(["replicate", "he2015", "--budget", "huge"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("--budget: expected one of tiny, quick, full");
  });
});

describe("the terminal's rows", () => {
  it("one block per row, its fields on lines of their own, wrapped at the width; a row that does not hold says why", () => {
    // A hand-made replication: one long paper cell (must wrap at 60), one row that fails.
    const rep = replicationSchema.parse({
      study: "x", scale: "quick", citation: "A. Author, A paper, 2000",
      rows: [
        { quantity: "first quantity", paper: "word ".repeat(30).trim() + " (§1)", gradlab: "0.5", tolerance: "> 0.1", holds: true, kind: "magnitude", reason: "0.5 > 0.1", verified: true },
        { quantity: "second quantity", paper: "97% (§4)", gradlab: "12%", tolerance: "± 3 points", holds: false, kind: "value", reason: "85 points below", verified: false },
      ],
      notes: "n",
    });
    const text = replicationBlocks(rep, 60);
    const lines = text.split("\n");
    expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(60);
    const [first, second] = text.split("\n\n");
    expect(first.split("\n")[0]).toBe("1. first quantity");
    // 30 words of 4 letters (5 with the space) after a 14-character label: 9 words a line at width 60, so 4 lines
    expect(first.split("\n").filter((l) => /^ {14}word|^ {3}paper {6}word/.test(l))).toHaveLength(4);
    expect(first).toContain("   holds      yes (magnitude)");
    expect(second).toContain("   paper      97% (§4) (unverified)");
    expect(second).toContain("   holds      NO (value): 85 points below");
  });
});

