/**
 * The training worker: it owns the model. It loads MNIST, builds the same Trainer the CLI uses
 * (src/experiment/trainer.ts) and trains in ticks of at most ~40 ms, so commands (pause, step,
 * speed) are answered between ticks and the page never waits on training. After each tick it
 * posts the new metrics records (the config's, and the lab's denser ones early on: cadence.ts),
 * the new per-epoch test results and a per-unit view of the last step (Float32Arrays,
 * transferred); when training pauses, and before the first step, it also posts the network as
 * it is now, measured on the next batch without training (src/instrument/walk.ts look), so the
 * page always draws the current step. The measuring lives in src/instrument; this file only
 * schedules. One worker trains one configuration; A/B mode runs two. Each run's kernels take one
 * thread or two (a helper worker) by the CLI's rule where the page allows it (kernel-threads.ts).
 */
/// <reference lib="webworker" />
import { chooseThreads } from "../accel/threads.ts";
import { ACTIVATIONS } from "../core/activations.ts";
import { InputError } from "../core/errors.ts";
import { exp } from "../core/math.ts";
import { floats, size } from "../core/tensor.ts";
import { viewShape } from "../data/views.ts";
import type { Config } from "../experiment/config.ts";
import { Trainer, type EpochResult } from "../experiment/trainer.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import { checkModel, describeModel, look, unitStats, type ModelInfo, type UnitStats } from "../instrument/walk.ts";
import { labRecords } from "./cadence.ts";
import { hasSimd, releaseHelper, useThreads } from "./kernel-threads.ts";
import { loadMnist } from "./mnist.ts";
import type { Curve, FromWorker, Prediction, SpeedSetting, ThreadChoice, ToWorker } from "./protocol.ts";
import { decideThreads } from "./thread-choice.ts";

declare const self: DedicatedWorkerGlobalScope;

/** Most records kept for export; beyond it every other one is dropped (step 0 and the last stay). */
const MAX_KEPT_RECORDS = 50_000;
/** Wall time of one training tick before the worker looks at its messages again. */
const TICK_MS = 40;
/** Largest model built, in parameters (a bigger one would exhaust the tab). */
const MAX_PARAMS = 20_000_000;

let gen = 0;
let trainer: LabTrainer | null = null;
/** play: train until paused or done; steps: train this many more steps, then pause */
let mode: { kind: "idle" } | { kind: "play" } | { kind: "steps"; left: number } = { kind: "idle" };
let speed: SpeedSetting = 1000;
let kept: StepRecord[] = [];
let thinned = false;
let unsent: StepRecord[] = [];
let epochsSent = 0;
/** batch size of the last trained step (the last batch of an epoch may be short) */
let lastBatch = 0;
let scheduled = false;
let lastTick = 0;
let owed = 0;
/** the cores this worker's runs may count on: the machine's until the page says otherwise (A/B) */
let cores = self.navigator.hardwareConcurrency || 1;
/** the kernel threads of the run in progress (null before the first init) */
let threads: ThreadChoice | null = null;

const post = (msg: FromWorker, transfer: Transferable[] = []) => self.postMessage(msg, transfer);

// A zero-delay macrotask (setTimeout(0) is clamped to 4 ms when nested).
const wake = new MessageChannel();
wake.port1.onmessage = () => tick();
function schedule(delay: number): void {
  if (scheduled) return;
  scheduled = true;
  if (delay <= 0) wake.port2.postMessage(0);
  else setTimeout(tick, delay);
}

function message(e: unknown): string {
  if (e instanceof InputError) return e.message;
  if (e instanceof RangeError) return `the network does not fit in this tab's memory (${e.message}); make it smaller`;
  return `internal error: ${e instanceof Error ? e.message : String(e)}`;
}

/** Build the model once to learn its shapes (MNIST: 28×28 inputs, 10 classes). */
function check(config: Config): ModelInfo {
  return checkModel(config.model, viewShape(config.data.view, 28, 28), 10, config.train.seed, MAX_PARAMS, "the browser lab");
}

/** The kernel threads for `config` here: the CLI's rule (accel/threads.ts) where the page and the cores allow two. */
function choose(config: Config): ThreadChoice {
  const wanted = chooseThreads(config.model.layers, viewShape(config.data.view, 28, 28));
  return decideThreads({ wanted, isolated: self.crossOriginIsolated === true, simd: hasSimd(), cores });
}

