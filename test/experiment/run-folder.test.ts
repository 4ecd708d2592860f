// The run folder: the one atomic write leaves no temporary file when it fails; openRun's three
// modes (fresh, resume, continue) each do what the session's header says; and gradlab never
// removes or overwrites a file it did not write — a folder counts as a run only with run.json,
// replacing a finished run removes only what run.json lists, and folders of older gradlab
// (no run.json) still resume. Expected bytes come from running the same config uninterrupted
// in the same process (runs are pure functions of their config).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { parseConfig, type Config } from "../../src/experiment/config.ts";
import { tempFile, writeFileAtomic } from "../../src/experiment/run-folder/atomic.ts";
import { listCheckpoints } from "../../src/experiment/run-folder/checkpoint.ts";
import { MANIFEST_FILE, readManifest } from "../../src/experiment/run-folder/folder.ts";
import { KeptRun, openRun, RunSession, type RunResult } from "../../src/experiment/run-folder/session.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

/** 300 examples, batch 32 → 10 steps per epoch, 2 epochs = 20 steps; a checkpoint every 4. */
function cfg(seed = 5): Config {
  return parseConfig({
    name: "folder", data: { train: 300, test: 100 },
    model: { layers: [{ type: "dense", units: 8, activation: "tanh" }, { type: "dense", units: 10 }] },
    optimizer: { type: "adam", lr: 0.01 }, train: { epochs: 2, seed, checkpointEvery: 4 }, record: { every: 3 },
  });
}

const bytes = (dir: string) => ({ metrics: readFileSync(join(dir, "metrics.jsonl")), weights: readFileSync(join(dir, "weights.safetensors")) });

/** The uninterrupted run's files, once per seed. */
const reference = new Map<number, { metrics: Buffer; weights: Buffer; result: RunResult }>();
function expected(seed = 5) {
  if (!reference.has(seed)) {
    const dir = join(tempDir(), "ref");
    const result = openRun({ mode: "fresh", config: cfg(seed), outDir: dir }, "test").runSync();
    reference.set(seed, { ...bytes(dir), result });
  }
  return reference.get(seed)!;
}

function expectSameAsUninterrupted(dir: string, seed = 5) {
  const want = expected(seed);
  const got = bytes(dir);
  expect(got.metrics.equals(want.metrics)).toBe(true);
  expect(got.weights.equals(want.weights)).toBe(true);
}

/** A run of cfg() in `dir` stopped after `step` updates (checkpointed there, resumable). */
function interruptAt(dir: string, step: number, config = cfg()): void {
  const s: RunSession = openRun({ mode: "fresh", config, outDir: dir }, "test", {}, { interrupt: () => (s.trainer.step >= step ? "test" : null) });
  expect(s.runSync().interrupted).toBe("test");
}

