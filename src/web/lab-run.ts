/**
 * The page's side of one training worker: it sends validated configs and commands, and keeps
 * what the charts draw, in bounded memory (RecordStore). One RunController per configuration;
 * A/B mode has two, each with its own worker.
 */
import type { Config } from "../experiment/config.ts";
import type { EpochResult, Stop } from "../experiment/trainer.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import type { Curve, FromWorker, ModelInfo, Prediction, SpeedSetting, ThreadChoice, ToWorker, UnitStats, Walk } from "./protocol.ts";

/**
 * Recorded steps kept for the charts: at most `cap`. When full, every other record is dropped
 * (the first and the last stay), so the history always spans the whole run at half the density.
 * @example const s = new RecordStore(4); s.push([r0, r1, r2, r3, r4]); s.records.length // 3
 */
export class RecordStore {
  records: StepRecord[] = [];
  /** true once records were dropped */
  thinned = false;
  constructor(readonly cap = 2000) {}

  push(recs: readonly StepRecord[]): void {
    for (const r of recs) {
      this.records.push(r);
      if (this.records.length > this.cap) {
        const last = this.records.length - 1;
        this.records = this.records.filter((_, i) => i === 0 || i === last || i % 2 === 0);
        this.thinned = true;
      }
    }
  }

  clear(): void { this.records = []; this.thinned = false; }
  get last(): StepRecord | undefined { return this.records[this.records.length - 1]; }
}

export type RunStatus = "empty" | "checking" | "loading" | "ready" | "error";

export class RunController {
  private worker: Worker;
  private gen = 0;
  private nextId = 1;
  private checkId = 0;
  private waiting = new Map<number, (msg: FromWorker) => void>();
  private wantPlay = false;
  private speed: SpeedSetting = 1000;

  config: Config | null = null;
  private configKey = "";
  model: ModelInfo | null = null;
  status: RunStatus = "empty";
  error: string | null = null;
  loading: string | null = null;
  readonly store = new RecordStore();
  epochs: EpochResult[] = [];
  units: UnitStats[] = [];
  step = 0;
  totalSteps = 0;
  stepsPerEpoch = 0;
  batchSize = 0;
  playing = false;
  done = false;
  stopped: Stop | null = null;
  samplesPerSecond: number | null = null;
  /** the kernel threads the run trains on (null until the worker has decided) */
  threads: ThreadChoice | null = null;
  curves: Curve[] = [];
  lastWalk: Walk | null = null;
  /** the network now (paused, stepped or not yet trained), measured on the next batch; null while training */
  now: StepRecord | null = null;

