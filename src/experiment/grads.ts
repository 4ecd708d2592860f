/**
 * Gradients of the mean loss over training examples A..B-1 for given weights: no shuffling, no
 * update — one forward and one backward pass over those examples in training mode (batch norm
 * uses their statistics), as a training step computes them before its update. Used by
 * `gradlab grads` and any other caller that wants ∂L/∂θ of a run's weights.
 */
import { InputError } from "../core/errors.ts";
import { floats, size } from "../core/tensor.ts";
import { encodeSafetensors, type StInput } from "../data/safetensors.ts";
import { BatchSource, viewShape } from "../data/views.ts";
import type { Config } from "./config.ts";
import { datasetFor } from "./run-folder/session.ts";
import { Trainer } from "./trainer.ts";
import { loadWeights } from "./weights.ts";

/** The gradients of the mean loss over a range of examples, under the parameters' names. */
export interface Gradients {
  /** the mean loss over the examples */
  loss: number;
  /** the half-open range [A, B) of training examples */
  examples: [number, number];
  /** parameter name → ∂loss/∂parameter (F32, the parameter's shape) */
  tensors: Map<string, StInput>;
}

/**
 * Parse "A:B" into a half-open example range.
 * @example parseRange("8:24") // [8, 24]
 */
export function parseRange(text: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new InputError(`--examples: expected A:B with whole numbers A < B (e.g. 0:32); got ${JSON.stringify(text)}`);
  const a = Number(m[1]), b = Number(m[2]);
  if (!(a < b)) throw new InputError(`--examples: expected A < B; got ${text}`);
  return [a, b];
}

/**
 * ∂L/∂θ of L = the mean loss over training examples a..b-1 (in dataset order) for the weights in
 * `weights` (safetensors bytes; `what` names them in errors). Throws InputError when the weights
 * do not fit the config's model or the range passes the end of the training set.
 * @example computeGradients(config, readSafetensorsChecked("runs/seed/weights.safetensors", "expected weights"), [0, 32], "weights").loss // 0.41…
 */
export function computeGradients(config: Config, weights: Uint8Array, [a, b]: [number, number], what: string): Gradients {
  const data = datasetFor(config);
  if (b > data.nTrain) throw new InputError(`--examples: the training set has ${data.nTrain} examples; got ${a}:${b}`);
  const trainer = new Trainer(config, data);
  const model = trainer.model;
  loadWeights(model, weights, what);
  const B = b - a;
  const x = floats("f32", B * size(viewShape(config.data.view, data.rows, data.cols)));  // [B, ...inShape]
  const y = new Int32Array(B);  // [B]
  new BatchSource(data.trainImages, data.trainLabels, data.nTrain, data.rows, data.cols, config.data.view, 0).fill(a, B, x, y, true);
  const loss = model.forwardBackward(x, y, B, trainer.loss);
  const tensors = new Map<string, StInput>();
  for (const p of model.params) tensors.set(p.name, { shape: p.shape, data: Float32Array.from(p.grad) });
  return { loss, examples: [a, b], tensors };
}

/** The gradients as a safetensors file, with the loss and the range in its metadata. */
export function encodeGradients(g: Gradients): Uint8Array {
  return encodeSafetensors(g.tensors, { loss: String(g.loss), examples: `${g.examples[0]}:${g.examples[1]}` });
}
