/**
 * Chart definitions as pure functions: what they plot, axes that do not mislead (whole-decade log
 * ranges, dropped non-positive points counted, shared ranges across runs), one colour per layer,
 * bounded size for long runs, and no Node or DOM dependency (the browser reuses them).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StepRecord } from "../../src/instrument/recorder.ts";
import { ACT_HIST_EDGES, GRAD_HIST_EDGES } from "../../src/instrument/stats.ts";
import {
  CHART_IDS, compareCharts, decadeRange, gradHeatmapChart, gradNormChart, histLabels, layerColors, lossChart, niceCeil,
  OKABE_ITO, runCharts, sampleIndices, sharedScales, timeHeatmapChart, timeNormChart, type ChartOption,
} from "../../src/report/charts.ts";
import { cnnRecords, dense, rnnRecords } from "./synthetic.ts";

describe("chart helpers", () => {
  it("decadeRange spans whole decades around the positive finite values", () => {
    expect(decadeRange([0.03, 0.2])).toEqual([0.01, 1]);
    expect(decadeRange([0, -1, Number.NaN, 5e-7, 3])).toEqual([1e-7, 10]);
    expect(decadeRange([1])).toEqual([1, 10]); // at least one decade
    expect(decadeRange([0, Number.NaN])).toBeUndefined();
    // the ends a double holds: 1e309 would be Infinity (a log axis up to it never ended: a generated
    // run folder with a Pascanu value of 1.8e308 grew the tick list until V8 aborted), 1e-324 is 0
    expect(decadeRange([2.5e-189, 1.7976931348623157e308])).toEqual([1e-189, Number.MAX_VALUE]);
    expect(decadeRange([5e-324])).toEqual([1e-323, 1e-322]);
    expect(decadeRange([1e308])).toEqual([1e307, 1e308]);
  });

  it("sampleIndices keeps the first and last and at most max, evenly", () => {
    expect(sampleIndices(5, 10)).toEqual([0, 1, 2, 3, 4]);
    expect(sampleIndices(101, 5)).toEqual([0, 25, 50, 75, 100]);
  });

  it("niceCeil rounds an axis end up to 1, 2, 2.5 or 5 × 10^k", () => {
    expect([249, 250, 251, 0.013, 9375].map(niceCeil)).toEqual([250, 250, 500, 0.02, 10000]);
  });

  it("layerColors: Okabe–Ito up to 8 layers, viridis by depth beyond, one colour per name", () => {
    const few = layerColors(["a", "b", "c"]);
    expect([...few.values()]).toEqual(OKABE_ITO.slice(0, 3));
    const many = layerColors(Array.from({ length: 20 }, (_, i) => `l${i}`));
    expect(many.get("l0")).toBe("#440154"); // viridis(0): dark = input
    expect(new Set(many.values()).size).toBe(20);
  });

  it("histogram bin labels follow GRAD_HIST_EDGES (log10) and ACT_HIST_EDGES", () => {
    const g = histLabels(GRAD_HIST_EDGES, true);
    expect(g).toHaveLength(GRAD_HIST_EDGES.length + 1);
    expect([g[0], g[1], g[2], g[g.length - 1]]).toEqual(["<-10", "-10", "-9.5", "≥1"]);
    const a = histLabels(ACT_HIST_EDGES, false);
    expect([a[0], a[1], a[11], a[a.length - 1]]).toEqual(["<-1", "-1", "0", "≥1"]);
  });
});

describe("chart options", () => {
  it("gradient norms go on a log axis of whole decades; zero and NaN points are dropped and counted", () => {
    const records = cnnRecords();
    records[1].layers[0].params.weight.gradNorm = 0;
    records[2].layers[0].params.weight.gradNorm = Number.NaN;
    const c = gradNormChart({ records });
    const y = c.option.yAxis as ChartOption;
    expect(y.type).toBe("log");
    expect([y.min, y.max]).toEqual(c.range);
    expect(c.range).toEqual([1e-4, 1]);
    expect(c.series[0].data.map((d) => d[0])).toEqual([0, 30, 40, 50]);
    expect(c.subtitle).toContain("2 values ≤ 0 or not finite not shown (log axis)");
    // titles and axes name the quantity and the unit
    expect(y.name).toBe("‖∂L/∂W‖ (L2 norm)");
    expect((c.option.xAxis as ChartOption).name).toBe("training step");
  });

  it("every series of a layer has that layer's colour in every chart", () => {
    const run = { records: rnnRecords(6) };
    const want = layerColors(["lstm1", "rnn1", "dense1"]);
    for (const chart of runCharts(run)) {
      for (const s of (chart.option.series as ChartOption[]).filter((s) => s.type === "line")) {
        const layer = String(s.name).split(" ")[0];
        if (want.has(layer)) expect(s.color, `${chart.id} ${s.name}`).toBe(want.get(layer));
      }
    }
  });

  it("runCharts: the ids of an MLP-like, a CNN and an RNN run", () => {
    const mlp = [0, 1].map((step) => ({ step, epoch: 0, loss: 2, accuracy: 0.1, layers: [dense("dense1", 0.01, 0.01, 0.1, { saturated: 0 }), dense("dense2", 0.1, 1, null, null)] }));
    // Changed: the depth profile leads every run's charts.
    const base = [CHART_IDS.depthProfile, CHART_IDS.loss, CHART_IDS.gradNorm, CHART_IDS.deltaNorm, CHART_IDS.gradHeatmap];
    const tail = [CHART_IDS.gradHist, CHART_IDS.actHist, CHART_IDS.saturation];
    expect(runCharts({ records: mlp }).map((c) => c.id)).toEqual([...base, ...tail]);
    expect(runCharts({ records: cnnRecords() }).map((c) => c.id)).toEqual([...base, ...tail]);
    expect(runCharts({ records: rnnRecords() }).map((c) => c.id)).toEqual([...base, "time-heatmap-lstm1", "time-heatmap-rnn1", "time-norm", "pascanu", ...tail]);
  });

  it("the layer heatmap has the input layer at the bottom (first category) and says so", () => {
    const c = gradHeatmapChart({ records: cnnRecords() });
    const y = c.option.yAxis as ChartOption;
    expect(y.data).toEqual(["conv1", "bn1", "conv2", "dense1", "dense2"]); // ECharts puts category 0 at the bottom
    expect(y.name).toBe("layer (input at bottom)");
  });

  it("long runs are drawn with bounded points: ≤ 1000 per line, ≤ 100 × 60 heatmap cells, first and last kept", () => {
    const base = rnnRecords(200)[0];
    const records: StepRecord[] = Array.from({ length: 5000 }, (_, i) => ({ ...base, step: i }));
    const loss = lossChart({ records });
    expect(loss.series[0].data.length).toBeLessThanOrEqual(1000);
    expect(loss.series[0].data[0][0]).toBe(0);
    expect(loss.series[0].data.at(-1)![0]).toBe(4999);
    expect(loss.subtitle).toContain("of 5000 recorded steps shown");
    const heat = timeHeatmapChart({ records }, "lstm1");
    expect(heat.series[0].data.length).toBeLessThanOrEqual(100 * 60);
    expect(heat.subtitle).toContain("60 of 200 time steps shown");
    expect(timeNormChart({ records }).series[0].data).toHaveLength(200);
  });

  it("sharedScales covers every run, and the comparison charts use it", () => {
    const a = { records: cnnRecords(), label: "cnn" }, b = { records: rnnRecords(), label: "rnn" };
    const s = sharedScales([a, b]);
    expect(s.gradNorm).toEqual([1e-4, 1]);
    const ga = gradNormChart(a, s), gb = gradNormChart(b, s);
    expect(ga.range).toEqual(gb.range);
    const cmp = compareCharts([a, b]);
    expect(cmp.map((c) => c.id)).toEqual(["cmp-loss", "cmp-accuracy", "cmp-depth", "cmp-time"]);
    // depth profile: the diagnosis' weighted layers (batch norm excluded), input first.
    // Changed: it plots ‖δ‖ (how fast a layer learns), no longer ‖∂L/∂W‖.
    expect(cmp[2].series[0].data.map((d) => d[0])).toEqual([1, 2, 3, 4]);
    expect(cmp[2].series[0].data[0][1]).toBe(cnnRecords()[0].layers[0].deltaNorm);
  });

  it("charts.ts imports neither node:* nor echarts (the browser app reuses it)", () => {
    const src = readFileSync(join(import.meta.dirname, "../../src/report/charts.ts"), "utf8");
    const imports = [...src.matchAll(/^import .* from "([^"]+)";/gm)].map((m) => m[1]);
    // profile.ts: which layers the depth profile shows (records only, type imports only)
    expect(imports).toEqual(["../instrument/profile.ts", "../instrument/recorder.ts", "../instrument/stats.ts"]);
    const profile = readFileSync(join(import.meta.dirname, "../../src/instrument/profile.ts"), "utf8");
    expect([...profile.matchAll(/^import (type )?.* from "([^"]+)";/gm)].map((m) => [m[1], m[2]])).toEqual([["type ", "./recorder.ts"]]);
  });
});
