/**
 * Long sequences: the IRNN of networks.ts (100 relu units on the pixels view, 784 steps of one
 * input, batch 16) trained by gradlab with one and two kernel threads against PyTorch with one
 * and two threads, the same workers and interleaved windows as part 1 of run.ts (compare.ts).
 * The ratio is gradlab ÷ PyTorch-best: per rep, gradlab's samples/s over the faster of PyTorch's
 * two that rep; the median over reps, with the spread.
 *
 *   node --import tsx bench/irnn.ts [--quick] [--json]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compare, findTorch, frameworks, type NetworkResult } from "./compare.ts";
import { IRNN_NETWORK } from "./networks.ts";

const quick = process.argv.includes("--quick");
const asJson = process.argv.includes("--json");
const bad = process.argv.slice(2).find((a) => a !== "--quick" && a !== "--json");
if (bad !== undefined) { console.error(`bench/irnn.ts: unknown option ${JSON.stringify(bad)}; expected --quick, --json`); process.exit(2); }
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const torch = findTorch();
if (!torch) log("bench/irnn.ts: `import torch` fails for /usr/bin/python3 and python3: only gradlab is measured");
const ids = ["gradlab", "gradlab-2t", "torch1", "torch2"];
const defs = frameworks(torch, false).filter((d) => ids.includes(d.id));
const plan = quick ? { reps: 2, windowSeconds: 0.5, warmupSeconds: 0.5, slowReps: 1 } : { reps: 5, windowSeconds: 2, warmupSeconds: 2, slowReps: 3 };
log(`bench/irnn.ts: ${IRNN_NETWORK.label}, batch ${IRNN_NETWORK.batch}: ${defs.map((d) => d.id).join(", ")}, ${plan.reps} reps of ~${plan.windowSeconds} s windows`);
const [res] = await compare([IRNN_NETWORK], defs, plan, log);

const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
/** Per rep: `id`'s samples/s over the faster PyTorch of that rep; median, min, max. */
function versusBest(r: NetworkResult, id: string): { median: number; min: number; max: number } | null {
  const mine = r.frameworks[id]?.windows, t1 = r.frameworks.torch1?.windows, t2 = r.frameworks.torch2?.windows;
  if (!mine || (!t1 && !t2)) return null;
  const rate = (w: number[] | undefined, i: number) => (w && Number.isFinite(w[i]) ? w[i] : 0);
  const ratios = mine.map((x, i) => x / Math.max(rate(t1, i), rate(t2, i))).filter((q) => Number.isFinite(q) && q > 0);
  return ratios.length ? { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) } : null;
}
const best1 = versusBest(res, "gradlab"), best2 = versusBest(res, "gradlab-2t");
const out = { network: IRNN_NETWORK, reps: plan.reps, frameworks: res.frameworks, versusTorchBest: { oneThread: best1, twoThreads: best2 } };
mkdirSync(join(dirname(fileURLToPath(import.meta.url)), "results"), { recursive: true });
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), "results", "irnn.json"), JSON.stringify(out, null, 2) + "\n");

if (asJson) {
  console.log(JSON.stringify(out));
} else {
  const n = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? "—" : Math.round(x).toLocaleString("en-US"));
  console.log(`\n${IRNN_NETWORK.label}, batch ${IRNN_NETWORK.batch}: samples/s, median [min – max] of ${plan.reps} interleaved windows`);
  for (const id of ids) {
    const f = res.frameworks[id];
    if (!f) continue;
    console.log(`  ${id.padEnd(11)} ${n(f.samplesPerSecond).padStart(7)}  [${n(f.minSamplesPerSecond)} – ${n(f.maxSamplesPerSecond)}]${f.error ? `  ${f.error}` : ""}`);
  }
  const r = (x: typeof best1) => (x ? `${x.median.toFixed(2)}× [${x.min.toFixed(2)} – ${x.max.toFixed(2)}]` : "—");
  console.log(`gradlab ÷ PyTorch-best (per rep): 1 thread ${r(best1)}, 2 threads ${r(best2)}`);
}
process.exit(0);
