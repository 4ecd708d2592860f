// Entry of a sweep worker thread. In the package (dist/) it loads the compiled sweep-worker.js;
// in a checkout (src/, where sweep-worker.ts sits beside this file) it first registers tsx's
// loader in this thread (loaders are per thread), as bin/gradlab.js does for the main thread.
import { existsSync } from "node:fs";

const source = new URL("./sweep-worker.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import("./sweep-worker.js");
}
