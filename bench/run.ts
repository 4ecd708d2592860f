/**
 * `npm run bench`, in two parts.
 * 1. Side by side (compare.ts): the seven networks of networks.ts trained by gradlab,
 *    TensorFlow.js (cpu, wasm) and PyTorch (2 threads and 1 thread, when `import torch` works),
 *    each in a worker process, in one run: samples/s, ratios pair by pair, recording cost, peak
 *    memory and GFLOP/s against the machine's peak (peak.ts).
 * 2. The seed network in depth (784-5-5-10 sigmoid, batch 32, SGD lr 0.5, real MNIST, driven
 *    through Trainer.trainStep): recording every 100 steps and off, interleaved in one process;
 *    the recording's share of step time; the peak memory of a full seed run in a child process;
 *    JS heap bytes allocated per unrecorded step.
 * 0. Whole runs (whole-run.ts): `gradlab run` on 20,000 examples, one epoch, recording every
 *    100, for the seven networks, against the same run in PyTorch (best of 1 and 2 threads), with
 *    a breakdown of where a run's time goes.
 * 3. Whole processes (process.ts): the packed package's cold start (`gradlab --version`, `--help`)
 *    and `gradlab run seed --epochs 2` against the same job as a whole PyTorch process.
 * Prints tables (or JSON with --json), writes bench/results/latest.json, and exits 0 whatever
 * the numbers: benchmarks never gate CI.
 *
 *   node --import tsx bench/run.ts [--quick] [--json] [--networks seed,cnn,…] [--no-whole] [--whole-only] [--no-seed] [--no-process]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { compare, findTorch, frameworks, type NetworkResult } from "./compare.ts";
import { measureAllocation, median, timeInterleaved, type Window } from "./measure.ts";
import { NETWORKS } from "./networks.ts";
import { measurePeak } from "./peak.ts";
import { processBench } from "./process.ts";
import { seedConfig, seedTrainer } from "./seed.ts";
import { torchBlasNote, wholeRunLines, wholeRuns, type WholeRunResult } from "./whole-run.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);

/** The speed targets the project has set itself. */
const FLOOR_SAMPLES_PER_S = 60_000;
const MAX_RECORDING_SHARE = 0.05;
const MAX_RSS_BYTES = 400e6;
/** gradlab ÷ PyTorch: at least 1 on the seed MLP, 0.5 elsewhere; gradlab ÷ TF.js: at least 10. */
const TORCH_TARGET = (id: string) => (id === "seed" ? 1 : 0.5);
const TFJS_TARGET = 10;
/** The smallest per-batch buffer of the seed network, [B, 5] float32: what one stray allocation would cost. */
const SMALLEST_BUFFER_BYTES = 32 * 5 * 4;

// --- arguments --------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const usage = "expected --quick, --json, --no-whole, --whole-only, --no-seed, --no-process, --networks ID,ID,… (ids: " + NETWORKS.map((n) => n.id).join(", ") + ")";
let netIds = NETWORKS.map((n) => n.id) as string[];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--networks") {
    const v = argv[++i] ?? "";
    netIds = v === "none" ? [] : v.split(",");
    const bad = netIds.find((id) => !NETWORKS.some((n) => n.id === id));
    if (bad !== undefined || v === "") { console.error(`bench: --networks: unknown network ${JSON.stringify(bad ?? v)}; ${usage}`); process.exit(2); }
  } else if (!["--quick", "--json", "--no-whole", "--whole-only", "--no-seed", "--no-process"].includes(a)) {
    console.error(`bench: unknown option ${JSON.stringify(a)}; ${usage}`);
    process.exit(2);
  }
}
const quick = argv.includes("--quick");
const asJson = argv.includes("--json");
const wholeOnly = argv.includes("--whole-only");
const withWhole = !argv.includes("--no-whole");
const withSide = !wholeOnly;
const withSeed = !wholeOnly && !argv.includes("--no-seed");
const withProcess = !wholeOnly && !argv.includes("--no-process");
const log = (msg: string) => process.stderr.write(`${msg}\n`);

