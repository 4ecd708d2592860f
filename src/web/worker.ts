/**
 * The training worker: it owns the model. It loads MNIST, builds the same Trainer the CLI uses
 * (src/experiment/trainer.ts) and trains in ticks of at most ~40 ms, so commands (pause, step,
 * speed) are answered between ticks and the page never waits on training. After each tick it
 * posts the new metrics records, the new per-epoch test results and a per-unit view of the last
 * step (Float32Arrays, transferred). One worker trains one configuration; A/B mode runs two.
 */
/// <reference lib="webworker" />
import { ACTIVATIONS } from "../core/activations.ts";
import { InputError } from "../core/errors.ts";
import type { Layer } from "../core/layers/layer.ts";
import { buildModel, type Model } from "../core/model.ts";
import type { LayerSpec } from "../core/spec.ts";
import { size, type FloatArray } from "../core/tensor.ts";
import { viewShape } from "../data/views.ts";
import type { Config } from "../experiment/config.ts";
import { Trainer, type EpochResult } from "../experiment/trainer.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import { sumRowNorms } from "../instrument/stats.ts";
import { loadMnist } from "./mnist.ts";
import {
  MAX_UNITS, WALK_VALUES,
  type Curve, type FromWorker, type LayerInfo, type ModelInfo, type SpeedSetting, type ToWorker, type UnitStats, type WalkStage,
} from "./protocol.ts";

declare const self: DedicatedWorkerGlobalScope;

/** Most records kept for export; beyond it every other one is dropped (step 0 and the last stay). */
const MAX_KEPT_RECORDS = 50_000;
/** Wall time of one training tick before the worker looks at its messages again. */
const TICK_MS = 40;
/** Largest model built, in parameters (a bigger one would exhaust the tab). */
const MAX_PARAMS = 20_000_000;

let gen = 0;
let trainer: Trainer | null = null;
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

// ---------------------------------------------------------------------------------------------
// Model descriptions.

function describe(model: Model, specs: LayerSpec[], classes: number): ModelInfo {
  const out: LayerInfo[] = [];
  const walk = (layers: Layer[], ls: LayerSpec[], path: string, depth: number) => {
    layers.forEach((l, i) => {
      const p = `${path}[${i}]`;
      const spec = ls[i];
      out.push({
        name: l.name, type: l.type, depth, path: p, inShape: [...l.inShape], outShape: [...l.outShape],
        params: l.params.reduce((s, q) => s + q.value.length, 0),
        activation: l.probe()?.act?.name ?? (spec && "activation" in spec && spec.activation ? spec.activation : null),
        recurrent: typeof l.timeProbe === "function",
      });
      if (l.children && spec?.type === "residual") walk(l.children, spec.layers, `${p}.layers`, depth + 1);
    });
  };
  walk(model.layers, specs, "model.layers", 0);
  return { layers: out, params: model.params.reduce((s, q) => s + q.value.length, 0), inShape: [...model.inShape], classes };
}

/** Build the model once to learn its shapes (MNIST: 28×28 inputs, 10 classes). */
function check(config: Config): ModelInfo {
  const model = buildModel(config.model, viewShape(config.data.view, 28, 28), 10, { seed: config.train.seed });
  const info = describe(model, config.model.layers, 10);
  if (info.params > MAX_PARAMS) throw new InputError(`model.layers: ${info.params.toLocaleString("en")} parameters; the browser lab builds at most ${MAX_PARAMS.toLocaleString("en")}`);
  return info;
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
    const t = new Trainer(config, data);
    trainer = t;
    post({ type: "ready", gen: g, model: describe(t.model, config.model.layers, t.classes), totalSteps: t.totalSteps, stepsPerEpoch: t.stepsPerEpoch, batchSize: t.batchSize, nTrain: data.nTrain, nTest: data.nTest });
    if (mode.kind !== "idle") { lastTick = performance.now(); schedule(0); }
  } catch (e) {
    if (g === gen) post({ type: "error", gen: g, message: message(e) });
  }
}

