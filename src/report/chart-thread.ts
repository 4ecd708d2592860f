/**
 * A second thread for the report's charts (Node worker_threads). Rendering a report is mostly
 * ECharts drawing its charts, one after another, on a core that is otherwise idle at the end of
 * a run; with this thread the charts are shared out: the thread draws every other one while the
 * main thread draws the rest, so a report takes about half as long. The thread loads the
 * report's code as soon as it starts (while the run trains), and reads the finished run folder
 * itself, so only chart ids and SVG text cross between the threads. Each chart's SVG depends on
 * the chart alone (render.ts: animation off, fixed id prefixes), so the page is byte for byte the
 * one a single thread writes. Whatever the thread does not deliver — it failed, or it did not
 * answer within THREAD_WAIT_MS — the main thread draws itself.
 */
import { MessageChannel, receiveMessageOnPort, Worker, workerData, type MessagePort } from "node:worker_threads";
import type { ChartSpec } from "./charts.ts";
import { reportCharts } from "./html.ts";
import { readRun } from "./read-run.ts";
import { chartSvg } from "./render.ts";

/** The longest the main thread waits for the thread's charts before drawing them itself. */
const THREAD_WAIT_MS = 60_000;

/** What the main thread asks: the charts with these ids of the report of the run in `runDir`. */
interface ChartJob { runDir: string; ids: string[]; port: MessagePort; done: SharedArrayBuffer }
/** What the thread answers, on the job's port: the SVGs by id, or why it could not. */
type ChartAnswer = { svgs: [string, string][] } | { error: string };

/** A started chart thread: `share` hands it part of a report's charts once it is `ready`. */
export interface ChartThread {
  /** whether the thread has loaded the report's code (until then, sharing would only wait for it) */
  ready(): boolean;
  /**
   * Ask the thread for the charts `ids` of the run in `runDir`; `collect` waits for them
   * (synchronously: reports are written by a synchronous finish) and returns those it got.
   */
  share(runDir: string, ids: readonly string[]): { collect(): ReadonlyMap<string, string> };
}

/**
 * Start a chart thread from `entry` (a worker file that calls serveCharts). The thread does not
 * keep the process alive.
 * @example const charts = startChartThread(new URL("./chart-worker.boot.js", import.meta.url));
 */
export function startChartThread(entry: URL): ChartThread {
  const loaded = new SharedArrayBuffer(4);
  const worker = new Worker(entry, { workerData: { loaded } });
  worker.unref();
  worker.on("error", () => { /* a job it had is drawn by the main thread (collect's timeout or error answer) */ });
  return {
    ready: () => Atomics.load(new Int32Array(loaded), 0) === 1,
    share(runDir, ids) {
      const { port1, port2 } = new MessageChannel();
      const done = new SharedArrayBuffer(4);
      worker.postMessage({ runDir, ids: [...ids], port: port2, done } satisfies ChartJob, [port2]);
      return {
        collect() {
          const flag = new Int32Array(done);
          const deadline = performance.now() + THREAD_WAIT_MS;
          while (Atomics.load(flag, 0) === 0 && performance.now() < deadline) Atomics.wait(flag, 0, 0, 100);
          const answer = receiveMessageOnPort(port1)?.message as ChartAnswer | undefined;
          port1.close();
          return new Map(answer && "svgs" in answer ? answer.svgs : []);
        },
      };
    },
  };
}

/**
 * The thread's side: answer each job with the SVGs of the charts it names, rendered from the
 * run folder as the main thread renders them. Call once in the worker.
 */
export function serveCharts(port: { on(event: "message", f: (job: ChartJob) => void): void }): void {
  Atomics.store(new Int32Array((workerData as { loaded: SharedArrayBuffer }).loaded), 0, 1);
  port.on("message", (job: ChartJob) => {
    let answer: ChartAnswer;
    try {
      const wanted = new Set(job.ids);
      answer = { svgs: reportCharts(readRun(job.runDir)).filter((c) => wanted.has(c.id)).map((c) => [c.id, chartSvg(c)]) };
    } catch (e) {
      answer = { error: e instanceof Error ? e.message : String(e) };
    }
    job.port.postMessage(answer);
    job.port.close();
    const flag = new Int32Array(job.done);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
}

/**
 * Render `charts`' SVGs with the thread drawing every other one (the second, fourth, …) and this
 * thread the rest, by chart id; all of them here while the thread is still loading its code.
 * @example renderReport(run, { svgs: sharedSvgs(thread, "runs/seed", reportCharts(run)) })
 */
export function sharedSvgs(thread: ChartThread, runDir: string, charts: readonly ChartSpec[]): Map<string, string> {
  const shared = thread.ready() && charts.length >= 2;
  const pending = shared ? thread.share(runDir, charts.filter((_, i) => i % 2 === 1).map((c) => c.id)) : null;
  const svgs = new Map<string, string>();
  for (let i = 0; i < charts.length; i += shared ? 2 : 1) svgs.set(charts[i].id, chartSvg(charts[i]));
  for (const [id, svg] of pending?.collect() ?? []) svgs.set(id, svg);
  return svgs;
}