// --- 1: side by side -------------------------------------------------------------------------
const cpuCount = os.cpus().length;
log(`bench: machine peak (WebAssembly f32x4 multiply + add, one core)`);
const peak = measurePeak(cpuCount);
const torch = findTorch();
if (!torch) log("bench: `import torch` fails for /usr/bin/python3 and python3: PyTorch is not measured; its column shows the reference figures of networks.ts");
const comparePlan = quick ? { reps: 2, windowSeconds: 0.12, warmupSeconds: 0.15, slowReps: 1 } : { reps: 5, windowSeconds: 0.6, warmupSeconds: 1, slowReps: 3 };
// --quick leaves out the TypeScript kernels and the recording-cost twin (part 2 measures that on the seed)
const defs = frameworks(torch, !quick).filter((d) => !quick || d.id !== "gradlab-rec");
const nets = netIds.map((id) => NETWORKS.find((n) => n.id === id)!); // in the order asked for

// --- 0: whole runs -----------------------------------------------------------------------------
const wholeReps = quick ? 1 : 3;
// saved after each network: a long part 0 leaves its results even when stopped
const savePartial = (done: WholeRunResult[]) => {
  mkdirSync(join(BENCH_DIR, "results"), { recursive: true });
  writeFileSync(join(BENCH_DIR, "results", "whole-partial.json"), JSON.stringify({ reps: wholeReps, torchBlas: torchBlasNote(), networks: done }, null, 2) + "\n");
};
const whole: WholeRunResult[] = withWhole && nets.length ? wholeRuns(nets, { reps: wholeReps, torch, log, onNetwork: savePartial }) : [];

if (withSide) log(`bench: side by side, ${nets.length} networks × ${defs.length} workers (${defs.map((d) => d.id).join(", ")}), ${comparePlan.reps} reps of ~${comparePlan.windowSeconds} s windows`);
const side: NetworkResult[] = withSide && nets.length ? await compare(nets, defs, comparePlan, log) : [];

