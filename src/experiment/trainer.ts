/**
 * The training loop shared by the CLI and the browser worker: no files, no clocks. One call to
 * step() trains one minibatch; steps 0, every, 2·every, … and the last are recorded (step 0
 * is measured before the first update: the network at initialization).
 *
 * Non-finite values (`train.onNonFinite`): every step checks the loss, then every gradient
 * (accel.hasNonFinite, one pass per tensor), then every weight after the update (checked by
 * the optimizer's own pass over it: Optimizer.step(true)). The first non-finite step is always
 * recorded. "stop" ends the run before the bad update (a bad update is undone from a copy of the
 * weights, and of the optimizer's moments, taken before it); "skip-step" drops that batch and
 * trains on; "continue" only counts.
 *
 * The whole training state between two steps is snapshot()/restore()-able (checkpoints): with
 * the model's parameters and buffers it determines every later step bit for bit.
 */
import { buildModel, lossFor, type Model } from "../core/model.ts";
import { countCorrect, type Loss } from "../core/losses.ts";
import * as accel from "../accel/index.ts";
import { clipGradients, Optimizer, type OptimizerState } from "../core/optim.ts";
import type { RngState } from "../core/rng.ts";
import type { DType, FloatArray } from "../core/tensor.ts";
import { floats, size } from "../core/tensor.ts";
import type { Param } from "../core/layers/layer.ts";
import type { Dataset } from "../data/datasets.ts";
import { BatchSource, viewShape } from "../data/views.ts";
import { Recorder, type StepRecord } from "../instrument/recorder.ts";
import { EPOCH_KEEP, RecordKeep } from "../instrument/keep.ts";
import type { Config } from "./config.ts";

export interface EvalResult { accuracy: number; loss: number; examples: number }
export interface EpochResult { epoch: number; trainLoss: number; testAccuracy: number; testLoss: number }

/** What became non-finite first in a step: the loss, a gradient, or a weight after the update. */
export type NonFiniteCause = "loss" | "gradient" | "weight";

/** Why training ended early, if it did. `layer`/`param` name the first non-finite gradient. */
export interface Stop { step: number; reason: string; layer?: string; param?: string; cause?: NonFiniteCause | "interrupted" }

/** The first non-finite event of a run and how many steps had one. */
export interface NonFiniteInfo { steps: number; first: { step: number; cause: NonFiniteCause; tensor: string | null; loss: number } | null }

/**
 * The fields of a TrainerSnapshot and the kind of value each holds: the one list of them.
 * TrainerSnapshot is derived from it, and the checkpoint codec (run-folder/checkpoint.ts) stores
 * and validates a snapshot field by field from it, so a field added here is one checkpoints carry.
 *   recent       the recent-loss ring, in slot order
 *   sourceRng    the shuffling stream's state
 *   epochRng     that stream's state before the current epoch's shuffle (so the order can be
 *                re-derived instead of stored)
 *   order        the current epoch's order of example indices
 */
export const SNAPSHOT_FIELDS = {
  step: "count",
  epochs: "epochs",
  epochLossSum: "number",
  epochLossCount: "count",
  recent: "numbers",
  skippedSteps: "count",
  nonFinite: "nonFinite",
  optimizer: "optimizer",
  sourceRng: "rng",
  epochRng: "rng",
  order: "order",
} as const;

/** The value each kind of snapshot field holds. */
export interface SnapshotKinds {
  /** a whole number ≥ 0 */
  count: number;
  /** any number, NaN and ±Inf included */
  number: number;
  numbers: number[];
  epochs: EpochResult[];
  nonFinite: NonFiniteInfo;
  optimizer: OptimizerState;
  rng: RngState;
  order: Int32Array;
}

/** A snapshot field's name. */
export type SnapshotField = keyof typeof SNAPSHOT_FIELDS;

/**
 * Everything but the model's tensors that the next step depends on (plain data; the caller
 * saves the model's parameters and buffers alongside, e.g. run-folder/checkpoint.ts).
 */
export type TrainerSnapshot = { [K in SnapshotField]: SnapshotKinds[(typeof SNAPSHOT_FIELDS)[K]] };

