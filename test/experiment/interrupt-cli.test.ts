// Interrupting the real `gradlab run` in a child process: SIGINT / SIGTERM stop at a step
// boundary with a checkpoint, a partial report and exit code 130; SIGKILL at a random step
// leaves a folder that `gradlab run --resume` finishes. Either way the resumed metrics.jsonl and
// weights.safetensors are byte-identical to an uninterrupted run of the same config (run here
// in-process: same engine, same bytes).
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listCheckpoints } from "../../src/experiment/run-folder/checkpoint.ts";
import { LOCK_FILE } from "../../src/experiment/run-folder/lock.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { openRun } from "../../src/experiment/run-folder/session.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";
import { filesUnder, startWithFaults } from "../helpers/fault-fs.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "gradlab.js");

/** 2000 examples, batch 32 → 63 steps per epoch, 4 epochs = 252 steps, every step recorded. */
const RAW = {
  name: "interrupt",
  data: { train: 2000, test: 300 },
  model: { layers: [{ type: "dense", units: 128, activation: "relu", init: "he" }, { type: "dense", units: 10 }] },
  optimizer: { type: "sgd", lr: 0.05, momentum: 0.9 },
  train: { epochs: 4, seed: 3, checkpointEvery: 20 },
  record: { every: 1, histograms: false },
};
const STEPS = 252;

let reference: { metrics: Buffer; weights: Buffer } | null = null;
function expected() {
  if (!reference) {
    const dir = join(tempDir(), "ref");
    openRun({ mode: "fresh", config: parseConfig(RAW), outDir: dir }, "test").runSync();
    reference = { metrics: readFileSync(join(dir, "metrics.jsonl")), weights: readFileSync(join(dir, "weights.safetensors")) };
  }
  return reference;
}

