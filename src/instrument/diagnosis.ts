/**
 * Plain-language diagnosis of gradient flow, with a graded verdict (docs/diagnosis.md documents
 * every verdict value and every threshold with its reason). Vanishing is judged on ‖δ‖, the error
 * reaching each layer (mean per-example ‖∂ℓ/∂z‖, the per-example bias gradient: how fast a layer
 * learns), never on ‖∂L/∂W‖, which grows with a layer's fan-in. It reads the first record (the
 * network at initialization), the last, and — when given — every record between, the per-epoch
 * test results and what the trainer knows about NaN/Inf.
 *
 * @example
 * const d = diagnose(records[0], records.at(-1)!, null, { records, epochs });
 * d.verdict // "vanishing"; d.grade // "mild"; d.layerFactor // 0.126
 */
import type { Model } from "../core/model.ts";
import { profileLayers, weightKeyOf } from "./profile.ts";
import type { LayerRecord, StepRecord } from "./recorder.ts";

/**
 * The verdict, most serious first: `stopped` (a value became NaN/Inf and training ended there),
 * `diverged` (finite, but training made the network worse), `exploding` (the error grows toward
 * the input or back through time), `dead` (relu units passing no gradient), `vanishing` (with a
 * `grade`), `healthy`.
 */
export type Verdict = "healthy" | "vanishing" | "exploding" | "diverged" | "dead" | "stopped";

/** How bad a vanishing gradient is: mild (the first layers learn slower), severe (they barely learn). */
export type Grade = "mild" | "severe";

export interface Diagnosis {
  verdict: Verdict;
  /** for verdict "vanishing": mild or severe; otherwise null */
  grade: Grade | null;
  /** one sentence: the verdict and what it means */
  headline: string;
  /** ‖δ‖ of the first profile layer (input side) over that of the last (output), at initialization */
  deltaRatio: number | null;
  /** the same ratio at the last record */
  deltaRatioEnd: number | null;
  /** the geometric-mean per-layer factor of ‖δ‖ at initialization: deltaRatio^(1/(layers − 1)) */
  layerFactor: number | null;
  /** the same factor at the last record */
  layerFactorEnd: number | null;
  /** weight-gradient norm ‖∂L/∂W‖ of the first weighted layer over that of the last, at the first record */
  depthRatio: number | null;
  /** ‖∂ℓ/∂h‖ at the first time step over the last, per recurrent layer, at the last record */
  timeRatios: Record<string, number>;
  findings: string[];
  /** the headline and the findings, as one paragraph */
  text: string;
}

/** Why training ended early (the trainer's Stop, structurally). */
export interface StopInfo { step: number; reason: string; layer?: string; param?: string }

/** What the diagnosis may know besides the first and last record. All optional. */
export interface DiagnosisContext {
  /** every record in order (first and last included): how the gap evolves, batch accuracy */
  records?: readonly StepRecord[];
  /** per-epoch test results (summary.epochs) */
  epochs?: readonly { epoch: number; testAccuracy: number }[];
  /** mean training loss over the last steps (summary.finalLoss); default the last record's loss */
  finalLoss?: number;
  /** number of classes, for chance accuracy; default 10 */
  classes?: number;
  /** each layer's activation by name ({dense1: "sigmoid"}), so the text can name it */
  activations?: Record<string, string>;
  /** the trainer's NaN/Inf record: how many steps had one, and the first */
  nonFinite?: { steps: number; first: { step: number; cause: string; tensor: string | null } | null };
  /** train.onNonFinite and how many batches were skipped under "skip-step" */
  onNonFinite?: string;
  skippedSteps?: number;
  /** a partial (interrupted) run: where it stood */
  partial?: { step: number; totalSteps: number; resume: string | null } | null;
}

// Thresholds (docs/diagnosis.md gives the reasons).
/** vanishing: the first layer's ‖δ‖ is below a tenth of the output layer's at initialization */
export const VANISH_RATIO = 0.1;
/** severe: below a thousandth at initialization … */
export const SEVERE_RATIO = 1e-3;
/** … or still below a hundredth (median over training) after initialization */
export const SEVERE_TRAINED_RATIO = 1e-2;
/** exploding through depth: the first layer's ‖δ‖ is more than 10× the output layer's */
export const EXPLODE_RATIO = 10;
/** through time: ‖∂ℓ/∂h_1‖ below 1/100 of ‖∂ℓ/∂h_T‖ is vanishing … */
export const TIME_VANISH = 1e-2;
/** … below 1e-4 severe … */
export const TIME_SEVERE = 1e-4;
/** … and above 100× exploding */
export const TIME_EXPLODE = 1e2;
/** diverged: the training loss at the end is at least 100× the loss at initialization */
export const DIVERGE_LOSS = 100;
/** diverged: the batch accuracy once reached 3× chance … */
export const LEARNED_CHANCE = 3;
/** … and the run ends at or below 1.5× chance */
export const AT_CHANCE = 1.5;
/** dead: at least half of a relu layer's units are dead at the end */
export const DEAD_FRACTION = 0.5;
/** saturated and dead fractions worth a finding */
const NOTE_FRACTION = 0.1;

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

