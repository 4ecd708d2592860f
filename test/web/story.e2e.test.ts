// The story end to end in Debian's Chromium (playwright-core), on the built site (vite build into
// a temporary folder, served on 127.0.0.1): every scene reached with → from scene 1 and by its
// own URL; each scene's claim checked against the numbers its figure shows (window.__story
// .figure(), published by the scene from the live run) — the expected relations are the
// story's own sentences, and the thresholds are those of the brief the story answers: scene 5
// ‖δ‖ dense1 < dense2 < dense3 at step 0, scene 6 first/last below 1e-4 at depth 8, scene 7 each
// remedy finite and flatter, scene 8 the RNN's ‖∂ℓ/∂h_1‖/‖∂ℓ/∂h_28‖ far (100×) below the LSTM's.
// Scene 2 draws the stored "7" (src/web/story/draw.ts SEVEN) with mouse events and checks the
// reading; an empty canvas gets the sentence, not a guess. Presenter mode and keys; no page
// errors; no horizontal overflow at 1280×800 or 390×844. Screenshots of every scene at both
// sizes go to test/.artifacts/story-<scene>-<desktop|phone>.png (gitignored).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fmt } from "../../src/web/dom.ts";
import { CANVAS_UNITS, SEVEN } from "../../src/web/story/draw.ts";
import { grad, loss } from "../../src/web/story/surface.ts";
import { times } from "../../src/web/story/words.ts";
import { serveStatic, type StaticServer } from "./static-server.ts";

