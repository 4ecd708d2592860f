// Entry of the report's chart thread. In the package (dist/) it loads the bundled
// gradlab-charts.js (scripts/build.mjs); in a checkout (src/, where chart-worker.ts sits beside
// this file) it first registers tsx's loader in this thread (loaders are per thread), as
// bin/gradlab.js does for the main thread.
import { existsSync } from "node:fs";

const source = new URL("./chart-worker.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import("./gradlab-charts.js");
}