/** The headline of a verdict. @example headlineOf("vanishing", "mild") // "Verdict: vanishing gradients (mild): …" */
export function headlineOf(verdict: Verdict, grade: Grade | null): string {
  switch (verdict) {
    case "vanishing": return grade === "severe"
      ? "Verdict: vanishing gradients (severe): the first layers receive almost none of the error and barely learn."
      : "Verdict: vanishing gradients (mild): the error shrinks on its way to the input, so the first layers learn slower.";
    case "exploding": return "Verdict: exploding gradients: the error grows on its way back.";
    case "diverged": return "Verdict: diverged: training made the network worse.";
    case "dead": return "Verdict: dead units: relu units that are never active pass no gradient.";
    case "stopped": return "Verdict: stopped: a value became NaN or infinite and training ended there.";
    default: return "Verdict: healthy: the error reaches every layer in usable size.";
  }
}

const pct = (f: number) => `${Math.round(100 * f)}%`;

function fmt(x: number): string {
  return x === 0 ? "0" : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(3) : x.toExponential(2);
}

/** ×0.13, ×2.4e-7: a factor. */
function factorText(x: number): string {
  return `×${Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? Number(x.toPrecision(2)).toString() : x.toExponential(1)}`;
}

/** ‖∂L/∂W‖ of a layer's weight tensor. */
function weightNorm(l: LayerRecord): number | null {
  const k = weightKeyOf(l);
  return k === undefined ? null : l.params[k].gradNorm;
}

