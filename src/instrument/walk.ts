/**
 * A look at the network without training it: one forward and backward pass of the batch the
 * next training step will use, through the model's own forward and backward, measured three
 * ways — the metrics record that step will produce (the Recorder's numbers; update ratios null,
 * nothing is updated), the per-unit mean |δ| of every layer, and the backward walk: at each
 * top-level layer, from the output down, the error arriving from above ∂ℓ/∂y, the error after
 * the activation's derivative δ = ∂ℓ/∂y ⊙ f′(z), and the error passed below ∂ℓ/∂x. Everything
 * the step touches (batch norm's running statistics, the shuffling stream, the gradients) is
 * put back, so the run continues exactly as if the look had not happened.
 * Also the description of a model (layers, shapes, parameter counts) that the browser lab and
 * `gradlab` show. No DOM, no files: the lab's worker and the CLI call it alike.
 */
import { grouped } from "../core/format.ts";
import { InputError } from "../core/errors.ts";
import type { Layer } from "../core/layers/layer.ts";
import { childSpecs } from "../core/layers/registry.ts";
import { countCorrect, type Loss } from "../core/losses.ts";
import { buildModel, type Model } from "../core/model.ts";
import type { RngState } from "../core/rng.ts";
import type { LayerSpec, ModelSpec } from "../core/spec.ts";
import { floats, size, type FloatArray } from "../core/tensor.ts";
import type { Recorder, StepRecord } from "./recorder.ts";
import { sumRowNorms } from "./stats.ts";

/** Units per layer kept for the per-unit view; entries per walk vector. */
export const MAX_UNITS = 64;
export const WALK_VALUES = 1024;

/** One layer of a built model, depth-first (nested layers of a residual block at depth 1). */
export interface LayerInfo {
  name: string;
  type: string;
  depth: number;
  /** index path in the config: "model.layers[2].layers[0]" */
  path: string;
  inShape: number[];
  outShape: number[];
  params: number;
  activation: string | null;
  recurrent: boolean;
}

export interface ModelInfo {
  layers: LayerInfo[];
  params: number;
  inShape: number[];
  classes: number;
}

/** Per-unit view of one layer after a backward pass: mean |δ| per unit (first units only) and mean f′(z). */
export interface UnitStats {
  name: string;
  /** mean over the batch of |∂ℓ/∂z| per unit (per channel for [C, H, W] layers); [min(units, MAX_UNITS)] */
  meanAbsDelta: Float32Array;
  /** units (channels) in the layer; meanAbsDelta may show fewer */
  units: number;
  /** mean of f′(z) over the batch and units; null without an activation */
  meanDf: number | null;
  maxDf: number | null;
}

/** One stage of the backward walk through a top-level layer. */
export interface WalkStage {
  name: string;
  type: string;
  activation: string | null;
  /** mean per-example ‖∂ℓ/∂y‖ arriving from above */
  inNorm: number;
  /** mean per-example ‖δ‖ = ‖∂ℓ/∂y ⊙ f′(z)‖ after the activation's derivative (null: no activation stage) */
  deltaNorm: number | null;
  /** mean per-example ‖∂ℓ/∂x‖ passed down (after multiplying by Wᵀ, or the layer's own backward) */
  outNorm: number;
  /** mean and max of f′(z) over the batch (null: no activation stage) */
  meanDf: number | null;
  maxDf: number | null;
  /** the vectors for the first example, at most WALK_VALUES entries each */
  inVec: Float32Array;
  deltaVec: Float32Array | null;
  outVec: Float32Array;
  /** shape of ∂ℓ/∂x per example (a 28×28 input gradient can be drawn as an image) */
  outShape: number[];
}

export interface Walk {
  step: number;
  batch: number;
  loss: number;
  /** the first example of the batch: its pixels (28×28, 0..1) and label */
  image: Float32Array;
  label: number;
  stages: WalkStage[];
}

// ---------------------------------------------------------------------------------------------
// Describing a model.

/**
 * The layers of a built model, depth-first, with the config path each comes from.
 * @example describeModel(buildModel(seed.model, [784], 10), seed.model.layers, 10).layers.map((l) => l.name) // ["dense1", "dense2", "dense3"]
 */
