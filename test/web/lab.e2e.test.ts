// End to end in a real browser: builds the lab with Vite, serves dist/web on 127.0.0.1, drives
// Debian's Chromium with playwright-core, trains the seed network in the page's worker and
// compares every number of every recorded step with a Node run of the same config and seed
// (the expected numbers come from the engine itself, run here in Node). Also: the charts draw
// one series per layer, a link reproduces the state, hostile links are neutralised, the
// browser's training throughput is at least half of Node's, and a screenshot is saved to
// test/.artifacts/lab.png for people to look at. The lesson on the default page: the depth
// profile above the fold at 1280×800, the diagram drawn before the first step and at every
// Step, every remedy button of every preset training B without NaN, a diverging run written
// out as such, and the page usable at 390 px (screenshots test/.artifacts/lab-desktop.png and
// lab-phone.png). The viewer opens a folder recorded by the PyTorch probe. Nothing is skipped:
// without /usr/bin/chromium the test fails and says how
// to install it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/datasets.ts";
import { parseConfig, type Config } from "../../src/experiment/config.ts";
import { expandSuite, isSuite } from "../../src/experiment/suite.ts";
import { Trainer, type EpochResult, type Stop } from "../../src/experiment/trainer.ts";
import type { StepRecord } from "../../src/instrument/recorder.ts";
import { labRecords } from "../../src/web/cadence.ts";
import { REMEDIES, remedyFor } from "../../src/web/remedies.ts";
import { defaultState, encodeState, rawFromConfig, type LabState } from "../../src/web/state.ts";
import { serveStatic, type StaticServer } from "./static-server.ts";
import { firstDifference } from "../helpers/first-difference.ts";

const ROOT = join(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test/.artifacts");
const SEED_JSON = JSON.parse(readFileSync(join(ROOT, "experiments/seed.json"), "utf8")) as Record<string, unknown>;

/** The seed network on 2000 training examples, recorded every 10 steps: 3 epochs = 189 steps. */
function e2eState(): LabState {
  const s = defaultState();
  s.a.data = { view: "flat", train: 2000, test: 500 };
  s.a.train = { epochs: 3, batchSize: 32, seed: 1 };
  s.a.record = { every: 10 };
  s.ui.speed = "max";
  return s;
}

/** The same config trained in Node by the same Trainer: every record and epoch result. */
function nodeRun(config: Config): { records: StepRecord[]; epochs: EpochResult[] } {
  const t = new Trainer(config, loadDataset(config.data.dataset, { train: config.data.train, test: config.data.test }));
  const records: StepRecord[] = [];
  while (!t.done) { const r = t.trainStep(); if (r) records.push(r); }
  return { records, epochs: t.epochs };
}

/** Node's throughput on the seed network: `steps` timed steps after `warmup` (samples/s). */
function nodeBench(config: Config, steps: number, warmup: number): number {
  const t = new Trainer(config, loadDataset(config.data.dataset, { train: config.data.train, test: config.data.test }));
  for (let i = 0; i < warmup; i++) t.trainStep();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) t.trainStep();
  return (steps * t.batchSize) / ((performance.now() - t0) / 1000);
}


let server: StaticServer;
let context: BrowserContext;
let profile: string;
const pageErrors: string[] = [];

/** Mark the browser as having visited (first-visit.ts), so the bare address opens the lab. */
const markVisited = () => { localStorage.setItem("gradlab.visited", "1"); };

async function openLab(hash: string): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("dialog", (d) => { pageErrors.push(`unexpected dialog: ${d.message()}`); void d.dismiss(); });
  await page.addInitScript(markVisited);  // the lab itself, not the story a first visit lands on
  await page.goto(`${server.url}#${hash}`);
  await page.waitForFunction(() => typeof (window as unknown as { __gradlab?: unknown }).__gradlab === "object");
  return page;
}