/** ‖δ‖ of the first and last profile layers and the per-layer factor, at one record. */
export function deltaProfile(rec: StepRecord): { first: LayerRecord; last: LayerRecord; ratio: number; factor: number } | null {
  const layers = profileLayers(rec).filter((l) => l.deltaNorm !== null);
  if (layers.length < 2) return null;
  const first = layers[0], last = layers[layers.length - 1];
  const ratio = first.deltaNorm! / last.deltaNorm!;
  if (!Number.isFinite(ratio)) return null;
  return { first, last, ratio, factor: ratio > 0 ? ratio ** (1 / (layers.length - 1)) : 0 };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** The activation shared by the hidden profile layers, if they share one ("sigmoid"). */
function hiddenActivation(rec: StepRecord, activations: Record<string, string> | undefined): string | null {
  if (!activations) return null;
  const hidden = profileLayers(rec).slice(0, -1).map((l) => activations[l.name]);
  return hidden.length > 0 && hidden.every((a) => a !== undefined && a === hidden[0]) ? hidden[0] : null;
}

/**
 * Diagnose a run from its first record (the network at initialization) and its last; `stop` when
 * training ended early on a NaN/Inf; `context` for what the records alone do not say.
 */
export function diagnose(first: StepRecord, last: StepRecord, stop?: StopInfo | null, context: DiagnosisContext = {}): Diagnosis {
  const findings: string[] = [];
  const records = context.records && context.records.length ? context.records : [first, last];
  const classes = context.classes ?? 10;
  const chance = 1 / classes;

  // Depth: ‖δ‖ from the output back to the input, at initialization and over training.
  const init = deltaProfile(first);
  const end = last.step !== first.step ? deltaProfile(last) : init;
  let vanishing = false, exploding = false, severe = false;
  if (init) {
    const { first: a, last: z, ratio, factor } = init;
    const act = hiddenActivation(first, context.activations);
    const each = act ? `each ${act} layer` : "each layer";
    vanishing = ratio < VANISH_RATIO;
    exploding = ratio > EXPLODE_RATIO;
    findings.push(ratio <= 1
      ? `At initialization ${a.name} gets ${ratioText(ratio)} of the error that reaches ${z.name} (‖δ‖ ${fmt(a.deltaNorm!)} vs ${fmt(z.deltaNorm!)}): ${each} passes on about ${factorText(factor)} of the error it receives.`
      : `At initialization ${a.name} gets ${ratioText(ratio)} the error that reaches ${z.name} (‖δ‖ ${fmt(a.deltaNorm!)} vs ${fmt(z.deltaNorm!)}): ${each} multiplies it by about ${factorText(factor)}${exploding ? ", so it grows layer after layer" : ""}.`);
    if (vanishing && factor > 0) {
      findings.push(`Two more such layers would shrink it by another ${factorText(factor)}² = ${ratioText(factor * factor)}, to ${ratioText(ratio * factor * factor)} of the output's error at the first layer.`);
    }
    // How the gap evolves: a record about a tenth into the run, and the last.
    const later = records.filter((r) => r.step > first.step).map((r) => ({ r, p: deltaProfile(r) })).filter((x) => x.p !== null);
    if (later.length > 0) {
      const target = first.step + (last.step - first.step) / 10;
      const early = later.reduce((b, x) => (Math.abs(x.r.step - target) < Math.abs(b.r.step - target) ? x : b));
      const endRatio = end?.ratio ?? later[later.length - 1].p!.ratio;
      const trained = median(later.map((x) => x.p!.ratio));
      const trend = endRatio > 2 * ratio ? "the gap closes as the weights grow" : endRatio < ratio / 2 ? "the gap widens" : "the gap stays";
      const points = early.r.step !== last.step ? `${ratioText(early.p!.ratio)} at step ${early.r.step} and ${ratioText(endRatio)} at the end (step ${last.step})` : `${ratioText(endRatio)} at the end (step ${last.step})`;
      findings.push(`Over training ${trend}: ${a.name}'s share of ${z.name}'s error is ${points}${later.length > 2 ? `, median ${ratioText(trained)}` : ""}.`);
      if (vanishing && trained < SEVERE_TRAINED_RATIO) severe = true;
    }
    if (vanishing && ratio < SEVERE_RATIO) severe = true;
    const wa = weightNorm(a), wz = weightNorm(z);
    const wEnd = end ? [weightNorm(end.first), weightNorm(end.last)] : [null, null];
    if (wa !== null && wz !== null && wz > 0) {
      const endText = wEnd[0] !== null && wEnd[1] !== null && wEnd[1] > 0 && last.step !== first.step ? `, ${ratioText(wEnd[0] / wEnd[1])} at the end` : "";
      findings.push(`For comparison, ‖∂L/∂W‖ of ${a.name} over ${z.name} is ${ratioText(wa / wz)} at initialization${endText}: a weight gradient sums δ times the layer's inputs over its fan-in, so a layer with many inputs (784 pixels for a first layer on MNIST) shows a large one even while its ‖δ‖ is small.`);
    }
  }
  let depthRatio: number | null = null;
  const weighted = profileLayers(first);
  if (weighted.length >= 2) {
    const wa = weightNorm(weighted[0]), wz = weightNorm(weighted[weighted.length - 1]);
    if (wa !== null && wz !== null && wz > 0) depthRatio = wa / wz;
  }

  // Saturated and dead units at the end.
  let deadLayer: { name: string; dead: number } | null = null;
  for (const l of last.layers) {
    const act = l.activation;
    if (act?.saturated != null && act.saturated >= NOTE_FRACTION) findings.push(`${pct(act.saturated)} of ${l.name}'s units are saturated (|f′(z)| below 1% of its maximum), passing almost no gradient.`);
    if (act?.dead != null && act.dead >= NOTE_FRACTION) findings.push(`${pct(act.dead)} of ${l.name}'s relu units are dead (z ≤ 0 for the whole batch): they pass no gradient.`);
    if (act?.dead != null && act.dead >= DEAD_FRACTION && (deadLayer === null || act.dead > deadLayer.dead)) deadLayer = { name: l.name, dead: act.dead };
  }

  // Time: ‖∂ℓ/∂h_t‖ for t = 1…T (the record's hGradNorm[t − 1]).
  const timeRatios: Record<string, number> = {};
  let timeSevere = false;
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
        ? `In ${l.name}, ‖∂ℓ/∂h_t‖ at t = 1 has vanished entirely (it underflows to 0 over ${T} steps): the network cannot learn from the first ${where}.`
        : `In ${l.name}, ‖∂ℓ/∂h_t‖ at t = 1 is ${ratioText(r)}${r < 1 ? " of" : ""} its value at t = ${T}${r < TIME_VANISH ? `: the network can hardly learn from the first ${where}` : r > TIME_EXPLODE ? ": it grows back through time" : ""}.`);
      if (r < TIME_VANISH) vanishing = true;
      if (r < TIME_SEVERE) timeSevere = true;
      if (r > TIME_EXPLODE) exploding = true;
    }
    const i0 = first.layers.find((f) => f.name === l.name);
    // typeof: a record read from JSON holds null where σ_max was NaN (or another tool left it out).
    if (typeof i0?.sigmaMax === "number" && typeof i0.pascanu === "number") {
      findings.push(`At initialization σ_max(W_hh) = ${i0.sigmaMax.toPrecision(3)} and σ_max·γ = ${i0.pascanu.toPrecision(3)} ${i0.pascanu < 1 ? "< 1: Pascanu et al.'s sufficient condition for vanishing gradients holds" : "≥ 1: the recurrence can keep the gradient, or blow it up (Pascanu et al.'s necessary condition for exploding)"}.`);
    }
  }
  if (timeSevere) severe = true;

  // Divergence: the loss grew by orders of magnitude, or accuracy fell back to chance.
  let diverged = false;
  let divergeFinding: string | null = null;
  const endLoss = context.finalLoss ?? last.loss;
  if (Number.isFinite(first.loss) && Number.isFinite(endLoss) && first.loss > 0 && endLoss >= DIVERGE_LOSS * first.loss) {
    diverged = true;
    divergeFinding = `The training loss grew from ${fmt(first.loss)} at initialization to ${fmt(endLoss)} at the end (${ratioText(endLoss / first.loss)}): the updates overshoot (learning rate too large?).`;
    findings.push(divergeFinding);
  }
  const acc = records.map((r) => r.accuracy).filter((a) => Number.isFinite(a));
  const window = Math.min(5, acc.length);
  if (window > 0 && !diverged) {
    let best = 0;
    for (let i = 0; i + window <= acc.length; i++) best = Math.max(best, acc.slice(i, i + window).reduce((s, a) => s + a, 0) / window);
    const lastTest = context.epochs?.length ? context.epochs[context.epochs.length - 1].testAccuracy : acc.slice(-window).reduce((s, a) => s + a, 0) / window;
    if (best >= LEARNED_CHANCE * chance && lastTest <= AT_CHANCE * chance) {
      diverged = true;
      divergeFinding = `Accuracy fell back to chance: the batch accuracy reached ${pct(best)} (mean of ${window} records) and ends at ${pct(lastTest)} (chance is ${pct(chance)}).`;
      findings.push(divergeFinding);
    }
  }

  // NaN/Inf.
  const bad = last.layers.flatMap((l) => Object.entries(l.params).filter(([, p]) => p.nonFinite > 0).map(([k, p]) => `${l.name}.${k} (${p.nonFinite} entries)`));
  const nf = context.nonFinite;
  const stopped = !!stop;
  const stopFinding = stop ? `Training stopped at step ${stop.step}: ${stop.reason}${stop.layer ? ` (first non-finite gradient in ${stop.layer}.${stop.param})` : ""}.` : null;
  if (stopFinding !== null) {
    findings.push(stopFinding);
  } else if (nf?.first) {
    exploding = true;
    const what = nf.first.cause === "loss" ? "the loss" : nf.first.cause === "gradient" ? `a gradient (${nf.first.tensor})` : `the weights (${nf.first.tensor}) after the update`;
    findings.push(`${nf.steps} step(s) had NaN or infinite values, first at step ${nf.first.step} in ${what}; ${context.onNonFinite === "skip-step" ? `${context.skippedSteps ?? 0} batch(es) were skipped` : "training continued regardless"}${context.onNonFinite ? ` (train.onNonFinite = "${context.onNonFinite}")` : ""}.`);
  } else if (bad.length > 0) {
    exploding = true;
    findings.push(`Non-finite gradients at the last record in ${bad.join(", ")}.`);
  }

  const verdict: Verdict = stopped ? "stopped" : diverged ? "diverged" : exploding ? "exploding" : deadLayer ? "dead" : vanishing ? "vanishing" : "healthy";
  // The finding that decided a stopped or diverged verdict comes first.
  const lead = stopped ? stopFinding : diverged ? divergeFinding : null;
  if (lead !== null && findings.includes(lead)) findings.splice(0, 0, ...findings.splice(findings.indexOf(lead), 1));
  const grade: Grade | null = verdict === "vanishing" ? (severe ? "severe" : "mild") : null;
  if (context.partial) {
    const p = context.partial;
    findings.unshift(`Partial run: interrupted at step ${p.step} of ${p.totalSteps}${p.resume ? `; resume with ${p.resume}` : ""}.`);
  }
  const headline = headlineOf(verdict, grade);
  return {
    verdict, grade, headline,
    deltaRatio: init?.ratio ?? null, deltaRatioEnd: end?.ratio ?? null,
    layerFactor: init?.factor ?? null, layerFactorEnd: end?.factor ?? null,
    depthRatio, timeRatios, findings, text: [headline, ...findings].join(" "),
  };
}

/**
 * Each layer's activation by name, for the diagnosis text ("each sigmoid layer").
 * @example layerActivations(model) // { dense1: "sigmoid", dense2: "sigmoid", dense3: "linear" }
 */
export function layerActivations(model: Model): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of model.allLayers) { const act = l.probe()?.act; if (act) out[l.name] = act.name; }
  return out;
}