export function describeModel(model: Model, specs: readonly LayerSpec[], classes: number): ModelInfo {
  const out: LayerInfo[] = [];
  const visit = (layers: Layer[], ls: readonly LayerSpec[], path: string, depth: number) => {
    layers.forEach((l, i) => {
      const p = `${path}[${i}]`;
      const spec = ls[i];
      out.push({
        name: l.name, type: l.type, depth, path: p, inShape: [...l.inShape], outShape: [...l.outShape],
        params: l.params.reduce((s, q) => s + q.value.length, 0),
        activation: l.probe()?.act?.name ?? (spec && "activation" in spec && spec.activation ? spec.activation : null),
        recurrent: typeof l.timeProbe === "function",
      });
      const inner = spec ? childSpecs(spec) : null;
      if (l.children && inner) visit(l.children, inner, `${p}.layers`, depth + 1);
    });
  };
  visit(model.layers, specs, "model.layers", 0);
  return { layers: out, params: model.params.reduce((s, q) => s + q.value.length, 0), inShape: [...model.inShape], classes };
}

/**
 * Build a model once to learn its shapes; an InputError names what cannot be built, or a model
 * larger than `maxParams` parameters (`builder` names who refuses it).
 * @example checkModel(seed.model, [784], 10, 1, 1e6).params // 3985
 */
export function checkModel(spec: ModelSpec, inShape: number[], classes: number, seed: number, maxParams: number, builder = "gradlab"): ModelInfo {
  const info = describeModel(buildModel(spec, inShape, classes, { seed }), spec.layers, classes);
  if (info.params > maxParams) throw new InputError(`model.layers: ${grouped(info.params)} parameters; ${builder} builds at most ${grouped(maxParams)}`);
  return info;
}

// ---------------------------------------------------------------------------------------------
// Per-unit statistics.

/**
 * Mean |δ| per unit over the last backward pass of a batch of B (per channel for [C, H, W]
 * layers, the first MAX_UNITS) and the mean of f′(z), read from the layers' probes.
 * @example unitStats(model, 32)[0].meanAbsDelta.length // 5 for the seed network's dense1
 */
export function unitStats(model: Model, B: number): UnitStats[] {
  const out: UnitStats[] = [];
  if (B === 0) return out;
  for (const layer of model.allLayers) {
    const p = layer.probe();
    if (!p || !p.dz) continue;
    const spatial = layer.outShape.length === 3 ? layer.outShape[1] * layer.outShape[2] : 1;
    const channels = Math.max(1, Math.round(p.units / spatial));
    const shown = Math.min(channels, MAX_UNITS);
    const mean = new Float32Array(shown); // [shown]
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < shown; c++) {
        let s = 0;
        for (let k = 0, o = b * p.units + c * spatial; k < spatial; k++) s += Math.abs(p.dz[o + k]);
        mean[c] += s / spatial / B;
      }
    }
    out.push({ name: layer.name, meanAbsDelta: mean, units: channels, meanDf: meanDf(layer, B), maxDf: p.act?.maxDf ?? null });
  }
  return out;
}

/** Mean f′(z) over a layer's batch of B; null without an activation stage. */
function meanDf(layer: Layer, B: number): number | null {
  const p = layer.probe();
  if (!p || !p.act || !p.z || !p.y) return null;
  const n = Math.min(B * p.units, p.z.length, p.y.length);
  let s = 0;
  for (let i = 0; i < n; i++) s += p.act.df(p.z[i], p.y[i]);
  return n > 0 ? s / n : null;
}

// ---------------------------------------------------------------------------------------------
// The look at the next batch.

/** The batch stream a training run draws from (src/data/views.ts BatchSource satisfies it). */
export interface BatchStream {
  readonly n: number;
  readonly order: Int32Array;
  rngState: RngState;
  shuffle(): void;
  fill(start: number, count: number, x: Float32Array | Float64Array, y: Int32Array): number;
}

/** What a look needs of a training run (src/experiment/trainer.ts Trainer satisfies it). */
export interface RunView {
  readonly model: Model;
  readonly loss: Loss;
  readonly recorder: Recorder;
  readonly source: BatchStream;
  readonly optimizer: { zeroGrad(): void };
  readonly inShape: number[];
  readonly classes: number;
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  /** the next step to train */
  readonly step: number;
  readonly epoch: number;
}