/** One training step, keeping its record. */
function trainOne(t: Trainer): void {
  const inEpoch = t.step % t.stepsPerEpoch;
  lastBatch = Math.min(t.batchSize, t.source.n - inEpoch * t.batchSize);
  const rec = t.trainStep();
  if (!rec) return;
  unsent.push(rec);
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
  flush(n > 0 && seconds > 0 ? (n * t.batchSize) / seconds : null);
  if (mode.kind !== "idle") schedule(mode.kind === "steps" || speed === "max" ? 0 : 50);
}

/** Post what is new: records, epoch results, and the per-unit view of the last step. */
function flush(samplesPerSecond: number | null): void {
  const t = trainer;
  if (!t) return;
  const epochs: EpochResult[] = t.epochs.slice(epochsSent);
  epochsSent = t.epochs.length;
  const units = unitStats(t);
  post({
    type: "progress", gen,
    progress: {
      step: t.step, epoch: t.epoch, totalSteps: t.totalSteps, stepsPerEpoch: t.stepsPerEpoch,
      records: unsent, epochs, units, playing: mode.kind !== "idle", done: t.done, stopped: t.stopped, samplesPerSecond,
    },
  }, units.map((u) => u.meanAbsDelta.buffer));
  unsent = [];
}

/**
 * Mean |δ| per unit over the last batch (per channel for [C, H, W] layers, the first MAX_UNITS)
 * and the mean of f′(z), read from the layers' probes after the step.
 */
function unitStats(t: Trainer): UnitStats[] {
  const out: UnitStats[] = [];
  const B = lastBatch;
  if (t.step === 0 || B === 0) return out;
  for (const layer of t.model.allLayers) {
    const p = layer.probe();
    if (!p || !p.dz) continue;
    const spatial = layer.outShape.length === 3 ? layer.outShape[1] * layer.outShape[2] : 1;
    const channels = Math.max(1, Math.round(p.units / spatial));
    const shown = Math.min(channels, MAX_UNITS);
    const mean = new Float32Array(shown);
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < shown; c++) {
        let s = 0;
        for (let k = 0, o = b * p.units + c * spatial; k < spatial; k++) s += Math.abs(p.dz[o + k]);
        mean[c] += s / spatial / B;
      }
    }
    let meanDf: number | null = null;
    if (p.act && p.z && p.y) {
      let s = 0;
      const n = Math.min(B * p.units, p.z.length, p.y.length);
      for (let i = 0; i < n; i++) s += p.act.df(p.z[i], p.y[i]);
      meanDf = n > 0 ? s / n : null;
    }
    out.push({ name: layer.name, meanAbsDelta: mean, units: channels, meanDf, maxDf: p.act?.maxDf ?? null });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The backward walk: the next batch, layer by layer, without training.

/** The first `n` values of example 0 of a [B, …] buffer. */
function firstExample(x: FloatArray, perExample: number): Float32Array {
  return Float32Array.from(x.subarray(0, Math.min(perExample, WALK_VALUES)));
}

