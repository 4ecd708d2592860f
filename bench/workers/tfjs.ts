/**
 * TensorFlow.js as a worker of the comparison (protocol.ts): the same network built from the
 * gradlab layer specs with tf.layers, trained by tf.train.sgd on the same MNIST images.
 *
 *   node --import tsx bench/workers/tfjs.ts --backend cpu|wasm
 *
 * `cpu` is TF.js's pure-JavaScript backend; `wasm` its WebAssembly backend (SIMD build), whose
 * .wasm files ship inside the npm package and are loaded from node_modules (no network).
 * The images are converted to floats in [0, 1] up front; each step makes its batch tensors from
 * a slice of that array (tf.tensor of a subarray: a copy, as a data pipeline would do; slicing
 * one big tensor instead measured 15× slower on the wasm backend). The step is
 * optimizer.minimize(() => softmax cross-entropy of the model's logits), the idiomatic custom
 * training loop.
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { LayerSpec } from "../../src/core/spec.ts";
import { loadDataset } from "../../src/data/datasets.ts";
import type { Network } from "../networks.ts";
import { serve } from "./protocol.ts";

const args = process.argv.slice(2);
const backend = args.includes("--backend") ? args[args.indexOf("--backend") + 1] : "cpu";
/** Training examples the batches cycle through (converted once to a float tensor). */
const EXAMPLES = 8192;

type TfActivation = "sigmoid" | "tanh" | "relu" | "linear";
/** The activations the networks use, by their TF.js names (the same words). */
function act(name: string | undefined): TfActivation {
  if (name === undefined || name === "sigmoid" || name === "tanh" || name === "relu" || name === "linear") return name ?? "linear";
  throw new Error(`tfjs worker: no translation for activation ${name}`);
}

/** tf.layers for a gradlab layer spec (the subset the comparison uses). */
function layer(spec: LayerSpec, first: boolean, inShape: number[]): tf.layers.Layer {
  const input = first ? { inputShape: inShape } : {};
  switch (spec.type) {
    case "dense": return tf.layers.dense({ ...input, units: spec.units, activation: act(spec.activation) });
    case "conv2d": return tf.layers.conv2d({ ...input, filters: spec.filters, kernelSize: spec.kernel, padding: spec.padding === "same" ? "same" : "valid", activation: act(spec.activation), dataFormat: "channelsLast" });
    case "maxpool2d": return tf.layers.maxPooling2d({ ...input, poolSize: spec.size });
    case "flatten": return tf.layers.flatten(input);
    case "rnn": return tf.layers.simpleRNN({ ...input, units: spec.units, activation: act(spec.activation ?? "tanh") });
    case "lstm": return tf.layers.lstm({ ...input, units: spec.units });
    case "gru": return tf.layers.gru({ ...input, units: spec.units });
    default: throw new Error(`tfjs worker: no translation for layer type ${spec.type}`);
  }
}

let state: { model: tf.Sequential; opt: tf.Optimizer; pixels: Float32Array; onehot: Float32Array; inShape: number[]; B: number; at: number } | null = null;

serve({
  async setup(msg) {
    if (tf.getBackend() !== backend) {
      if (backend === "wasm") {
        const require = createRequire(import.meta.url);
        setWasmPaths(join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + "/");
      }
      if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} is not available`);
      await tf.ready();
    }
    if (state) { state.model.dispose(); state = null; }
    const net = msg.net as Network;
    const inShape = net.view === "flat" ? [784] : net.view === "image" ? [28, 28, 1] : [28, 28];
    const model = tf.sequential({ layers: net.layers.map((s, i) => layer(s, i === 0, inShape)) });
    const data = loadDataset("mnist", { train: EXAMPLES, test: 1 });
    const pixels = new Float32Array(EXAMPLES * 784);
    for (let i = 0; i < pixels.length; i++) pixels[i] = data.trainImages[i] / 255;
    const onehot = new Float32Array(EXAMPLES * 10);
    for (let i = 0; i < EXAMPLES; i++) onehot[i * 10 + data.trainLabels[i]] = 1;
    state = { model, opt: tf.train.sgd(net.lr), pixels, onehot, inShape, B: net.batch, at: 0 };
    return { ok: true, backend: tf.getBackend(), version: tf.version.tfjs };
  },
  async run(msg) {
    const s = state!;
    const steps = msg.steps as number;
    let last: tf.Scalar | null = null;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      if (s.at + s.B > EXAMPLES) s.at = 0;
      const at = s.at;
      s.at += s.B;
      last?.dispose();
      const xb = tf.tensor(s.pixels.subarray(at * 784, (at + s.B) * 784), [s.B, ...s.inShape]);
      const yb = tf.tensor(s.onehot.subarray(at * 10, (at + s.B) * 10), [s.B, 10]);
      last = s.opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, s.model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar, true);
      xb.dispose();
      yb.dispose();
    }
    await last?.data(); // the backends are synchronous on the CPU; this only makes sure the work is done
    const seconds = (performance.now() - t0) / 1000;
    last?.dispose();
    return { seconds, tensors: tf.memory().numTensors };
  },
});
