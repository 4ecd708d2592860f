/**
 * A second thread for the report's charts (Node worker_threads). Rendering a report is mostly
 * ECharts drawing its charts, one after another, on a core that is otherwise idle at the end of
 * a run; with this thread the charts are shared out: both threads take the next chart not yet
 * taken (a shared counter) until none is left, so a report takes about half as long whatever
 * each chart costs. The thread loads the
 * report's code as soon as it starts (while the run trains), and reads the finished run folder
 * itself, so only chart ids and SVG text cross between the threads. Each chart's SVG depends on
 * the chart alone (render.ts: animation off, fixed id prefixes), so the page is byte for byte the
 * one a single thread writes. Whatever the thread does not deliver — it failed, or it did not
 * answer within THREAD_WAIT_MS — the main thread draws itself. This module loads none of the
 * report's code itself (the caller passes it in), so a run can start the thread at once.
 */
import { MessageChannel, receiveMessageOnPort, Worker, workerData, type MessagePort } from "node:worker_threads";

/** A chart as this module needs it: its id (what is drawn comes from the `draw` given). */
interface Chart { id: string }

/** The longest the main thread waits for the thread's charts before drawing them itself. */
const THREAD_WAIT_MS = 60_000;

/**
 * What the main thread asks: the charts of the report of the run in `runDir`, expected to be
 * `ids` in order; each thread draws chart i for the i it takes from the counter `next`.
 */
interface ChartJob { runDir: string; ids: string[]; next: SharedArrayBuffer; port: MessagePort; done: SharedArrayBuffer }
/** What the thread answers, on the job's port: the SVGs by id, or why it could not. */
type ChartAnswer = { svgs: [string, string][] } | { error: string };

/** A started chart thread: `share` hands it part of a report's charts once it is `ready`. */
export interface ChartThread {
  /** whether the thread has loaded the report's code (until then, sharing would only wait for it) */
  ready(): boolean;
  /**
   * Share the charts `ids` (in the report's order) of the run in `runDir` with the thread:
   * `claim` takes the next chart index for this thread (≥ ids.length: none left); `collect`
   * waits for the thread (synchronously: reports are written by a synchronous finish) and
   * returns the SVGs it drew, by id.
   */
  share(runDir: string, ids: readonly string[]): { claim(): number; collect(): ReadonlyMap<string, string> };
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
      const done = new SharedArrayBuffer(4), next = new SharedArrayBuffer(4);
      worker.postMessage({ runDir, ids: [...ids], next, port: port2, done } satisfies ChartJob, [port2]);
      return {
        claim: () => Atomics.add(new Int32Array(next), 0, 1),
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
 * The thread's side: answer each job with the SVGs of the charts it takes, `charts(runDir)` being
 * the report's charts as the main thread makes them and `draw` the same renderer. Call once in
 * the worker, with the report's code loaded.
 */
export function serveCharts<C extends Chart>(port: { on(event: "message", f: (job: ChartJob) => void): void }, charts: (runDir: string) => C[], draw: (chart: C) => string): void {
  Atomics.store(new Int32Array((workerData as { loaded: SharedArrayBuffer }).loaded), 0, 1);
  port.on("message", (job: ChartJob) => {
    let answer: ChartAnswer;
    try {
      const list = charts(job.runDir);
      // the same charts as the main thread's, or none taken (it then draws them all)
      if (list.map((c) => c.id).join("\n") !== job.ids.join("\n")) throw new Error("the run's charts are not the ones asked for");
      const svgs: [string, string][] = [];
      const next = new Int32Array(job.next);
      for (let i; (i = Atomics.add(next, 0, 1)) < list.length;) svgs.push([list[i].id, draw(list[i])]);
      answer = { svgs };
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
 * Render `charts`' SVGs with `draw`, by chart id, shared with the thread (each takes the next
 * chart left); all of them here while the thread is still loading its code.
 * @example renderReport(run, { svgs: sharedSvgs(thread, "runs/seed", reportCharts(run), chartSvg) })
 */
export function sharedSvgs<C extends Chart>(thread: ChartThread, runDir: string, charts: readonly C[], draw: (chart: C) => string): Map<string, string> {
  const svgs = new Map<string, string>();
  if (!thread.ready() || charts.length < 2) {
    for (const c of charts) svgs.set(c.id, draw(c));
    return svgs;
  }
  const job = thread.share(runDir, charts.map((c) => c.id));
  for (let i; (i = job.claim()) < charts.length;) svgs.set(charts[i].id, draw(charts[i]));
  for (const [id, svg] of job.collect()) svgs.set(id, svg);
  return svgs; // a chart the thread took but did not deliver is drawn by renderReport
}
