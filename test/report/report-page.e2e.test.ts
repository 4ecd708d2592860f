/**
 * The report page in a real browser (Debian's chromium, driven by playwright-core): at a desktop
 * width and on a phone (390×844) nothing makes the page wider than the screen (the layer table
 * scrolls inside itself), every chart's SVG draws at a non-zero size inside the page, and the page
 * raises no error. The report is a recurrent run's (synthetic records: every chart kind, the
 * widest layer table). Nothing is skipped: without /usr/bin/chromium the test fails and says how.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportFiles } from "../../src/report/write.ts";
import { rnnRecords, synthRun } from "./synthetic.ts";

const CHROMIUM = "/usr/bin/chromium";
let browser: Browser;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  dir = mkdtempSync(join(tmpdir(), "gradlab-report-page-"));
  const [, html] = reportFiles(synthRun(rnnRecords(12), "rnn-page"), { png: false })[0];
  writeFileSync(join(dir, "report.html"), html);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("report.html in a browser", () => {
  it.each([[1280, 800], [390, 844]])("at %i×%i: no horizontal overflow, every chart drawn inside the page, no page error", async (width, height) => {
    const page = await browser.newPage({ viewport: { width, height } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`file://${join(dir, "report.html")}`);
    const m = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      inner: window.innerWidth,
      charts: [...document.querySelectorAll("figure.chart svg")].map((s) => { const r = s.getBoundingClientRect(); return [r.width, r.height, r.right]; }),
      table: (() => { const t = document.querySelector("table.layers"); return t ? [t.scrollWidth, t.clientWidth, t.getBoundingClientRect().right] : null; })(),
    }));
    await page.close();
    expect(errors).toEqual([]);
    expect(m.scrollWidth).toBeLessThanOrEqual(m.inner);
    expect(m.charts.length).toBeGreaterThanOrEqual(10); // depth profile, loss, norms, heatmaps, time, Pascanu, histograms, saturation
    for (const [w, h, right] of m.charts) {
      expect(w).toBeGreaterThan(200);
      expect(h).toBeGreaterThan(100);
      expect(right).toBeLessThanOrEqual(m.inner);
    }
    expect(m.table).not.toBeNull();
    expect(m.table![2]).toBeLessThanOrEqual(m.inner);
    // on the phone the table is wider than the screen, so it scrolls inside itself
    if (width < 500) expect(m.table![0]).toBeGreaterThan(m.table![1]);
  });
});
