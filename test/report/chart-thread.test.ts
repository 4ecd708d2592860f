// The report's chart thread (src/report/chart-thread.ts): a worker draws every other chart of a
// report from the run folder while the main thread draws the rest. Expected: exactly the SVGs the
// main thread draws alone (render.ts's output depends on the chart only), so report.html is byte
// for byte the same with and without the thread; and a thread that cannot deliver costs nothing
// but time (the main thread draws what is missing).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CHART_WORKER_ENTRY } from "../../src/cli/entries.ts";
import { sharedSvgs, startChartThread, type ChartThread } from "../../src/report/chart-thread.ts";
import { reportCharts } from "../../src/report/html.ts";
import { readRun } from "../../src/report/read-run.ts";
import { chartSvg } from "../../src/report/render.ts";
import { writeReport } from "../../src/report/write.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

describe("the chart thread", () => {
  const dir = join(tempDir(), "run");
  let thread: ChartThread;
  beforeAll(async () => {
    // a real run folder: the seed network, recorded every 25 steps (eight charts)
    const r = gradlab(["run", "seed", "--epochs", "1", "--train", "1000", "--test", "500", "--every", "25", "--quiet", "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    thread = startChartThread(CHART_WORKER_ENTRY);
    for (let i = 0; i < 600 && !thread.ready(); i++) await new Promise((ok) => setTimeout(ok, 100));
  }, 120_000);

  it("loads the report's code by itself and then says it is ready", () => {
    expect(thread.ready()).toBe(true);
  });

  it("draws every chart the main thread leaves it, each exactly as the main thread draws it", () => {
    const charts = reportCharts(readRun(dir));
    expect(charts.length).toBeGreaterThanOrEqual(4);
    const ids = charts.map((c) => c.id);
    // this thread takes none: the thread draws them all
    const all = thread.share(dir, ids).collect();
    expect([...all.keys()]).toEqual(ids);
    for (const c of charts) expect(all.get(c.id), c.id).toBe(chartSvg(c));
    // this thread takes two: the thread draws exactly the others
    const job = thread.share(dir, ids);
    const mine = [job.claim(), job.claim()].map((i) => ids[i]);
    const theirs = [...job.collect().keys()];
    expect([...mine, ...theirs].sort()).toEqual([...ids].sort());
  });

  it("sharedSvgs covers every chart, and report.html is the same bytes with and without the thread", () => {
    const charts = reportCharts(readRun(dir));
    const svgs = sharedSvgs(thread, dir, charts, (c) => chartSvg(c));
    expect([...svgs.keys()].sort()).toEqual(charts.map((c) => c.id).sort());
    writeReport(dir, { png: false });
    const alone = readFileSync(join(dir, "report.html"));
    writeReport(dir, { png: false, chartThread: thread });
    expect(readFileSync(join(dir, "report.html")).equals(alone)).toBe(true);
  });

  it("a job the thread cannot do (no such run folder, other charts) comes back empty, and the main thread draws everything", () => {
    expect(thread.share(join(dir, "missing"), ["loss"]).collect().size).toBe(0);
    const other = thread.share(dir, ["loss"]);
    expect(other.collect().size).toBe(0);
    expect(other.claim()).toBe(0); // the thread took nothing
    const charts = reportCharts(readRun(dir));
    const notReady: ChartThread = { ready: () => false, share: () => { throw new Error("not asked while loading"); } };
    expect([...sharedSvgs(notReady, dir, charts, (c) => chartSvg(c)).keys()]).toEqual(charts.map((c) => c.id));
  });
});
