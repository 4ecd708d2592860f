/**
 * The report's SVG renderer (src/report/svg.ts): points land where the axes put them, axes get
 * the ticks ECharts would give them, heatmap colours follow the visual map, and what it cannot
 * draw it refuses. Expected coordinates are worked out by hand from the grid and the axis range
 * given in each option (pixel = left + (value − min) / (max − min) × width, y upward).
 */
import { describe, expect, it } from "vitest";
import { depthProfileChart, runCharts } from "../../src/report/charts.ts";
import { drawSvg, textWidth } from "../../src/report/svg.ts";
import { rnnRecords } from "./synthetic.ts";

/** The points of the class="series" paths, in order. */
const seriesPoints = (svg: string): number[][][] => [...svg.matchAll(/<path class="series" d="([^"]+)"/g)]
  .map((m) => [...m[1].matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((p) => [Number(p[1]), Number(p[2])]));
/** The text of every <text> element. */
const texts = (svg: string): string[] => [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

const grid = { left: 100, right: 100, top: 50, bottom: 50 }; // on 600 × 400: x 100…500, y 50…350

describe("drawSvg", () => {
  it("puts line points where linear axes with a fixed range put them", () => {
    const svg = drawSvg({
      grid, xAxis: { type: "value", min: 0, max: 10 }, yAxis: { type: "value", min: 0, max: 1 },
      series: [{ type: "line", data: [[0, 0], [5, 0.5], [10, 1]] }],
    }, 600, 400);
    expect(seriesPoints(svg)).toEqual([[[100, 350], [300, 200], [500, 50]]]);
  });

  it("puts a log axis's decades evenly, with ticks labelled by the formatter", () => {
    const svg = drawSvg({
      grid, xAxis: { type: "value", min: 0, max: 4 },
      yAxis: { type: "log", min: 1e-3, max: 1, axisLabel: { formatter: (v: number) => `10^${Math.round(Math.log10(v))}` } },
      series: [{ type: "line", data: [[0, 1e-3], [1, 1e-2], [2, 1e-1], [4, 1]] }],
    }, 600, 400);
    expect(seriesPoints(svg)).toEqual([[[100, 350], [200, 250], [300, 150], [500, 50]]]);
    expect(texts(svg)).toEqual(expect.arrayContaining(["10^-3", "10^-2", "10^-1", "10^0"]));
  });

  it("leaves a gap where a point cannot be drawn (null, or ≤ 0 on a log axis), and starts again after it", () => {
    const svg = drawSvg({
      grid, xAxis: { type: "value", min: 0, max: 4 }, yAxis: { type: "log", min: 0.1, max: 10 },
      series: [{ type: "line", data: [[0, 1], [1, null], [2, 1], [3, 0], [4, 1]] }],
    }, 600, 400);
    const d = svg.match(/<path class="series" d="([^"]+)"/)![1];
    expect(d).toBe("M100 200M300 200M500 200");
  });

  it("places category points at band centres, or on the edges with boundaryGap false", () => {
    const opt = (boundaryGap: boolean) => ({
      grid, xAxis: { type: "category", data: ["a", "b", "c", "d"], boundaryGap }, yAxis: { type: "value", min: 0, max: 1 },
      series: [{ type: "line", data: [["a", 1], ["b", 1], ["c", 1], ["d", 1]] }],
    });
    expect(seriesPoints(drawSvg(opt(true), 600, 400))[0].map((p) => p[0])).toEqual([150, 250, 350, 450]);
    expect(seriesPoints(drawSvg(opt(false), 600, 400))[0].map((p) => p[0])).toEqual([100, 233.33, 366.67, 500]);
  });

  it("rounds an open value axis to ECharts' nice ticks (0…3,749 → 0, 1,000, …, 4,000)", () => {
    // ECharts' interval scale: about 5 intervals of 1, 2, 3 or 5 × 10^k, the extent rounded out to them
    const svg = drawSvg({ grid, xAxis: { type: "value", min: 0 }, yAxis: { type: "value" }, series: [{ type: "line", data: [[0, 0.2], [3749, 2.31]] }] }, 600, 400);
    const t = texts(svg);
    expect(t).toEqual(expect.arrayContaining(["0", "1,000", "2,000", "3,000", "4,000"]));
    expect(t).toEqual(expect.arrayContaining(["0.5", "1", "1.5", "2", "2.5"]));
    expect(t).not.toContain("5,000");
    expect(t).not.toContain("3");
  });

  it("draws a second y axis on the right, and series on it against its own range", () => {
    const svg = drawSvg({
      grid, xAxis: { type: "value", min: 0, max: 1 },
      yAxis: [{ type: "value", min: 0, max: 10, name: "left" }, { type: "value", min: 0, max: 1, name: "right", splitLine: { show: false } }],
      series: [{ type: "line", data: [[0, 5]] }, { type: "line", yAxisIndex: 1, data: [[1, 0.25]] }],
    }, 600, 400);
    expect(seriesPoints(svg)).toEqual([[[100, 200]], [[500, 275]]]);
    // the names sit outside their axes: left of x = 100 and right of x = 500
    const nameX = (name: string) => Number(svg.match(new RegExp(`translate\\(([\\d.]+) [\\d.]+\\) rotate\\(-90\\)[^>]*>${name}<`))![1]);
    expect(nameX("left")).toBeLessThan(100);
    expect(nameX("right")).toBeGreaterThan(500);
  });

  it("colours heatmap cells by the visual map: its min the first colour, its max the last", () => {
    const svg = drawSvg({
      grid, xAxis: { type: "category", data: ["0", "1"] }, yAxis: { type: "category", data: ["a"] },
      visualMap: { type: "continuous", min: -2, max: 0, inRange: { color: ["#000000", "#ffffff"] } },
      series: [{ type: "heatmap", data: [[0, 0, -2], [1, 0, -1]] }],
    }, 600, 400);
    const cells = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="(#[0-9a-f]{6})"\/>/g)].map((m) => [Number(m[1]), Number(m[3]), m[5]]);
    expect(cells).toEqual([[100, 200, "#000000"], [300, 200, "#808080"]]);
  });

  it("lists each series once in the legend, in order", () => {
    const svg = drawSvg({
      legend: { orient: "vertical", left: 510, top: 50 }, grid, xAxis: { type: "value" }, yAxis: { type: "value" },
      series: [{ type: "line", name: "dense1", data: [[0, 1]] }, { type: "line", name: "dense2", data: [[0, 2]] }, { type: "scatter", name: "dense1", data: [[0, 1]] }],
    }, 600, 400);
    expect(texts(svg).filter((t) => t.startsWith("dense"))).toEqual(["dense1", "dense2"]);
  });

  it("draws a mark line at its value, with its label", () => {
    const svg = drawSvg({
      grid, xAxis: { type: "value", min: 0, max: 1 }, yAxis: { type: "log", min: 0.1, max: 10 },
      series: [{ type: "line", data: [[0, 2]], markLine: { data: [{ yAxis: 1 }], label: { formatter: "1: vanishing below" }, lineStyle: { type: "dashed" } } }],
    }, 600, 400);
    expect(svg).toContain(`<path d="M100 200L500 200"`);
    expect(texts(svg)).toContain("1: vanishing below");
  });

  it("refuses a series or axis type it does not draw, rather than leave the chart blank", () => {
    expect(() => drawSvg({ xAxis: {}, yAxis: {}, series: [{ type: "bar", data: [1] }] }, 400, 300)).toThrow(/series type bar/);
    expect(() => drawSvg({ xAxis: { type: "time" }, yAxis: {}, series: [] }, 400, 300)).toThrow(/axis type time/);
  });

  it("draws values down to the smallest subnormal without hanging or writing NaN", () => {
    for (const y of [5e-324, 1e-320, 1e-20, 1e300]) {
      for (const type of ["value", "log"]) {
        const svg = drawSvg({ grid, xAxis: { type: "value" }, yAxis: { type }, series: [{ type: "line", data: [[0, y], [1, 2 * y]] }] }, 600, 400);
        expect(svg).not.toMatch(/NaN|Infinity/);
        expect(seriesPoints(svg)[0]).toHaveLength(2);
      }
    }
  });

  it("ends a log axis inside a double's range: a max of Infinity or data up to the largest double draw decades, not forever", () => {
    // Before, a max of Infinity made the decade step Infinity and the tick loop never ended.
    for (const yAxis of [{ type: "log", min: 1e-189, max: Infinity }, { type: "log" }, { type: "log", min: 1e300 }]) {
      const svg = drawSvg({ grid, xAxis: { type: "value" }, yAxis, series: [{ type: "line", data: [[0, 2.5e-189], [1, 1.7976931348623157e308]] }] }, 600, 400);
      expect(svg).not.toMatch(/NaN|Infinity/);
      const labels = texts(svg).filter((t) => /e/.test(t));
      expect(labels.length).toBeGreaterThan(1);
      expect(labels.length).toBeLessThan(40);
    }
  });

  it("escapes text for XML and shows control characters", () => {
    const svg = drawSvg({ title: { text: `a<b>&"c"'\u001b` }, xAxis: { type: "value" }, yAxis: { type: "value" }, series: [] }, 400, 300);
    expect(svg).toContain(">a&lt;b&gt;&amp;&quot;c&quot;&#39;\\u001b</text>");
    expect(textWidth("mmmm", 10)).toBeGreaterThan(textWidth("iiii", 10));
  });

  it("gives each SVG its own ids, the same for the same chart whatever was drawn before", () => {
    const records = rnnRecords();
    const charts = runCharts({ records });
    const a = drawSvg(charts[0].option, charts[0].width, charts[0].height, "p1");
    for (const c of charts) drawSvg(c.option, c.width, c.height, "x");
    expect(drawSvg(charts[0].option, charts[0].width, charts[0].height, "p1")).toBe(a);
    const ids = [...a.matchAll(/id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id.startsWith("p1-"))).toBe(true);
    expect(depthProfileChart({ records }).id).toBe("depth-profile");
  });
});