const lab = <T>(page: Page, fn: string, ...args: unknown[]): Promise<T> =>
  page.evaluate(([f, a]) => ((window as unknown as { __gradlab: Record<string, (...x: unknown[]) => unknown> }).__gradlab[f as string](...(a as unknown[]))) as T, [fn, args] as const);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's Chromium (apt-get install -y chromium); .ci/run installs it`);
  }
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "error"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  if (build.status !== 0) throw new Error(`vite build failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
  server = await serveStatic(join(ROOT, "dist/web"));
  profile = mkdtempSync(join(tmpdir(), "gradlab-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-gpu", "--disable-quic"],
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe("the lab in Chromium", () => {
  it("trains the seed network number for number as Node does, draws one series per layer, and saves a screenshot", async () => {
    const state = e2eState();
    const hash = encodeState(state);
    const page = await openLab(hash);
    await page.waitForFunction(() => (window as unknown as { __gradlab: { ready(): boolean } }).__gradlab.ready(), null, { timeout: 30_000 });
    expect(await page.evaluate(() => location.hash.slice(1))).toBe(hash);
    // Keyboard: Space plays.
    await page.locator("body").focus();
    await page.keyboard.press("Space");
    await page.waitForFunction(() => (window as unknown as { __gradlab: { status(): { done: boolean } } }).__gradlab.status().done, null, { timeout: 30_000 });

    const config = parseConfig({ ...SEED_JSON, data: { dataset: "mnist", view: "flat", train: 2000, test: 500 }, train: { epochs: 3, batchSize: 32, seed: 1 }, record: { every: 10 } });
    const node = nodeRun(config);
    const browser = await lab<StepRecord[]>(page, "records", "a");
    expect(browser.length).toBe(node.records.length);
    expect(browser.map((r) => r.step)).toEqual([...Array.from({ length: 19 }, (_, i) => 10 * i), 188]);
    expect(firstDifference(browser, node.records)).toBeNull();
    expect(firstDifference(await lab<EpochResult[]>(page, "epochs", "a"), node.epochs)).toBeNull();

    // The charts, redrawn from the records: one series per layer, over the config's records and
    // the lab's denser ones (cadence.ts: every step below 100, every 10th below 1000).
    const charted = Array.from({ length: 189 }, (_, s) => s).filter((s) => s % 10 === 0 || s === 188 || labRecords(s)).length;
    expect(charted).toBe(110); // steps 0–99, 100–180 by 10, and the last, 188
    await page.waitForFunction((n) => (window as unknown as { __gradlab: { drawnPoints(k: string): number[] | null } }).__gradlab.drawnPoints("grad-norm:a")?.[0] === n, charted);
    const layers = ["dense1", "dense2", "dense3"];
    expect(await lab(page, "drawnSeries", "grad-norm:a")).toEqual(layers);
    expect(await lab(page, "drawnSeries", "delta-norm:a")).toEqual(layers);
    expect(await lab(page, "drawnSeries", "saturation:a")).toEqual(["dense1 saturated", "dense2 saturated"]);
    expect(await lab(page, "drawnSeries", "loss:a")).toEqual(["loss", "batch accuracy", "test accuracy"]);
    expect(await lab(page, "drawnSeries", "grad-heatmap:a")).toEqual(["log10 ‖∂L/∂W‖"]);
    const heatRows = await page.evaluate(() => {
      const g = (window as unknown as { __gradlab: { specSeries(k: string): string[] } }).__gradlab;
      return g.specSeries("grad-heatmap:a");
    });
    expect(heatRows).toEqual(["log10 ‖∂L/∂W‖"]);
    expect(await lab(page, "diagramColumns")).toEqual(["input", ...layers]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "lab.png"), fullPage: true });
    expect(existsSync(join(ARTIFACTS, "lab.png"))).toBe(true);

    // Throughput of the seed network (full MNIST, batch 32), Node and the page's worker taking
    // turns so a busy machine slows both alike; the best of five each.
    const seed = parseConfig(SEED_JSON);
    let nodeBest = 0, browserBest = 0;
    for (let round = 0; round < 5; round++) {
      nodeBest = Math.max(nodeBest, nodeBench(seed, 800, 200));
      const b = await lab<{ samplesPerSecond: number }>(page, "bench", SEED_JSON, 800, 200);
      browserBest = Math.max(browserBest, b.samplesPerSecond);
    }
    const ratio = browserBest / nodeBest;
    console.log(`throughput, seed network: Chromium ${Math.round(browserBest)} samples/s, Node ${Math.round(nodeBest)} samples/s, ratio ${ratio.toFixed(2)}`);
    expect(ratio).toBeGreaterThanOrEqual(0.5);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);

  it("trains recurrent layers with normal inits and Adam number for number too, with the time charts", async () => {
    // Exercises every portable function of src/core/math.ts: Box–Muller (log, sin, cos) in the
    // he/lecun/orthogonal inits, exp and tanh in the LSTM and GRU cells, Adam's β^t.
    const raw = {
      ...SEED_JSON, name: "rnn-e2e",
      data: { dataset: "mnist", view: "rows", train: 256, test: 64 },
      model: { layers: [
        { type: "lstm", units: 8, init: "he", recurrentInit: "orthogonal", returnSequences: true },
        { type: "gru", units: 6, init: "lecun" },
        { type: "dense", units: 10, init: "glorot_normal" },
      ] },
      optimizer: { type: "adam", lr: 0.01 },
      train: { epochs: 1, batchSize: 32, seed: 5 }, record: { every: 2 },
    };
    const config = parseConfig(raw);
    const state = defaultState();
    state.a = { ...raw, data: { view: "rows", train: 256, test: 64 } };
    state.ui.speed = "max";
    const page = await openLab(encodeState(state));
    await page.waitForFunction(() => (window as unknown as { __gradlab: { ready(): boolean } }).__gradlab.ready(), null, { timeout: 30_000 });
    await page.click("#play");
    await page.waitForFunction(() => (window as unknown as { __gradlab: { status(): { done: boolean } } }).__gradlab.status().done, null, { timeout: 30_000 });
    const node = nodeRun(config);
    const browser = await lab<StepRecord[]>(page, "records", "a");
    expect(browser.map((r) => r.step)).toEqual([0, 2, 4, 6, 7]);
    expect(firstDifference(browser, node.records)).toBeNull();
    expect(firstDifference(await lab<EpochResult[]>(page, "epochs", "a"), node.epochs)).toBeNull();
    await page.waitForFunction(() => (window as unknown as { __gradlab: { chartKeys(): string[] } }).__gradlab.chartKeys().includes("time-norm:a"));
    expect(await lab<string[]>(page, "chartKeys")).toEqual(expect.arrayContaining(["time-norm:a", "time-heatmap-lstm1:a", "time-heatmap-gru1:a", "pascanu:a"]));
    expect(await lab(page, "drawnSeries", "grad-norm:a")).toEqual(["lstm1", "gru1", "dense1"]);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it("views a folder recorded by the PyTorch probe: its metrics.jsonl opens in the viewer with the modules' names", async () => {
    // test/reference/probe/odd.metrics.jsonl: the probe's records of a model with a shared module,
    // a frozen layer, a two-layer GRU and a root parameter (see make_probe_fixtures.py)
    const page = await openLab(encodeState(e2eState()));
    await page.waitForFunction(() => (window as unknown as { __gradlab: { ready(): boolean } }).__gradlab.ready(), null, { timeout: 30_000 });
    await page.setInputFiles("#open-file", join(ROOT, "test/reference/probe/odd.metrics.jsonl"));
    await page.waitForFunction(() => document.body.innerText.includes("Viewing odd.metrics.jsonl (3 records)"), null, { timeout: 30_000 });
    const text = await page.evaluate(() => document.body.innerText + [...document.querySelectorAll("svg text")].map((t) => t.textContent).join(" "));
    for (const name of ["encoder.fc", "shared", "head"]) expect(text).toContain(name);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it("keeps every setting in the URL: an edit lands in the hash and a reload reproduces it", async () => {
    const state = e2eState();
    state.b = structuredClone(state.a);
    (state.b.optimizer as Record<string, unknown>) = { type: "adam", lr: 0.01 };
    state.ui.speed = "100";
    const page = await openLab(encodeState(state));
    await page.waitForFunction(() => (window as unknown as { __gradlab: { ready(): boolean } }).__gradlab.ready(), null, { timeout: 30_000 });
    expect(await page.evaluate(() => location.hash.slice(1))).toBe(encodeState(state));
    // B is being edited (A/B links open on B): change its learning rate in the form.
    await page.fill("#f-lr", "0.02");
    await page.press("#f-lr", "Enter");
    await page.waitForFunction(() => location.hash.includes("b.lr=0.02"));
    await page.click("[data-key=edit-a]");
    await page.fill("#f-seed", "7");
    await page.press("#f-seed", "Tab");
    await page.waitForFunction(() => location.hash.includes("seed=7"));
    const edited = await page.evaluate(() => location.hash);
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { __gradlab: { ready(): boolean } }).__gradlab.ready(), null, { timeout: 30_000 });
    expect(await page.evaluate(() => location.hash)).toBe(edited);
    expect(await page.inputValue("#f-lr")).toBe("0.02");
    await page.click("[data-key=edit-a]");
    expect(await page.inputValue("#f-lr")).toBe("0.5");
    expect(await page.inputValue("#f-seed")).toBe("7");
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it("neutralises hostile links: no script runs, no prototype is touched, absurd sizes are refused in place", async () => {
    const evil = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;
    const hash = [
      `name=${encodeURIComponent(evil)}`, "__proto__=1", "constructor=2", "ab=1", "b.__proto__=3",
      "layers=!((__proto__:(polluted:!t),type:dense,units:10))", "lr=1e999", "train=99999999999", "seed=1e400", "speed=%3Cscript%3E",
    ].join("&");
    const page = await openLab(hash);
    await page.waitForFunction(() => (window as unknown as { __gradlab: { ready(): boolean } }).__gradlab.ready(), null, { timeout: 30_000 });
    const seen = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      polluted: ({} as Record<string, unknown>).polluted,
      images: document.querySelectorAll("img").length,
      scripts: [...document.scripts].filter((s) => !s.src).length,
      name: (document.getElementById("f-name") as HTMLInputElement).value,
      banner: document.getElementById("banner")!.textContent ?? "",
    }));
    expect(seen.pwned).toBeUndefined();
    expect(seen.polluted).toBeUndefined();
    expect(seen.images).toBe(0);
    expect(seen.scripts).toBe(0);
    expect(seen.name).toBe(evil);
    for (const bad of ["__proto__", "lr (learning rate)", "train (training examples)", "seed", "speed", "layers"]) expect(seen.banner).toContain(bad);

    const huge = await openLab("layers=!((type:dense,units:1000000000),(type:dense,units:10))");
    await huge.waitForFunction(() => (window as unknown as { __gradlab: { status(): { status: string } } }).__gradlab.status().status === "error");
    expect(await huge.locator("#editor .error").first().textContent()).toBe("model.layers[0].units: at most 4096 in the browser lab; got 1000000000");
    expect(await huge.locator("#play").isDisabled()).toBe(true);
    const shape = await openLab("layers=!((type:conv2d,filters:4,kernel:3),(type:dense,units:10))");
    await shape.waitForFunction(() => (window as unknown as { __gradlab: { status(): { status: string } } }).__gradlab.status().status === "error");
    expect(await shape.locator("#editor li.invalid .error").textContent()).toMatch(/^model\.layers\[0\]/);
    expect(pageErrors).toEqual([]);
    await Promise.all([page.close(), huge.close(), shape.close()]);
  }, 60_000);
});

type Hooks = {
  ready(): boolean;
  status(side?: string): { status: string; step: number; done: boolean; playing: boolean; stopped: Stop | null; config: { name: string } | null };
  diagramSteps(): (number | null)[];
  chartKeys(): string[];
  specData(key: string): { name: string; data: (number | string)[][] }[] | null;
  renders(): number;
};
type W = { __gradlab: Hooks };

/** Attributes anywhere in the page whose value holds NaN or Infinity (broken SVG geometry). */
const brokenAttributes = (page: Page) => page.evaluate(() => [...document.querySelectorAll("*")].flatMap((el) =>
  [...el.attributes].filter((a) => /\bNaN\b|Infinity/.test(a.value) && a.name !== "aria-label" && a.name !== "title").map((a) => `<${el.tagName.toLowerCase()} ${a.name}="${a.value}">`)));

/** Every preset as the page lists it: experiments/*.json, suites expanded (src/web/presets.ts). */
function presets(): { id: string; config: Config }[] {
  const dir = join(ROOT, "experiments");
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort().flatMap((f) => {
    const raw = JSON.parse(readFileSync(join(dir, f), "utf8"));
    const group = f.replace(/\.json$/, "");
    return isSuite(raw) ? expandSuite(raw, f).runs.map((r) => ({ id: `${group}/${r.label}`, config: r.config })) : [{ id: group, config: parseConfig(raw, f) }];
  });
}

describe("the lesson on the default page", () => {
  it("shows the depth profile above the fold at 1280×800, draws the diagram before the first step, and at every Step", async () => {
    const page = await openLab("");
    await page.setViewportSize({ width: 1280, height: 800 });
    // Before any training: the network at initialization, measured on the first batch.
    await page.waitForFunction(() => { const x = (window as unknown as W).__gradlab; return x.diagramSteps()[0] === 0 && x.chartKeys().includes("depth-profile:a"); }, null, { timeout: 60_000 });
    expect(await lab(page, "status")).toMatchObject({ step: 0, playing: false });
    const box = await page.locator('[data-chart="depth-profile:a"]').boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y + box!.height).toBeLessThanOrEqual(800);
    // The seed network's lesson at step 0: ‖δ‖ grows from the input layer to the output.
    const profile = (await lab<{ name: string; data: [string, number][] }[]>(page, "specData", "depth-profile:a"))!;
    const delta0 = profile.find((x) => x.name.startsWith("‖δ‖ at init"))!.data;
    expect(delta0.map((p) => p[0])).toEqual(["dense1", "dense2", "dense3"]);
    expect(delta0[0][1]).toBeLessThan(delta0[1][1]);
    expect(delta0[1][1]).toBeLessThan(delta0[2][1]);
    expect(await page.locator("#diagrams svg text.dg-label").textContent()).toContain("step 0");
    expect(await page.locator("#speed").inputValue()).toBe("10");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "lab-desktop.png") });

    // One click of Step: the status, the diagram and the charts all show step 1.
    await page.click("#step");
    await page.waitForFunction(() => { const x = (window as unknown as W).__gradlab; return x.status().step === 1 && x.diagramSteps()[0] === 1; }, null, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector("#diagrams svg text.dg-label")?.textContent?.includes("step 1"));
    await page.waitForFunction(() => { const x = (window as unknown as W).__gradlab; return (x.specData("depth-profile:a") ?? []).some((s) => s.name === "‖δ‖ now (step 1)"); }, null, { timeout: 30_000 });
    await page.waitForFunction(() => { const d = (window as unknown as W).__gradlab.specData("delta-norm:a")?.[0]?.data; return !!d && d[d.length - 1][0] === 1; });
    expect(await page.locator("#status").textContent()).toContain("step 1 /");
    await page.click("#step");
    await page.waitForFunction(() => { const x = (window as unknown as W).__gradlab; return x.status().step === 2 && x.diagramSteps()[0] === 2; }, null, { timeout: 30_000 });
    expect(await brokenAttributes(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);

  it("is usable at 390×844: nothing wider than the screen, Play and the diagram first, the settings folded", async () => {
    const page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.setViewportSize({ width: 390, height: 844 });
    await page.addInitScript(markVisited);
    await page.goto(server.url);
    await page.waitForFunction(() => { const x = (window as unknown as W).__gradlab; return x.diagramSteps()[0] === 0 && x.chartKeys().includes("delta-norm:a"); }, null, { timeout: 60_000 });
    await page.click("#play");
    await page.waitForFunction(() => { const x = (window as unknown as W).__gradlab; return x.status().step >= 3; }, null, { timeout: 30_000 });
    await page.click("#play");
    await page.waitForTimeout(300); // the next ≤ 10 Hz redraw
    const layout = await page.evaluate(() => {
      const top = (sel: string) => document.querySelector(sel)!.getBoundingClientRect().top;
      const wide = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
      return { wide, play: top("#play"), diagram: top("#diagrams"), headline: top("#headline"), settings: top("#settings"), settingsOpen: (document.getElementById("settings") as HTMLDetailsElement).open, scrollWidth: document.documentElement.scrollWidth };
    });
    expect(layout.wide).toEqual([]);
    expect(layout.scrollWidth).toBeLessThanOrEqual(390);
    expect(layout.play).toBeLessThan(layout.diagram);
    expect(layout.diagram).toBeLessThan(844);
    expect(layout.diagram).toBeLessThan(layout.headline);
    expect(layout.headline).toBeLessThan(layout.settings);
    expect(layout.settingsOpen).toBe(false);
    // targets of at least 24 × 24 px, and every setting explained on hover and focus
    await page.click("#settings > summary");
    const checks = await page.evaluate(() => ({
      small: [...document.querySelectorAll("button, select, input:not([type=file]), summary")].filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.width < 24 || r.height < 24); }).map((e) => e.outerHTML.slice(0, 80)),
      unexplained: [...document.querySelectorAll("#settings-body fieldset [data-key]")].filter((e) => !e.getAttribute("title") && !e.getAttribute("aria-describedby")).map((e) => e.id),
    }));
    expect(checks.small).toEqual([]);
    expect(checks.unexplained).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "lab-phone.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);

  it("trains B without NaN for every remedy button of every preset, and writes a diverging run out as such", async () => {
    /** Every remedy of each preset in `list`, on one page; returns the B runs trained. */
    const runPresets = async (list: { id: string; config: Config }[]): Promise<number> => {
      const page = await openLab("");
      await page.click("#tab-learn");
      let trained = 0;
      for (const p of list) {
        // The preset on 20 batches of 32, one epoch; B starts as A so its worker stays.
        const state = defaultState();
        state.a = rawFromConfig(p.config);
        state.a.data = { ...(state.a.data as object), train: 640, test: 100 };
        state.a.train = { ...(state.a.train as object), epochs: 1, onNonFinite: "stop" };
        state.b = structuredClone(state.a);
        state.ui.speed = "max";
        await page.evaluate((h) => { location.hash = h; }, encodeState(state));
        await page.waitForFunction(() => { const x = (window as unknown as W).__gradlab; return x.ready(); }, null, { timeout: 60_000 });
        for (const r of REMEDIES) {
          const why = remedyFor(r, state.a);
          // the panel has caught up with this preset when the button says what Node says
          await page.waitForFunction(([k, off]) => (document.querySelector(`[data-key="${k}"]`) as HTMLButtonElement).disabled === off, [`remedy-ab-${r.id}`, why !== null] as const, { timeout: 30_000 });
          if (why) { expect(why, `${p.id} ${r.id}`).toMatch(/^changes nothing here/); continue; }
          await page.$eval(`[data-key="remedy-ab-${r.id}"]`, (b) => (b as HTMLButtonElement).click());
          await page.waitForFunction((name) => { const x = (window as unknown as W).__gradlab; return x.status("b").config?.name === name && x.status("b").status === "ready"; }, `${String(state.a.name)}+${r.id}`, { timeout: 60_000 });
          await page.$eval("#play", (b) => (b as HTMLButtonElement).click());
          await page.waitForFunction(() => { const x = (window as unknown as W).__gradlab; return x.status("b").done; }, null, { timeout: 60_000 });
          // "stop" on NaN/Inf: a run that finishes all its steps never had one
          const b = await lab<{ stopped: Stop | null; step: number }>(page, "status", "b");
          expect(b.stopped, `${p.id} + ${r.id}`).toBeNull();
          expect(b.step, `${p.id} + ${r.id}`).toBe(20);
          if ((await lab<{ playing: boolean }>(page, "status", "a")).playing) await page.$eval("#play", (x) => (x as HTMLButtonElement).click());
          trained++;
        }
        if (p.id === "exploding/no-clipping") {
          // A explodes by design: said in words, drawn without NaN geometry, the walk too.
          if (!(await lab<{ done: boolean }>(page, "status", "a")).done) await page.$eval("#play", (x) => (x as HTMLButtonElement).click());
          await page.waitForFunction(() => { const x = (window as unknown as W).__gradlab; return x.status("a").done; }, null, { timeout: 60_000 });
          const a = await lab<{ stopped: Stop | null }>(page, "status", "a");
          expect(a.stopped?.step).toBeGreaterThan(0);
          await page.waitForFunction((st) => document.querySelector("[data-status=a]")?.textContent?.includes(`A diverged at step ${st}`), a.stopped!.step);
        }
        expect(await brokenAttributes(page), p.id).toEqual([]);
      }
      await page.close();
      return trained;
    };
    const all = presets();
    expect(all.length).toBeGreaterThan(30);
    // two pages at once: their workers train while the other page waits
    const counts = await Promise.all([runPresets(all.filter((_, i) => i % 2 === 0)), runPresets(all.filter((_, i) => i % 2 === 1))]);
    expect(counts[0] + counts[1]).toBeGreaterThan(60);
    expect(pageErrors).toEqual([]);
  }, 900_000);
});

