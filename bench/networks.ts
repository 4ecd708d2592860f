/**
 * The seven networks of the speed comparison, each as a gradlab config. The same
 * architectures are built in TensorFlow.js (tfjs.ts) and PyTorch (pytorch.py) from `id`.
 * Every network trains with plain SGD on real MNIST with softmax cross-entropy.
 */
import { parseConfig, type Config } from "../src/experiment/config.ts";
import type { LayerSpec } from "../src/core/spec.ts";

export interface Network {
  /** short id shared with tfjs.ts and pytorch.py */
  id: "seed" | "mlp256" | "mlp100x10" | "cnn" | "rnn" | "lstm" | "gru" | "irnn";
  /** the row label of the comparison table */
  label: string;
  batch: number;
  view: "flat" | "image" | "rows" | "pixels";
  lr: number;
  /** reference figures (samples/s on its 2-core machine), quoted when a framework is absent */
  reference: { pytorch: number; tfjsCpu: number; tfjsWasm: number | null };
  layers: LayerSpec[];
}

const dense = (units: number, activation?: "sigmoid" | "relu"): LayerSpec => ({ type: "dense", units, ...(activation ? { activation } : {}) });

export const NETWORKS: Network[] = [
  { id: "seed", label: "seed MLP 784-5-5-10 sigmoid", batch: 32, view: "flat", lr: 0.5,
    reference: { pytorch: 29_000, tfjsCpu: 13_400, tfjsWasm: 9_000 },
    layers: [dense(5, "sigmoid"), dense(5, "sigmoid"), dense(10)] },
  { id: "mlp256", label: "MLP 784-256-256-256-10 sigmoid", batch: 32, view: "flat", lr: 0.1,
    reference: { pytorch: 7_400, tfjsCpu: 340, tfjsWasm: 1_200 },
    layers: [dense(256, "sigmoid"), dense(256, "sigmoid"), dense(256, "sigmoid"), dense(10)] },
  { id: "mlp100x10", label: "MLP 784-(100×10)-10 relu", batch: 32, view: "flat", lr: 0.05,
    reference: { pytorch: 5_200, tfjsCpu: 720, tfjsWasm: 2_300 },
    layers: [...Array.from({ length: 10 }, () => dense(100, "relu")), dense(10)] },
  { id: "cnn", label: "CNN conv8-pool-conv16-pool-fc10 relu", batch: 64, view: "image", lr: 0.05,
    reference: { pytorch: 19_500, tfjsCpu: 22, tfjsWasm: null },
    layers: [
      { type: "conv2d", filters: 8, kernel: 3, padding: "same", activation: "relu" }, { type: "maxpool2d", size: 2 },
      { type: "conv2d", filters: 16, kernel: 3, padding: "same", activation: "relu" }, { type: "maxpool2d", size: 2 },
      { type: "flatten" }, dense(10)] },
  { id: "rnn", label: "row RNN 128 tanh", batch: 32, view: "rows", lr: 0.05,
    reference: { pytorch: 4_700, tfjsCpu: 160, tfjsWasm: 630 },
    layers: [{ type: "rnn", units: 128, activation: "tanh" }, dense(10)] },
  { id: "lstm", label: "row LSTM 128", batch: 32, view: "rows", lr: 0.1,
    reference: { pytorch: 730, tfjsCpu: 33, tfjsWasm: 150 },
    layers: [{ type: "lstm", units: 128 }, dense(10)] },
  { id: "gru", label: "row GRU 128", batch: 32, view: "rows", lr: 0.1,
    reference: { pytorch: 980, tfjsCpu: 22, tfjsWasm: 205 },
    layers: [{ type: "gru", units: 128 }, dense(10)] },
];

/**
 * The long-sequence network, measured apart (bench/irnn.ts, against PyTorch only): Le, Jaitly &
 * Hinton's IRNN — 100 relu units, W_hh = I, W_ih ~ N(0, 0.001²), zero biases — on the pixels view
 * (784 steps of one input), batch 16 as in src/replicate/studies/le2015.ts's full scale; plain SGD
 * with lr 1e-4, small enough that no run reaches a NaN without the study's clipping. Its
 * reference figures are this machine's (bench/README.md); TF.js is not run on it (0).
 */