export class Trainer {
  readonly model: Model;
  readonly optimizer: Optimizer;
  readonly loss: Loss;
  readonly recorder: Recorder;
  readonly source: BatchSource;
  readonly inShape: number[];
  readonly classes: number;
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** updates done so far; the next step() trains step number `step` */
  step = 0;
  stopped: Stop | null = null;
  /** per-epoch results: every one up to `keepEpochs`, an even selection beyond (see RecordKeep) */
  private readonly epochKeep: RecordKeep<EpochResult>;
  private lastEpochResult: EpochResult | null = null;
  /** steps whose batch was dropped because something became non-finite ("skip-step") */
  skippedSteps = 0;
  readonly nonFinite: NonFiniteInfo = { steps: 0, first: null };
  /** batch losses of the current epoch that were learnt from, summed, and their count */
  private epochLossSum = 0;
  private epochLossCount = 0;
  /** the last few batch losses learnt from (ring buffer, slot = count % length) for a smoothed final loss */
  private readonly recent: Float64Array;
  private readonly x: FloatArray; // [B, ...inShape]
  private readonly y: Int32Array; // [B]
  /** the weights before the current update, to undo an update that made them non-finite; [] under "continue" */
  private readonly backup: FloatArray[];
  /** the shuffling stream's state before the current epoch's shuffle */
  private epochRng: RngState;
  /** evaluate's source of test batches and its batch buffers, made on first use */
  private testSource: BatchSource | null = null;
  private evalBatch: { x: FloatArray; yc: Int32Array; y: Int32Array; logits: FloatArray } | null = null; // x [C, ...inShape], yc [C], y [EB], logits [EB, classes]
  /** whether primeEvaluation has run */
  private primed = false;

  /**
   * @param keepEpochs the most per-epoch results held (default EPOCH_KEEP); a long run keeps an
   *   evenly spaced selection and always the last, so memory stays bounded whatever `epochs` is
   */
  constructor(readonly config: Config, readonly data: Dataset, dtype: DType = "f32", keepEpochs = EPOCH_KEEP) {
    const { train } = config;
    this.epochKeep = new RecordKeep<EpochResult>(keepEpochs);
    this.inShape = viewShape(config.data.view, data.rows, data.cols);
    this.classes = data.classes;
    this.model = buildModel(config.model, this.inShape, this.classes, { dtype, seed: train.seed, strayLabel: data.strayLabel });
    this.optimizer = new Optimizer(config.optimizer, this.model.params);
    this.loss = lossFor(config.loss);
    this.recorder = new Recorder(this.model, { histograms: config.record.histograms });
    this.source = new BatchSource(data.trainImages, data.trainLabels, data.nTrain, data.rows, data.cols, config.data.view, train.seed);
    this.batchSize = Math.min(train.batchSize, data.nTrain);
    this.stepsPerEpoch = Math.ceil(data.nTrain / this.batchSize);
    this.totalSteps = this.stepsPerEpoch * train.epochs;
    this.x = floats(dtype, this.batchSize * size(this.inShape));
    this.y = new Int32Array(this.batchSize);
    this.recent = new Float64Array(Math.min(100, this.totalSteps));
    this.backup = train.onNonFinite === "continue" ? [] : this.model.params.map((p) => floats(dtype, p.value.length));
    this.epochRng = this.source.rngState;
  }

  get epoch(): number { return Math.floor(this.step / this.stepsPerEpoch); }
  get done(): boolean { return this.step >= this.totalSteps || this.stopped !== null; }

  /** Whether step number s is recorded. */
  isRecorded(s: number): boolean {
    return s % this.config.record.every === 0 || s === this.totalSteps - 1;
  }