// --- 2: the seed network in depth ---------------------------------------------------------------
/** Recording cost, allocation and the full run's memory on the seed network; returns JSON and table lines. */
function seedDepth(): { json: Record<string, unknown>; lines: string[] } {
  // plan -------------------------------------------------------------------------------------
  const preset = seedConfig();
  const B = preset.train.batchSize;
  const stepsPerEpoch = Math.ceil(preset.data.train / B);
  const plan = quick
    ? { reps: 3, windowSteps: 400, chunkSteps: 100, warmupSteps: 300, allocSteps: 500 }
    // One epoch's samples less the epoch-ending step (it runs the test evaluation): 1,874 steps.
    : { reps: 9, windowSteps: stepsPerEpoch - 1, chunkSteps: 100, warmupSteps: stepsPerEpoch, allocSteps: 1_800 };
  // Enough epochs that neither trainer reaches its end; each window may first finish an epoch.
  const epochs = Math.ceil((plan.warmupSteps + plan.reps * (plan.windowSteps + stepsPerEpoch) + 2 * (plan.allocSteps + stepsPerEpoch)) / stepsPerEpoch) + 1;
  const totalSteps = epochs * stepsPerEpoch;

  // --- 1, 2: throughput with and without recording, interleaved ----------------------------------
  log(`bench: ${quick ? "quick" : "full"} mode, ${plan.reps} reps × ${plan.windowSteps} steps per variant`);
  const variants = {
    recorded: seedTrainer({ epochs, every: preset.record.every }),
    // every > the run's length: only step 0 (inside the warm-up) and the never-reached last step.
    unrecorded: seedTrainer({ epochs, every: totalSteps + 1 }),
  };
  type Variant = keyof typeof variants;
  const names: Variant[] = ["recorded", "unrecorded"];
  const samplesPerWindow = plan.windowSteps * B;

  for (const v of names) for (let i = 0; i < plan.warmupSteps; i++) variants[v].trainStep();
  const windows: Record<Variant, Window[]> = { recorded: [], unrecorded: [] };
  for (let r = 0; r < plan.reps; r++) {
    // Alternate which variant goes first, per rep and per chunk, so drift falls on both alike.
    const order = r % 2 === 0 ? names : [...names].reverse();
    const ws = timeInterleaved(order.map((v) => variants[v]), plan.windowSteps, plan.chunkSteps);
    order.forEach((v, i) => windows[v].push(ws[i]));
    log(`  rep ${r + 1}/${plan.reps}: ` + names.map((v) => `${v} ${fmt(rate(windows[v][r].ms))}/s`).join(", "));
  }
  function rate(ms: number): number { return samplesPerWindow / (ms / 1000); }
  function summarize(v: Variant) {
    const ws = windows[v];
    const ms = median(ws.map((w) => w.ms));
    return {
      every: v === "recorded" ? preset.record.every : totalSteps + 1,
      samplesPerSecond: rate(ms),
      medianWindowMs: ms,
      stepUs: (ms * 1000) / plan.windowSteps,
      minSamplesPerSecond: Math.min(...ws.map((w) => rate(w.ms))),
      maxSamplesPerSecond: Math.max(...ws.map((w) => rate(w.ms))),
      recordsPerWindow: ws.map((w) => w.records),
      windowsMs: ws.map((w) => w.ms),
    };
  }
  const recorded = summarize("recorded");
  const unrecorded = summarize("unrecorded");
  // (t_recorded − t_unrecorded) / t_unrecorded from the medians; and two cross-checks: the median
  // of the per-rep paired ratios, and the recorded steps' own extra time read off per-step timings.
  const share = (recorded.medianWindowMs - unrecorded.medianWindowMs) / unrecorded.medianWindowMs;
  const pairedShare = median(windows.recorded.map((w, i) => (w.ms - windows.unrecorded[i].ms) / windows.unrecorded[i].ms));
  const directShare = median(windows.recorded.map((w) => w.recordExtraMs / (w.ms - w.recordExtraMs)));
  const perRecordMs = median(windows.recorded.map((w) => w.recordExtraMs / Math.max(1, w.records)));

  // --- 5: allocation per unrecorded step -------------------------------------------------------
  log(`bench: allocation over ${plan.allocSteps} unrecorded steps`);
  const alloc = measureAllocation(variants.unrecorded, plan.allocSteps);

  // --- 3: peak memory of a full seed run, in a child process (after the timing: 2 cores) -------
  const child = join(BENCH_DIR, "full-run.ts");
  log(`bench: full seed run in a child process (${relative(ROOT, child)})`);
  const res = spawnSync(process.execPath, ["--import", "tsx", child], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 20 });
  let fullRun: Record<string, any> | null = null;
  let fullRunError: string | null = null;
  try {
    if (res.status !== 0) throw new Error(`exit ${res.status ?? res.signal}: ${(res.stderr || "").trim().split("\n").at(-1)}`);
    fullRun = JSON.parse(res.stdout.trim().split("\n").at(-1) ?? "");
  } catch (e) {
    fullRunError = `full-run child failed: ${(e as Error).message}`;
  }


  const floorPass = recorded.samplesPerSecond >= FLOOR_SAMPLES_PER_S;
  const json = {
    network: "seed: 784-5-5-10 sigmoid, cross-entropy, SGD lr 0.5, batch 32, MNIST 60k",
    method: {
      driver: "Trainer.trainStep() in a loop; windows never contain an epoch-ending step (test evaluation excluded)",
      reps: plan.reps,
      stepsPerRep: plan.windowSteps,
      samplesPerRep: samplesPerWindow,
      warmupStepsPerVariant: plan.warmupSteps,
      interleaved: "in chunks of chunkSteps steps, alternating order per chunk and per rep (A B, B A, …)",
      chunkSteps: plan.chunkSteps,
      statistic: "median over reps",
    },
    throughput: { recorded, unrecorded },
    recordingCost: { share, pairedMedianShare: pairedShare, directShare, extraMsPerRecord: perRecordMs, target: MAX_RECORDING_SHARE, pass: share < MAX_RECORDING_SHARE },
    peakMemory: fullRun
      ? { ...fullRun, targetBytes: MAX_RSS_BYTES, pass: fullRun.maxRssBytes < MAX_RSS_BYTES }
      : { error: fullRunError, targetBytes: MAX_RSS_BYTES, pass: false },
    allocation: { ...alloc, smallestBufferBytes: SMALLEST_BUFFER_BYTES },
    floor: { samplesPerSecond: FLOOR_SAMPLES_PER_S, measured: "recorded (the preset's every = 100)", pass: floorPass },
  };
  const out: string[] = [];
  out.push(`2. The seed network in depth — ${json.network}`);
  out.push(`${plan.reps} reps × ${fmt(plan.windowSteps)} steps (${fmt(samplesPerWindow)} samples) per variant, interleaved in ${plan.chunkSteps}-step chunks in one process; median; warm-up ${fmt(plan.warmupSteps)} steps; test evaluation excluded`);
  out.push("");
  out.push(table(
    ["throughput (measured)", "samples/s", "µs/step", "min … max samples/s", "records/rep"],
    names.map((v) => {
      const t = json.throughput[v];
      return [v === "recorded" ? `recording every ${t.every} (preset)` : "recording off (every > run)",
        fmt(t.samplesPerSecond), t.stepUs.toFixed(1), `${fmt(t.minSamplesPerSecond)} … ${fmt(t.maxSamplesPerSecond)}`,
        t.recordsPerWindow.join(" ")];
    }),
  ));
  out.push("");
  out.push(`recording cost  (t_rec − t_off)/t_off = ${pct(share)}   target < ${pct(MAX_RECORDING_SHARE, 0)}   ${verdict(share < MAX_RECORDING_SHARE)}`);
  out.push(`  cross-checks: paired per-rep median ${pct(pairedShare)}; recorded steps' own extra time ${pct(directShare)} (${(perRecordMs * 1000).toFixed(0)} µs per record)`);
  if (fullRun) {
    out.push(`peak memory     full seed run (${fullRun.epochs} epochs, ${fmt(fullRun.samples)} samples) in a child: maxRSS ${mb(fullRun.maxRssBytes)}   target < ${mb(MAX_RSS_BYTES)}   ${verdict(fullRun.maxRssBytes < MAX_RSS_BYTES)}`);
    out.push(`  RSS after loading MNIST ${mb(fullRun.rssAfterLoadBytes)}; ${fullRun.records} records (${(fullRun.metricsBytes / 1e3).toFixed(0)} kB of JSON lines); test accuracy ${fullRun.testAccuracy}; ${fullRun.seconds.toFixed(1)} s end to end (${fmt(fullRun.samples / fullRun.seconds)} samples/s incl. evaluation)`);
  } else {
    out.push(`peak memory     ${fullRunError}   FAIL  <<<`);
  }
  out.push(`allocation      ${alloc.bytesPerStep.toFixed(1)} B/step of JS heap over ${fmt(alloc.steps)} unrecorded steps (${fmt(alloc.bytes)} B, ${alloc.gcs} GCs; informational)`);
  out.push(`  a per-step buffer would show as ≥ ${fmt(SMALLEST_BUFFER_BYTES)} B/step (the smallest batch buffer, [${B}, 5] f32); tens of bytes are boxed numbers or small objects`);
  out.push(`floor: ${fmt(FLOOR_SAMPLES_PER_S)} samples/s with recording every ${preset.record.every}: measured ${fmt(recorded.samplesPerSecond)}   ${verdict(floorPass)}`);
  return { json, lines: out };
}

