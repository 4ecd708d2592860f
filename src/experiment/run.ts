/**
 * Runs an experiment into a run folder (DESIGN.md): config.json (resolved), metrics.jsonl (one
 * record per recorded step), summary.json, weights.safetensors. Everything is written into a
 * temporary sibling folder that is renamed into place at the end, so a failed run leaves
 * nothing half-written behind.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, openSync, writeSync, closeSync, existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { loadDataset, type Dataset } from "../data/datasets.ts";
import { diagnose, type Diagnosis } from "../instrument/diagnosis.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import type { Config } from "./config.ts";
import { Trainer, type EpochResult, type Stop } from "./trainer.ts";
import { encodeWeights } from "./weights.ts";

export interface Summary {
  name: string;
  testAccuracy: number;
  testLoss: number;
  /** mean training batch loss over the last (up to) 100 steps */
  finalLoss: number;
  steps: number;
  epochs: EpochResult[];
  diagnosis: Diagnosis;
  stopped: Stop | null;
  samplesPerSecond: number;
  seconds: number;
  command: string;
}

export interface RunHooks {
  /** called after every step, with the step's record when it was recorded */
  onStep?(trainer: Trainer, record: StepRecord | null): void;
  onEpoch?(trainer: Trainer, e: EpochResult): void;
  /** called on the complete (still temporary) run folder before it is renamed into place; the CLI writes the report here */
  finalize?(dir: string): void;
}

export interface RunResult { summary: Summary; first: StepRecord; last: StepRecord; records: StepRecord[]; outDir: string | null }

/** Load the dataset a config asks for (cached per process). */
export function datasetFor(config: Config): Dataset {
  return loadDataset(config.data.dataset, { train: config.data.train, test: config.data.test });
}

/**
 * Train `config` to the end; with `outDir`, write the run folder. The clock is read here, never
 * in the trainer, so metrics.jsonl stays a pure function of the config.
 */
export function runExperiment(config: Config, outDir: string | null, command: string, hooks: RunHooks = {}): RunResult {
  const data = datasetFor(config);
  const trainer = new Trainer(config, data);
  let tmp: string | null = null;
  let metricsFd: number | null = null;
  if (outDir) {
    const target = resolve(outDir);
    mkdirSync(dirname(target), { recursive: true });
    tmp = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    writeFileSync(join(tmp, "config.json"), JSON.stringify(config, null, 2) + "\n");
    metricsFd = openSync(join(tmp, "metrics.jsonl"), "w");
  }
  try {
    let first: StepRecord | null = null;
    let last: StepRecord | null = null;
    const records: StepRecord[] = [];
    const t0 = performance.now();
    let epochsSeen = 0;
    while (!trainer.done) {
      const rec = trainer.trainStep();
      if (rec) {
        first ??= rec;
        last = rec;
        records.push(rec);
        if (metricsFd !== null) writeSync(metricsFd, JSON.stringify(rec) + "\n");
      }
      hooks.onStep?.(trainer, rec);
      if (trainer.epochs.length > epochsSeen) { epochsSeen = trainer.epochs.length; hooks.onEpoch?.(trainer, trainer.epochs[epochsSeen - 1]); }
    }
    const seconds = (performance.now() - t0) / 1000;
    const test = trainer.epochs.length && !trainer.stopped ? trainer.epochs[trainer.epochs.length - 1] : null;
    const evald = test ? { accuracy: test.testAccuracy, loss: test.testLoss } : trainer.evaluate("test");
    const summary: Summary = {
      name: config.name,
      testAccuracy: evald.accuracy,
      testLoss: evald.loss,
      finalLoss: trainer.finalLoss,
      steps: trainer.step,
      epochs: trainer.epochs,
      diagnosis: diagnose(first!, last!, trainer.stopped),
      stopped: trainer.stopped,
      samplesPerSecond: (trainer.step * trainer.batchSize) / seconds,
      seconds,
      command,
    };
    if (tmp !== null && outDir) {
      closeSync(metricsFd!);
      metricsFd = null;
      writeFileSync(join(tmp, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
      writeFileSync(join(tmp, "weights.safetensors"), encodeWeights(trainer.model, { name: config.name, steps: String(trainer.step) }));
      hooks.finalize?.(tmp);
      const target = resolve(outDir);
      if (existsSync(target)) rmSync(target, { recursive: true, force: true });
      renameSync(tmp, target);
      tmp = null;
    }
    return { summary, first: first!, last: last!, records, outDir: outDir ? resolve(outDir) : null };
  } finally {
    if (metricsFd !== null) closeSync(metricsFd);
    if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  }
}

/** Parse "A:B" into a half-open example range. */
export function parseRange(text: string, n: number): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new InputError(`--examples: expected A:B with whole numbers A < B (e.g. 0:32); got ${JSON.stringify(text)}`);
  const a = Number(m[1]), b = Number(m[2]);
  if (!(a < b)) throw new InputError(`--examples: expected A < B; got ${text}`);
  if (b > n) throw new InputError(`--examples: the training set has ${n} examples; got ${text}`);
  return [a, b];
}
