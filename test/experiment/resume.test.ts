// Checkpoints and resume: a run interrupted anywhere — between steps in mid-epoch, at
// an epoch boundary, right after step 0, one step before the end, several times over, or
// "killed" with a torn metrics line and a stale lock — resumes to a metrics.jsonl and a
// weights.safetensors byte-identical to the uninterrupted run's. Corrupt checkpoints fall back
// to the previous one; with none usable the error says so. Expected bytes come from running the
// same config uninterrupted in the same process.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { CHECKPOINT_DIR, listCheckpoints } from "../../src/experiment/run-folder/checkpoint.ts";
import { LOCK_FILE } from "../../src/experiment/run-folder/lock.ts";
import { parseConfig, type Config } from "../../src/experiment/config.ts";
import { openRun, type RunResult, type RunSession } from "../../src/experiment/run-folder/session.ts";
import { tempDir } from "../helpers/cli.ts";

/** 600 examples, batch 32 → 19 steps per epoch (the last batch has 24), 3 epochs = 57 steps. */
function cfg(over: Partial<Record<"optimizer" | "layers" | "view", unknown>> = {}): Config {
  return parseConfig({
    name: "resume",
    data: { train: 600, test: 200, view: over.view ?? "flat" },
    model: { layers: over.layers ?? [
      { type: "dense", units: 12, activation: "tanh" },
      { type: "batchnorm" },
      { type: "dense", units: 10 },
    ] },
    optimizer: over.optimizer ?? { type: "adam", lr: 0.01 },
    train: { epochs: 3, seed: 5, checkpointEvery: 5 },
    record: { every: 4 },
  });
}

const STEPS = 57;
const bytesOf = (dir: string) => ({
  metrics: readFileSync(join(dir, "metrics.jsonl")),
  weights: readFileSync(join(dir, "weights.safetensors")),
});

/** The uninterrupted run's files, computed once per config. */
const reference = new Map<string, { metrics: Buffer; weights: Buffer; result: RunResult }>();
function expected(config: Config) {
  const key = JSON.stringify(config);
  if (!reference.has(key)) {
    const dir = join(tempDir(), "ref");
    const result = openRun({ mode: "fresh", config, outDir: dir }, "test").runSync();
    reference.set(key, { ...bytesOf(dir), result });
  }
  return reference.get(key)!;
}

/** Run `config` into `dir`, interrupted once `step` updates are done. */
function interruptAt(config: Config, dir: string, step: number): RunResult {
  const s: RunSession = openRun({ mode: "fresh", config, outDir: dir }, "test", {}, { interrupt: () => (s.trainer.step >= step ? "test" : null) });
  return s.runSync();
}

function expectSame(config: Config, dir: string) {
  const want = expected(config);
  const got = bytesOf(dir);
  expect(got.metrics.equals(want.metrics)).toBe(true);
  expect(got.weights.equals(want.weights)).toBe(true);
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
  expect(summary.status).toBe("complete");
  expect(summary.epochs).toEqual(JSON.parse(JSON.stringify(want.result.summary.epochs)));
  expect(summary.finalLoss).toBe(want.result.summary.finalLoss);
  // a finished folder holds no checkpoint and no lock
  expect(readdirSync(dir).sort()).toEqual(["config.json", "metrics.jsonl", "run.json", "summary.json", "weights.safetensors"]);
}