/** Put the run's kernels on `choice`'s threads and tell the page what they run on. */
function runOn(choice: ThreadChoice): void {
  threads = useThreads(choice, helperFailed);
  if (threads.count === 1) releaseHelper();
  post({ type: "threads", gen, threads });
}

/** The helper worker failed to load: the kernels are back on one thread; say so if the run had two. */
function helperFailed(): void {
  if (threads?.count !== 2) return;
  threads = { count: 1, reason: "helper-failed" };
  post({ type: "threads", gen, threads });
}

/**
 * Run `work` (synchronous) with the kernels on the threads `config` takes, then put them back on
 * the run's: a bench or short run beside the run in progress trains as it would on its own.
 */
function onThreadsOf<T>(config: Config, work: (on: ThreadChoice) => T): T {
  const on = useThreads(choose(config), helperFailed);
  try { return work(on); } finally { if (threads) useThreads(threads, helperFailed); }
}

/**
 * The CLI's Trainer, recording besides the config's steps the lab's (cadence.ts) and, while
 * `everyStep` is set (the Step button), every step.
 */
class LabTrainer extends Trainer {
  everyStep = false;
  override isRecorded(s: number): boolean {
    return super.isRecorded(s) || labRecords(s) || this.everyStep;
  }
  /** Whether `gradlab run` records this record too (its schedule, or the first non-finite step). */
  cliRecords(rec: StepRecord): boolean {
    return super.isRecorded(rec.step) || this.nonFinite.first?.step === rec.step;
  }
}

// ---------------------------------------------------------------------------------------------
// Training.

async function init(g: number, config: Config, dataUrl: string): Promise<void> {
  gen = g;
  trainer = null;
  mode = { kind: "idle" };
  kept = [];
  thinned = false;
  unsent = [];
  epochsSent = 0;
  try {
    check(config); // cheap refusal of models too large to build twice
    const data = await loadMnist(dataUrl, config.data.train, config.data.test, (what, done, total) => post({ type: "loading", gen: g, what, done, total }));
    if (g !== gen) return;
    runOn(choose(config));
    const t = new LabTrainer(config, data);
    trainer = t;
    post({ type: "ready", gen: g, model: describeModel(t.model, config.model.layers, t.classes), totalSteps: t.totalSteps, stepsPerEpoch: t.stepsPerEpoch, batchSize: t.batchSize, nTrain: data.nTrain, nTest: data.nTest });
    if (mode.kind !== "idle") { lastTick = performance.now(); schedule(0); }
    else flush(null); // the network at initialization, drawn before the first step
  } catch (e) {
    if (g === gen) post({ type: "error", gen: g, message: message(e) });
  }
}

/** One training step, keeping its record (for export only the records the CLI keeps too). */
function trainOne(t: LabTrainer): void {
  const inEpoch = t.step % t.stepsPerEpoch;
  lastBatch = Math.min(t.batchSize, t.source.n - inEpoch * t.batchSize);
  t.everyStep = mode.kind === "steps";
  const rec = t.trainStep();
  if (!rec) return;
  unsent.push(rec);
  if (!t.cliRecords(rec)) return;
  kept.push(rec);
  if (kept.length > MAX_KEPT_RECORDS) {
    kept = kept.filter((_, i) => i === 0 || i === kept.length - 1 || i % 2 === 1);
    thinned = true;
  }
}

function tick(): void {
  scheduled = false;
  const t = trainer;
  if (!t || mode.kind === "idle") return;
  const t0 = performance.now();
  let n = 0;
  try {
    if (mode.kind === "steps" || speed === "max") {
      while (!t.done && performance.now() - t0 < TICK_MS && (mode.kind !== "steps" || mode.left > 0)) {
        trainOne(t);
        n++;
        if (mode.kind === "steps") mode.left--;
      }
    } else {
      // Throttled: the steps owed since the last tick (at most a quarter second's worth).
      owed = Math.min(owed + ((t0 - lastTick) / 1000) * speed, Math.max(1, speed / 4));
      while (owed >= 1 && !t.done && performance.now() - t0 < TICK_MS) { trainOne(t); n++; owed--; }
    }
  } catch (e) {
    mode = { kind: "idle" };
    post({ type: "error", gen, message: message(e) });
    return;
  }
  lastTick = t0;
  const seconds = (performance.now() - t0) / 1000;
  if (t.done || (mode.kind === "steps" && mode.left <= 0)) mode = { kind: "idle" };
  flush(n > 0 && seconds > 0 ? (n * t.batchSize) / seconds : null, n > 0);
  if (mode.kind !== "idle") schedule(mode.kind === "steps" || speed === "max" ? 0 : 50);
}