  /**
   * Train one minibatch. Returns the step's metrics record when the step is recorded (or when it
   * is the run's first step with a non-finite value), else null.
   */
  trainStep(): StepRecord | null {
    if (this.done) return null;
    const s = this.step;
    const inEpoch = s % this.stepsPerEpoch;
    if (inEpoch === 0) {
      this.epochRng = this.source.rngState;
      this.source.shuffle();
      this.epochLossSum = 0;
      this.epochLossCount = 0;
    }
    const start = inEpoch * this.batchSize;
    const B = Math.min(this.batchSize, this.source.n - start);
    this.source.fill(start, B, this.x, this.y);
    const loss = this.model.forwardBackward(this.x, this.y, B, this.loss);
    const logits = this.model.logits!;
    const params = this.model.params;
    const mode = this.config.train.onNonFinite;
    // The common step — finite loss, not recorded, no clipping, a guard on — checks as it
    // updates: one pass per tensor updates it and checks its gradient and its new weights
    // (Optimizer.step(true)). A non-finite gradient undoes the step from the backup, and the
    // step goes the checked way below, which finds the same tensor with the gradients intact.
    if (mode !== "continue" && Number.isFinite(loss) && !this.isRecorded(s) && !clips(this.config.optimizer)) {
      this.saveBackup();
      const brokenAt = this.optimizer.step(true);
      if (this.optimizer.firstBadGrad < 0) {
        if (brokenAt < 0) { this.finishStep(loss); return null; }
        return this.undoUpdate(s, params[brokenAt], loss, false);
      }
      this.restoreBackup();
    }
    // The loss first (free), then one pass over each gradient.
    let bad: { cause: NonFiniteCause; param: Param | null } | null = null;
    if (!Number.isFinite(loss)) bad = { cause: "loss", param: firstNonFinite(params) };
    else { const p = firstNonFinite(params); if (p) bad = { cause: "gradient", param: p }; }
    const recorded = this.isRecorded(s) || (bad !== null && this.nonFinite.first === null);
    if (recorded) {
      const acc = countCorrect(logits, this.y, B, this.classes) / B;
      this.recorder.beforeUpdate(s, this.epoch, loss, acc, B);
    }
    if (bad && mode !== "continue") {
      // Drop the update so the weights stay those that produced the last finite step.
      this.optimizer.zeroGrad();
      const record = recorded ? this.recorder.afterUpdate() : null;
      this.noteNonFinite(s, bad.cause, bad.param, loss);
      if (mode === "stop") this.stop(s, bad.cause, bad.param, loss);
      else this.finishStep(null);
      return record;
    }
    clipGradients(params, this.config.optimizer);
    if (mode !== "continue") this.saveBackup();
    const brokenAt = this.optimizer.step(!bad);
    const broken = brokenAt >= 0 ? params[brokenAt] : null;
    if (broken && mode !== "continue") return this.undoUpdate(s, broken, loss, recorded);
    if (bad || broken) this.noteNonFinite(s, bad ? bad.cause : "weight", bad ? bad.param : broken, loss);
    const record = recorded ? this.recorder.afterUpdate() : null;
    this.finishStep(loss);
    return record;
  }

  /** Copy the weights and the optimizer's moments aside before an update (not under "continue"). */
  private saveBackup(): void {
    this.model.params.forEach((p, i) => this.backup[i].set(p.value));
    this.optimizer.saveForUndo();
  }

  /** Undo the update since saveBackup: the weights, and the moments and step count too, so it leaves no trace. */
  private restoreBackup(): void {
    this.model.params.forEach((p, i) => p.value.set(this.backup[i]));
    this.optimizer.undo();
  }

  /** An update made `broken` NaN or ±Inf (its gradients were finite): undo it, note it, stop or drop the batch. */
  private undoUpdate(s: number, broken: Param, loss: number, recorded: boolean): StepRecord | null {
    this.restoreBackup();
    const record = recorded ? this.recorder.afterUpdate() : null;
    this.noteNonFinite(s, "weight", broken, loss);
    if (this.config.train.onNonFinite === "stop") this.stop(s, "weight", broken, loss);
    else this.finishStep(null);
    return record;
  }

  /** Count a step as done; `loss` is null when its batch was skipped. */
  private finishStep(loss: number | null): void {
    if (loss === null) this.skippedSteps++;
    else {
      const learnt = this.step - this.skippedSteps;  // steps learnt from before this one
      this.recent[learnt % this.recent.length] = loss;
      this.epochLossSum += loss;
      this.epochLossCount++;
    }
    this.step++;
    if (this.step % this.stepsPerEpoch === 0) this.endEpoch();
    else if (!this.primed) this.primeEvaluation();
  }