/** Resolve once `ok()` holds (polled every 20 ms). */
function until(ok: () => boolean): Promise<void> {
  return new Promise((resolve) => { const t = setInterval(() => { if (ok()) { clearInterval(t); resolve(); } }, 20); });
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").length - 1 : 0);

/**
 * Start `gradlab run` on RAW in `dir`; once metrics.jsonl holds `afterLines` lines, send
 * `signal`. Resolves with the exit code (or the signal that ended it) and the output.
 */
function runAndSignal(dir: string, afterLines: number, signal: NodeJS.Signals): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const cfgFile = join(dir, "..", "cfg.json");
  writeFileSync(cfgFile, JSON.stringify(RAW));
  const child = spawn(process.execPath, [BIN, "run", cfgFile, "--out", dir, "--quiet", "--no-png"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const metrics = join(dir, "metrics.jsonl");
  const poll = setInterval(() => {
    if (lines(metrics) >= afterLines) { clearInterval(poll); child.kill(signal); }
  }, 1);
  return new Promise((resolve) => child.on("exit", (code, sig) => { clearInterval(poll); resolve({ code, signal: sig, stdout, stderr }); }));
}

function expectIdentical(dir: string) {
  const want = expected();
  const metrics = readFileSync(join(dir, "metrics.jsonl"));
  // no torn or duplicated line
  expect(metrics.toString().trim().split("\n").map((l) => JSON.parse(l).step)).toEqual(Array.from({ length: STEPS }, (_, i) => i));
  expect(metrics.equals(want.metrics)).toBe(true);
  expect(readFileSync(join(dir, "weights.safetensors")).equals(want.weights)).toBe(true);
}

/**
 * runAndSignal, retried with an earlier target if the run finished before the signal landed
 * (a loaded machine can delay the poll); the signal must hit a running run.
 */
async function interrupted(signal: NodeJS.Signals, target: number) {
  for (let t = target; ; t = Math.max(2, Math.floor(t / 2))) {
    const dir = join(tempDir(), "run");
    const r = await runAndSignal(dir, t, signal);
    if (r.code !== 0 || t === 2) return { dir, target: t, ...r };
  }
}

/** Child processes on a loaded 2-core machine can take minutes; the default 120 s is for one spawn. */
const SLOW = 360_000;

describe("gradlab run in a child process", () => {
  it("SIGINT: stops at a step boundary, writes a checkpoint and the partial report, exits 130; --resume finishes it", async () => {
    const { dir, code, stdout, stderr } = await interrupted("SIGINT", 70);
    expect(code).toBe(130);
    expect(stderr).toContain("gradlab: SIGINT: stopping at the next step boundary");
    expect(stdout).toMatch(new RegExp(`interrupted \\(SIGINT\\) at step (\\d+) of ${STEPS}; checkpoint and partial report written to `));
    expect(stdout).toContain(`resume with: gradlab run --resume ${dir}`);
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary.status).toBe("interrupted");
    expect(summary.stopped.cause).toBe("interrupted");
    expect(listCheckpoints(dir)[0].step).toBe(summary.steps);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("Partial run: interrupted at step");
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);

    const again = gradlab(["run", "--resume", dir, "--quiet", "--no-png"]);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expectIdentical(dir);
    expect(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")).status).toBe("complete");
  }, SLOW);

  it("SIGTERM: the same, exit 130", async () => {
    const { dir, code, stdout } = await interrupted("SIGTERM", 40);
    expect(code).toBe(130);
    expect(stdout).toContain(`resume with: gradlab run --resume ${dir}`);
    openRun({ mode: "resume", runDir: dir }, "test").runSync();
    expectIdentical(dir);
  }, SLOW);

  it("SIGKILL at a random step, then --resume: byte-identical results, no torn line", async () => {
    const { dir, target, signal } = await interrupted("SIGKILL", 2 + Math.floor(Math.random() * (STEPS - 40)));
    expect(signal, `killed after ${target} metrics lines`).toBe("SIGKILL");
    expect(existsSync(join(dir, "summary.json"))).toBe(false);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);  // stale: its process is gone
    const again = gradlab(["run", "--resume", dir, "--quiet", "--no-png"]);
    expect(again.stderr, `killed after ${target} metrics lines`).toBe("");
    expect(again.code).toBe(0);
    expectIdentical(dir);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  }, SLOW);

  it("SIGINT while the data loads (reads slowed to 3 s each by the fault layer): one line, exit 130 within seconds, no folder", async () => {
    const dir = join(tempDir(), "run");
    const cfgFile = join(dir, "..", "cfg.json");
    writeFileSync(cfgFile, JSON.stringify(RAW));
    const log = join(dir, "..", "faults.log");
    // Every read of the training images waits 3 s: loading the 47 MB file in 8 MB chunks takes ≥ 18 s.
    const { child, done } = startWithFaults(["run", cfgFile, "--out", dir, "--quiet", "--no-png"], "DELAY:train-images:ms=3000", { log });
    await until(() => existsSync(log));  // the first slowed read has begun
    const sent = performance.now();
    child.kill("SIGINT");
    const r = await done;
    expect(performance.now() - sent).toBeLessThan(5000);
    expect(r.code).toBe(130);
    expect(r.stderr).toBe("gradlab: SIGINT while loading the data; stopped before anything was written\n");
    expect(existsSync(dir)).toBe(false);
  }, SLOW);

  it("SIGTERM while --resume loads the checkpoint (slowed likewise): one line, exit 130, the folder byte for byte as it was", async () => {
    const { dir, code } = await interrupted("SIGINT", 60);
    expect(code).toBe(130);
    const before = Object.fromEntries(filesUnder(dir).map((f) => [f, readFileSync(join(dir, f)).toString("base64")]));
    const log = join(dir, "..", "faults.log");
    const { child, done } = startWithFaults(["run", "--resume", dir, "--quiet", "--no-png"], "DELAY:/checkpoint/step-:ms=3000", { log });
    await until(() => existsSync(log) && statSync(log).size > 0);
    child.kill("SIGTERM");
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe("gradlab: SIGTERM while loading the data; stopped before anything was written\n");
    expect(Object.fromEntries(filesUnder(dir).map((f) => [f, readFileSync(join(dir, f)).toString("base64")]))).toEqual(before);
  }, SLOW);

  it("--resume refuses a config argument and overrides; run needs one or the other; one line, exit 2", () => {
    const dir = tempDir();
    const a = gradlab(["run", "seed", "--resume", dir]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/^gradlab: --resume: give either a config or --resume DIR, not both[^\n]*\n$/);
    const b = gradlab(["run", "--resume", dir, "--epochs", "3"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/^gradlab: --epochs: cannot be changed when resuming[^\n]*\n$/);
    const d = gradlab(["run"]);
    expect(d.code).toBe(2);
    expect(d.stderr).toBe("gradlab: run: expected a preset name or a config file (or --resume DIR)\n");
  });
});
