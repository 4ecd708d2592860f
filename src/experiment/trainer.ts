/**
 * The training loop shared by the CLI and the browser worker: no files, no clocks. One call to
 * step() trains one minibatch; steps 0, every, 2·every, … and the last are recorded (step 0
 * is measured before the first update: the network at initialization).
 */
import { buildModel, lossFor, type Model } from "../core/model.ts";
import { countCorrect, type Loss } from "../core/losses.ts";
import { clipGradients, Optimizer } from "../core/optim.ts";
import type { DType, FloatArray } from "../core/tensor.ts";
import { floats, size } from "../core/tensor.ts";
import type { Dataset } from "../data/datasets.ts";
import { BatchSource, viewShape } from "../data/views.ts";
import { Recorder, type StepRecord } from "../instrument/recorder.ts";
import type { Config } from "./config.ts";

export interface EvalResult { accuracy: number; loss: number; examples: number }
export interface EpochResult { epoch: number; trainLoss: number; testAccuracy: number; testLoss: number }

/** Why training ended early, if it did. */
export interface Stop { step: number; reason: string; layer?: string; param?: string }

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
  readonly epochs: EpochResult[] = [];
  /** batch losses of the current epoch, summed */
  private epochLossSum = 0;
  /** the last few batch losses (ring buffer) for a smoothed final loss */
  private readonly recent: Float64Array;
  private readonly x: FloatArray; // [B, ...inShape]
  private readonly y: Int32Array; // [B]

  constructor(readonly config: Config, readonly data: Dataset, dtype: DType = "f32") {
    const { train } = config;
    this.inShape = viewShape(config.data.view, data.rows, data.cols);
    this.classes = data.classes;
    this.model = buildModel(config.model, this.inShape, this.classes, { dtype, seed: train.seed });
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
  }

  get epoch(): number { return Math.floor(this.step / this.stepsPerEpoch); }
  get done(): boolean { return this.step >= this.totalSteps || this.stopped !== null; }

  /** Whether step number s is recorded. */
  isRecorded(s: number): boolean {
    return s % this.config.record.every === 0 || s === this.totalSteps - 1;
  }

  /**
   * Train one minibatch. Returns the step's metrics record when the step is recorded (or when a
   * non-finite loss stops the run), else null.
   */
  trainStep(): StepRecord | null {
    if (this.done) return null;
    const s = this.step;
    const inEpoch = s % this.stepsPerEpoch;
    if (inEpoch === 0) { this.source.shuffle(); this.epochLossSum = 0; }
    const start = inEpoch * this.batchSize;
    const B = Math.min(this.batchSize, this.source.n - start);
    this.source.fill(start, B, this.x, this.y);
    const loss = this.model.forwardBackward(this.x, this.y, B, this.loss);
    const logits = this.model.logits!;
    const finite = Number.isFinite(loss);
    const recorded = this.isRecorded(s) || !finite;
    if (recorded) {
      const acc = countCorrect(logits, this.y, B, this.classes) / B;
      this.recorder.beforeUpdate(s, this.epoch, loss, acc, B);
    }
    let record: StepRecord | null = null;
    if (!finite) {
      // Stop before the update so the weights stay those that produced the last finite step.
      this.optimizer.zeroGrad();
      record = this.recorder.afterUpdate();
      this.stopped = { step: s, reason: `the loss became ${loss} at step ${s}`, ...firstNonFinite(record) };
      return record;
    }
    clipGradients(this.model.params, this.config.optimizer);
    this.optimizer.step();
    if (recorded) record = this.recorder.afterUpdate();
    this.recent[s % this.recent.length] = loss;
    this.epochLossSum += loss;
    this.step++;
    if (this.step % this.stepsPerEpoch === 0) this.endEpoch();
    return record;
  }

  private endEpoch(): void {
    const test = this.evaluate("test");
    this.epochs.push({ epoch: this.epoch, trainLoss: this.epochLossSum / this.stepsPerEpoch, testAccuracy: test.accuracy, testLoss: test.loss });
  }

  /** Mean batch loss over the last (up to 100) steps. */
  get finalLoss(): number {
    const n = Math.min(this.step, this.recent.length);
    let s = 0;
    for (let i = 0; i < n; i++) s += this.recent[i];
    return n > 0 ? s / n : NaN;
  }

  /** Accuracy and mean loss in evaluation mode over the test (or training) set, in order. */
  evaluate(which: "test" | "train" = "test"): EvalResult {
    const d = this.data;
    const n = which === "test" ? d.nTest : d.nTrain;
    const src = which === "test"
      ? new BatchSource(d.testImages, d.testLabels, d.nTest, d.rows, d.cols, this.config.data.view, 0)
      : this.source;
    const EB = Math.min(this.config.train.evalBatchSize, Math.max(1, n));
    const x = floats(this.model.dtype, EB * size(this.inShape));
    const y = new Int32Array(EB);
    let correct = 0, lossSum = 0;
    for (let start = 0; start < n; start += EB) {
      const B = Math.min(EB, n - start);
      src.fill(start, B, x, y, true);
      const logits = this.model.forward(x, B, false);
      correct += countCorrect(logits, y, B, this.classes);
      lossSum += this.loss.value(logits, y, B, this.classes) * B;
    }
    return { accuracy: n ? correct / n : NaN, loss: n ? lossSum / n : NaN, examples: n };
  }
}

/** The first layer/parameter whose gradient holds a NaN or Inf, for the stop message. */
function firstNonFinite(rec: StepRecord): { layer?: string; param?: string } {
  for (const l of rec.layers) for (const [k, p] of Object.entries(l.params)) if (p.nonFinite > 0) return { layer: l.name, param: k };
  return {};
}
