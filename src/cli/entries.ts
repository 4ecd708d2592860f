/**
 * The sweep workers' entry file. It sits beside this module, in src/cli and in dist/cli alike
 * (the bundled command, dist/cli/gradlab.js, keeps its chunks in dist/cli too), so the URL holds
 * from the sources, the compiled files and the bundle; a module one folder deeper could not say
 * "../" for all three.
 */
export const SWEEP_WORKER_ENTRY: URL = new URL("./sweep-worker.boot.js", import.meta.url);