describe("resume gives byte-identical results", () => {
  // 1: right after step 0; 7: mid-epoch between checkpoints; 19 / 38: at an epoch boundary
  // (the next step reshuffles); 20: first step of epoch 2; 56: one step before the end.
  for (const step of [1, 7, 19, 20, 38, 56]) {
    it(`interrupted after ${step} of ${STEPS} steps (adam + batchnorm)`, () => {
      const config = cfg();
      const dir = join(tempDir(), "run");
      const r = interruptAt(config, dir, step);
      expect(r.interrupted).toBe("test");
      expect(r.summary.status).toBe("interrupted");
      expect(r.summary.steps).toBe(step);
      expect(r.summary.diagnosis.findings[0]).toMatch(/^Partial run: interrupted at step \d+ of 57; resume with gradlab run --resume /);
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
      expect(listCheckpoints(dir)[0].step).toBe(step);
      const resumed = openRun({ mode: "resume", runDir: dir }, "test").runSync();
      expect(resumed.resumedFrom).toBe(step);
      expect(resumed.records.map((x) => x.step)).toEqual(expected(config).result.records.map((x) => x.step));
      expectSame(config, dir);
    });
  }

  it("interrupted three times, SGD with Nesterov momentum", () => {
    const config = cfg({ optimizer: { type: "sgd", lr: 0.1, momentum: 0.9, nesterov: true } });
    const dir = join(tempDir(), "run");
    interruptAt(config, dir, 6);
    let s: RunSession = openRun({ mode: "resume", runDir: dir }, "test", {}, { interrupt: () => (s.trainer.step >= 23 ? "again" : null) });
    expect(s.runSync().summary.steps).toBe(23);
    s = openRun({ mode: "resume", runDir: dir }, "test", {}, { interrupt: () => (s.trainer.step >= 40 ? "again" : null) });
    expect(s.runSync().summary.steps).toBe(40);
    openRun({ mode: "resume", runDir: dir }, "test").runSync();
    expectSame(config, dir);
  });

  it("a recurrent network (GRU on rows) interrupted mid-epoch", () => {
    const config = cfg({ view: "rows", layers: [{ type: "gru", units: 6 }, { type: "dense", units: 10 }] });
    const dir = join(tempDir(), "run");
    interruptAt(config, dir, 13);
    openRun({ mode: "resume", runDir: dir }, "test").runSync();
    expectSame(config, dir);
  });
});

