// The lab's kernel threads end to end in Debian's Chromium (playwright-core), on the built site
// served twice: with the cross-origin isolation headers (as the dev and preview servers send
// them) and without (a host that does not). A row LSTM of 128 units, which chooseThreads gives
// two threads (accel/threads.ts, as `gradlab run` does), trains on two threads on the isolated
// page and on one elsewhere, and its records are the same number for number on both and in
// Node. The expected numbers are the engine's own, run here in Node on one thread: the helper
// runs the same kernels on the same values in the same order (test/accel/threads.test.ts checks
// the same in Node). Also: the build's _headers file; a helper whose script never arrives
// stalls nothing (the kernels take their jobs back) and, when it fails, the run says so and goes
// on; resetting, changing the network and A/B leave no helper worker behind. Times are never
// asserted.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerResponse } from "node:http";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/datasets.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { Trainer } from "../../src/experiment/trainer.ts";
import type { StepRecord } from "../../src/instrument/recorder.ts";
import type { ThreadChoice } from "../../src/web/protocol.ts";
import { defaultState, encodeState, type LabState, type RawConfig } from "../../src/web/state.ts";
import { CROSS_ORIGIN_ISOLATION } from "../../vite.config.ts";
import { serveStatic, type StaticServer } from "./static-server.ts";
import { firstDifference } from "../helpers/first-difference.ts";

const ROOT = join(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";

/** A row LSTM of 128 units: 20 steps of 32 on 640 examples, every step recorded, then the test set. */
const LSTM: RawConfig = {
  name: "threads-lstm", data: { view: "rows", train: 640, test: 128 },
  model: { layers: [{ type: "lstm", units: 128 }, { type: "dense", units: 10 }] },
  loss: "cross_entropy", optimizer: { type: "adam", lr: 0.002, clipNorm: 1 },
  train: { epochs: 1, batchSize: 32, seed: 3 }, record: { every: 1 },
};

function labState(raw: RawConfig): LabState {
  const s = defaultState();
  s.a = structuredClone(raw);
  s.ui.speed = "max";
  return s;
}

/** The same config in Node, one thread: every record. */
function nodeRecords(raw: RawConfig): StepRecord[] {
  const config = parseConfig({ ...raw, data: { ...(raw.data as object), dataset: "mnist" } });
  const t = new Trainer(config, loadDataset("mnist", { train: config.data.train, test: config.data.test }));
  const records: StepRecord[] = [];
  while (!t.done) { const r = t.trainStep(); if (r) records.push(r); }
  return records;
}


interface Lab { ready(): boolean; status(side?: string): { done: boolean; threads: ThreadChoice | null }; records(side?: string): Promise<StepRecord[]> }
/** The page's window with the lab's test hooks (main.ts, window.__gradlab). */
type Hooked = { __gradlab?: Lab };
/** The kernel threads of run `side`, as the page knows them. */
const threadsOf = (page: Page, side = "a") => page.evaluate((sd) => (window as unknown as Hooked).__gradlab!.status(sd).threads, side);
/** Wait until run `side` is ready and its threads are `reason`s (any of them; null: decided at all). */
const untilThreads = (page: Page, reasons: string[] | null, side = "a") => page.waitForFunction(([sd, rs]) => {
  const g = (window as unknown as Hooked).__gradlab;
  const t = g?.ready() ? g.status(sd).threads : null;
  return t !== null && t !== undefined && (rs === null || rs.includes(t.reason));
}, [side, reasons] as const, { timeout: 60_000 });

let out: string;
let isolated: StaticServer;
let plain: StaticServer;
let browser: Browser;

async function open(server: StaticServer, state: LabState): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.addInitScript(() => localStorage.setItem("gradlab.visited", "1"));
  await page.goto(`${server.url}#${encodeState(state)}`);
  await untilThreads(page, null);
  return { page, errors };
}

/** Play to the end, then every record the worker kept. */
async function trainToEnd(page: Page): Promise<StepRecord[]> {
  await page.click("#play");
  await page.waitForFunction(() => (window as unknown as Hooked).__gradlab!.status().done, null, { timeout: 90_000 });
  return page.evaluate(() => (window as unknown as Hooked).__gradlab!.records("a"));
}

