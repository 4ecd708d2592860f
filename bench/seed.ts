/**
 * The seed experiment as the benchmarks use it: experiments/seed.json (784-5-5-10 sigmoid, batch
 * 32, SGD lr 0.5, real MNIST 60k/10k) validated by parseConfig, with only `train.epochs` and
 * `record.every` overridden, and a Trainer built on it exactly as a run builds one.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadDataset, type Dataset } from "../src/data/datasets.ts";
import { parseConfig, type Config } from "../src/experiment/config.ts";
import { Trainer } from "../src/experiment/trainer.ts";

export const SEED_PATH: string = fileURLToPath(new URL("../experiments/seed.json", import.meta.url));

/** What a benchmark may change in the seed config; everything else is the preset's. */
export interface SeedOverrides {
  epochs?: number;
  /** record every N steps; omitted = the preset's 100 */
  every?: number;
}

/**
 * The seed preset, parsed and validated, with overrides applied.
 *
 * @example
 * seedConfig({ epochs: 1 }).record.every // 100, the preset's default
 */
export function seedConfig(over: SeedOverrides = {}): Config {
  const raw = JSON.parse(readFileSync(SEED_PATH, "utf8")) as Record<string, any>;
  if (over.epochs !== undefined) raw.train = { ...raw.train, epochs: over.epochs };
  if (over.every !== undefined) raw.record = { ...raw.record, every: over.every };
  return parseConfig(raw, SEED_PATH);
}

/** The config's dataset, loaded once (loadDataset caches the parsed files). */
export function seedDataset(config: Config): Dataset {
  return loadDataset(config.data.dataset, { train: config.data.train, test: config.data.test });
}

/** A fresh Trainer for the seed network: same weights and batch order for the same seed. */
export function seedTrainer(over: SeedOverrides = {}): Trainer {
  const config = seedConfig(over);
  return new Trainer(config, seedDataset(config));
}