// --- results ------------------------------------------------------------------------------------
const seed = withSeed ? seedDepth() : null;
const processes = withProcess ? await processBench({ quick, log }) : null;
const cpus = os.cpus();
const results = {
  date: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  machine: { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus.length, cpuModel: cpus[0]?.model ?? "unknown", totalMemBytes: os.totalmem(), peak },
  sideBySide: {
    method: {
      workers: defs.map((d) => ({ id: d.id, label: d.label, command: [d.command, ...d.args].join(" "), env: d.env ?? {} })),
      ...comparePlan,
      statistic: "median samples/s over reps; ratios: median over reps of the paired gradlab ÷ framework ratio",
      pytorch: torch ? { python: torch.python, version: torch.version } : "not available: the PyTorch column is networks.ts's reference table",
    },
    targets: { pytorch: "≥ 1× on seed, ≥ 0.5× elsewhere", tfjs: `≥ ${TFJS_TARGET}×`, recording: `< ${pct(MAX_RECORDING_SHARE, 0)}` },
    networks: side.map((r) => ({
      ...r,
      gflops: Object.fromEntries(Object.entries(r.frameworks).map(([id, f]) => [id, f.samplesPerSecond ? (2 * r.macsPerExample * f.samplesPerSecond) / 1e9 : null])),
      reference: NETWORKS.find((n) => n.id === r.id)!.reference,
    })),
  },
  wholeRuns: whole.length ? { reps: wholeReps, torchBlas: torchBlasNote(), networks: whole } : null,
  seed: seed?.json ?? null,
  processes: processes?.json ?? null,
};
const outDir = join(BENCH_DIR, "results");
mkdirSync(outDir, { recursive: true });
const outFile = join(outDir, "latest.json");
writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n");

