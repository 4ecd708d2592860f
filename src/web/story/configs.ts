/**
 * The configurations the story's scenes train, each seeded, so a scene shows the same numbers
 * every time it is opened (the CLI gives the same numbers for the same config: `gradlab run`).
 * All train on the story's MNIST subset (the first 1,000 training and 500 test examples,
 * vite.config.ts). Pure data and the remedies' own edits (remedies.ts); Node tests build every
 * one of them.
 */
import { remedy } from "../remedies.ts";
import type { RawConfig } from "../state.ts";

/** Training and test examples in the story's subset. */
export const SUBSET = { train: 1000, test: 500 } as const;

const sigmoidLayer = (units: number) => ({ type: "dense", units, activation: "sigmoid", init: "standard" });
const output = { type: "dense", units: 10, init: "standard" };

function config(name: string, layers: unknown[], view = "flat", optimizer: Record<string, unknown> = { type: "sgd", lr: 0.5 }, train: Record<string, unknown> = { epochs: 3, batchSize: 32, seed: 1 }, every = 8): RawConfig {
  return { name, data: { dataset: "mnist", view, ...SUBSET }, model: { layers }, loss: "cross_entropy", optimizer, train, record: { every } };
}

/** The seed network, 784 → 5 → 5 → 10 sigmoid, as experiments/seed.json builds it. */
export const SEED_LAYERS = [sigmoidLayer(5), sigmoidLayer(5), output];

/**
 * Scene 2's reader: the seed network trained for 20 epochs on the subset by Adam (learning rate
 * 0.02, batches of 16): 1,260 steps, about 70% of the 500 test digits right (the seed's own
 * SGD at 0.5 gets about half right in as many epochs of the subset).
 */
export const READER = config("story-reader", SEED_LAYERS, "flat", { type: "adam", lr: 0.02 }, { epochs: 20, batchSize: 16, seed: 1 }, 100);

/** Scenes 3–5: the seed network with its own SGD (lr 0.5, batches of 32), 10 epochs of the subset (320 steps). */
export const SEED = config("story-seed", SEED_LAYERS, "flat", { type: "sgd", lr: 0.5 }, { epochs: 10, batchSize: 32, seed: 1 }, 10);

/** Depths scene 6 offers (hidden sigmoid layers of 5 units, as the seed's). */
export const DEPTHS = { min: 1, max: 10, start: 2 } as const;
/** Steps each of scenes 6 and 7 trains: 3 epochs of the subset. */
export const SHORT_STEPS = 96;

/** Scene 6: the seed network with `depth` hidden sigmoid layers of 5 units, 3 epochs of SGD (96 steps). */
export function deepConfig(depth: number): RawConfig {
  return config(`story-depth-${depth}`, [...Array.from({ length: depth }, () => sigmoidLayer(5)), output]);
}

/** The depth scene 7 starts from. */
export const REMEDY_DEPTH = 6;
/** Scene 7's networks: the plain deep network and each remedy applied to it (remedies.ts), same seed. */
export function remedyConfigs(): { id: string; label: string; raw: RawConfig }[] {
  const plain = deepConfig(REMEDY_DEPTH);
  return [
    { id: "plain", label: `plain sigmoid, ${REMEDY_DEPTH} layers`, raw: plain },
    { id: "relu", label: "ReLU + He init", raw: remedy("relu").apply(plain) },
    { id: "batchnorm", label: "batch norm", raw: remedy("batchnorm").apply(plain) },
    { id: "residual", label: "residual connections", raw: remedy("residual").apply(plain) },
  ];
}

/**
 * Scene 8's networks, measured at initialization (one step records step 0): a small sigmoid CNN
 * (two 3×3 conv layers with pooling, as experiments/ann-cnn-rnn.json) and three recurrent
 * networks reading the digit one row per time step (28 steps of 28 pixels), 32 units each: a
 * plain tanh RNN, an LSTM (forget-gate bias 1, as experiments/rnn-time.json) and a GRU.
 */
export function sequenceConfigs(): { id: string; label: string; raw: RawConfig }[] {
  const adam = { type: "adam", lr: 0.002, clipNorm: 1 };
  const rows = (name: string, cell: Record<string, unknown>) => config(name, [cell, { type: "dense", units: 10 }], "rows", adam, { epochs: 1, batchSize: 32, seed: 1 }, 10);
  return [
    { id: "cnn", label: "CNN (sigmoid)", raw: config("story-cnn", [
      { type: "conv2d", filters: 8, kernel: 3, padding: "same", activation: "sigmoid" }, { type: "maxpool2d", size: 2 },
      { type: "conv2d", filters: 16, kernel: 3, padding: "same", activation: "sigmoid" }, { type: "maxpool2d", size: 2 },
      { type: "flatten" }, { type: "dense", units: 10 }], "image", adam, { epochs: 1, batchSize: 32, seed: 1 }, 10) },
    { id: "rnn", label: "RNN (tanh)", raw: rows("story-rnn", { type: "rnn", units: 32, activation: "tanh" }) },
    { id: "lstm", label: "LSTM", raw: rows("story-lstm", { type: "lstm", units: 32, forgetBias: 1 }) },
    { id: "gru", label: "GRU", raw: rows("story-gru", { type: "gru", units: 32 }) },
  ];
}