  /** Once, after a step: the evaluation's path on one batch of the test set (see evaluateFirst); no state changes. */
  private primeEvaluation(): void {
    this.primed = true;
    if (this.data.nTest > 0) this.evaluateFirst("test", this.batchSize);
  }

  private noteNonFinite(s: number, cause: NonFiniteCause, p: Param | null, loss: number): void {
    this.nonFinite.steps++;
    this.nonFinite.first ??= { step: s, cause, tensor: p ? p.name : null, loss };
  }

  private stop(s: number, cause: NonFiniteCause, p: Param | null, loss: number): void {
    const where = p ? { layer: layerOf(p), param: p.key } : {};
    if (cause === "loss") this.stopped = { step: s, reason: `the loss became ${loss} at step ${s}`, cause, ...where };
    else if (cause === "gradient") this.stopped = { step: s, reason: `a gradient became NaN or infinite at step ${s}`, cause, ...where };
    // No layer/param fields: they name a non-finite *gradient*; here the gradients were finite.
    else this.stopped = { step: s, reason: `the update at step ${s} made ${p!.name} NaN or infinite (the weights are kept as they were before it)`, cause };
  }

  private endEpoch(): void {
    const test = this.evaluate("test");
    this.lastEpochResult = { epoch: this.epoch, trainLoss: this.epochLossSum / this.epochLossCount, testAccuracy: test.accuracy, testLoss: test.loss };
    this.epochKeep.push(this.lastEpochResult);
  }

  /** Epochs finished so far. */
  get epochCount(): number {
    return this.epochKeep.count;
  }

  /** The latest finished epoch's results, or null before the first. */
  get lastEpoch(): EpochResult | null {
    return this.lastEpochResult;
  }

  /** The kept per-epoch results in order (all of them up to `keepEpochs`, then an even selection ending with the last). */
  get epochs(): EpochResult[] {
    return this.epochKeep.list();
  }

  /** The most per-epoch results held at once. */
  get keepEpochs(): number {
    return this.epochKeep.limit;
  }

  /** Mean batch loss over the last (up to 100) steps learnt from. */
  get finalLoss(): number {
    const n = Math.min(this.step - this.skippedSteps, this.recent.length);
    let s = 0;
    for (let i = 0; i < n; i++) s += this.recent[i];
    return n > 0 ? s / n : NaN;
  }

  /** The training state between two steps (copies; the model's tensors are not included). */
  snapshot(): TrainerSnapshot {
    return {
      step: this.step,
      epochs: this.epochs.map((e) => ({ ...e })),
      epochLossSum: this.epochLossSum,
      epochLossCount: this.epochLossCount,
      recent: Array.from(this.recent),
      skippedSteps: this.skippedSteps,
      nonFinite: { steps: this.nonFinite.steps, first: this.nonFinite.first && { ...this.nonFinite.first } },
      optimizer: this.optimizer.state(),
      sourceRng: this.source.rngState,
      epochRng: { ...this.epochRng, s: [...this.epochRng.s] },
      order: Int32Array.from(this.source.order),
    };
  }

  /**
   * Restore a snapshot taken from a trainer of the same config and data (the caller restores
   * the model's tensors). Throws RangeError when it cannot belong to this trainer; nothing is
   * changed then. Validating untrusted input is the caller's job (run-folder/checkpoint.ts).
   */
  restore(snap: TrainerSnapshot): void {
    const slots = this.optimizer.state().slots;
    const fits = snap.step >= 0 && snap.step <= this.totalSteps && snap.recent.length === this.recent.length &&
      snap.order.length === this.source.n &&
      snap.epochs.length === RecordKeep.positions(Math.floor(snap.step / this.stepsPerEpoch), this.epochKeep.limit).length &&
      snap.optimizer.slots.length === slots.length &&
      snap.optimizer.slots.every((sl, i) => sl.m.length === slots[i].m.length && sl.v.length === slots[i].v.length);
    if (!fits) throw new RangeError("Trainer.restore: the snapshot does not belong to this trainer");
    this.step = snap.step;
    const epochs = snap.epochs.map((e) => ({ ...e }));
    this.epochKeep.restore(epochs, Math.floor(snap.step / this.stepsPerEpoch));
    this.lastEpochResult = epochs.at(-1) ?? null;
    this.epochLossSum = snap.epochLossSum;
    this.epochLossCount = snap.epochLossCount;
    this.recent.set(snap.recent);
    this.skippedSteps = snap.skippedSteps;
    this.nonFinite.steps = snap.nonFinite.steps;
    this.nonFinite.first = snap.nonFinite.first && { ...snap.nonFinite.first };
    this.stopped = null;
    this.optimizer.setState(snap.optimizer);
    this.source.rngState = snap.sourceRng;
    this.epochRng = { ...snap.epochRng, s: [...snap.epochRng.s] };
    this.source.order.set(snap.order);
  }

