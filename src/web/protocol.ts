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
import type { ModelInfo, UnitStats, Walk } from "../instrument/walk.ts";

/** The model description, per-unit view and backward walk (src/instrument/walk.ts) travel as they are. */
export type { LayerInfo, ModelInfo, UnitStats, Walk, WalkStage } from "../instrument/walk.ts";

/** Steps per second, or "max" for as fast as the engine goes. */
export type SpeedSetting = number | "max";

/**
 * Why a run has the kernel threads it has (thread-choice.ts): "isolated" is two threads; the
 * others one — no WebAssembly SIMD, a model a second thread does not pay for (accel/threads.ts),
 * a page that is not cross-origin isolated, a single core for this run (A/B on a small machine),
 * no shared memory despite isolation, or a helper worker that failed to load.
 */
export type ThreadReason = "isolated" | "no-simd" | "does-not-pay" | "not-isolated" | "shared-cores" | "no-shared-memory" | "helper-failed";
/** The kernel threads a run trains on, and why. */
export interface ThreadChoice { count: 1 | 2; reason: ThreadReason }

export type ToWorker =
  /** build a fresh Trainer for `config` (loading MNIST first if needed); replies ready or error */
  | { type: "init"; gen: number; config: Config; dataUrl: string }
  | { type: "play"; gen: number; speed: SpeedSetting }
  | { type: "pause"; gen: number }
  /** train exactly `steps` steps (or to the end), then pause */
  | { type: "step"; gen: number; steps: number }
  | { type: "speed"; speed: SpeedSetting }
  /** the cores this worker's runs may count on (the machine's, divided among the runs side by side); replies threads */
  | { type: "cores"; cores: number }
  /** shapes and parameter counts of a config's model, or the reason it cannot be built */
  | { type: "check"; id: number; config: Config }
  /** walk the error backwards through the next batch, layer by layer, without training */
  | { type: "backprop"; gen: number }
  /** every record of the run so far (for export and tests) */
  | { type: "records"; id: number; gen: number }
  /** time `steps` training steps of `config` on a fresh Trainer (after `warmup` untimed steps) */
  | { type: "bench"; id: number; config: Config; dataUrl: string; steps: number; warmup: number }
  /**
   * a short run of `config` on a fresh Trainer, beside the run in progress: at most `steps`
   * steps (or to the end); replies its records (the config's schedule) and epoch results
   */
  | { type: "run"; id: number; config: Config; dataUrl: string; steps: number }
  /**
   * the forward pass of the run's network as it is now on one input: `pixels` ([784] in 0..1,
   * transferred) or test example `testIndex`; nothing is trained
   */
  | { type: "predict"; id: number; gen: number; pixels: Float32Array | null; testIndex: number | null };

/** One forward pass on one input, layer by layer (the `predict` reply). */
export interface Prediction {
  /** the input, [784] in 0..1 */
  image: Float32Array;
  /** the test example's label (null for a drawn input) */
  label: number | null;
  /** each top-level layer's output for this input (the hidden units' activations, then the logits) */
  layers: { name: string; values: Float32Array }[];
  /** softmax of the logits, [classes] */
  probs: Float32Array;
  /** the training step the network is at */
  step: number;
}

export interface Progress {
  step: number;
  epoch: number;
  totalSteps: number;
  stepsPerEpoch: number;
  /**
   * new records since the last progress message, in step order: the config's (the CLI's) and the
   * lab's denser ones early in the run (see cadence.ts)
   */
  records: StepRecord[];
  /**
   * the network as it is now, measured on the next batch without training (the record step
   * `step` will produce, update ratios null); sent when training pauses, so a paused or stepped
   * run is drawn at its current step
   */
  now: StepRecord | null;
  /** new per-epoch test results */
  epochs: EpochResult[];
  units: UnitStats[];
  playing: boolean;
  done: boolean;
  stopped: Stop | null;
  /** training samples per second over the last tick (null when not measured) */
  samplesPerSecond: number | null;
}

/** Activation curves sampled by the engine itself, for the learn panel. */
export interface Curve { name: string; z: Float32Array; f: Float32Array; df: Float32Array; maxDf: number }

export type FromWorker =
  | { type: "loading"; gen: number; what: string; done: number; total: number }
  | { type: "ready"; gen: number; model: ModelInfo; totalSteps: number; stepsPerEpoch: number; batchSize: number; nTrain: number; nTest: number }
  | { type: "progress"; gen: number; progress: Progress }
  | { type: "error"; gen: number; message: string }
  /** the kernel threads the run trains on (before ready, and again whenever they change) */
  | { type: "threads"; gen: number; threads: ThreadChoice }
  | { type: "checked"; id: number; ok: true; model: ModelInfo }
  | { type: "checked"; id: number; ok: false; message: string }
  | { type: "walk"; gen: number; walk: Walk }
  | { type: "records"; id: number; gen: number; records: StepRecord[]; epochs: EpochResult[]; thinned: boolean }
  | { type: "bench"; id: number; samplesPerSecond: number; steps: number; seconds: number; threads: ThreadChoice }
  | { type: "bench-error"; id: number; message: string }
  | { type: "ran"; id: number; ok: true; records: StepRecord[]; epochs: EpochResult[]; stopped: Stop | null; steps: number }
  | { type: "ran"; id: number; ok: false; message: string }
  | { type: "predicted"; id: number; ok: true; prediction: Prediction }
  | { type: "predicted"; id: number; ok: false; message: string }
  | { type: "curves"; curves: Curve[] };