/**
 * Post what is new: records, epoch results, and the per-unit view of the last trained step
 * (`trained`); when training is paused, the network now, measured on the next batch.
 */
function flush(samplesPerSecond: number | null, trained = false): void {
  const t = trainer;
  if (!t) return;
  const epochs: EpochResult[] = t.epochCount > epochsSent ? t.epochs.filter((e) => e.epoch > epochsSent) : [];
  epochsSent = t.epochCount;
  let units: UnitStats[] = trained ? unitStats(t.model, lastBatch) : [];
  let now: StepRecord | null = null;
  if (mode.kind === "idle" && !t.done) {
    const seen = look(t);
    now = seen.record;
    units = seen.units;
  }
  post({
    type: "progress", gen,
    progress: {
      step: t.step, epoch: t.epoch, totalSteps: t.totalSteps, stepsPerEpoch: t.stepsPerEpoch,
      records: unsent, now, epochs, units, playing: mode.kind !== "idle", done: t.done, stopped: t.stopped, samplesPerSecond,
    },
  }, units.map((u) => u.meanAbsDelta.buffer));
  unsent = [];
}

/** The backward walk through the next batch (nothing trained), posted with its vectors transferred. */
function walk(t: Trainer): void {
  const w = look(t).walk;
  const transfer: Transferable[] = [w.image.buffer];
  for (const st of w.stages) transfer.push(st.inVec.buffer, st.outVec.buffer, ...(st.deltaVec ? [st.deltaVec.buffer] : []));
  post({ type: "walk", gen, walk: w }, transfer);
}

// ---------------------------------------------------------------------------------------------
// Throughput, measured on a fresh Trainer so the run in progress is not disturbed.

async function bench(id: number, config: Config, dataUrl: string, steps: number, warmup: number): Promise<void> {
  try {
    const data = await loadMnist(dataUrl, config.data.train, config.data.test);
    const { n, seconds, batchSize, on } = onThreadsOf(config, (on) => {
      const t = new Trainer(config, data);
      for (let i = 0; i < warmup && !t.done; i++) t.trainStep();
      const t0 = performance.now();
      let n = 0;
      for (; n < steps && !t.done; n++) t.trainStep();
      return { n, seconds: (performance.now() - t0) / 1000, batchSize: t.batchSize, on };
    });
    post({ type: "bench", id, samplesPerSecond: (n * batchSize) / seconds, steps: n, seconds, threads: on });
  } catch (e) {
    post({ type: "bench-error", id, message: message(e) });
  }
}

/** A short run of `config` on a fresh Trainer (the run in progress is not disturbed). */
async function shortRun(id: number, config: Config, dataUrl: string, steps: number): Promise<void> {
  try {
    check(config);
    const data = await loadMnist(dataUrl, config.data.train, config.data.test);
    const { t, records } = onThreadsOf(config, () => {
      const t = new Trainer(config, data);
      const records: StepRecord[] = [];
      for (let n = 0; n < steps && !t.done; n++) { const r = t.trainStep(); if (r) records.push(r); }
      return { t, records };
    });
    post({ type: "ran", id, ok: true, records, epochs: t.epochs, stopped: t.stopped, steps: t.step });
  } catch (e) {
    post({ type: "ran", id, ok: false, message: message(e) });
  }
}

/**
 * The network as it is now on one input, layer by layer: each top-level layer's output and the
 * softmax of the logits. A forward pass in evaluation mode with a batch of one: it overwrites
 * no weight, no statistic and nothing the next training step reads before writing it.
 */