const ROOT = join(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test/.artifacts");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let server: StaticServer;
let browser: Browser;
let out: string;
const pageErrors: string[] = [];

type Fig = { scene: number; ready: boolean; data: Record<string, any> };

async function open(path: string, viewport = DESKTOP): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  page.on("pageerror", (e) => pageErrors.push(`${path}: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(`${path}: console: ${m.text()}`); });
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(() => typeof (window as unknown as { __story?: unknown }).__story === "object");
  return page;
}

const story = <T>(page: Page, fn: string): Promise<T> => page.evaluate((f) => (window as unknown as { __story: Record<string, () => unknown> }).__story[f]() as T, fn);

/** Wait until the scene shown is `n` and its figure's numbers are live (and `until` holds of them). */
async function figure(page: Page, n: number, until: (d: Record<string, any>) => boolean = () => true, timeout = 40_000): Promise<Fig> {
  const end = Date.now() + timeout;
  let f: Fig | null = null;
  while (Date.now() < end) {
    f = await story<Fig>(page, "figure");
    if (f.scene === n && f.ready && until(f.data)) return f;
    await page.waitForTimeout(100);
  }
  throw new Error(`scene ${n}: the figure did not get there in ${timeout} ms; last: ${JSON.stringify(f).slice(0, 300)}`);
}

async function noOverflow(page: Page, what: string): Promise<void> {
  const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(sw, `${what}: page ${sw} px wide in a ${iw} px window`).toBeLessThanOrEqual(iw);
}

/** → with nothing focused (a focused slider keeps its own arrow keys). */
async function next(page: Page): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press("ArrowRight");
}

const text = (page: Page) => page.locator("#scene-text").innerText();

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's Chromium (apt-get install -y chromium)`);
  out = mkdtempSync(join(tmpdir(), "gradlab-story-"));
  // Its own output folder, so it never races the lab's end-to-end test over dist/web.
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "error", "--outDir", out], { cwd: ROOT, encoding: "utf8", timeout: 150_000 });
  if (build.status !== 0) throw new Error(`vite build failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
  server = await serveStatic(out);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"] });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe("the story in Chromium", () => {
  it("goes through all eight scenes with → from scene 1, and every figure shows what its text says", async () => {
    const page = await open("story.html");

    // 1. The gradient points uphill; five steps against it each lower the loss.
    let f = await figure(page, 1);
    expect(f.data.path).toHaveLength(1);
    await page.locator("[data-key=surface-step]").focus();
    for (let k = 0; k < 5; k++) await page.keyboard.press("Enter");
    f = await figure(page, 1, (d) => d.path.length === 6);
    const path = f.data.path as { w: [number, number]; loss: number; grad: [number, number] }[];
    for (let k = 1; k < path.length; k++) expect(path[k].loss).toBeLessThan(path[k - 1].loss);
    for (const pt of path) {
      // The published gradient is the loss's (surface.ts, checked against finite differences in
      // story-modules.test.ts), and a small move along it goes up.
      expect(pt.grad).toEqual(grad(...pt.w));
      const n = Math.hypot(...pt.grad);
      expect(loss(pt.w[0] + (1e-3 * pt.grad[0]) / n, pt.w[1] + (1e-3 * pt.grad[1]) / n)).toBeGreaterThan(pt.loss);
    }
    await page.screenshot({ path: join(ARTIFACTS, "story-1-desktop.png") });

    // 2. The reader: wait for its background training to finish, then draw a 7.
    await next(page);
    expect(await story<number>(page, "scene")).toBe(2);
    expect(await page.evaluate(() => location.hash)).toBe("#2");
    f = await figure(page, 2, (d) => d.done === true && d.source === "test", 60_000);
    expect(f.data.probs.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    const acc = f.data.accuracy as number;
    expect(acc).toBeGreaterThan(0.5); // configs.ts: about 70% after 20 epochs (Node gives 73.6%)
    expect(await page.locator("#scene-text").innerText()).toContain(`${Math.round(100 * acc)}% of the 500 test digits right`);
    // An empty canvas: a sentence, no guess.
    await page.locator("[data-key=read-drawing]").click();
    f = await figure(page, 2, (d) => d.source === "drawn");
    expect(f.data.error).toBe("the canvas is empty: draw a digit first");
    expect(f.data.probs).toBeUndefined();
    await expect.poll(() => page.locator("[role=alert]").innerText()).toContain("the canvas is empty");
    // The stored 7, drawn with the mouse.
    const pad = (await page.locator("[data-key=draw-pad]").boundingBox())!;
    const at = (p: { x: number; y: number }) => [pad.x + (p.x / CANVAS_UNITS) * pad.width, pad.y + (p.y / CANVAS_UNITS) * pad.height] as const;
    for (const stroke of SEVEN) {
      await page.mouse.move(...at(stroke[0]));
      await page.mouse.down();
      for (const pt of stroke.slice(1)) await page.mouse.move(...at(pt), { steps: 4 });
      await page.mouse.up();
    }
    // each lifted pen reads the drawing so far: wait for the reading of the whole 7
    f = await figure(page, 2, (d) => d.source === "drawn" && d.probs !== undefined && d.strokes === SEVEN.length);
    expect(f.data.label).toBeNull();
    expect(f.data.inkMass).toBeGreaterThan(20);
    expect(f.data.predicted).toBe(7);
    expect(await page.locator("#scene-caption").innerText()).toContain("reads your drawing as a 7");
    await page.screenshot({ path: join(ARTIFACTS, "story-2-desktop.png") });

    // 3. The walk: the error shrinks from the output to dense1 and to the pixels, as the text says.
    await next(page);
    f = await figure(page, 3);
    expect(f.data.dense1Ratio).toBeLessThan(1);
    expect(f.data.total).toBeLessThan(1);
    const words3 = await text(page);
    expect(words3).toContain(`by the time it reaches dense1 it is ${times(f.data.dense1Ratio)}`);
    expect(words3).toContain(`and ${times(f.data.total)} at the pixels`);
    await page.screenshot({ path: join(ARTIFACTS, "story-3-desktop.png") });

    // 4. Sigmoid's slope at most 1/4; ‖δ‖ grows toward the output; each factor below 1.
    await next(page);
    f = await figure(page, 4);
    expect(f.data.maxDf).toBe(0.25);
    const l4 = f.data.layers as { name: string; delta: number; gain: number | null; meanDf: number }[];
    expect(l4.map((l) => l.name)).toEqual(["dense1", "dense2", "dense3"]);
    for (let k = 1; k < l4.length; k++) expect(l4[k - 1].delta).toBeLessThan(l4[k].delta);
    for (const l of l4.slice(0, -1)) { expect(l.gain!).toBeLessThan(0.25); expect(l.meanDf).toBeLessThanOrEqual(0.25); }
    expect(await text(page)).toContain(`dense1 gets ${times(f.data.ratio)} than the output layer`);
    await page.screenshot({ path: join(ARTIFACTS, "story-4-desktop.png") });

    // 5. Train live (Enter on the Train button): at step 0 dense1 < dense2 < dense3 in ‖δ‖, and
    // dense1's weights move least.
    await next(page);
    await figure(page, 5);
    await page.locator("[data-key=train-play]").focus();
    await page.keyboard.press("Enter");
    f = await figure(page, 5, (d) => d.trained !== null && d.trained.step >= 60, 60_000);
    const d0 = f.data.step0.deltas as number[];
    expect(d0[0]).toBeLessThan(d0[1]);
    expect(d0[1]).toBeLessThan(d0[2]);
    const u0 = f.data.step0.updates as number[];
    expect(u0[0]).toBeLessThan(u0[2]);
    const words5 = await text(page);
    expect(words5).toContain(`At step 0, dense1 receives ${times(d0[0] / d0[2])} error than dense3`);
    expect(words5).toContain("the first layer learns slowest");
    await page.screenshot({ path: join(ARTIFACTS, "story-5-desktop.png") });

    // 6. Deeper: the slider by keyboard from 2 to 8 hidden layers.
    await next(page);
    f = await figure(page, 6, (d) => d.depth === 2);
    const ratio2 = f.data.ratio as number;
    await page.locator("[data-key=depth]").focus();
    for (let k = 0; k < 6; k++) await page.keyboard.press("ArrowRight");
    f = await figure(page, 6, (d) => d.depth === 8, 60_000);
    expect(f.data.ratio).toBeLessThan(1e-4);
    expect(f.data.ratio).toBeLessThan(ratio2 / 1000);
    expect(f.data.deltas).toHaveLength(9);
    expect(f.data.finalLoss).toBeGreaterThan(0.9 * f.data.loss0); // it has stalled …
    expect(f.data.stalls).toBe(true);
    expect(await text(page)).toContain("training has stalled"); // … and the text says so
    expect(await text(page)).toContain(`dense1 receives ${fmt(f.data.ratio)} of the error`);
    await page.screenshot({ path: join(ARTIFACTS, "story-6-desktop.png") });

    // 7. Remedies from the same seed: each trains without NaN, its profile is flatter by more than
    // two decades and it ends lower than the plain network.
    await next(page);
    f = await figure(page, 7, () => true, 90_000);
    const runs = f.data.runs as { id: string; ratio: number; finalLoss: number; nan: boolean }[];
    expect(runs.map((r) => r.id)).toEqual(["plain", "relu", "batchnorm", "residual"]);
    const plain = runs[0];
    for (const r of runs.slice(1)) {
      expect(r.nan, r.id).toBe(false);
      expect(Number.isFinite(r.finalLoss), r.id).toBe(true);
      expect(Math.abs(Math.log10(r.ratio)), r.id).toBeLessThan(Math.abs(Math.log10(plain.ratio)) - 2);
      expect(r.finalLoss, r.id).toBeLessThan(plain.finalLoss);
    }
    await page.screenshot({ path: join(ARTIFACTS, "story-7-desktop.png") });

    // 8. CNN and RNNs: the plain RNN's first-to-last ‖∂ℓ/∂h_t‖ far below the LSTM's.
    await next(page);
    f = await figure(page, 8, () => true, 60_000);
    const seq = Object.fromEntries((f.data.seqs as { id: string; ratio: number; h: number[] }[]).map((x) => [x.id, x]));
    expect(seq.rnn.h).toHaveLength(28);
    expect(seq.rnn.ratio).toBeLessThan(seq.lstm.ratio / 100);
    expect(seq.rnn.ratio).toBeLessThan(seq.gru.ratio);
    expect(f.data.cnn.ratio).toBeLessThan(1);
    expect(await text(page)).toContain(`${times(seq.lstm.ratio / seq.rnn.ratio).replace("larger", "more")}`);
    await page.screenshot({ path: join(ARTIFACTS, "story-8-desktop.png") });
    // The last scene: → stays.
    await next(page);
    expect(await story<number>(page, "scene")).toBe(8);
    await noOverflow(page, "scene 8 desktop");
    await page.context().close();
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it("opens every scene by its URL on a phone (390×844) without horizontal overflow", async () => {
    for (let n = 1; n <= 8; n++) {
      const page = await open(`story.html#${n}`, PHONE);
      await figure(page, n, () => true, 90_000);
      expect(await story<number>(page, "scene")).toBe(n);
      expect(await page.locator("#scene-fig").getAttribute("data-ready")).toBe("true");
      // The figure has a text alternative that states numbers.
      expect(await page.locator("#scene-caption").innerText()).toMatch(/\d/);
      await noOverflow(page, `scene ${n} phone`);
      await page.screenshot({ path: join(ARTIFACTS, `story-${n}-phone.png`), fullPage: true });
      await page.context().close();
    }
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it("presenter mode, PageUp/PageDown/Space, a link to the lab and back, and a bad scene number explained", async () => {
    const page = await open("story.html?present#3");
    expect(await page.evaluate(() => document.body.classList.contains("present"))).toBe(true);
    expect(await page.locator("#present").getAttribute("aria-pressed")).toBe("true");
    await page.locator("body").focus();
    await page.keyboard.press("PageDown");
    expect(await story<number>(page, "scene")).toBe(4);
    await page.locator("body").focus();
    await page.keyboard.press("Space");
    expect(await story<number>(page, "scene")).toBe(5);
    await page.locator("body").focus();
    await page.keyboard.press("PageUp");
    await page.keyboard.press("ArrowLeft");
    expect(await story<number>(page, "scene")).toBe(3);
    // Focus goes to the scene's title, visibly inside the page.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("scene-title");
    // The button turns it off again.
    await page.locator("#present").click();
    expect(await page.evaluate(() => document.body.classList.contains("present"))).toBe(false);
    expect(await page.locator("a.to-lab").getAttribute("href")).toBe("./index.html");
    await page.context().close();

    const bad = await open("story.html#99");
    expect(await story<number>(bad, "scene")).toBe(1);
    expect(await bad.locator(".scene-note").innerText()).toContain("There is no scene “99”; the story has scenes 1 to 8");
    await bad.context().close();

    // A first visit to the lab's bare address lands on the story (a fresh context: no storage);
    // the story's link opens the lab, and from then on the bare address is the lab.
    const labPage = await (await browser.newContext({ viewport: DESKTOP })).newPage();
    await labPage.goto(server.url);
    await labPage.waitForURL(/\/story\.html(#\d+)?$/);
    await labPage.waitForFunction(() => (window as unknown as { __story?: { firstFigureMs(): number | null } }).__story?.firstFigureMs() != null, null, { timeout: 30_000 });
    await labPage.click("a.to-lab");
    await labPage.waitForFunction(() => typeof (window as unknown as { __gradlab?: unknown }).__gradlab === "object", null, { timeout: 30_000 });
    expect(new URL(labPage.url()).pathname).toMatch(/\/index\.html$/);
    await labPage.goto(server.url);
    await labPage.waitForFunction(() => typeof (window as unknown as { __gradlab?: unknown }).__gradlab === "object", null, { timeout: 30_000 });
    expect(new URL(labPage.url()).pathname).not.toMatch(/story/);
    expect(await labPage.locator("a[data-key=to-story]").getAttribute("href")).toBe("./story.html");
    await labPage.context().close();
    // A shared lab link (state in the hash) opens the lab even on a first visit.
    const shared = await (await browser.newContext({ viewport: DESKTOP })).newPage();
    await shared.goto(`${server.url}#lr=0.1`);
    await shared.waitForFunction(() => typeof (window as unknown as { __gradlab?: unknown }).__gradlab === "object", null, { timeout: 30_000 });
    expect(new URL(shared.url()).pathname).not.toMatch(/story/);
    await shared.context().close();
    expect(pageErrors.filter((e) => !e.startsWith("index.html"))).toEqual([]);
  }, 120_000);
});
