/**
 * The HTML report: ONE self-contained file (no network, no external CSS or JS, readable with
 * JavaScript disabled) with the diagnosis, a per-layer table at initialization and at the end,
 * every chart as inline SVG, the exact command that reproduces the run and the resolved config.
 * The plotted numbers are also embedded as JSON in <script type="application/json"
 * id="gradlab-data"> so tools can read them. Every piece of text is escaped.
 */
import { grouped } from "../core/format.ts";
import type { Config } from "../experiment/config.ts";
import type { ProbeFile } from "../experiment/run-schema.ts";
import type { Summary } from "../experiment/run-folder/session.ts";
import { diagnose, headlineOf, ratioText, type Diagnosis } from "../instrument/diagnosis.ts";
import type { LayerRecord, StepRecord } from "../instrument/recorder.ts";
import { CHART_IDS, compareCharts, runCharts, sharedScales, weightKey, type ChartOption, type ChartSpec, type CompareRun, type RunData } from "./charts.ts";
import { esc } from "./escape.ts";
import { chartSvg } from "./render.ts";

/** What a report is made from: the contents of a run folder. */
export interface ReportRun {
  config: Config | Record<string, unknown>;
  /** probe.json of a folder recorded outside gradlab's engine (the PyTorch probe), which has no config.json */
  probe?: ProbeFile;
  summary: Partial<Summary>;
  records: StepRecord[];
  /** how many records metrics.jsonl holds (readRun): more than `records` when the report shows a selection */
  recordCount?: number;
  /** per-epoch results; default summary.epochs */
  epochs?: { epoch: number; testAccuracy: number; trainLoss?: number; testLoss?: number }[];
}

export interface ReportOptions {
  /** page title; default "gradlab · <name>" */
  title?: string;
  /** called with every chart and its SVG (writeReport uses it to export PNGs without re-rendering) */
  onChart?: (chart: ChartSpec, svg: string) => void;
}

/** Format of the embedded JSON, bumped on incompatible change. */
export const REPORT_DATA_FORMAT = "gradlab-report/1";

// ---------------------------------------------------------------------------------------------
// Escaping.

// esc lives in escape.ts (the charts' SVG uses it too); importers of html.ts keep finding it here.
export { esc };

/**
 * JSON for a <script type="application/json"> block: `<`, `>`, `&`, the JS line separators, DEL
 * and C1 become \u escapes, so no string can close the script element; JSON.parse reads it unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029")
    .replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);  // DEL and C1 (JSON leaves them raw)
}

/**
 * Check a chart's SVG before inlining it: one <svg> element, no script, no foreign content, no
 * event-handler attributes. The renderer (svg.ts) escapes the text it writes; this guards that.
 */