const helpers = (page: Page) => page.workers().filter((w) => w.url().includes("helper-worker")).length;
const trainers = (page: Page) => page.workers().filter((w) => /\/worker[-.]/.test(w.url())).length;
const engineLine = (page: Page, side = "a") => page.textContent(`[data-engine=${side}]`);

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "gradlab-threads-web-"));
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "error", "--outDir", out, "--emptyOutDir"], { cwd: ROOT, encoding: "utf8", timeout: 150_000 });
  if (build.status !== 0) throw new Error(`vite build failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
  isolated = await serveStatic(out);
  plain = await serveStatic(out, { isolated: false });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe("the lab's kernel threads in Chromium", () => {
  const node = nodeRecords(LSTM);

  it("trains the LSTM of 128 on two threads where the page is isolated, on one elsewhere, number for number the same as Node", async () => {
    const two = await open(isolated, labState(LSTM));
    expect(await two.page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await threadsOf(two.page)).toEqual({ count: 2, reason: "isolated" });
    expect(await engineLine(two.page)).toBe("engine: 2 threads");
    const twoRecords = await trainToEnd(two.page);
    expect(helpers(two.page)).toBe(1);

    const one = await open(plain, labState(LSTM));
    expect(await one.page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(await threadsOf(one.page)).toEqual({ count: 1, reason: "not-isolated" });
    expect(await engineLine(one.page)).toBe("engine: 1 thread (page not cross-origin isolated)");
    const oneRecords = await trainToEnd(one.page);
    expect(helpers(one.page)).toBe(0);

    expect(twoRecords.map((r) => r.step)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(firstDifference(twoRecords, oneRecords)).toBeNull();
    expect(firstDifference(twoRecords, node)).toBeNull();
    expect([...two.errors, ...one.errors]).toEqual([]);
    await two.page.close();
    await one.page.close();
  }, 180_000);

  it("writes the isolation headers for Netlify/Cloudflare Pages style hosts into the build (_headers)", () => {
    // The two headers the dev server sends (vite.config.ts), for every path, in the hosts' format.
    expect(Object.keys(CROSS_ORIGIN_ISOLATION).sort()).toEqual(["Cross-Origin-Embedder-Policy", "Cross-Origin-Opener-Policy"]);
    expect(readFileSync(join(out, "_headers"), "utf8")).toBe("/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n");
  });

  it("keeps one thread for a network a second does not pay for, even where the page is isolated", async () => {
    const { page, errors } = await open(isolated, defaultState()); // the seed network 784-5-5-10
    expect(await threadsOf(page)).toEqual({ count: 1, reason: "does-not-pay" });
    expect(await engineLine(page)).toBe("engine: 1 thread (a second does not pay for this network)");
    expect(helpers(page)).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("is not stalled by a helper whose script never arrives, and goes on with one thread when it fails", async () => {
    // A server that holds the helper's script until told, then answers 404.
    const held: ServerResponse[] = [];
    const holding = await serveStatic(out, { intercept: (path, res) => /helper-worker[^/]*\.js$/.test(path) && held.push(res) > 0 });
    const { page, errors } = await open(holding, labState(LSTM));
    expect(await threadsOf(page)).toEqual({ count: 2, reason: "isolated" });
    // Every split call is handed to a helper that is not there; each is taken back and run by
    // the training worker itself, so the run ends, with the same numbers.
    const records = await trainToEnd(page);
    expect(held.length).toBe(1);
    expect(firstDifference(records, node)).toBeNull();
    // Now the script fails to load: the worker drops the helper and says so.
    held[0].writeHead(404).end();
    await untilThreads(page, ["helper-failed"]);
    expect(await engineLine(page)).toBe("engine: 1 thread (the helper thread did not start)");
    expect(errors).toEqual([]);
    await page.close();
    await holding.close();
  }, 180_000);

  it("leaves no helper behind: reset keeps one, a one-thread network ends it, A/B shares the cores", async () => {
    const { page, errors } = await open(isolated, labState(LSTM));
    await expect.poll(() => helpers(page), { timeout: 10_000 }).toBe(1);
    for (let i = 0; i < 3; i++) {
      await page.click("#reset");
      await untilThreads(page, null);
    }
    expect(helpers(page)).toBe(1);
    // The seed network takes one thread: its helper is ended.
    await page.evaluate((hash) => { location.hash = hash; }, encodeState(defaultState()));
    await untilThreads(page, ["does-not-pay"]);
    await expect.poll(() => helpers(page), { timeout: 10_000 }).toBe(0);
    // A/B on the LSTM: each run counts on its share of the machine's cores.
    const ab = labState(LSTM);
    ab.b = structuredClone(ab.a);
    await page.evaluate((hash) => { location.hash = hash; }, encodeState(ab));
    await untilThreads(page, ["isolated", "shared-cores"], "a");
    await untilThreads(page, ["isolated", "shared-cores"], "b");
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const each: ThreadChoice = cores >= 4 ? { count: 2, reason: "isolated" } : { count: 1, reason: "shared-cores" };
    expect([await threadsOf(page, "a"), await threadsOf(page, "b")]).toEqual([each, each]);
    await expect.poll(() => helpers(page), { timeout: 10_000 }).toBe(each.count === 2 ? 2 : 0);
    expect(trainers(page)).toBe(2);
    // A/B off: B's worker (and any helper of its) ends; A alone has both cores again.
    await page.evaluate((hash) => { location.hash = hash; }, encodeState(labState(LSTM)));
    await untilThreads(page, ["isolated"]);
    await expect.poll(() => trainers(page), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => helpers(page), { timeout: 10_000 }).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