if (asJson) {
  process.stdout.write(JSON.stringify(results, null, 2) + "\n");
} else {
  const out: string[] = [];
  out.push("", `gradlab bench (${results.mode}) — ${results.machine.node} · ${results.machine.platform} · ${cpus.length} CPUs (${results.machine.cpuModel})`);
  out.push(`machine peak: WebAssembly f32x4 mul+add ${peak.wasmGflopsPerCore.toFixed(1)} GFLOP/s per core (measured; ${peak.wasmPeakGflops.toFixed(0)} on ${cpus.length} cores); `
    + `native AVX-512 FMA ≈ ${peak.nativePeakGflops.toFixed(0)} GFLOP/s (estimated from the ${peak.estimatedGhz.toFixed(2)} GHz the loop implies)`);
  if (whole.length) out.push("", ...wholeRunLines(whole, wholeReps, peak.wasmGflopsPerCore));
  if (side.length) out.push("", ...sideBySideLines(side));
  if (seed) out.push("", ...seed.lines);
  if (processes) out.push("", ...processes.lines);
  out.push("", `wrote ${relative(process.cwd(), outFile) || outFile}`, "", "");
  process.stdout.write(out.join("\n"));
}
process.exitCode = 0; // a missed target is printed, never an error

/** The side-by-side tables: samples/s, ratios with verdicts, then recording cost, memory, GFLOP/s. */
function sideBySideLines(rs: NetworkResult[]): string[] {
  const out: string[] = [];
  const cols = defs.filter((d) => d.id !== "gradlab-rec");
  const cell = (r: NetworkResult, id: string) => {
    const f = r.frameworks[id];
    if (!f) return "–";
    if (f.samplesPerSecond === null) return f.error?.includes("not registered") ? "unsupported" : "error";
    return fmt(f.samplesPerSecond);
  };
  out.push(`1. Side by side, one run — median samples/s over ${comparePlan.reps} reps of ~${comparePlan.windowSeconds} s per framework (steps per window fixed after a warm-up); every worker its own process`);
  const refCol = torch ? [] : ["PyTorch (REFERENCE, issue table)"];
  out.push(table(
    ["network", "batch", ...cols.map((d) => d.label), ...refCol],
    rs.map((r) => [r.label, String(r.batch), ...cols.map((d) => cell(r, d.id)), ...(torch ? [] : [`≈ ${fmt(NETWORKS.find((n) => n.id === r.id)!.reference.pytorch)}`])]),
  ));
  out.push("");
  const others = cols.filter((d) => !d.id.startsWith("gradlab"));
  const target = (id: string, net: string) => (id.startsWith("torch") ? TORCH_TARGET(net) : id.startsWith("tfjs") ? TFJS_TARGET : null);
  const ratioTable = (title: string, pick: (r: NetworkResult) => Record<string, number>) => {
    out.push(title);
    out.push(table(
      ["network", ...others.map((d) => d.label)],
      rs.map((r) => [r.label, ...others.map((d) => {
        const x = pick(r)[d.id];
        if (x === undefined) return "–";
        const t = target(d.id, r.id);
        return `${x >= 10 ? x.toFixed(0) : x.toFixed(x < 1 ? 3 : 2)}×${t === null ? "" : x >= t ? " ok" : " MISS"}`;
      })]),
    ));
  };
  ratioTable("gradlab (one thread) ÷ framework, median of the per-rep ratios; the project's targets: PyTorch ≥ 1× on the seed MLP and ≥ 0.5× elsewhere, TF.js ≥ 10×", (r) => r.ratios);
  if (defs.some((d) => d.id === "gradlab-2t")) {
    out.push("");
    ratioTable("gradlab with a helper thread (2 threads) ÷ framework, the same way", (r) => r.ratios2t);
  }
  out.push("");
  out.push(`gradlab in detail: recording cost = time with recording every 100 ÷ without − 1 (paired by rep; target < ${pct(MAX_RECORDING_SHARE, 0)}); peak = the worker's max RSS while on the network (MB);`);
  out.push(`GFLOP/s = 2 × multiply-adds per example (networks.ts) × samples/s of the faster gradlab (1 or 2 threads), against the machine's peaks on all ${cpuCount} cores`);
  const torchId = torch ? "torch2" : null;
  out.push(table(
    ["network", "recording cost", "2 threads ÷ 1", "peak MB gradlab", "TF.js cpu", "TF.js wasm", "PyTorch", "GFLOP/s gradlab best", "% WASM peak", "% native peak", "GFLOP/s PyTorch best"],
    rs.map((r) => {
      const g = Math.max(r.frameworks.gradlab?.samplesPerSecond ?? 0, r.frameworks["gradlab-2t"]?.samplesPerSecond ?? 0) || null;
      const gf = g ? (2 * r.macsPerExample * g) / 1e9 : null;
      const t = torch ? Math.max(r.frameworks.torch1?.samplesPerSecond ?? 0, r.frameworks.torch2?.samplesPerSecond ?? 0) || null : null;
      const two = r.ratios["gradlab-2t"];
      const m = (id: string) => { const v = r.frameworks[id]?.peakRssBytes; return v ? (v / 1e6).toFixed(0) : "–"; };
      return [r.label,
        r.recordingShare === null ? "–" : `${pct(r.recordingShare)} ${r.recordingShare < MAX_RECORDING_SHARE ? "ok" : "MISS"}`,
        two === undefined ? "–" : `${(1 / two).toFixed(2)}×`,
        m("gradlab"), m("tfjs-cpu"), m("tfjs-wasm"), torchId ? m(torchId) : "–",
        gf === null ? "–" : gf.toFixed(1), gf === null ? "–" : `${((100 * gf) / peak.wasmPeakGflops).toFixed(0)}%`, gf === null ? "–" : `${((100 * gf) / peak.nativePeakGflops).toFixed(1)}%`,
        t ? ((2 * r.macsPerExample * t) / 1e9).toFixed(1) : "–"];
    }),
  ));
  const failed = rs.flatMap((r) => Object.values(r.frameworks).filter((f) => f.error).map((f) => `  ${r.id} / ${f.id}: ${f.error}`));
  if (failed.length) out.push("", "not measured:", ...failed);
  return out;
}

function verdict(ok: boolean): string { return ok ? "PASS" : "FAIL  <<<"; }

// --- formatting -------------------------------------------------------------------------------
function fmt(x: number): string { return Math.round(x).toLocaleString("en-US"); }
function pct(x: number, digits = 2): string { return `${x >= 0 ? "+" : ""}${(100 * x).toFixed(digits)}%`.replace(/^\+(\d+%)$/, "$1"); }
function mb(bytes: number): string { return `${(bytes / 1e6).toFixed(1)} MB`; }
function table(head: string[], rows: string[][]): string {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => "  " + r.map((s, c) => (c === 0 ? s.padEnd(w[c]) : s.padStart(w[c]))).join("   ");
  return [line(head), "  " + w.map((n) => "─".repeat(n)).join("   "), ...rows.map(line)].join("\n");
}
