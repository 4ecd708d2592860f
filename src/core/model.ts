/**
 * A sequential model built from a config's layer specs, with PyTorch-named parameters, and one
 * training step: forward, fused loss, backward. Layers are named by `name`, else by type and
 * 1-based index among layers of that type, counted depth-first (dense1, dense2, conv1, lstm1);
 * each kind's builder and name prefix come from the layer registry (src/core/layers/registry.ts).
 */
import { InputError } from "./errors.ts";
import type { BuildContext, Layer, NamedBuffer, Param } from "./layers/layer.ts";
import { kindOf, LAYER_TYPES } from "./layers/registry.ts";
import { LOSSES, type Loss } from "./losses.ts";
import { Rng } from "./rng.ts";
import type { LayerSpec, LossName, ModelSpec } from "./spec.ts";
import { Workspace } from "./layers/layer.ts";
import { shapeText, type DType, type FloatArray } from "./tensor.ts";

export interface ModelOptions {
  dtype?: DType;
  /** seed for the initial weights (stream 1 of the run's seed) */
  seed?: number;
  /** a label beyond the others and its file (see Dataset.strayLabel): named when the model has fewer classes */
  strayLabel?: { label: number; file: string };
}

export class Model {
  /** every layer depth-first, nested ones included, in forward order */
  readonly allLayers: Layer[] = [];
  readonly params: Param[] = [];
  readonly buffers: NamedBuffer[] = [];
  readonly outShape: number[];
  readonly dtype: DType;
  /** ∂L/∂logits [B, C] */
  private readonly dLogitsWs: Workspace;
  /** ∂L/∂input [B, ...inShape] after backward(…, true) */
  inputGrad: FloatArray | null = null;

  constructor(readonly layers: Layer[], readonly inShape: number[], dtype: DType) {
    this.dtype = dtype;
    const visit = (ls: Layer[]) => {
      for (const l of ls) {
        this.allLayers.push(l);
        if (l.children) visit(l.children);
        this.params.push(...l.params);
        this.buffers.push(...l.buffers);
      }
    };
    visit(layers);
    this.outShape = layers.length ? layers[layers.length - 1].outShape : inShape;
    this.dLogitsWs = new Workspace(dtype, this.outShape[0]);
  }

  /** logits [B, C] for x [B, ...inShape] */
  forward(x: FloatArray, B: number, train: boolean): FloatArray {
    let h = x;
    for (const l of this.layers) h = l.forward(h, B, train);
    return h;
  }

  /** Back-propagate ∂L/∂logits; gradients accumulate into params. */
  backward(dLogits: FloatArray, B: number, needInputGrad = false): void {
    let d: FloatArray | null = dLogits;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      d = this.layers[i].backward(d!, B, i > 0 || needInputGrad);
    }
    this.inputGrad = needInputGrad ? d : null;
  }

  /** logits [B, C] of the last forwardBackward, readable until the next call */
  logits: FloatArray | null = null;

  /**
   * One forward + backward of the batch-mean loss; returns the loss. Gradients accumulate into
   * params (the optimizer step zeroes them). The logits stay readable in `this.logits`.
   */
  forwardBackward(x: FloatArray, labels: Int32Array, B: number, loss: Loss, needInputGrad = false): number {
    const logits = this.forward(x, B, true);
    this.logits = logits;
    const dLogits = this.dLogitsWs.get(B);
    const value = loss.forwardBackward(logits, labels, B, this.outShape[0], dLogits);
    this.backward(dLogits, B, needInputGrad);
    return value;
  }

  /** Look a parameter or buffer up by its full name ("dense1.weight"). */
  tensor(name: string): Param | NamedBuffer | undefined {
    return this.params.find((p) => p.name === name) ?? this.buffers.find((b) => b.name === name);
  }
}

/**
 * Build the layers of `spec` for inputs of shape `inShape`, with no check of the output width
 * (gradient checks use single layers). Shape mistakes are InputErrors naming the layer.
 * @example buildNetwork({layers: [{type: "dense", units: 3}]}, [4], {dtype: "f64"})
 */
export function buildNetwork(spec: ModelSpec, inShape: number[], opts: ModelOptions = {}): Model {
  const dtype = opts.dtype ?? "f32";
  const rng = new Rng(opts.seed ?? 1, 1);
  const counters = new Map<string, number>();
  const used = new Set<string>();
  const nameFor = (type: string, explicit: string | undefined, path: string) => {
    let name = explicit;
    if (name === undefined) {
      const prefix = kindOf(type)?.prefix ?? type;
      const k = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, k);
      name = `${prefix}${k}`;
    }
    if (used.has(name)) throw new InputError(`${path}.name: layer name "${name}" is used twice; names must be unique`);
    used.add(name);
    return name;
  };
  const build = (specs: LayerSpec[], shape: number[], basePath: string): Layer[] => {
    const out: Layer[] = [];
    specs.forEach((s, i) => {
      const path = `${basePath}[${i}]`;
      const kind = kindOf(s.type);
      if (!kind) {
        throw new InputError(`${path}.type: layer type "${s.type}" is not available; expected one of ${LAYER_TYPES.join(", ")}`);
      }
      const ctx: BuildContext = { dtype, rng, path, build };
      const layer = kind.build(s, nameFor(s.type, s.name, path), shape, ctx);
      out.push(layer);
      shape = layer.outShape;
    });
    return out;
  };
  return new Model(build(spec.layers, inShape, "model.layers"), inShape, dtype);
}

/**
 * Build a classifier for inputs of shape `inShape` with `classes` outputs; the last layer must
 * output exactly `classes` values.
 * @example buildModel({layers: [{type: "dense", units: 10}]}, [784], 10, {seed: 1})
 */
export function buildModel(spec: ModelSpec, inShape: number[], classes: number, opts: ModelOptions = {}): Model {
  const model = buildNetwork(spec, inShape, opts);
  const outShape = model.outShape;
  const stray = opts.strayLabel;
  if (stray && outShape.length === 1 && outShape[0] < classes) {
    const k = outShape[0];
    throw new InputError(`${stray.file}: holds a label ${stray.label}, outside 0..${k - 1} (the ${k} classes the model has, one per output of the last layer)`);
  }
  if (outShape.length !== 1 || outShape[0] !== classes) {
    throw new InputError(
      `model.layers: the last layer must output ${classes} values (one per class); it outputs ${shapeText(outShape)}`,
    );
  }
  return model;
}

/** The loss object for a config name. */
export function lossFor(name: LossName): Loss {
  return LOSSES[name];
}
