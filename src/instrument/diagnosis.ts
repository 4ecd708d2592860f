/**
 * Plain-language diagnosis of gradient flow from two metrics records (usually step 0, the
 * network at initialization, and the last step). It names the weakest and strongest layers,
 * the shrink factor per layer, saturated and dead units, the decay through time in recurrent
 * layers, Pascanu et al.'s condition, and any NaN/Inf.
 */
import type { LayerRecord, StepRecord } from "./recorder.ts";

export type Verdict = "vanishing" | "exploding" | "healthy";

export interface Diagnosis {
  verdict: Verdict;
  /** weight-gradient norm of the first weighted layer over that of the last, at the first record */
  depthRatio: number | null;
  /** ‖∂ℓ/∂h‖ at the first time step over the last, per recurrent layer, at the last record */
  timeRatios: Record<string, number>;
  findings: string[];
  text: string;
}

/** Thresholds for the verdict: a 100× drop (or rise) from output to input is a problem. */
const VANISH = 1e-2;
const EXPLODE = 1e2;
/** a mean per-layer δ gain above this is explosive growth */
const GROW = 10;

/** "1/37", "1/2.4e+5", "3.2×": a ratio as a reader would say it. */
export function ratioText(r: number): string {
  if (!Number.isFinite(r)) return String(r);
  if (r === 0) return "0";
  if (r < 1) {
    const inv = 1 / r;
    return `1/${inv >= 1e4 ? inv.toExponential(1) : inv >= 10 ? Math.round(inv).toString() : inv.toFixed(1)}`;
  }
  return `${r >= 1e4 ? r.toExponential(1) : r >= 10 ? Math.round(r).toString() : r.toFixed(1)}×`;
}

const pct = (f: number) => `${Math.round(100 * f)}%`;

function weightNorm(l: LayerRecord): number | null {
  const p = l.params.weight ?? l.params.weight_ih ?? Object.values(l.params)[0];
  return p ? p.gradNorm : null;
}

export function diagnose(first: StepRecord, last: StepRecord, stop?: { step: number; reason: string; layer?: string; param?: string } | null): Diagnosis {
  const findings: string[] = [];
  let verdict: Verdict = "healthy";
  const weighted = first.layers.filter((l) => weightNorm(l) !== null && l.type !== "batchnorm");
  let depthRatio: number | null = null;
  if (weighted.length >= 2) {
    const a = weighted[0], z = weighted[weighted.length - 1];
    depthRatio = weightNorm(a)! / weightNorm(z)!;
    const share = depthRatio < 1 ? `${ratioText(depthRatio)} of the gradient of` : `${ratioText(depthRatio)} the gradient of`;
    findings.push(`At initialization, layer ${a.name} receives ${share} ${z.name} (weight-gradient norms ${fmt(weightNorm(a)!)} vs ${fmt(weightNorm(z)!)}).`);
    const gains = first.layers.map((l) => l.gain).filter((g): g is number => g !== null && g > 0 && Number.isFinite(g));
    if (gains.length > 0) {
      const geo = Math.exp(gains.reduce((s, g) => s + Math.log(g), 0) / gains.length);
      findings.push(`The back-propagated error δ changes by a factor of ${geo.toPrecision(2)} per layer on average on its way to the input${geo < 0.5 && depthRatio < 1 ? ", so the first layers learn slowest" : geo > GROW ? ": it grows layer after layer" : ""}.`);
      if (geo > GROW) verdict = "exploding";
    }
    if (depthRatio < VANISH) verdict = "vanishing";
    else if (depthRatio > EXPLODE) verdict = "exploding";
    const lastWeighted = last.layers.filter((l) => weightNorm(l) !== null && l.type !== "batchnorm");
    if (lastWeighted.length >= 2 && last.step !== first.step) {
      const r = weightNorm(lastWeighted[0])! / weightNorm(lastWeighted[lastWeighted.length - 1])!;
      if (Number.isFinite(r)) findings.push(`At the end (step ${last.step}) the ratio is ${ratioText(r)}.`);
    }
  }
  for (const l of last.layers) {
    const act = l.activation;
    if (act?.saturated != null && act.saturated >= 0.1) findings.push(`${pct(act.saturated)} of ${l.name}'s units are saturated (|f′(z)| below 1% of its maximum), passing almost no gradient.`);
    if (act?.dead != null && act.dead >= 0.1) findings.push(`${pct(act.dead)} of ${l.name}'s relu units are dead (z ≤ 0 for the whole batch).`);
  }
  const timeRatios: Record<string, number> = {};
  for (const l of last.layers) {
    const h = l.hGradNorm;
    if (!h || h.length < 2) continue;
    const T = h.length;
    const r = h[0] / h[T - 1];
    const where = T > 100 ? "pixels" : "steps";
    if (Number.isFinite(r)) {
      // a NaN/Inf step gives no ratio: it is reported below, with the stop
      timeRatios[l.name] = r;
      findings.push(r === 0
        ? `In ${l.name}, ‖∂ℓ/∂h_t‖ at t=1 has vanished entirely (it underflows to 0 over ${T} steps): the network cannot learn from the first ${where}.`
        : `In ${l.name}, ‖∂ℓ/∂h_t‖ at t=1 is ${ratioText(r)}${r < 1 ? " of" : ""} its value at t=${T}${r < VANISH ? `: the network can hardly learn from the first ${where}` : ""}.`);
      if (r < VANISH && verdict === "healthy") verdict = "vanishing";
      if (r > EXPLODE) verdict = "exploding";
    }
    const init = first.layers.find((f) => f.name === l.name);
    if (init?.sigmaMax !== undefined && init.pascanu !== undefined) {
      findings.push(`At initialization σ_max(W_hh) = ${init.sigmaMax.toPrecision(3)} and σ_max·γ = ${init.pascanu.toPrecision(3)} ${init.pascanu < 1 ? "< 1: Pascanu et al.'s sufficient condition for vanishing gradients holds" : "≥ 1: the recurrence can keep the gradient, or blow it up (Pascanu et al.'s necessary condition for exploding)"}.`);
    }
  }
  const bad = last.layers.flatMap((l) => Object.entries(l.params).filter(([, p]) => p.nonFinite > 0).map(([k]) => `${l.name}.${k}`));
  if (stop) {
    verdict = "exploding";
    findings.push(`Training stopped at step ${stop.step}: ${stop.reason}${stop.layer ? ` (first non-finite gradient in ${stop.layer}.${stop.param})` : ""}.`);
  } else if (bad.length > 0) {
    verdict = "exploding";
    findings.push(`Non-finite gradients in ${bad.join(", ")}.`);
  }
  const headline = verdict === "vanishing" ? "Verdict: vanishing gradients." : verdict === "exploding" ? "Verdict: exploding gradients." : "Verdict: the gradient reaches every layer in usable size.";
  return { verdict, depthRatio, timeRatios, findings, text: [headline, ...findings].join(" ") };
}

function fmt(x: number): string {
  return x === 0 ? "0" : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(3) : x.toExponential(2);
}
