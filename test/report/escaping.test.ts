/**
 * Nothing a user controls can become markup: a config named `<script>alert(1)</script>`, layer
 * names with & < > " ', a command and description with `</script>` appear as text in the page,
 * in the charts' SVG and in the embedded JSON (which still reads back to the original strings).
 */
import { describe, expect, it } from "vitest";
import type { StepRecord } from "../../src/instrument/recorder.ts";
import { assertSafeSvg, esc, jsonForScript, renderComparison, renderReport } from "../../src/report/html.ts";
import { renderSvg } from "../../src/report/render.ts";
import { dense } from "./synthetic.ts";

const EVIL_NAME = "<script>alert(1)</script>";
const EVIL_LAYER = `a&<>"'b`;
const IMG_LAYER = "<img src=x onerror=alert(2)>";

function evilRun() {
  const records: StepRecord[] = [0, 10, 20].map((step) => ({
    step, epoch: 0, loss: 2 - step / 100, accuracy: 0.1,
    layers: [
      dense(EVIL_LAYER, 1e-3, 1e-3, 0.1, { saturated: 0.2 }),
      { ...dense(IMG_LAYER, 1e-2, 1e-2, null, { dead: 0.1 }), type: "</td><td>x" },
      { ...dense("out", 0.1, 0.9, null, null), hGradNorm: [0.01, 0.1, 1], sigmaMax: 1, pascanu: 1, gates: [{ name: "<f>", low: 0, high: 1 }] },
    ],
  }));
  return {
    config: { name: EVIL_NAME, description: "</script><script>alert(3)</script>", model: { layers: [{ name: EVIL_LAYER }] } },
    summary: { name: EVIL_NAME, command: `gradlab run "</script>&<b>x</b>"`, steps: 21, testAccuracy: 0.5 },
    records,
  };
}

/** Every tag in the page, outside the JSON block, must be one the report itself writes. */
const ALLOWED = new Set([
  "!doctype", "html", "head", "meta", "title", "style", "body", "main", "header", "p", "h1", "h2", "h3", "dl", "div", "dt", "dd",
  "section", "nav", "ul", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "small", "sub", "figure", "figcaption", "strong",
  "pre", "code", "script",
  "svg", "g", "path", "text", "tspan", "rect", "defs", "clippath", "lineargradient", "stop", "circle", "polyline", "polygon", "line", "image",
]);

function tagsOf(html: string): string[] {
  // a CDATA section (which an SVG's style block may use) is not a tag
  return [...html.replaceAll("<![CDATA[", "").matchAll(/<\/?([!a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1].toLowerCase());
}

function expectNoInjection(html: string): void {
  for (const t of tagsOf(html)) expect(ALLOWED, `unexpected tag <${t}>`).toContain(t);
  expect(html.match(/<script/g)).toHaveLength(1); // only the JSON block
  expect(html).not.toContain("<img");
  expect(html).not.toContain("<b>");
  expect(html).not.toMatch(/<[^>]*\son[a-z]+\s*=/i); // no event-handler attribute in any tag
  const script = /<script type="application\/json" id="gradlab-data">([\s\S]*?)<\/script>/.exec(html)![1];
  expect(script).not.toMatch(/[<>]/);
}

describe("escaping", () => {
  it("a hostile config name, layer names and command appear only as text; the JSON reads back exactly", () => {
    const html = renderReport(evilRun());
    expectNoInjection(html);
    expect(html).toContain(`<h1>${esc(EVIL_NAME)}</h1>`);
    expect(html).toContain("<title>gradlab · &lt;script&gt;alert(1)&lt;/script&gt;</title>");
    expect(html).toContain("a&amp;&lt;&gt;&quot;&#39;b"); // in the table and in the resolved config
    expect(html).toContain(`gradlab run &quot;&lt;/script&gt;&amp;&lt;b&gt;x&lt;/b&gt;&quot;`);
    // the charts' SVG text: the layer names in the legends are escaped too
    const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs.length).toBeGreaterThan(5);
    expect(svgs.some((s) => s.includes(">a&amp;&lt;&gt;&quot;&#39;b</text>"))).toBe(true);
    expect(svgs.some((s) => s.includes("&lt;img src=x onerror=alert(2)&gt;"))).toBe(true);
    // the embedded data keep the original strings
    const data = JSON.parse(/<script type="application\/json" id="gradlab-data">([\s\S]*?)<\/script>/.exec(html)![1]);
    expect(data.name).toBe(EVIL_NAME);
    expect(data.layers.map((l: { name: string }) => l.name)).toEqual([EVIL_LAYER, IMG_LAYER, "out"]);
    expect(data.summary.command).toBe(`gradlab run "</script>&<b>x</b>"`);
  });

  it("the comparison report escapes run labels the same way", () => {
    const run = evilRun();
    const html = renderComparison([{ ...run, label: EVIL_NAME }, { ...run, label: `x"&'` }]);
    expectNoInjection(html);
    expect(html).toContain(`<h1>${esc(EVIL_NAME)} vs x&quot;&amp;&#39;</h1>`);
  });

  it("control characters in a config name or run label show as visible \\u escapes, never raw in the page", () => {
    // ESC [2J clears a terminal; NUL, DEL and the C1 CSI (0x9b) must not reach a page or a viewer raw either.
    const name = "x\u001b[2J\u0000\u007f\u009by";
    const run = evilRun();
    const nasty = { ...run, config: { ...run.config, name }, summary: { ...run.summary, name } };
    for (const html of [renderReport(nasty), renderComparison([{ ...nasty, label: name }, { ...nasty, label: "b" }])]) {
      expect(html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
      expect(html).toContain("x\\u001b[2J\\u0000\\u007f\\u009by");
      expectNoInjection(html);
    }
    expect(esc("a\u001bb\n\tc")).toBe("a\\u001bb\n\tc"); // newline and tab are text, kept
  });

  it("the chart SVG escapes titles, axis names and series names", () => {
    const svg = renderSvg({
      title: { text: EVIL_NAME, subtext: `a & b "c"` },
      legend: {}, xAxis: { type: "category", data: ["<x>"], name: "<axis>" }, yAxis: { type: "value" },
      series: [{ type: "line", name: IMG_LAYER, data: [1] }],
    }, { width: 400, height: 300 });
    expect(svg).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(svg).toContain("a &amp; b &quot;c&quot;");
    expect(svg).toContain("&lt;axis&gt;");
    expect(svg).toContain("&lt;img src=x onerror=alert(2)&gt;");
    expect(svg).not.toMatch(/<script|<img/);
    expect(assertSafeSvg(svg)).toBe(svg.trim());
  });

  it("assertSafeSvg rejects script, foreign content and event handlers", () => {
    expect(() => assertSafeSvg(`<svg><script>alert(1)</script></svg>`)).toThrow(/unsafe/);
    expect(() => assertSafeSvg(`<svg><foreignObject></foreignObject></svg>`)).toThrow(/unsafe/);
    expect(() => assertSafeSvg(`<svg><path onload="x"/></svg>`)).toThrow(/unsafe/);
    expect(() => assertSafeSvg(`<div></div>`)).toThrow(/one <svg>/);
  });

  it("jsonForScript cannot close the script element and parses back unchanged", () => {
    const value = { s: "</script><!-- \u2028 \u2029 & > <", n: [1.5e-300, -0] };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
  });
});