export const IRNN_NETWORK: Network = {
  id: "irnn", label: "pixel IRNN 100 relu (784 steps)", batch: 16, view: "pixels", lr: 1e-4,
  reference: { pytorch: 0, tfjsCpu: 0, tfjsWasm: null },
  layers: [
    { type: "rnn", units: 100, activation: "relu", recurrentInit: "identity", init: { type: "normal", std: 0.001 }, biasInit: "zeros" },
    dense(10)],
};

/**
 * A validated gradlab config for a network: PyTorch's default init ("standard"), SGD, MNIST with
 * `train` examples (60,000) and `test` (1,000), recording every `every` steps (histograms on, as
 * in the presets), a checkpoint every `checkpointEvery` steps (0, none).
 * @example networkConfig(NETWORKS[0], { every: 100 }).train.batchSize // 32
 */
export function networkConfig(net: Network, opts: { every: number; train?: number; test?: number; epochs?: number; checkpointEvery?: number }): Config {
  return parseConfig({
    name: `bench-${net.id}`,
    data: { dataset: "mnist", view: net.view, train: opts.train ?? 60000, test: opts.test ?? 1000 },
    model: { layers: net.layers },
    loss: "cross_entropy",
    optimizer: { type: "sgd", lr: net.lr },
    train: { epochs: opts.epochs ?? 100, batchSize: net.batch, seed: 1, evalBatchSize: 500, checkpointEvery: opts.checkpointEvery ?? 0 },
    record: { every: opts.every },
  }, `bench/networks.ts#${net.id}`);
}

/**
 * Multiply-adds of one training step per example, counted as a dense GEMM would do them:
 * forward, weight gradient, and input gradient for every layer but the first (nobody computes
 * ∂L/∂pixels). dense D→H: D·H each; conv: C·K²·F·Ho·Wo each; recurrent with G gates: forward
 * T·(D + H)·G·H, then T·D·G·H (∂W_ih), 2·T·H·G·H (∂W_hh and ∂h), T·D·G·H (∂x). GFLOP/s = 2 · MACs · samples/s.
 * @example macsPerExample(NETWORKS[0]) // 3·(784·5 + 5·5 + 5·10) − 784·5 = 8,065
 */
export function macsPerExample(net: Network): number {
  let shape = net.view === "flat" ? [784] : net.view === "image" ? [1, 28, 28] : net.view === "pixels" ? [784, 1] : [28, 28];
  let total = 0;
  let first = true;
  for (const s of net.layers) {
    let fwd = 0, dW = 0, dx = 0;
    if (s.type === "dense") {
      fwd = dW = dx = shape[0] * s.units;
      shape = [s.units];
    } else if (s.type === "conv2d") {
      const pad = s.padding === "same" ? (s.kernel - 1) / 2 : 0;
      const Ho = shape[1] + 2 * pad - s.kernel + 1, Wo = shape[2] + 2 * pad - s.kernel + 1;
      fwd = dW = dx = shape[0] * s.kernel * s.kernel * s.filters * Ho * Wo;
      shape = [s.filters, Ho, Wo];
    } else if (s.type === "maxpool2d") {
      shape = [shape[0], Math.floor(shape[1] / s.size), Math.floor(shape[2] / s.size)];
    } else if (s.type === "flatten") {
      shape = [shape.reduce((a, b) => a * b, 1)];
    } else if (s.type === "rnn" || s.type === "lstm" || s.type === "gru") {
      const [T, D] = shape, H = s.units, GH = (s.type === "rnn" ? 1 : s.type === "lstm" ? 4 : 3) * H;
      fwd = T * (D + H) * GH;
      dW = T * (D + H) * GH;
      dx = T * H * GH + T * D * GH; // ∂h through W_hh is needed even for the first layer
      if (first) { total += T * H * GH; dx = 0; }
      shape = [H];
    }
    if (fwd > 0) {
      total += fwd + dW + (first ? 0 : dx);
      first = false;
    }
  }
  return total;
}
