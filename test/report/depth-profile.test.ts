/**
 * The depth profile chart (src/report/charts.ts depthProfileChart): per layer, input on the
 * left, ‖δ‖ and ‖ΔW‖/‖W‖ at initialization (dashed) and now (solid) on log axes. Expected numbers
 * are the synthetic records' own closed forms (test/report/synthetic.ts).
 */
import { describe, expect, it } from "vitest";
import { isNormalization } from "../../src/instrument/profile.ts";
import { CHART_IDS, depthProfileChart, sharedScales, type ChartOption } from "../../src/report/charts.ts";
import { chartSvg } from "../../src/report/render.ts";
import { cnnRecords, rnnRecords } from "./synthetic.ts";

describe("depthProfileChart", () => {
  it("shows ‖δ‖ and the update ratio per weighted layer, input first, normalization and shape-only layers left out", () => {
    const records = cnnRecords();
    const c = depthProfileChart({ records });
    expect(c.id).toBe(CHART_IDS.depthProfile);
    expect(c.id).toBe("depth-profile");
    // conv1, pool1 (no weights), bn1 (normalization), conv2, dense1, dense2 → pool1 and bn1 out
    const x = (c.option.xAxis as ChartOption[])[0];
    expect(x.data).toEqual(["conv1", "conv2", "dense1", "dense2"]);
    expect(c.series.map((s) => s.name)).toEqual([
      "‖δ‖ at init (step 0)", "‖δ‖ now (step 50)", "‖ΔW‖/‖W‖ at init (step 0)", "‖ΔW‖/‖W‖ now (step 50)",
    ]);
    // synthetic δ at step 0: conv1 2e-4, conv2 2e-3, dense1 1e-2, dense2 0.9; at step 50 ×1.5 except dense2
    expect(c.series[0].data).toEqual([["conv1", 2e-4], ["conv2", 2e-3], ["dense1", 1e-2], ["dense2", 0.9]]);
    expect(c.series[1].data.map((d) => d[1])).toEqual([2e-4 * 1.5, 2e-3 * 1.5, 1e-2 * 1.5, 0.9]);
    // synthetic update ratio is 0.01 for every weight
    expect(c.series[2].data.map((d) => d[1])).toEqual([0.01, 0.01, 0.01, 0.01]);
    const lines = c.option.series as ChartOption[];
    expect(lines.map((s) => (s.lineStyle as ChartOption).type)).toEqual(["dashed", "solid", "dashed", "solid"]);
    expect(lines.map((s) => s.yAxisIndex)).toEqual([0, 0, 1, 1]);
    const y = c.option.yAxis as ChartOption[];
    expect(y.map((a) => a.type)).toEqual(["log", "log"]);
    expect([y[0].min, y[0].max]).toEqual([1e-4, 1]);
    expect(c.range).toEqual([1e-4, 1]);
    expect(c.subtitle).toContain("how fast its biases learn");
    expect(c.subtitle).toContain("input layer on the left");
    expect(isNormalization("batchnorm") && isNormalization("layernorm") && !isNormalization("dense")).toBe(true);
  });

  it("drops and counts what a log axis cannot show (zero, NaN, null update ratio)", () => {
    const records = cnnRecords();
    records[0].layers[0].deltaNorm = 0;
    records[0].layers[3].deltaNorm = Number.NaN;
    records[5].layers[4].params.weight.updateRatio = null;
    const c = depthProfileChart({ records });
    expect(c.series[0].data.map((d) => d[0])).toEqual(["dense1", "dense2"]);
    expect(c.series[3].data.map((d) => d[0])).toEqual(["conv1", "conv2", "dense2"]);
    expect(c.subtitle).toContain("3 values ≤ 0 or not finite not shown (log axis)");
  });

  it("a single record draws only the initialization lines; recurrent layers take weight_ih_l0's update ratio", () => {
    const one = depthProfileChart({ records: cnnRecords().slice(0, 1) });
    expect(one.series.map((s) => s.name)).toEqual(["‖δ‖ at init (step 0)", "‖ΔW‖/‖W‖ at init (step 0)"]);
    const rnn = depthProfileChart({ records: rnnRecords(6) });
    expect(((rnn.option.xAxis as ChartOption[])[0]).data).toEqual(["lstm1", "rnn1", "dense1"]);
    // the recurrent layers' ‖δ‖ is null by design (synthetic.ts): named as recorded per time step, not counted as dropped
    expect(rnn.subtitle).toContain("the error reaching lstm1, rnn1 is recorded per time step (‖∂ℓ/∂h_t‖ against t, in its own chart)");
    expect(rnn.subtitle).not.toContain("not finite not shown");
  });

  it("sharedScales gives both panels one range across runs, and the SVG renderer draws it", () => {
    const a = { records: cnnRecords() }, b = { records: rnnRecords(6) };
    const s = sharedScales([a, b]);
    expect(s.profileDelta).toBeDefined();
    expect(s.profileUpdate).toBeDefined();
    const ca = depthProfileChart(a, s), cb = depthProfileChart(b, s);
    expect((ca.option.yAxis as ChartOption[])[0].min).toBe((cb.option.yAxis as ChartOption[])[0].min);
    expect((ca.option.yAxis as ChartOption[])[1].max).toBe((cb.option.yAxis as ChartOption[])[1].max);
    const svg = chartSvg(ca);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("conv2");
  });
});
