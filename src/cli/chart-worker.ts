/**
 * The report's chart thread (report/chart-thread.ts): `gradlab run` starts it, through
 * chart-worker.boot.js, when the run itself uses one kernel thread; it loads the report's code
 * while the run trains and draws half of the report's charts at the end.
 */
import { parentPort } from "node:worker_threads";
import { serveCharts } from "../report/chart-thread.ts";

if (parentPort) serveCharts(parentPort);