  /** Accuracy and mean loss in evaluation mode over the test (or training) set, in order. */
  evaluate(which: "test" | "train" = "test"): EvalResult {
    return this.evaluateFirst(which, Infinity);
  }

  /**
   * The evaluation of the first `limit` examples of a set (all of them: evaluate). After the
   * first step the trainer runs it once on one batch of the test set, its result unused
   * (primeEvaluation): the evaluation's calls into the step's code (the batch source, the
   * model's forward in inference, the loss) then meet optimized code that has seen them, where
   * the first epoch's end otherwise deoptimized it (the seed's first evaluation took 45–65 ms
   * against 12 for the next; the steps after it ran deoptimized too).
   */
  private evaluateFirst(which: "test" | "train", limit: number): EvalResult {
    const d = this.data;
    const n = Math.min(limit, which === "test" ? d.nTest : d.nTrain);
    const src = which === "test"
      ? (this.testSource ??= new BatchSource(d.testImages, d.testLabels, d.nTest, d.rows, d.cols, this.config.data.view, 0))
      : this.source;
    const EB = Math.min(this.config.train.evalBatchSize, Math.max(1, n));
    // The loss is averaged over batches of EB examples, but the forward passes go a training
    // batch at a time: an example's logits do not depend on the batch it is in (accel/index.ts),
    // so the results are the same bits, and the passes reuse the buffers, kernel memory and
    // compiled code that training has warmed, instead of faulting in megabytes of fresh pages and
    // a batch size the JIT has not seen at the end of the first epoch.
    const C = Math.min(this.batchSize, EB), K = this.classes;
    // kept for the next evaluation (one per epoch)
    if (!this.evalBatch || this.evalBatch.y.length !== EB || this.evalBatch.yc.length !== C) {
      const dtype = this.model.dtype;
      this.evalBatch = { x: floats(dtype, C * size(this.inShape)), yc: new Int32Array(C), y: new Int32Array(EB), logits: floats(dtype, EB * K) };
    }
    const { x, yc, y, logits } = this.evalBatch;
    let correct = 0, lossSum = 0;
    for (let start = 0; start < n; start += EB) {
      const B = Math.min(EB, n - start);
      for (let c0 = 0; c0 < B; c0 += C) {
        const c = Math.min(C, B - c0);
        src.fill(start + c0, c, x, yc, true);
        const out = this.model.forward(x, c, false);
        for (let i = 0; i < c * K; i++) logits[c0 * K + i] = out[i];
        for (let i = 0; i < c; i++) y[c0 + i] = yc[i];
      }
      correct += countCorrect(logits, y, B, K);
      lossSum += this.loss.value(logits, y, B, K) * B;
    }
    return { accuracy: n ? correct / n : NaN, loss: n ? lossSum / n : NaN, examples: n };
  }
}

/** Whether the optimizer spec clips gradients (then the step takes the checked way: clipping comes between the check and the update). */
function clips(spec: Config["optimizer"]): boolean {
  return spec.clipValue !== undefined || spec.clipNorm !== undefined;
}

/** The first parameter whose gradient holds a NaN or ±Inf (kernels.hasNonFinite: one pass per tensor). */
function firstNonFinite(params: Param[]): Param | null {
  for (const p of params) if (accel.hasNonFinite(p.grad, p.grad.length)) return p;
  return null;
}

/** "dense1" for "dense1.weight", "res1.dense2" for "res1.dense2.bias". */
function layerOf(p: Param): string {
  return p.name.slice(0, p.name.length - p.key.length - 1);
}
