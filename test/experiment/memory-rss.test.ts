// The memory estimate against the peak resident memory the OS measures: each model runs through
// the real CLI in a child process under GNU time (`/usr/bin/time -f %M`, the child's maximum
// resident set size in KB, from the kernel's rusage), and the estimate computed here for the same
// config must be within ±25% of that peak. The expected numbers are measurements, not
// derivations: the assertion is the tolerance. The models: the seed preset, the ann-cnn-rnn
// preset's CNN, the rnn-time preset's row LSTM, and one 20,000-unit dense layer (15.7 M
// parameters: the model whose peak was once 838 MB against an estimate of 605 MB). The command
// measured is the bundle the package installs (dist/cli/gradlab.js, built by npm ci), not the
// TypeScript source through tsx, whose loader alone takes about 40 MB more.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/experiment/config.ts";
import { estimateMemory, formatSize, REPORT_BYTES, RUNTIME_BYTES } from "../../src/experiment/memory.ts";
import { tempDir } from "../helpers/cli.ts";

const BIN = join(import.meta.dirname, "..", "..", "dist", "cli", "gradlab.js");
const TIME = "/usr/bin/time";
const MB = 2 ** 20;

/** Run the CLI under GNU time; returns the peak RSS in bytes and the exit code. */
function peakRss(args: string[]): { peak: number; code: number | null; stderr: string } {
  const r = spawnSync(TIME, ["-f", "peak-rss-kb %M", process.execPath, BIN, ...args], { encoding: "utf8", timeout: 110_000 });
  const m = /peak-rss-kb (\d+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no peak RSS from ${TIME}: ${r.stderr.slice(-500)}`);
  return { peak: Number(m[1]) * 1024, code: r.status, stderr: r.stderr };
}

const seed = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "experiments", "seed.json"), "utf8"));
const adam = { type: "adam", lr: 0.002 };
const MODELS: Record<string, object> = {
  // the seed preset on 1,000 examples, one epoch
  seed: { ...seed, data: { ...seed.data, train: 1000 }, train: { ...seed.train, epochs: 1 } },
  // ann-cnn-rnn's CNN (relu), evaluation batch 500
  cnn: {
    name: "cnn", data: { view: "image", train: 1000, test: 2000 }, optimizer: adam,
    model: { layers: [
      { type: "conv2d", filters: 8, kernel: 3, padding: "same", activation: "relu" }, { type: "maxpool2d", size: 2 },
      { type: "conv2d", filters: 16, kernel: 3, padding: "same", activation: "relu" }, { type: "maxpool2d", size: 2 },
      { type: "flatten" }, { type: "dense", units: 10 }] },
    train: { epochs: 1, evalBatchSize: 500 }, record: { every: 25 },
  },
  // rnn-time's LSTM on rows (28 steps of 28 pixels)
  lstm: {
    name: "lstm", data: { view: "rows", train: 1000, test: 2000 }, optimizer: adam,
    model: { layers: [{ type: "lstm", units: 32, forgetBias: 1 }, { type: "dense", units: 10 }] },
    train: { epochs: 1, evalBatchSize: 500 }, record: { every: 25 },
  },
  // one 20,000-unit dense layer; evalBatchSize 1000 is capped at the 500 test examples
  dense20k: {
    name: "dense20k", data: { train: 256, test: 500 }, optimizer: { type: "sgd", lr: 0.01 },
    model: { layers: [{ type: "dense", units: 20000, activation: "relu" }, { type: "dense", units: 10 }] },
    train: { epochs: 1 }, record: { every: 4 },
  },
};

describe("the memory estimate is within ±25% of the measured peak RSS", () => {
  it("GNU time is installed (the measurements below need it)", () => {
    expect(existsSync(TIME)).toBe(true);
  });

  it("the runtime constant: a run of a tiny model, whose peak is nearly all runtime (Node, gradlab's code, the report's)", () => {
    // Commands load their code lazily, so a run (not `gradlab presets`) is what holds the runtime.
    const dir = tempDir("gradlab-rss-tiny-");
    const raw = { name: "tiny", data: { train: 100, test: 100 }, model: { layers: [{ type: "dense", units: 10 }] }, optimizer: { type: "sgd", lr: 0.1 }, train: { epochs: 1 } };
    const file = join(dir, "tiny.json");
    writeFileSync(file, JSON.stringify(raw));
    const { peak, code, stderr } = peakRss(["run", file, "--out", join(dir, "out"), "--quiet"]);
    expect(code, stderr).toBe(0);
    const e = estimateMemory(parseConfig(raw));
    expect((RUNTIME_BYTES + REPORT_BYTES) / e.bytes).toBeGreaterThan(0.5);  // the runtime and the report are most of this estimate (the rest: the dataset)
    console.log(`tiny: estimate ${formatSize(e.bytes)}, peak ${formatSize(peak)}`);
    expect(Math.abs(e.bytes - peak)).toBeLessThanOrEqual(0.25 * peak);
  });

  const dir = tempDir("gradlab-rss-");
  for (const [name, raw] of Object.entries(MODELS)) {
    it(`${name}: the CLI's peak RSS against estimateMemory`, () => {
      const config: Config = parseConfig(raw);
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(raw));
      const { peak, code, stderr } = peakRss(["run", file, "--out", join(dir, name), "--quiet"]);
      expect(code, stderr).toBe(0);
      const e = estimateMemory(config);
      const off = (e.bytes - peak) / peak;
      // printed so a drift can be read from the test log
      console.log(`${name}: estimate ${formatSize(e.bytes)}, peak ${formatSize(peak)} (${(100 * off).toFixed(1)}%)`);
      expect(Math.abs(off), `estimate ${(e.bytes / MB).toFixed(0)} MB vs peak ${(peak / MB).toFixed(0)} MB`).toBeLessThanOrEqual(0.25);
    });
  }
});
