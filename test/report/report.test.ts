/**
 * The HTML report and its files, for a real MLP run (the seed network trained through the real
 * CLI) and for synthetic CNN and RNN records (test/report/synthetic.ts): every chart is there,
 * drawn as SVG, and the numbers it plots equal those of metrics.jsonl (expected values come from
 * test/report/expected.ts, which reads the records directly; one chart is also checked by
 * reading its SVG path back through the axis). Also: PNG export, CSV next to the report,
 * comparisons on shared axes.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { StepRecord } from "../../src/instrument/recorder.ts";
import { csvToRecords } from "../../src/report/csv.ts";
import { renderReport } from "../../src/report/html.ts";
import { writeComparison, writeReport } from "../../src/report/write.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";
import { expectedCharts, normalise } from "./expected.ts";
import { cnnRecords, rnnRecords, synthRun } from "./synthetic.ts";

interface ChartJson { id: string; title: string; subtitle: string; width: number; height: number; range?: [number, number]; series: { name: string; panel?: string; data: (number | string)[][] }[] }
interface ReportJson { format: string; kind: string; name: string; charts: ChartJson[]; layers: { name: string; init: Record<string, number | null>; end: Record<string, number | null> }[]; runs?: Record<string, unknown>[] }

/** The JSON a report embeds in <script type="application/json" id="gradlab-data">. */
export function reportData(html: string): ReportJson {
  const m = /<script type="application\/json" id="gradlab-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]);
}

const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** The <figure> of a chart id, with its inline SVG. */
function figureOf(html: string, id: string): string {
  const start = html.indexOf(`<figure class="chart" id="chart-${id}"`);
  expect(start, `figure for chart ${id}`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf("</figure>", start));
}

/** Every chart expected from the records is in the page as SVG, and plots exactly those numbers. */
function expectChartsMatch(html: string, records: StepRecord[], epochs?: { epoch: number; testAccuracy: number }[], spe?: number): ReportJson {
  const data = reportData(html);
  const expected = expectedCharts(records, epochs, spe);
  expect(data.charts.map((c) => c.id).sort()).toEqual([...expected.keys()].sort());
  for (const [id, series] of expected) {
    const chart = data.charts.find((c) => c.id === id)!;
    expect(normalise(id, chart.series), id).toEqual(series);
    const fig = figureOf(html, id);
    expect(fig).toMatch(/<svg [^>]*viewBox=/);
    // the chart's title is drawn in its SVG, as escaped text
    expect(fig.slice(fig.indexOf("<svg"))).toContain(`>${escapeXml(chart.title)}</text>`);
  }
  return data;
}

let dir: string;
let run: string;