export interface Look {
  /** the record the next step will produce (its update ratios null: nothing was updated) */
  record: StepRecord;
  units: UnitStats[];
  walk: Walk;
}

/** The first values (at most WALK_VALUES) of example 0 of a [B, …] buffer. */
function firstExample(x: FloatArray, perExample: number): Float32Array {
  return Float32Array.from(x.subarray(0, Math.min(perExample, WALK_VALUES)));
}

/**
 * The batch step `run.step` will train on, [B, ...inShape] and [B]. At an epoch's start the step
 * shuffles first: that shuffle is drawn here and the stream put back, so the run is not disturbed.
 */
export function nextBatch(run: RunView): { x: FloatArray; y: Int32Array; B: number } {
  const src = run.source;
  const inEpoch = run.step % run.stepsPerEpoch;
  const B = Math.min(run.batchSize, src.n - inEpoch * run.batchSize);
  const x = floats(run.model.dtype, B * size(run.inShape)); // [B, ...inShape]
  const y = new Int32Array(B);                        // [B]
  if (inEpoch === 0) {
    const rng = src.rngState;
    const order = src.order.slice();
    src.shuffle();
    src.fill(0, B, x, y);
    src.rngState = rng;
    src.order.set(order);
  } else src.fill(inEpoch * run.batchSize, B, x, y);
  return { x, y, B };
}

/**
 * One forward and backward pass of the next batch through the model's own forward and backward
 * (nothing trained): the record the next step will produce, the per-unit view and the walk.
 * The walk listens to each top-level layer's backward as the model calls it; the gradients are
 * zeroed and batch norm's running statistics restored afterwards.
 * @example const { record } = look(trainer); record.step === trainer.step // true
 */
export function look(run: RunView): Look {
  const m = run.model;
  const { x, y, B } = nextBatch(run);
  const saved = m.buffers.map((b) => b.value.slice()); // running statistics, which a training forward moves
  const stages: WalkStage[] = [];
  const layers = m.layers.slice();
  // Each top-level layer seen through a tap on its backward: the error in, the layer's own
  // backward, then δ from its probe and the error out.
  const taps = layers.map((layer) => new Proxy(layer, {
    get(target, prop, receiver) {
      if (prop !== "backward") return Reflect.get(target, prop, receiver);
      return (dy: FloatArray, b: number, needDx: boolean): FloatArray | null => {
        const outSize = size(target.outShape), inSize = size(target.inShape);
        const inNorm = sumRowNorms(dy, b, outSize);
        const inVec = firstExample(dy, outSize);
        const dx = target.backward(dy, b, needDx);
        const p = target.probe();
        const act = p && p.dz && p.act && p.z && p.y ? p : null;
        stages.push({
          name: target.name, type: target.type, activation: p?.act?.name ?? null, inNorm,
          deltaNorm: act ? sumRowNorms(act.dz!, b, act.units) : null,
          outNorm: dx ? sumRowNorms(dx, b, inSize) : 0,
          meanDf: act ? meanDf(target, b) : null, maxDf: act ? act.act!.maxDf : null,
          inVec, deltaVec: act ? firstExample(act.dz!, act.units) : null,
          outVec: dx ? firstExample(dx, inSize) : new Float32Array(0), outShape: [...target.inShape],
        });
        return dx;
      };
    },
  }));
  try {
    m.layers.splice(0, layers.length, ...taps);
    const loss = m.forwardBackward(x, y, B, run.loss, true);
    m.layers.splice(0, layers.length, ...layers);
    const acc = countCorrect(m.logits!, y, B, run.classes) / B;
    run.recorder.beforeUpdate(run.step, run.epoch, loss, acc, B);
    const record = run.recorder.afterUpdate();
    for (const l of record.layers) for (const k of Object.keys(l.params)) l.params[k].updateRatio = null;
    const walk: Walk = { step: run.step, batch: B, loss, image: Float32Array.from(x.subarray(0, size(run.inShape))), label: y[0], stages };
    return { record, units: unitStats(m, B), walk };
  } finally {
    m.layers.splice(0, layers.length, ...layers);
    run.optimizer.zeroGrad();
    m.buffers.forEach((b, i) => b.value.set(saved[i]));
  }
}