  constructor(readonly side: "a" | "b", private readonly dataUrl: string, private readonly onChange: (run: RunController, what: "progress" | "status" | "walk" | "curves") => void) {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: `gradlab-${this.side}` });
    w.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      this.fail(`the training worker stopped (${e.message || "out of memory?"}); press Reset to start again`);
      this.worker.terminate();
      this.worker = this.spawn();
      this.configKey = "";
    };
    return w;
  }

  private send(msg: ToWorker): void { this.worker.postMessage(msg); }

  private fail(message: string): void {
    this.status = "error";
    this.error = message;
    this.playing = false;
    this.wantPlay = false;
    this.onChange(this, "status");
  }

  private receive(msg: FromWorker): void {
    if ("id" in msg) {
      const done = this.waiting.get(msg.id);
      if (done) { this.waiting.delete(msg.id); done(msg); }
    }
    switch (msg.type) {
      case "curves": this.curves = msg.curves; this.onChange(this, "curves"); return;
      case "checked": {
        if (msg.id !== this.checkId) return;
        if (!msg.ok) { this.model = null; this.fail(msg.message); return; }
        this.model = msg.model;
        this.status = "loading";
        this.loading = "MNIST";
        this.send({ type: "init", gen: this.gen, config: this.config!, dataUrl: this.dataUrl });
        this.send({ type: "speed", speed: this.speed });
        if (this.wantPlay) this.send({ type: "play", gen: this.gen, speed: this.speed });
        this.onChange(this, "status");
        return;
      }
      default: break;
    }
    if (!("gen" in msg) || msg.gen !== this.gen) return;
    switch (msg.type) {
      case "loading": this.loading = `${msg.what} (${msg.done}/${msg.total})`; this.onChange(this, "status"); break;
      case "ready":
        this.status = "ready";
        this.loading = null;
        this.model = msg.model;
        this.totalSteps = msg.totalSteps;
        this.stepsPerEpoch = msg.stepsPerEpoch;
        this.batchSize = msg.batchSize;
        this.onChange(this, "status");
        break;
      case "progress": {
        const p = msg.progress;
        this.store.push(p.records);
        this.now = p.now;
        this.epochs.push(...p.epochs);
        if (p.units.length) this.units = p.units;
        this.step = p.step;
        this.totalSteps = p.totalSteps;
        this.playing = p.playing;
        this.wantPlay = p.playing;
        this.done = p.done;
        this.stopped = p.stopped;
        if (p.samplesPerSecond !== null) this.samplesPerSecond = p.samplesPerSecond;
        this.onChange(this, "progress");
        break;
      }
      case "error": this.fail(msg.message); break;
      case "threads": this.threads = msg.threads; this.onChange(this, "status"); break;
      case "walk": this.lastWalk = msg.walk; this.onChange(this, "walk"); break;
      default: break;
    }
  }

  /**
   * Train `config` from scratch (a new model from the seed): asks the worker to check it, then to
   * build it. Nothing happens when the config is unchanged, unless `force` (Reset).
   * A null config with an `error` shows the error instead.
   */
  configure(config: Config | null, error: string | null, force = false): void {
    const key = config ? JSON.stringify(config) : `error:${error}`;
    if (key === this.configKey && !force) return;
    this.configKey = key;
    this.gen++;
    this.config = config;
    this.store.clear();
    this.epochs = [];
    this.units = [];
    this.step = 0;
    this.totalSteps = 0;
    this.done = false;
    this.stopped = null;
    this.playing = false;
    this.samplesPerSecond = null;
    this.threads = null;
    this.lastWalk = null;
    this.now = null;
    this.error = null;
    if (!config) { this.model = null; this.fail(error ?? "no configuration"); return; }
    this.status = "checking";
    this.checkId = this.nextId++;
    this.send({ type: "check", id: this.checkId, config });
    this.onChange(this, "status");
  }

  reset(): void { this.configure(this.config, this.error, true); }

  /** The newest view of the network: the network now when paused, else the latest record. */
  get latest(): StepRecord | undefined {
    const last = this.store.last;
    return this.now && (!last || this.now.step > last.step) ? this.now : last;
  }

  /** The records the charts draw: those kept, then the network now when it is newer. */
  get chartRecords(): StepRecord[] {
    const latest = this.latest;
    return latest && latest !== this.store.last ? [...this.store.records, latest] : this.store.records;
  }

  get canTrain(): boolean { return this.config !== null && this.status !== "error" && !this.done; }

  play(): void {
    if (!this.canTrain) return;
    this.wantPlay = true;
    this.playing = true;
    if (this.status === "ready" || this.status === "loading") this.send({ type: "play", gen: this.gen, speed: this.speed });
    this.onChange(this, "status");
  }

  pause(): void {
    this.wantPlay = false;
    this.playing = false;
    this.send({ type: "pause", gen: this.gen });
    this.onChange(this, "status");
  }

  stepOnce(steps = 1): void {
    if (!this.canTrain || this.status !== "ready") return;
    this.wantPlay = false;
    this.send({ type: "step", gen: this.gen, steps });
  }

  /** The cores this run may count on (the machine's, divided among the runs training side by side). */
  setCores(cores: number): void {
    this.send({ type: "cores", cores });
  }

  setSpeed(speed: SpeedSetting): void {
    this.speed = speed;
    this.send({ type: "speed", speed });
  }

  /** Ask for the backward walk through the next batch (the reply arrives as onChange "walk"). */
  walk(): void {
    if (this.status === "ready") this.send({ type: "backprop", gen: this.gen });
  }

  private request<T extends FromWorker>(make: (id: number) => ToWorker): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, (m) => resolve(m as T));
      this.send(make(id));
    });
  }

  /** Every record of the run so far, as the worker keeps them (for export). */
  async allRecords(): Promise<{ records: StepRecord[]; epochs: EpochResult[]; thinned: boolean }> {
    const m = await this.request<Extract<FromWorker, { type: "records" }>>((id) => ({ type: "records", id, gen: this.gen }));
    return { records: m.records, epochs: m.epochs, thinned: m.thinned };
  }

  /** Training throughput of `config` in this worker, on a fresh Trainer, and the kernel threads it trained on. */
  async bench(config: Config, steps: number, warmup: number): Promise<{ samplesPerSecond: number; steps: number; seconds: number; threads: ThreadChoice }> {
    const m = await this.request<Extract<FromWorker, { type: "bench" | "bench-error" }>>((id) => ({ type: "bench", id, config, dataUrl: this.dataUrl, steps, warmup }));
    if (m.type === "bench-error") throw new Error(m.message);
    return m;
  }

  /**
   * A short run of `config` on a fresh Trainer in this worker (at most `steps` steps): its
   * records and epoch results. The run in progress is not disturbed.
   */
  async shortRun(config: Config, steps: number): Promise<{ records: StepRecord[]; epochs: EpochResult[]; stopped: Stop | null; steps: number }> {
    const m = await this.request<Extract<FromWorker, { type: "ran" }>>((id) => ({ type: "run", id, config, dataUrl: this.dataUrl, steps }));
    if (!m.ok) throw new Error(m.message);
    return m;
  }

  /** The forward pass of the network as it is now on drawn `pixels` ([784] in 0..1) or on test example `testIndex`. */
  async predict(input: { pixels: Float32Array } | { testIndex: number }): Promise<Prediction> {
    const pixels = "pixels" in input ? Float32Array.from(input.pixels) : null;
    const m = await this.request<Extract<FromWorker, { type: "predicted" }>>((id) => ({ type: "predict", id, gen: this.gen, pixels, testIndex: "testIndex" in input ? input.testIndex : null }));
    if (!m.ok) throw new Error(m.message);
    return m.prediction;
  }

  dispose(): void { this.worker.terminate(); }
}