/** Every file under `dir` (relative paths) with its bytes. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  (function walk(rel: string) {
    for (const n of readdirSync(join(dir, rel))) {
      const p = rel ? `${rel}/${n}` : n;
      if (statSync(join(dir, p)).isDirectory()) walk(p);
      else out.set(p, readFileSync(join(dir, p), "hex"));
    }
  })("");
  return out;
}

describe("writeFileAtomic", () => {
  it("writes the bytes and leaves no temporary file", () => {
    const dir = tempDir();
    writeFileAtomic(join(dir, "a.json"), "{\"x\":1}\n");
    writeFileAtomic(join(dir, "a.json"), new Uint8Array([1, 2, 3]));  // replaces
    expect([...readFileSync(join(dir, "a.json"))]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(["a.json"]);
  });

  it("a failed rename (the target is a folder) removes the temporary file and keeps the target", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "target"));
    writeFileSync(join(dir, "target", "inside"), "kept");
    expect(() => writeFileAtomic(join(dir, "target"), "new")).toThrow();
    expect(existsSync(tempFile(join(dir, "target")))).toBe(false);
    expect(readdirSync(dir)).toEqual(["target"]);
    expect(readFileSync(join(dir, "target", "inside"), "utf8")).toBe("kept");
  });

  it("a path whose parent is a file fails and writes nothing", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "file"), "plain");
    expect(() => writeFileAtomic(join(dir, "file", "x.json"), "{}")).toThrow();
    expect(readdirSync(dir)).toEqual(["file"]);
    expect(readFileSync(join(dir, "file"), "utf8")).toBe("plain");
  });
});

describe("openRun: the one entry point, three modes", () => {
  it("fresh: a new folder with its manifest; without a folder, a run in memory with the same records", () => {
    const dir = join(tempDir(), "run");
    const r = openRun({ mode: "fresh", config: cfg(), outDir: dir }, "test").runSync();
    expect(r.kept).toBe(false);
    expect(r.resumedFrom).toBeNull();
    expect(readdirSync(dir).sort()).toEqual(["config.json", "metrics.jsonl", "run.json", "summary.json", "weights.safetensors"]);
    expect(readManifest(dir).files).toEqual(["config.json", "metrics.jsonl", "checkpoint", "summary.json", "weights.safetensors"]);
    const mem = openRun({ mode: "fresh", config: cfg(), outDir: null }, "test").runSync();
    expect(mem.outDir).toBeNull();
    expect(JSON.stringify(mem.records)).toBe(JSON.stringify(r.records));
  });

  it("resume: an interrupted run carries on from its checkpoint to the uninterrupted run's bytes", () => {
    const dir = join(tempDir(), "run");
    interruptAt(dir, 7);  // mid-epoch, between the checkpoints at 4 and 8
    expect(listCheckpoints(dir)[0].step).toBe(7);
    const s = openRun({ mode: "resume", runDir: dir }, "test");
    expect(s.resumedFrom).toBe(7);
    expect(s.runSync().summary.status).toBe("complete");
    expectSameAsUninterrupted(dir);
  });

  it("continue: starts an absent run, resumes an unfinished one, keeps a finished one untouched, refuses another config", () => {
    const root = tempDir();
    const absent = openRun({ mode: "continue", config: cfg(), outDir: join(root, "a") }, "test");
    expect(absent).toBeInstanceOf(RunSession);
    expect(absent.runSync()).toMatchObject({ kept: false, resumedFrom: null });
    expectSameAsUninterrupted(join(root, "a"));

    interruptAt(join(root, "b"), 13);
    const unfinished = openRun({ mode: "continue", config: cfg(), outDir: join(root, "b") }, "test").runSync();
    expect(unfinished).toMatchObject({ kept: false, resumedFrom: 13 });
    expectSameAsUninterrupted(join(root, "b"));

    const before = snapshot(join(root, "a"));
    const finished = openRun({ mode: "continue", config: cfg(), outDir: join(root, "a") }, "test");
    expect(finished).toBeInstanceOf(KeptRun);
    const out = finished.runSync();
    expect(out.kept).toBe(true);
    expect(out.summary.testAccuracy).toBe(expected().result.summary.testAccuracy);
    expect(snapshot(join(root, "a"))).toEqual(before);

    expect(() => openRun({ mode: "continue", config: cfg(6), outDir: join(root, "a") }, "test")).toThrow(/holds a run of another config than this one/);
    expect(snapshot(join(root, "a"))).toEqual(before);
  });
});

describe("gradlab removes or overwrites only files it wrote", () => {
  /** A user's folder: a figure, a weights file and a report of their own, and a temporary-looking note. */
  function userFolder(dir: string): void {
    mkdirSync(join(dir, "charts"), { recursive: true });
    writeFileSync(join(dir, "charts", "my-figure.png"), "figure");
    writeFileSync(join(dir, "weights.safetensors"), "my weights");
    writeFileSync(join(dir, "report.html"), "<p>mine</p>");
    writeFileSync(join(dir, ".notes.tmp-42"), "notes");
  }

  it("a folder that is not a run is refused in one line, exit 2, and left byte for byte as it was", () => {
    const dir = join(tempDir(), "mine");
    userFolder(dir);
    const before = snapshot(dir);
    expect(() => openRun({ mode: "fresh", config: cfg(), outDir: dir }, "test")).toThrow(InputError);
    expect(() => openRun({ mode: "continue", config: cfg(), outDir: dir }, "test")).toThrow(/is not a gradlab run folder \(it holds /);
    expect(() => openRun({ mode: "resume", runDir: dir }, "test")).toThrow(/not a run folder \(no config\.json\); nothing to resume/);
    const cli = gradlab(["run", "seed", "--train", "300", "--test", "100", "--epochs", "1", "--out", dir, "--quiet", "--no-png"]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/^gradlab: [^\n]*mine: is not a gradlab run folder \(it holds [^\n]*\); choose another --out[^\n]*\n$/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("replacing a finished run removes only the files its run.json lists", () => {
    const dir = join(tempDir(), "run");
    openRun({ mode: "fresh", config: cfg(6), outDir: dir }, "test").runSync();
    // The user adds their own files next to the run's.
    mkdirSync(join(dir, "charts"));
    writeFileSync(join(dir, "charts", "my-figure.png"), "figure");
    writeFileSync(join(dir, "notes.txt"), "notes");
    writeFileSync(join(dir, ".notes.tmp-42"), "temporary-looking, but theirs");
    const r = openRun({ mode: "fresh", config: cfg(), outDir: dir }, "test").runSync();
    expect(r.summary.status).toBe("complete");
    expectSameAsUninterrupted(dir);
    expect(readFileSync(join(dir, "charts", "my-figure.png"), "utf8")).toBe("figure");
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("notes");
    expect(readFileSync(join(dir, ".notes.tmp-42"), "utf8")).toBe("temporary-looking, but theirs");
  });

  it("the report's files are listed too: a run's charts go with it, a user's figure beside them stays", () => {
    const dir = join(tempDir(), "run");
    const report = (d: string) => {  // stands in for the report writer: two charts and a page
      mkdirSync(join(d, "charts"), { recursive: true });
      for (const f of ["charts/loss.png", "charts/depth.png", "report.html"]) writeFileAtomic(join(d, f), f);
      return ["charts/loss.png", "charts/depth.png", "report.html"].map((f) => join(d, f));
    };
    openRun({ mode: "fresh", config: cfg(6), outDir: dir }, "test", { finalize: report }).runSync();
    expect(readManifest(dir).files).toEqual(["config.json", "metrics.jsonl", "checkpoint", "summary.json", "weights.safetensors", "charts/loss.png", "charts/depth.png", "report.html"]);
    writeFileSync(join(dir, "charts", "my-figure.png"), "figure");
    openRun({ mode: "fresh", config: cfg(), outDir: dir }, "test").runSync();  // no report this time
    expect(readdirSync(join(dir, "charts"))).toEqual(["my-figure.png"]);
    expect(existsSync(join(dir, "report.html"))).toBe(false);
    // and without the user's figure, the emptied charts folder goes too
    rmSync(join(dir, "charts", "my-figure.png"));
    openRun({ mode: "fresh", config: cfg(6), outDir: dir }, "test", { finalize: report }).runSync();
    openRun({ mode: "fresh", config: cfg(), outDir: dir }, "test").runSync();
    expect(readdirSync(dir).sort()).toEqual(["config.json", "metrics.jsonl", "run.json", "summary.json", "weights.safetensors"]);
  });

  it("a run.json that lists paths outside its folder is refused before anything is removed", () => {
    const dir = join(tempDir(), "run");
    openRun({ mode: "fresh", config: cfg(), outDir: dir }, "test").runSync();
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8"));
    m.files.push("../precious");
    writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(m));
    writeFileSync(join(dir, "..", "precious"), "keep");
    expect(() => openRun({ mode: "fresh", config: cfg(), outDir: dir }, "test")).toThrow(/run\.json: expected \{"format": "gradlab-run"/);
    expect(readFileSync(join(dir, "..", "precious"), "utf8")).toBe("keep");
  });

  it("a folder of an older gradlab (config.json + summary.json, no run.json) resumes, and is then a run with a manifest", () => {
    const dir = join(tempDir(), "run");
    interruptAt(dir, 9);
    rmSync(join(dir, MANIFEST_FILE));  // as older gradlab left it
    const r = openRun({ mode: "resume", runDir: dir }, "test").runSync();
    expect(r.resumedFrom).toBe(9);
    expectSameAsUninterrupted(dir);
    expect(readManifest(dir).files).toEqual(["config.json", "metrics.jsonl", "checkpoint", "summary.json", "weights.safetensors"]);
  });

  it("a finished run of an older gradlab is kept by continue, and not replaced by a fresh run (its files cannot be told from a user's)", () => {
    const dir = join(tempDir(), "run");
    openRun({ mode: "fresh", config: cfg(), outDir: dir }, "test").runSync();
    rmSync(join(dir, MANIFEST_FILE));
    writeFileSync(join(dir, "notes.txt"), "mine");
    const before = snapshot(dir);
    expect(openRun({ mode: "continue", config: cfg(), outDir: dir }, "test").runSync().kept).toBe(true);
    expect(() => openRun({ mode: "fresh", config: cfg(), outDir: dir }, "test")).toThrow(/holds a finished run of an older gradlab \(no run\.json\)/);
    expect(snapshot(dir)).toEqual(before);
  });
});