/** A pid that certainly belongs to no running process: a child that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", "0"]).pid!;
}

describe("a crashed run (kill -9) resumes from its last complete checkpoint", () => {
  it("torn metrics line, stale lock, half-written temporary checkpoint", () => {
    const config = cfg();
    const dir = join(tempDir(), "run");
    // Crash after step 27 (checkpoints at 20 and 25): the process dies mid-step.
    const s: RunSession = openRun({ mode: "fresh", config, outDir: dir }, "test", {}, { interrupt: () => { if (s.trainer.step >= 27) throw new Error("crash"); return null; } });
    expect(() => s.runSync()).toThrow("crash");
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([25, 20]);
    appendFileSync(join(dir, "metrics.jsonl"), `{"step": 28, "epoch": 1, "lo`);  // a torn line
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), started: "earlier" }));
    writeFileSync(join(dir, CHECKPOINT_DIR, ".step-0000000030.safetensors.tmp-99999"), "half");
    const r = openRun({ mode: "resume", runDir: dir }, "test").runSync();
    expect(r.resumedFrom).toBe(25);
    expectSame(config, dir);
  });

  it("killed before its first checkpoint: restarts from step 0 (a pure function of the config)", () => {
    const config = cfg();
    const dir = join(tempDir(), "run");
    const s: RunSession = openRun({ mode: "fresh", config, outDir: dir }, "test", {}, { interrupt: () => { if (s.trainer.step >= 3) throw new Error("crash"); return null; } });
    expect(() => s.runSync()).toThrow("crash");
    expect(listCheckpoints(dir)).toEqual([]);
    expect(openRun({ mode: "resume", runDir: dir }, "test").runSync().resumedFrom).toBe(0);
    expectSame(config, dir);
  });
});

describe("corrupt checkpoints", () => {
  /** A folder interrupted at step 23: checkpoints at 20 and 23. */
  function interrupted(): { config: Config; dir: string; latest: string; previous: string } {
    const config = cfg();
    const dir = join(tempDir(), "run");
    interruptAt(config, dir, 23);
    const [latest, previous] = listCheckpoints(dir).map((c) => c.file);
    return { config, dir, latest, previous };
  }

  it("a truncated latest checkpoint is detected; the previous one is used", () => {
    const { config, dir, latest } = interrupted();
    truncateSync(latest, 1000);
    const r = openRun({ mode: "resume", runDir: dir }, "test").runSync();
    expect(r.resumedFrom).toBe(20);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatch(/step-0000000023\.safetensors: /);
    expectSame(config, dir);
  });

  it("one flipped byte in the data is a checksum mismatch; the previous one is used", () => {
    const { config, dir, latest } = interrupted();
    const b = readFileSync(latest);
    b[b.length - 100] ^= 0x10;
    writeFileSync(latest, b);
    const r = openRun({ mode: "resume", runDir: dir }, "test").runSync();
    expect(r.resumedFrom).toBe(20);
    expect(r.notes[0]).toMatch(/checksum mismatch/);
    expectSame(config, dir);
  });

  it("both corrupt: a clear error naming each, and the folder is left as it was", () => {
    const { dir, latest, previous } = interrupted();
    writeFileSync(latest, "garbage");
    truncateSync(previous, 10);
    const before = readdirSync(dir).sort();
    expect(() => openRun({ mode: "resume", runDir: dir }, "test")).toThrow(InputError);
    expect(() => openRun({ mode: "resume", runDir: dir }, "test")).toThrow(/checkpoint: no usable checkpoint \(.*step-0000000023\.safetensors: .*; .*step-0000000020\.safetensors: .*\); delete that folder to start the run over from step 0/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it("metrics.jsonl changed before the checkpoint's offset is refused", () => {
    const { dir } = interrupted();
    const file = join(dir, "metrics.jsonl");
    const m = readFileSync(file);
    m[10] = m[10] === 0x31 ? 0x32 : 0x31;
    writeFileSync(file, m);
    expect(() => openRun({ mode: "resume", runDir: dir }, "test")).toThrow(/metrics\.jsonl was changed before byte \d+ since this checkpoint/);
  });

  it("config.json edited after the checkpoint is refused", () => {
    const { dir } = interrupted();
    const file = join(dir, "config.json");
    const c = JSON.parse(readFileSync(file, "utf8"));
    c.optimizer.lr = 0.02;
    writeFileSync(file, JSON.stringify(c));
    expect(() => openRun({ mode: "resume", runDir: dir }, "test")).toThrow(/state\.configSha256: expected the hash of config\.json \(the config was changed after this checkpoint\)/);
  });
});

describe("the run folder and its lock", () => {
  const liveLock = (dir: string) => writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), started: "now" }));

  it("a second run on a folder in use refuses, and changes nothing", () => {
    const config = cfg();
    const dir = join(tempDir(), "run");
    interruptAt(config, dir, 10);
    liveLock(dir);
    const before = readdirSync(dir).sort();
    expect(() => openRun({ mode: "resume", runDir: dir }, "test")).toThrow(/in use by another gradlab run \(pid \d+ on .*\); two runs never share a folder/);
    expect(() => openRun({ mode: "fresh", config, outDir: dir }, "test")).toThrow(/in use by another gradlab run/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it("a run that holds the lock keeps a second one out until it finishes", () => {
    const config = cfg();
    const dir = join(tempDir(), "run");
    const first = openRun({ mode: "fresh", config, outDir: dir }, "test");
    first.advance(0);  // one step, then pause
    expect(() => openRun({ mode: "fresh", config, outDir: dir }, "test")).toThrow(/in use by another gradlab run/);
    expect(() => openRun({ mode: "resume", runDir: dir }, "test")).toThrow(/in use by another gradlab run/);
    first.runSync();
    expectSame(config, dir);
  });

  it("a new run refuses an unfinished folder and a folder that is not a run folder; replaces a finished one", () => {
    const config = cfg();
    const root = tempDir();
    const dir = join(root, "run");
    interruptAt(config, dir, 5);
    expect(() => openRun({ mode: "fresh", config, outDir: dir }, "test")).toThrow(/holds an unfinished run; continue it with: gradlab run --resume /);
    expect(() => openRun({ mode: "resume", runDir: join(root, "nope") }, "test")).toThrow(/no such run folder/);
    mkdirSync(join(root, "mine"));
    writeFileSync(join(root, "mine", "notes.txt"), "precious");
    expect(() => openRun({ mode: "fresh", config, outDir: join(root, "mine") }, "test")).toThrow(/is not a gradlab run folder \(it holds notes\.txt\); choose another --out/);
    openRun({ mode: "resume", runDir: dir }, "test").runSync();
    expect(() => openRun({ mode: "resume", runDir: dir }, "test")).toThrow(/the run is already finished \(complete\); nothing to resume/);
    openRun({ mode: "fresh", config, outDir: dir }, "test").runSync();  // replaced
    expectSame(config, dir);
  });

  it("bad input leaves nothing behind: a config too big for the memory limit", () => {
    const root = tempDir();
    expect(() => openRun({ mode: "fresh", config: cfg(), outDir: join(root, "run") }, "test", {}, { maxMemory: 1e6 })).toThrow(/^memory: this run needs about .* more than the 977 KB limit/);
    expect(readdirSync(root)).toEqual([]);
  });
});