beforeAll(() => {
  // The seed network on 2000 examples for one epoch, recorded every 10 steps: 63 steps, 8 records.
  dir = tempDir("gradlab-report-");
  const config = JSON.parse(readFileSync(join(import.meta.dirname, "../../experiments/seed.json"), "utf8"));
  config.name = "seed-report";
  config.data = { ...config.data, train: 2000, test: 500 };
  config.train = { ...config.train, epochs: 1 };
  config.record = { every: 10, histograms: true };
  writeFileSync(join(dir, "seed-report.json"), JSON.stringify(config));
  run = join(dir, "run");
  const r = gradlab(["run", join(dir, "seed-report.json"), "--out", run]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
});

const readRecords = (d: string): StepRecord[] => readFileSync(join(d, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));

describe("report of a real MLP run", () => {
  it("writes report.html with every chart, plotting exactly the numbers of metrics.jsonl", () => {
    const files = writeReport(run);
    expect(files.map((f) => f.slice(run.length + 1)).sort()).toEqual([
      "charts/act-hist.png", "charts/delta-norm.png", "charts/depth-profile.png", "charts/grad-heatmap.png", "charts/grad-hist.png",
      "charts/grad-norm.png", "charts/loss.png", "charts/saturation.png", "metrics.csv", "report.html",
    ]);
    const html = readFileSync(join(run, "report.html"), "utf8");
    const records = readRecords(run);
    const summary = JSON.parse(readFileSync(join(run, "summary.json"), "utf8"));
    expect(records.map((r) => r.step)).toEqual([0, 10, 20, 30, 40, 50, 60, 62]);
    const data = expectChartsMatch(html, records, summary.epochs, 63);
    expect(data.format).toBe("gradlab-report/1");
    expect(data.name).toBe("seed-report");
    // the per-layer table: init = step 0, end = step 62
    expect(data.layers.map((l) => [l.name, l.init.gradNorm, l.end.deltaNorm])).toEqual(
      records[0].layers.map((l, i) => [l.name, l.params.weight.gradNorm, records[7].layers[i].deltaNorm]));
    // the diagnosis text, the exact command and the resolved config are in the page
    expect(html).toContain(summary.diagnosis.findings[0].replace(/'/g, "&#39;"));
    expect(html).toContain(`<pre><code>${summary.command}</code></pre>`);
    expect(html).toContain("&quot;histograms&quot;: true");
    // self-contained: nothing is fetched
    expect(html).not.toMatch(/<link|<img|src=|@import|https?:\/\/(?!www\.w3\.org)/);
  });

  it("leads with the depth profile: the first chart, in #depth-profile, plotting metrics.jsonl's ‖δ‖ and update ratios", () => {
    const html = readFileSync(join(run, "report.html"), "utf8");
    const records = readRecords(run);
    const data = reportData(html);
    expect(data.charts[0].id).toBe("depth-profile");
    // the first figure of the page sits in the element with id="depth-profile", right after the diagnosis
    const firstFigure = html.indexOf("<figure");
    const section = html.indexOf(`<section id="depth-profile">`);
    expect(section).toBeGreaterThan(html.indexOf(`id="diagnosis"`));
    expect(section).toBeGreaterThanOrEqual(0);
    expect(firstFigure).toBeGreaterThan(section);
    expect(firstFigure).toBeLessThan(html.indexOf("</section>", section));
    // its numbers are metrics.jsonl's: step 0 dashed, step 62 solid, layer by layer, input first
    const [first, last] = [records[0], records[records.length - 1]];
    const dp = data.charts[0].series;
    expect(dp.map((x) => x.name)).toEqual(["‖δ‖ at init (step 0)", "‖δ‖ now (step 62)", "‖ΔW‖/‖W‖ at init (step 0)", "‖ΔW‖/‖W‖ now (step 62)"]);
    expect(dp[0].data).toEqual(first.layers.map((l) => [l.name, l.deltaNorm]));
    expect(dp[1].data).toEqual(last.layers.map((l) => [l.name, l.deltaNorm]));
    expect(dp[2].data).toEqual(first.layers.map((l) => [l.name, l.params.weight.updateRatio]));
    expect(dp[3].data).toEqual(last.layers.map((l) => [l.name, l.params.weight.updateRatio]));
    // the seed's verdict, with its grade, in the header
    expect(html).toMatch(/<dt>verdict<\/dt><dd>vanishing \(mild\)<\/dd>/);
  });

  it("the header reads the run's actual epochs (the preset's description says 5)", () => {
    const html = readFileSync(join(run, "report.html"), "utf8");
    // this run: --epochs 1 on 2,000 examples (beforeAll); the seed preset's description says "5 epochs"
    expect(html).toContain(`<p class="run">This run: 1 epoch of 2,000 training examples, batch 32, sgd with lr 0.5.</p>`);
    expect(html).toContain("<dt>epochs</dt><dd>1</dd>");
    expect(html).toContain("this run trained 1 epoch");
  });

  it("the gradient histogram shows exact zeros apart, and says why they occur", () => {
    const records = readRecords(run);
    const chart = reportData(readFileSync(join(run, "report.html"), "utf8")).charts.find((c) => c.id === "grad-hist")!;
    const init1 = chart.series.find((x) => x.name === "dense1" && x.panel === "init")!;
    const w = records[0].layers[0].params.weight;
    const total = records[0].layers[0].hist!.grad.reduce((a, b) => a + b, 0);
    expect(w.zeros!).toBeGreaterThan(0); // blank border pixels: MNIST's corners are 0 in every image
    expect(init1.data[0]).toEqual(["= 0", w.zeros! / total]);
    expect(init1.data[1]).toEqual(["<-10", (records[0].layers[0].hist!.grad[0] - w.zeros!) / total]);
    expect(chart.subtitle).toContain("blank border pixels give exactly zero weight gradients");
  });

  it("draws the weight-gradient lines where the log axis puts the recorded norms", () => {
    const html = readFileSync(join(run, "report.html"), "utf8");
    const records = readRecords(run);
    const chart = reportData(html).charts.find((c) => c.id === "grad-norm")!;
    const [lo, hi] = chart.range!.map(Math.log10);
    // The plot area's top and bottom, read from the SVG: the horizontal grid lines span the plot
    // from the range's top decade to its bottom one.
    const svg = figureOf(html, "grad-norm");
    const grid = [...svg.matchAll(/<path d="M(\d+(?:\.\d+)?) (\d+(?:\.\d+)?)L(\d+(?:\.\d+)?) \2" fill="none" stroke="#dbdee4"/g)].map((m) => Number(m[2]));
    // 1-px grid lines are drawn half a pixel off a whole pixel (crisp edges): round(y) + 0.5.
    const top = Math.min(...grid) - 0.5, bottom = Math.max(...grid) - 0.5;
    const paths = [...svg.matchAll(/<path class="series" d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(3);
    paths.forEach((d, li) => {
      const pts = [...d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(pts).toHaveLength(records.length);
      const x0 = pts[0][0], k = (pts[pts.length - 1][0] - x0) / records[records.length - 1].step;
      pts.forEach(([x, y], i) => {
        expect(Math.abs(x - (x0 + k * records[i].step))).toBeLessThan(0.2);
        const value = lo + ((bottom - y) / (bottom - top)) * (hi - lo);
        expect(Math.abs(value - Math.log10(records[i].layers[li].params.weight.gradNorm))).toBeLessThan(0.002); // 0.1 px of rounding is ~0.001 decade
      });
    });
  });

  it("exports each chart as a valid PNG of the chart's size (×2)", () => {
    const charts = reportData(readFileSync(join(run, "report.html"), "utf8")).charts;
    const pngs = readdirSync(join(run, "charts")).sort();
    expect(pngs).toEqual(charts.map((c) => `${c.id}.png`).sort());
    for (const c of charts) {
      const png = readFileSync(join(run, "charts", `${c.id}.png`));
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.subarray(12, 16).toString("latin1")).toBe("IHDR");
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([2 * c.width, 2 * c.height]);
      expect(png.length).toBeGreaterThan(5000); // something was drawn
    }
  });

  it("writes metrics.csv that reads back to the numbers of metrics.jsonl exactly", () => {
    const records = readRecords(run);
    const back = csvToRecords(readFileSync(join(run, "metrics.csv"), "utf8"));
    expect(back).toEqual(records.map((r) => ({ ...r, layers: r.layers.map(({ hist: _h, ...l }) => l) })));
  });
});

describe("report of synthetic CNN and RNN records", () => {
  it("CNN: every chart, layers without weights left out of the gradient charts, dead units plotted", () => {
    const records = cnnRecords();
    const html = renderReport(synthRun(records, "cnn"));
    const data = expectChartsMatch(html, records, [{ epoch: 1, testAccuracy: 0.5 }], 51);
    expect(data.charts.find((c) => c.id === "grad-norm")!.series.map((s) => s.name)).toEqual(["conv1", "bn1", "conv2", "dense1", "dense2"]);
    expect(data.charts.find((c) => c.id === "saturation")!.series.map((s) => s.name)).toEqual(["conv1 dead", "conv2 dead", "dense1 dead"]);
    // the heatmap rows are the weighted layers, input first (drawn at the bottom)
    const heat = data.charts.find((c) => c.id === "grad-heatmap")!;
    expect([...new Set(heat.series[0].data.map((d) => d[1]))]).toEqual(["conv1", "bn1", "conv2", "dense1", "dense2"]);
    expect(figureOf(html, "grad-heatmap")).toContain("layer (input at bottom)");
  });

  it("RNN: time × step heatmaps per recurrent layer, ‖∂ℓ/∂h_t‖ against t, Pascanu; zeros dropped and said so", () => {
    const records = rnnRecords(12);
    const html = renderReport(synthRun(records, "rnn"));
    const data = expectChartsMatch(html, records, [{ epoch: 1, testAccuracy: 0.5 }], 51);
    const ids = data.charts.map((c) => c.id);
    for (const id of ["time-heatmap-lstm1", "time-heatmap-rnn1", "time-norm", "pascanu"]) expect(ids).toContain(id);
    // step 20 has ‖∂ℓ/∂h_0‖ = 0: not a cell, and the subtitle says one cell was left blank
    const heat = data.charts.find((c) => c.id === "time-heatmap-lstm1")!;
    expect(heat.series[0].data).toHaveLength(6 * 12 - 1);
    expect(figureOf(html, "time-heatmap-lstm1")).toContain("1 zero or non-finite cell left blank");
    // one colour per layer in every chart: lstm1 is Okabe–Ito's first colour everywhere
    for (const id of ["grad-norm", "time-norm", "pascanu"]) expect(figureOf(html, id)).toMatch(/stroke="#0072B2"/);
    // the recurrent table
    expect(html).toContain("σ<sub>max</sub>·γ (Pascanu)");
    expect(html).toContain("f: 1.0% / 45%");
  });

  it("a record with a NaN gradient norm: the log chart drops it and the subtitle says so", () => {
    const records = cnnRecords();
    records[2].layers[0].params.weight.gradNorm = Number.NaN;
    const data = reportData(renderReport(synthRun(records, "nan")));
    const g = data.charts.find((c) => c.id === "grad-norm")!;
    expect(g.series[0].data.map((d) => d[0])).toEqual([0, 10, 30, 40, 50]);
    expect(data.charts.find((c) => c.id === "grad-norm")!).toMatchObject({ subtitle: expect.stringContaining("1 value ≤ 0 or not finite not shown (log axis)") });
  });
});

describe("a run stopped by a non-finite loss", () => {
  it("renders: the NaN loss and gradients (null in metrics.jsonl) are left out and counted", () => {
    // JSON has no NaN: metrics.jsonl carries null where the recorder saw NaN.
    const records: StepRecord[] = JSON.parse(JSON.stringify(cnnRecords().map((r, i) => (i < 5 ? r : {
      ...r, loss: Number.NaN, layers: r.layers.map((l) => ({ ...l, params: Object.fromEntries(Object.entries(l.params).map(([k, p]) => [k, { ...p, gradNorm: Number.NaN, nonFinite: 3 }])) })),
    }))));
    const run = synthRun(records, "stopped");
    const html = renderReport({ ...run, summary: { ...run.summary, stopped: { step: 50, reason: "the loss became NaN at step 50" } } });
    const data = reportData(html);
    const loss = data.charts.find((c) => c.id === "loss")!;
    expect(loss.series[0].data.map((d) => d[0])).toEqual([0, 10, 20, 30, 40]);
    expect(loss.subtitle).toContain("1 non-finite loss value not shown");
    expect(data.charts.find((c) => c.id === "grad-heatmap")!.series[0].data).toHaveLength(5 * 5);
    expect(html).toContain("Training stopped at step 50: the loss became NaN at step 50");
    // Changed: a run that ended on a NaN is "stopped" (it used to be called exploding).
    expect(html).toContain("Verdict: stopped: a value became NaN or infinite");
  });
});

describe("comparison", () => {
  it("overlays runs and draws each run's charts on shared axes; the table carries the gradient ratios", () => {
    const rnnDir = join(dir, "rnn-run");
    mkdirSync(rnnDir, { recursive: true });
    const synth = synthRun(rnnRecords(12), "rnn-run");
    writeFileSync(join(rnnDir, "config.json"), JSON.stringify(synth.config));
    writeFileSync(join(rnnDir, "summary.json"), JSON.stringify(synth.summary));
    writeFileSync(join(rnnDir, "metrics.jsonl"), synth.records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "cmp");
    const files = writeComparison([run, rnnDir], out, { png: false });
    expect(files.map((f) => f.slice(out.length + 1)).sort()).toEqual(["report.html", "runs.csv"]);
    const html = readFileSync(join(out, "report.html"), "utf8");
    const data = reportData(html);
    expect(data.kind).toBe("comparison");
    const ids = data.charts.map((c) => c.id);
    for (const id of ["cmp-loss", "cmp-accuracy", "cmp-depth", "cmp-time", "grad-norm--run", "grad-norm--rnn-run", "time-heatmap-lstm1--rnn-run"]) expect(ids).toContain(id);
    // shared axes: the same log range in both runs' gradient charts, covering both runs' data
    const a = data.charts.find((c) => c.id === "grad-norm--run")!, b = data.charts.find((c) => c.id === "grad-norm--rnn-run")!;
    expect(a.range).toEqual(b.range);
    const all = [...a.series, ...b.series].flatMap((s) => s.data.map((d) => d[1] as number));
    expect(a.range![0]).toBeLessThanOrEqual(Math.min(...all));
    expect(a.range![1]).toBeGreaterThanOrEqual(Math.max(...all));
    expect(data.charts.find((c) => c.id === "grad-heatmap--run")!.range).toEqual(data.charts.find((c) => c.id === "grad-heatmap--rnn-run")!.range);
    // the table: accuracy and first/last gradient ratio per run
    const summary = JSON.parse(readFileSync(join(run, "summary.json"), "utf8"));
    expect(data.runs![0]).toMatchObject({ label: "run", testAccuracy: summary.testAccuracy, depthRatio: summary.diagnosis.depthRatio });
    const rnn = synth.records;
    const h = rnn[rnn.length - 1].layers[0].hGradNorm!;
    expect((data.runs![1].timeRatios as Record<string, number>).lstm1).toBe(h[0] / h[h.length - 1]);
    // ‖δ‖ against depth: each run's weighted layers at init, input first (changed from ‖∂L/∂W‖:
    // the comparison's depth chart is the depth profile's ‖δ‖)
    const depth = data.charts.find((c) => c.id === "cmp-depth")!;
    expect(depth.series.find((s) => s.name === "run init (step 0)")!.data).toEqual(readRecords(run)[0].layers.map((l, i) => [i + 1, l.deltaNorm]));
    expect(readFileSync(join(out, "runs.csv"), "utf8").split("\n")[1]).toContain(`run,${summary.testAccuracy},`);
  });
});

describe("reports of real CNN and RNN runs", () => {
  const cases: [string, object, object[], string[]][] = [
    ["cnn", { view: "image" }, [
      { type: "conv2d", filters: 4, kernel: 3, padding: "same", activation: "relu" }, { type: "maxpool2d", size: 2 },
      { type: "batchnorm" }, { type: "flatten" }, { type: "dense", units: 10 }], ["grad-heatmap", "saturation"]],
    ["rnn", { view: "rows" }, [{ type: "lstm", units: 8 }, { type: "dense", units: 10 }], ["time-heatmap-lstm1", "time-norm", "pascanu"]],
  ];
  for (const [name, data, layers, mustHave] of cases) {
    it(`${name}: every chart, plotting exactly the numbers of its metrics.jsonl`, () => {
      const d = tempDir("gradlab-report-real-");
      const cfg = { name: `real-${name}`, data: { ...data, train: 256, test: 64 }, model: { layers }, optimizer: { type: "adam", lr: 0.01 }, train: { epochs: 1, batchSize: 32 }, record: { every: 2 } };
      writeFileSync(join(d, "c.json"), JSON.stringify(cfg));
      const r = gradlab(["run", join(d, "c.json"), "--out", join(d, "run"), "--quiet", "--no-png"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const records = readRecords(join(d, "run"));
      const summary = JSON.parse(readFileSync(join(d, "run", "summary.json"), "utf8"));
      const html = readFileSync(join(d, "run", "report.html"), "utf8");
      const report = expectChartsMatch(html, records, summary.epochs, 8);
      for (const id of mustHave) expect(report.charts.map((c) => c.id)).toContain(id);
    });
  }
});