function predict(id: number, pixels: Float32Array | null, testIndex: number | null): void {
  const t = trainer;
  if (!t) { post({ type: "predicted", id, ok: false, message: "the network is not built yet" }); return; }
  const px = size(t.inShape);
  let image: Float32Array, label: number | null = null;
  if (pixels) {
    if (pixels.length !== px) { post({ type: "predicted", id, ok: false, message: `expected ${px} pixels, got ${pixels.length}` }); return; }
    image = pixels;
  } else {
    const i = testIndex ?? 0;
    if (!Number.isInteger(i) || i < 0 || i >= t.data.nTest) { post({ type: "predicted", id, ok: false, message: `test example ${i} is not in 0..${t.data.nTest - 1}` }); return; }
    image = new Float32Array(px);
    for (let k = 0; k < px; k++) image[k] = t.data.testImages[i * px + k] / 255;
    label = t.data.testLabels[i];
  }
  const x = floats(t.model.dtype, px); // [1, ...inShape]
  x.set(image);
  const names = describeModel(t.model, t.config.model.layers, t.classes).layers.filter((l) => l.depth === 0).map((l) => l.name);
  const layers: { name: string; values: Float32Array }[] = [];
  let hNow = x;
  t.model.layers.forEach((l, k) => {
    hNow = l.forward(hNow, 1, false);
    layers.push({ name: names[k] ?? `layer${k + 1}`, values: Float32Array.from(hNow.subarray(0, size(l.outShape))) });
  });
  const logits = layers[layers.length - 1].values;
  const probs = new Float32Array(logits.length);
  const m = Math.max(...logits);
  let z = 0;
  for (let c = 0; c < logits.length; c++) { probs[c] = exp(logits[c] - m); z += probs[c]; }
  for (let c = 0; c < logits.length; c++) probs[c] /= z;
  const prediction: Prediction = { image: Float32Array.from(image), label, layers, probs, step: t.step };
  post({ type: "predicted", id, ok: true, prediction }, [prediction.image.buffer, probs.buffer, ...layers.map((l) => l.values.buffer)]);
}

/** f and f′ of every activation on z ∈ [−6, 6], sampled by the engine's own functions. */
function curves(): Curve[] {
  const N = 241;
  return Object.values(ACTIVATIONS).map((a) => {
    const z = new Float32Array(N), f = new Float32Array(N), df = new Float32Array(N);
    for (let i = 0; i < N; i++) { const v = -6 + (12 * i) / (N - 1); z[i] = v; f[i] = a.f(v); df[i] = a.df(v, a.f(v)); }
    return { name: a.name, z, f, df, maxDf: a.maxDf };
  });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  try {
    switch (msg.type) {
      case "init": void init(msg.gen, msg.config, msg.dataUrl); break;
      case "play":
        if (msg.gen !== gen) break;
        mode = { kind: "play" };
        lastTick = performance.now();
        owed = 1; // the first step at once
        schedule(0);
        break;
      case "pause":
        if (msg.gen !== gen) break;
        mode = { kind: "idle" };
        flush(null);
        break;
      case "step":
        if (msg.gen !== gen) break;
        mode = { kind: "steps", left: msg.steps };
        schedule(0);
        break;
      case "speed": speed = msg.speed; break;
      case "cores":
        cores = msg.cores;
        if (trainer) runOn(choose(trainer.config));
        break;
      case "check":
        try { post({ type: "checked", id: msg.id, ok: true, model: check(msg.config) }); }
        catch (err) { post({ type: "checked", id: msg.id, ok: false, message: message(err) }); }
        break;
      case "backprop":
        if (msg.gen === gen && trainer && !trainer.done) walk(trainer);
        break;
      case "records":
        post({ type: "records", id: msg.id, gen, records: msg.gen === gen ? kept : [], epochs: msg.gen === gen && trainer ? trainer.epochs : [], thinned });
        break;
      case "bench": void bench(msg.id, msg.config, msg.dataUrl, msg.steps, msg.warmup); break;
      case "run": void shortRun(msg.id, msg.config, msg.dataUrl, msg.steps); break;
      case "predict":
        if (msg.gen !== gen) { post({ type: "predicted", id: msg.id, ok: false, message: "the network was replaced" }); break; }
        predict(msg.id, msg.pixels, msg.testIndex);
        break;
    }
  } catch (err) {
    post({ type: "error", gen, message: message(err) });
  }
};

{
  const cs = curves();
  post({ type: "curves", curves: cs }, cs.flatMap((c) => [c.z.buffer, c.f.buffer, c.df.buffer]));
}
