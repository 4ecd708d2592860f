/**
 * The report's chart thread (report/chart-thread.ts): `gradlab run` starts it, through
 * chart-worker.boot.js, when the run itself uses one kernel thread; it loads the report's code
 * while the run reads its data and draws part of the report's charts at the end.
 */
import { parentPort } from "node:worker_threads";
import { serveCharts } from "../report/chart-thread.ts";
import { reportCharts } from "../report/html.ts";
import { readRun } from "../report/read-run.ts";
import { chartSvg } from "../report/render.ts";

if (parentPort) serveCharts(parentPort, (runDir) => reportCharts(readRun(runDir)), (c) => chartSvg(c));
