/**
 * The messages between the page and a training worker: two discriminated unions on `type`.
 * The worker owns the model; the page sends validated configs and commands and receives plain
 * metrics records (the CLI's StepRecord) and Float32Array buffers, which travel as transferables.
 * Every reply about a run carries the `gen` of the init it belongs to, so replies from a run
 * the page has already replaced are ignored.
 */
import type { Config } from "../experiment/config.ts";
import type { EpochResult, Stop } from "../experiment/trainer.ts";
import type { StepRecord } from "../instrument/recorder.ts";

/** Steps per second, or "max" for as fast as the engine goes. */
export type SpeedSetting = number | "max";

export type ToWorker =
  /** build a fresh Trainer for `config` (loading MNIST first if needed); replies ready or error */
  | { type: "init"; gen: number; config: Config; dataUrl: string }
  | { type: "play"; gen: number; speed: SpeedSetting }
  | { type: "pause"; gen: number }
  /** train exactly `steps` steps (or to the end), then pause */
  | { type: "step"; gen: number; steps: number }
  | { type: "speed"; speed: SpeedSetting }
  /** shapes and parameter counts of a config's model, or the reason it cannot be built */
  | { type: "check"; id: number; config: Config }
  /** walk the error backwards through the next batch, layer by layer, without training */
  | { type: "backprop"; gen: number }
  /** every record of the run so far (for export and tests) */
  | { type: "records"; id: number; gen: number }
  /** time `steps` training steps of `config` on a fresh Trainer (after `warmup` untimed steps) */
  | { type: "bench"; id: number; config: Config; dataUrl: string; steps: number; warmup: number };

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

/** Live per-unit view of the latest step: mean |δ| per unit (first units only) and mean f′(z). */
export interface UnitStats {
  name: string;
  /** mean over the batch of |∂ℓ/∂z| per unit, for at most MAX_UNITS units; [units] */
  meanAbsDelta: Float32Array;
  /** units in the layer (meanAbsDelta may show fewer) */
  units: number;
  /** mean of f′(z) over the batch and units; null without an activation */
  meanDf: number | null;
  maxDf: number | null;
}

export interface Progress {
  step: number;
  epoch: number;
  totalSteps: number;
  stepsPerEpoch: number;
  /** new records since the last progress message, in step order */
  records: StepRecord[];
  /** new per-epoch test results */
  epochs: EpochResult[];
  units: UnitStats[];
  playing: boolean;
  done: boolean;
  stopped: Stop | null;
  /** training samples per second over the last tick (null when not measured) */
  samplesPerSecond: number | null;
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

/** Activation curves sampled by the engine itself, for the learn panel. */
export interface Curve { name: string; z: Float32Array; f: Float32Array; df: Float32Array; maxDf: number }

export type FromWorker =
  | { type: "loading"; gen: number; what: string; done: number; total: number }
  | { type: "ready"; gen: number; model: ModelInfo; totalSteps: number; stepsPerEpoch: number; batchSize: number; nTrain: number; nTest: number }
  | { type: "progress"; gen: number; progress: Progress }
  | { type: "error"; gen: number; message: string }
  | { type: "checked"; id: number; ok: true; model: ModelInfo }
  | { type: "checked"; id: number; ok: false; message: string }
  | { type: "walk"; gen: number; walk: Walk }
  | { type: "records"; id: number; gen: number; records: StepRecord[]; epochs: EpochResult[]; thinned: boolean }
  | { type: "bench"; id: number; samplesPerSecond: number; steps: number; seconds: number }
  | { type: "bench-error"; id: number; message: string }
  | { type: "curves"; curves: Curve[] };

/** Units per layer sent for the diagram; walk vectors per stage. */
export const MAX_UNITS = 64;
export const WALK_VALUES = 1024;