function walk(): void {
  const t = trainer;
  if (!t) return;
  const m = t.model;
  const src = t.source;
  const inEpoch = t.step % t.stepsPerEpoch;
  const B = Math.min(t.batchSize, src.n - inEpoch * t.batchSize);
  const perExample = size(t.inShape);
  const x = new Float32Array(B * perExample); // [B, ...inShape]
  const y = new Int32Array(B);                // [B]
  if (inEpoch === 0) {
    // The next step shuffles first: draw that shuffle, then put the generator back, so the
    // run continues exactly as if the walk had not happened.
    const rng = src.rngState;
    const order = src.order.slice();
    src.shuffle();
    src.fill(0, B, x, y);
    src.rngState = rng;
    src.order.set(order);
  } else src.fill(inEpoch * t.batchSize, B, x, y);
  const saved = m.buffers.map((b) => b.value.slice()); // batch norm's running statistics
  try {
    const logits = m.forward(x, B, true);
    const C = t.classes;
    const dLogits = new Float32Array(B * C); // [B, C]
    const loss = t.loss.forwardBackward(logits, y, B, C, dLogits);
    let d: FloatArray = dLogits;
    const stages: WalkStage[] = [];
    for (let i = m.layers.length - 1; i >= 0; i--) {
      const layer = m.layers[i];
      const outSize = size(layer.outShape), inSize = size(layer.inShape);
      const inNorm = sumRowNorms(d, B, outSize);
      const inVec = firstExample(d, outSize);
      const dx: FloatArray = layer.backward(d, B, true)!;
      const p = layer.probe();
      let deltaNorm: number | null = null, deltaVec: Float32Array | null = null, meanDf: number | null = null, maxDf: number | null = null;
      if (p && p.dz && p.act && p.z && p.y) {
        deltaNorm = sumRowNorms(p.dz, B, p.units);
        deltaVec = firstExample(p.dz, p.units);
        let s = 0;
        for (let k = 0; k < B * p.units; k++) s += p.act.df(p.z[k], p.y[k]);
        meanDf = s / (B * p.units);
        maxDf = p.act.maxDf;
      }
      stages.push({
        name: layer.name, type: layer.type, activation: p?.act?.name ?? null,
        inNorm, deltaNorm, outNorm: sumRowNorms(dx, B, inSize), meanDf, maxDf,
        inVec, deltaVec, outVec: firstExample(dx, inSize), outShape: [...layer.inShape],
      });
      d = dx;
    }
    const image = x.slice(0, perExample);
    const transfer: Transferable[] = [image.buffer];
    for (const s of stages) transfer.push(s.inVec.buffer, s.outVec.buffer, ...(s.deltaVec ? [s.deltaVec.buffer] : []));
    post({ type: "walk", gen, walk: { step: t.step, batch: B, loss, image, label: y[0], stages } }, transfer);
  } finally {
    t.optimizer.zeroGrad();
    m.buffers.forEach((b, i) => b.value.set(saved[i]));
  }
}

// ---------------------------------------------------------------------------------------------
// Throughput, measured on a fresh Trainer so the run in progress is not disturbed.

async function bench(id: number, config: Config, dataUrl: string, steps: number, warmup: number): Promise<void> {
  try {
    const data = await loadMnist(dataUrl, config.data.train, config.data.test);
    const t = new Trainer(config, data);
    for (let i = 0; i < warmup && !t.done; i++) t.trainStep();
    const t0 = performance.now();
    let n = 0;
    for (; n < steps && !t.done; n++) t.trainStep();
    const seconds = (performance.now() - t0) / 1000;
    post({ type: "bench", id, samplesPerSecond: (n * t.batchSize) / seconds, steps: n, seconds });
  } catch (e) {
    post({ type: "bench-error", id, message: message(e) });
  }
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
      case "check":
        try { post({ type: "checked", id: msg.id, ok: true, model: check(msg.config) }); }
        catch (err) { post({ type: "checked", id: msg.id, ok: false, message: message(err) }); }
        break;
      case "backprop":
        if (msg.gen === gen && trainer) walk();
        break;
      case "records":
        post({ type: "records", id: msg.id, gen, records: msg.gen === gen ? kept : [], epochs: msg.gen === gen && trainer ? trainer.epochs : [], thinned });
        break;
      case "bench": void bench(msg.id, msg.config, msg.dataUrl, msg.steps, msg.warmup); break;
    }
  } catch (err) {
    post({ type: "error", gen, message: message(err) });
  }
};

{
  const cs = curves();
  post({ type: "curves", curves: cs }, cs.flatMap((c) => [c.z.buffer, c.f.buffer, c.df.buffer]));
}
