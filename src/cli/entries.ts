/**
 * The worker threads' entry files. They sit beside this module, in src/cli and in dist/cli alike
 * (the bundled command, dist/cli/gradlab.js, keeps its chunks in dist/cli too), so the URLs hold
 * from the sources, the compiled files and the bundle; a module one folder deeper could not say
 * "../" for all three.
 */

/** A sweep's worker threads (sweep-worker.ts): one run at a time each. */
export const SWEEP_WORKER_ENTRY: URL = new URL("./sweep-worker.boot.js", import.meta.url);