export function assertSafeSvg(svg: string): string {
  const s = svg.trim();
  if (!s.startsWith("<svg") || !s.endsWith("</svg>")) throw new Error("chart SVG: expected one <svg> element");
  for (const tag of s.match(/<[^>]*>/g) ?? []) {
    if (/^<\/?(script|foreignObject|iframe|object|embed)\b/i.test(tag) || /\son[a-z]+\s*=/i.test(tag) || /javascript:/i.test(tag)) {
      throw new Error(`chart SVG: unsafe markup ${tag.slice(0, 40)}`);
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Numbers and small pieces.

/** 3 significant digits, exponent form outside [1e-3, 1e4). */
export function fmtNum(x: number | null | undefined): string {
  if (x === null || x === undefined) return "–";
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e4 ? x.toPrecision(3) : x.toExponential(2).replace(/e\+?/, "e");
}

/** A gradient norm as shown: "non-finite (12)" when the tensor held NaN/Inf (the JSON norm is then null). */
export function fmtNorm(x: number | null | undefined, nonFinite: number | null | undefined): string {
  return nonFinite ? `non-finite (${nonFinite})` : fmtNum(x);
}

const fmtPct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(100 * x).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`);

/** The weight tensor's record of a layer. */
function weightParam(l: LayerRecord | undefined) {
  const k = l ? weightKey(l) : undefined;
  return l && k !== undefined ? l.params[k] : undefined;
}

/**
 * The per-layer numbers of the table, for one record: the depth profile first (‖δ‖ and the
 * update ratio), then ‖∂L/∂W‖ with its NaN/Inf count (a non-finite norm is null in JSON).
 */
interface LayerRow { deltaNorm: number | null; updateRatio: number | null; gradNorm: number | null; nonFinite: number; gain: number | null; saturated: number | null; dead: number | null }
const layerRow = (l: LayerRecord | undefined): LayerRow => {
  const w = weightParam(l);
  return {
    deltaNorm: l?.deltaNorm ?? null, updateRatio: w?.updateRatio ?? null,
    gradNorm: w?.gradNorm ?? null, nonFinite: w?.nonFinite ?? 0, gain: l?.gain ?? null,
    saturated: l?.activation?.saturated ?? null, dead: l?.activation?.dead ?? null,
  };
};

/** Rows of the per-layer table (init vs end), by layer name in record order. */
export function layerTable(records: readonly StepRecord[]): { name: string; type: string; init: LayerRow; end: LayerRow }[] {
  const first = records[0], last = records[records.length - 1];
  if (!first) return [];
  return first.layers.map((l) => ({ name: l.name, type: l.type, init: layerRow(l), end: layerRow(last.layers.find((m) => m.name === l.name)) }));
}

/** Rows of the recurrent table: decay through time and Pascanu's quantity at init and end. */
export function recurrentTable(records: readonly StepRecord[]) {
  const first = records[0], last = records[records.length - 1];
  if (!first) return [];
  const ratio = (h: number[] | undefined) => (h && h.length >= 2 ? h[0] / h[h.length - 1] : null);
  return first.layers.filter((l) => Array.isArray(l.hGradNorm)).map((l) => {
    const e = last.layers.find((m) => m.name === l.name);
    return {
      name: l.name, type: l.type, T: l.hGradNorm!.length,
      timeRatio: { init: ratio(l.hGradNorm), end: ratio(e?.hGradNorm) },
      sigmaMax: { init: l.sigmaMax ?? null, end: e?.sigmaMax ?? null },
      pascanu: { init: l.pascanu ?? null, end: e?.pascanu ?? null },
      gates: e?.gates ?? [],
    };
  });
}

/** The run's diagnosis: the stored one, or recomputed from the records. */
function diagnosisOf(run: ReportRun): Diagnosis | null {
  if (run.summary.diagnosis) return run.summary.diagnosis;
  const r = run.records;
  return r.length ? diagnose(r[0], r[r.length - 1], run.summary.stopped ?? null, { records: r, epochs: run.epochs ?? run.summary.epochs, finalLoss: run.summary.finalLoss }) : null;
}

/** "vanishing (mild)": a verdict with its grade. */
export function verdictText(d: { verdict: Diagnosis["verdict"] | null; grade?: Diagnosis["grade"] } | null | undefined): string {
  if (!d || d.verdict === null) return "–";
  return d.grade ? `${d.verdict} (${d.grade})` : d.verdict;
}

/** Steps per epoch, when the run was not stopped early and it divides evenly. */
function stepsPerEpoch(run: ReportRun): number | undefined {
  const epochs = (run.config as Partial<Config>).train?.epochs;
  const steps = run.summary.steps;
  if (run.summary.stopped || !epochs || !steps || steps % epochs !== 0) return undefined;
  return steps / epochs;
}

function runData(run: ReportRun): RunData {
  return { records: run.records, epochs: run.epochs ?? run.summary.epochs, stepsPerEpoch: stepsPerEpoch(run) };
}

/** A chart's numbers as embedded in the page. */
const chartData = (c: ChartSpec, extra: Record<string, unknown> = {}) =>
  ({ id: c.id, title: c.title, subtitle: c.subtitle, width: c.width, height: c.height, ...(c.range ? { range: c.range } : {}), ...extra, series: c.series });

/** Render a chart to a <figure> with its SVG inline; `onChart` sees the SVG. */
function figure(c: ChartSpec, opts: ReportOptions): string {
  const svg = assertSafeSvg(chartSvg(c));
  opts.onChart?.(c, svg);
  return `<figure class="chart" id="chart-${esc(c.id)}" data-chart-id="${esc(c.id)}">
${svg.replace(/^<svg /, `<svg role="img" aria-label="${esc(c.title)}" `)}
<figcaption><strong>${esc(c.title)}.</strong> ${esc(c.subtitle.replace(/\n/g, " "))}</figcaption>
</figure>`;
}

const STYLE = `
:root { color-scheme: light; --ink: #1d1d1f; --muted: #5b5b60; --line: #d9d9de; --bg: #ffffff; --panel: #f6f6f8; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 "DejaVu Sans", Verdana, system-ui, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 28px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 36px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 24px 0 8px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; color: var(--muted); font-size: 12px; margin: 0; }
.desc { color: var(--muted); margin: 4px 0 12px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 12px 0; padding: 0; }
.facts div { margin: 0; } .facts dt { font-size: 12px; color: var(--muted); } .facts dd { margin: 0; font-size: 18px; font-weight: bold; }
.diagnosis { border-left: 8px solid #0072B2; background: var(--panel); padding: 14px 18px; margin: 20px 0; }
.diagnosis.vanishing { border-color: #D55E00; } .diagnosis.exploding, .diagnosis.diverged, .diagnosis.stopped { border-color: #CC79A7; } .diagnosis.dead { border-color: #000000; } .diagnosis.healthy { border-color: #009E73; }
.diagnosis .headline { font-size: 22px; font-weight: bold; margin: 0 0 8px; }
.diagnosis ul { margin: 0; padding-left: 20px; } .diagnosis li { margin: 4px 0; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; display: block; max-width: 100%; overflow-x: auto; } /* a wide table scrolls on its own; the page never does */
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; font-variant-numeric: tabular-nums; }
th { background: var(--panel); } td.name, th.name { text-align: left; }
.chart { margin: 20px 0 28px; } .chart svg { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
.chart figcaption { font-size: 13px; color: var(--muted); margin-top: 6px; }
.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 0 16px; }
pre { background: var(--panel); padding: 12px; overflow-x: auto; font-size: 13px; }
nav ul { columns: 2; padding-left: 20px; font-size: 14px; }
a { color: #0072B2; }
`;

function page(title: string, body: string, data: unknown): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gradlab">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
<script type="application/json" id="gradlab-data">${jsonForScript(data)}</script>
</body>
</html>
`;
}

function diagnosisSection(d: Diagnosis | null, stopped: Partial<Summary>["stopped"]): string {
  if (!d) return `<section class="diagnosis" id="diagnosis"><p class="headline">No records: nothing to diagnose.</p></section>`;
  // Summaries written before the headline was stored: take it from the verdict.
  const headline = d.headline ?? headlineOf(d.verdict, d.grade ?? null);
  return `<section class="diagnosis ${esc(d.verdict)}" id="diagnosis">
<p class="kicker">diagnosis</p>
<p class="headline">${esc(headline)}</p>
<ul>${d.findings.map((f) => `<li>${esc(f)}</li>`).join("")}</ul>
${stopped ? `<p><strong>Training stopped early</strong> at step ${esc(stopped.step)}.</p>` : ""}
</section>`;
}

function layerTableHtml(records: readonly StepRecord[]): string {
  const rows = layerTable(records);
  if (rows.length === 0) return "<p>No records.</p>";
  const first = records[0].step, last = records[records.length - 1].step;
  const pair = (a: string, b: string) => `<td>${a}</td><td>${b}</td>`;
  const body = rows.map((r) => `<tr><td class="name">${esc(r.name)} <small>(${esc(r.type)})</small></td>${
    pair(esc(fmtNum(r.init.deltaNorm)), esc(fmtNum(r.end.deltaNorm)))}${
    pair(esc(fmtNum(r.init.updateRatio)), esc(fmtNum(r.end.updateRatio)))}${
    pair(esc(fmtNorm(r.init.gradNorm, r.init.nonFinite)), esc(fmtNorm(r.end.gradNorm, r.end.nonFinite)))}${
    pair(esc(fmtNum(r.init.gain)), esc(fmtNum(r.end.gain)))}${
    pair(fmtPct(r.init.saturated), fmtPct(r.end.saturated))}${
    pair(fmtPct(r.init.dead), fmtPct(r.end.dead))}</tr>`).join("\n");
  const sub = `<th>init</th><th>end</th>`;
  let html = `<table class="layers">
<thead><tr><th class="name" rowspan="2">layer (input first)</th><th colspan="2">‖δ‖ = ‖∂ℓ/∂z‖ (how fast it learns)</th><th colspan="2">update ‖ΔW‖/‖W‖</th><th colspan="2">‖∂L/∂W‖ (grows with fan-in)</th><th colspan="2">gain ‖δ<sub>l</sub>‖/‖δ<sub>l+1</sub>‖</th><th colspan="2">saturated</th><th colspan="2">dead (relu)</th></tr>
<tr>${sub.repeat(6)}</tr></thead>
<tbody>
${body}
</tbody></table>
<p class="desc">init = step ${esc(first)} (before the first update); end = step ${esc(last)}. ‖δ‖: mean per-example norm of the error at the pre-activation (for a dense layer, its per-example bias gradient ‖∂ℓ/∂b‖); ‖ΔW‖/‖W‖: how much that step's update changed the weights; ‖∂L/∂W‖: L2 norm of the weight gradient of the batch-mean loss, which grows with the number of inputs (784 for a first layer on MNIST), so it is not how fast a layer learns; "non-finite (n)": n gradient entries were NaN or infinite.</p>`;
  const rnn = recurrentTable(records);
  if (rnn.length) {
    html += `\n<h3>Recurrent layers</h3>
<table class="recurrent"><thead><tr><th class="name" rowspan="2">layer</th><th rowspan="2">T</th><th colspan="2">‖∂ℓ/∂h<sub>1</sub>‖ / ‖∂ℓ/∂h<sub>T</sub>‖</th><th colspan="2">σ<sub>max</sub>(W<sub>hh</sub>)</th><th colspan="2">σ<sub>max</sub>·γ (Pascanu)</th><th rowspan="2">gates at the end (&lt;0.01 / &gt;0.99)</th></tr>
<tr>${sub.repeat(3)}</tr></thead><tbody>
${rnn.map((r) => `<tr><td class="name">${esc(r.name)} <small>(${esc(r.type)})</small></td><td>${esc(r.T)}</td>${
  pair(esc(r.timeRatio.init === null ? "–" : ratioText(r.timeRatio.init)), esc(r.timeRatio.end === null ? "–" : ratioText(r.timeRatio.end)))}${
  pair(esc(fmtNum(r.sigmaMax.init)), esc(fmtNum(r.sigmaMax.end)))}${
  pair(esc(fmtNum(r.pascanu.init)), esc(fmtNum(r.pascanu.end)))}<td>${
  esc(r.gates.map((g) => `${g.name}: ${fmtPct(g.low)} / ${fmtPct(g.high)}`).join(", ") || "–")}</td></tr>`).join("\n")}
</tbody></table>`;
  }
  return html;
}

/** "This run: 1 epoch of 5,000 training examples, batch 32, sgd with lr 0.5.", from the resolved config. */
function runLine(config: Partial<Config>, s: Partial<Summary>): string {
  const t = config.train, d = config.data, o = config.optimizer;
  if (!t || !d) return "";
  const parts = [`${t.epochs} epoch${t.epochs === 1 ? "" : "s"} of ${grouped(d.train)} training examples`, `batch ${t.batchSize}`];
  if (o) parts.push(`${o.type} with lr ${o.lr}`);
  const status = s.status && s.status !== "complete" ? ` (${s.status}${s.steps !== undefined ? ` at step ${s.steps}` : ""})` : "";
  return `<p class="run">This run: ${esc(parts.join(", "))}${esc(status)}.</p>`;
}

/** A note after a preset's description when it names another number of epochs than this run trained. */
function descriptionNote(description: string, epochs: number | undefined): string {
  const m = /(\d+) epochs?\b/.exec(description);
  if (!m || epochs === undefined || Number(m[1]) === epochs) return "";
  return ` <em>(The description is the preset's; this run trained ${esc(epochs)} epoch${epochs === 1 ? "" : "s"}.)</em>`;
}

function facts(items: [string, string][]): string {
  return `<dl class="facts">${items.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join("")}</dl>`;
}

const pctText = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : `${(100 * x).toFixed(2)}%`);

/** The charts of a run's report, in the page's order (none without records). */
export function reportCharts(run: ReportRun): ChartSpec[] {
  return run.records.length ? runCharts(runData(run)) : [];
}

/**
 * The report of one run as a self-contained HTML page.
 *
 * @example
 * const html = renderReport({ config, summary, records });   // records: metrics.jsonl, parsed
 * writeFileSync("report.html", html);
 */
export function renderReport(run: ReportRun, opts: ReportOptions = {}): string {
  const config = run.config as Partial<Config>;
  const name = run.summary.name ?? config.name ?? "run";
  const d = diagnosisOf(run);
  const charts = reportCharts(run);
  const figures = charts.map((c) => figure(c, opts));
  // The depth profile leads, right under the diagnosis; the other charts follow the table.
  const profileAt = charts.findIndex((c) => c.id === CHART_IDS.depthProfile);
  const profile = profileAt >= 0 ? figures[profileAt] : "";
  const rest = figures.filter((_, i) => i !== profileAt);
  const s = run.summary;
  const body = `<header>
<p class="kicker">gradlab report</p>
<h1>${esc(name)}</h1>
${runLine(config, s)}
${config.description ? `<p class="desc">${esc(config.description)}${descriptionNote(config.description, config.train?.epochs)}</p>` : ""}
${facts([
    ["test accuracy", pctText(s.testAccuracy)], ["test loss", fmtNum(s.testLoss)], ["final training loss", fmtNum(s.finalLoss)],
    ["epochs", config.train?.epochs === undefined ? "–" : String(config.train.epochs)],
    ["steps", s.steps === undefined ? "–" : String(s.steps)], ["recorded steps", String(run.records.length)],
    ["verdict", verdictText(d)],
  ])}
</header>
${diagnosisSection(d, s.stopped)}
${profile ? `<section id="depth-profile">
<h2>Depth profile: how fast each layer learns</h2>
${profile}
</section>` : ""}
<nav><ul>
${profile ? `<li><a href="#depth-profile">Depth profile</a></li>` : ""}
<li><a href="#layers">Per-layer table</a></li>
${charts.filter((c) => c.id !== CHART_IDS.depthProfile).map((c) => `<li><a href="#chart-${esc(c.id)}">${esc(c.title)}</a></li>`).join("\n")}
${run.probe ? `<li><a href="#probe">The model and what was not measured</a></li>` : `<li><a href="#reproduce">Reproduce this run</a></li>
<li><a href="#config">Resolved config</a></li>`}
</ul></nav>
<section id="layers">
<h2>Per layer: at initialization and at the end</h2>
${layerTableHtml(run.records)}
</section>
<section id="charts">
<h2>Charts</h2>
${rest.join("\n")}
</section>
${run.probe ? probeSections(run.probe) : `<section id="reproduce">
<h2>Reproduce this run</h2>
<p>The run is a pure function of its config (seeded); this command, run from the same folder, writes the same metrics:</p>
<pre><code>${esc(s.command ?? "(command not recorded)")}</code></pre>
</section>
<section id="config">
<h2>Resolved config</h2>
<pre><code>${esc(JSON.stringify(run.config, null, 2))}</code></pre>
</section>`}`;
  const data = {
    format: REPORT_DATA_FORMAT, kind: "run", name,
    summary: { testAccuracy: s.testAccuracy ?? null, testLoss: s.testLoss ?? null, finalLoss: s.finalLoss ?? null, steps: s.steps ?? null, command: s.command ?? null },
    diagnosis: d,
    layers: layerTable(run.records),
    recurrent: recurrentTable(run.records),
    charts: charts.map((c) => chartData(c)),
  };
  return page(opts.title ?? `gradlab · ${name}`, body, data);
}

/** A probe folder's model, how it was recorded, and what the probe could not measure (in place of the config). */
function probeSections(p: ProbeFile): string {
  const layers = p.model.layers.map((l) => `<tr><td>${esc(l.name)}</td><td>${esc(l.type)}</td><td>${esc(l.module ?? "")}</td><td>${esc(Object.entries(l.params ?? {}).map(([k, shape]) => `${k} [${shape.join(", ")}]`).join(", "))}</td></tr>`).join("\n");
  const notes = p.notes ?? [];
  return `<section id="probe">
<h2>The model, recorded by ${esc(p.source)}</h2>
<p>This folder was recorded from a PyTorch training loop${p.torch ? ` (torch ${esc(p.torch)})` : ""}${p.command?.length ? ` started as <code>${esc(p.command.join(" "))}</code>` : ""}. Its layers, by qualified module name:</p>
<table class="layers"><thead><tr><th>layer</th><th>type</th><th>module</th><th>parameters</th></tr></thead><tbody>
${layers}
</tbody></table>
<h3>What could not be measured</h3>
${notes.length ? `<ul>${notes.map((n) => `<li>${n.layer ? `<b>${esc(n.layer)}</b>: ` : ""}${esc(n.note)}</li>`).join("")}</ul>` : "<p>Nothing: every recorded layer was measured.</p>"}
</section>`;
}

// ---------------------------------------------------------------------------------------------
// Comparisons.

export interface CompareInput extends ReportRun { label: string }

/** A file-name-safe, unique label per run: "seed", "seed-2", … */
export function safeLabels(labels: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((l) => {
    const base = l.replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^[._]+/, "") || "run";
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
}

/** A copy of a chart for one run of a comparison: id suffixed with the run, title prefixed with its label. */
function forRun(c: ChartSpec, label: string, safe: string): ChartSpec {
  const retitle = (t: ChartOption) => ({ ...t, text: `${label}: ${String(t.text)}` });
  const title = c.option.title as ChartOption | ChartOption[];
  const option = { ...c.option, title: Array.isArray(title) ? [retitle(title[0]), ...title.slice(1)] : retitle(title) };
  return { ...c, id: `${c.id}--${safe}`, title: `${label}: ${c.title}`, option };
}

/** The rows of the comparison table. */
export function comparisonTable(runs: readonly CompareInput[]) {
  return runs.map((r) => {
    const d = diagnosisOf(r);
    return {
      label: r.label,
      testAccuracy: r.summary.testAccuracy ?? null,
      finalLoss: r.summary.finalLoss ?? null,
      steps: r.summary.steps ?? null,
      verdict: d?.verdict ?? null,
      grade: d?.grade ?? null,
      deltaRatio: d?.deltaRatio ?? null,
      depthRatio: d?.depthRatio ?? null,
      timeRatios: d?.timeRatios ?? {},
      command: r.summary.command ?? null,
    };
  });
}

/**
 * A comparison report of several runs: a table of accuracy and first/last gradient ratios,
 * overlay charts (loss, accuracy, gradient against depth, gradient through time), and every
 * per-run chart as small multiples on SHARED axes (same log ranges, same colour scales).
 */
export function renderComparison(runs: readonly CompareInput[], opts: ReportOptions = {}): string {
  const safe = safeLabels(runs.map((r) => r.label));
  const data: CompareRun[] = runs.map((r) => ({ ...runData(r), label: r.label }));
  const scales = sharedScales(data);
  const overlays = compareCharts(data);
  const perRun = runs.map((r, i) => (r.records.length ? runCharts(data[i], scales) : []).filter((c) => c.id !== "loss").map((c) => forRun(c, r.label, safe[i])));
  const kinds: string[] = [];
  for (const cs of perRun) for (const c of cs) { const k = c.id.slice(0, c.id.lastIndexOf("--")); if (!kinds.includes(k)) kinds.push(k); }
  const table = comparisonTable(runs);
  const title = opts.title ?? `gradlab · comparison of ${runs.map((r) => r.label).join(", ")}`;
  const rows = table.map((t) => `<tr><td class="name">${esc(t.label)}</td><td>${esc(pctText(t.testAccuracy ?? undefined))}</td><td>${esc(fmtNum(t.finalLoss))}</td><td>${esc(t.steps ?? "–")}</td><td>${esc(verdictText(t))}</td><td>${
    esc(t.deltaRatio === null ? "–" : `${ratioText(t.deltaRatio)} (${fmtNum(t.deltaRatio)})`)}</td><td>${
    esc(t.depthRatio === null ? "–" : `${ratioText(t.depthRatio)} (${fmtNum(t.depthRatio)})`)}</td><td>${
    esc(Object.entries(t.timeRatios).map(([k, v]) => `${k}: ${ratioText(v)}`).join(", ") || "–")}</td></tr>`).join("\n");
  const multiples = kinds.map((k) => {
    const cs = perRun.flatMap((list) => list.filter((c) => c.id.slice(0, c.id.lastIndexOf("--")) === k));
    return `<h3>${esc(cs[0].title.slice(cs[0].title.indexOf(": ") + 2))}</h3>\n<div class="multiples">\n${cs.map((c) => figure(c, opts)).join("\n")}\n</div>`;
  });
  const body = `<header>
<p class="kicker">gradlab comparison</p>
<h1>${esc(runs.map((r) => r.label).join(" vs "))}</h1>
</header>
<section id="runs">
<h2>Runs</h2>
<table class="runs"><thead><tr><th class="name">run</th><th>test accuracy</th><th>final loss</th><th>steps</th><th>verdict</th><th>‖δ‖ first ÷ last layer at init</th><th>‖∂L/∂W‖ first ÷ last layer at init</th><th>‖∂ℓ/∂h‖ first ÷ last time step at the end</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${runs.map((r) => `<div class="diagnosis ${esc(diagnosisOf(r)?.verdict ?? "")}"><p><strong>${esc(r.label)}</strong>: ${esc(diagnosisOf(r)?.text ?? "no records")}</p></div>`).join("\n")}
</section>
<section id="overlays">
<h2>Runs overlaid</h2>
${overlays.map((c) => figure(c, opts)).join("\n")}
</section>
<section id="multiples">
<h2>Each run, on shared axes</h2>
${multiples.join("\n")}
</section>
<section id="reproduce">
<h2>Reproduce these runs</h2>
<pre><code>${esc(table.map((t) => t.command ?? `# ${t.label}: command not recorded`).join("\n"))}</code></pre>
</section>`;
  const json = {
    format: REPORT_DATA_FORMAT, kind: "comparison",
    runs: table,
    scales,
    charts: [...overlays.map((c) => chartData(c)), ...perRun.flatMap((cs, i) => cs.map((c) => chartData(c, { run: runs[i].label })))],
  };
  return page(title, body, json);
}
