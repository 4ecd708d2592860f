/**
 * Loading a run's data and checkpoint so that Ctrl-C and SIGTERM end it at once. Opening a run
 * (session.ts) reads its files synchronously, and a signal handler cannot run while it does; so
 * the CLI first reads the same files ahead asynchronously (read-file.ts prefetchFiles), with
 * handlers that stop the process in one line, exit code 130, before anything is written. The
 * synchronous open then takes the bytes read ahead, checked to be the same files.
 */
import { join, resolve } from "node:path";
import { datasetBuffer, datasetFiles } from "../data/datasets.ts";
import { prefetchFiles } from "../data/read-file.ts";
import type { Config } from "./config.ts";
import { loadConfigFile } from "./config-file.ts";
import { listCheckpoints } from "./run-folder/checkpoint.ts";

/** What a run about to open will read: a config's data, or a run folder's data and newest checkpoint. */
export type PreloadRequest = { config: Config } | { runDir: string };

/**
 * The files opening the run will read in bulk: the dataset's, and a resumed run's newest
 * checkpoint; none when the request itself is bad (opening it then says what is wrong, in one line).
 * @example runFiles({ runDir: "runs/seed" }) // { data: [".../train-images-idx3-ubyte", …], other: ["runs/seed/checkpoint/step-0000001000.safetensors"] }
 */
export function runFiles(req: PreloadRequest): { data: string[]; other: string[] } {
  try {
    if ("config" in req) return { data: datasetFiles(req.config.data.dataset), other: [] };
    const config = loadConfigFile(join(req.runDir, "config.json"));
    const newest = listCheckpoints(resolve(req.runDir))[0];
    return { data: datasetFiles(config.data.dataset), other: newest ? [newest.file] : [] };
  } catch { return { data: [], other: [] }; }
}

/**
 * Read a run's files ahead while SIGINT and SIGTERM stop the process with one line on stderr and
 * exit code 130 (nothing has been written yet). The handlers are removed once the files are read.
 * @example await preloadInterruptibly({ config }); openRun({ mode: "fresh", config, outDir }, command)
 */
export async function preloadInterruptibly(req: PreloadRequest): Promise<void> {
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`gradlab: ${signal} while loading the data; stopped before anything was written\n`);
    process.exit(130);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    const files = runFiles(req);
    await Promise.all([prefetchFiles(files.data, { alloc: datasetBuffer }), prefetchFiles(files.other)]);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
