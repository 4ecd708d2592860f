// Entry of a kernels' helper thread. In the package (dist/) it loads the compiled
// helper.js; in a checkout (src/, where helper.ts sits beside this file) it first registers tsx's
// loader in this thread (loaders are per thread), as bin/gradlab.js does for the main thread.
import { existsSync } from "node:fs";

const source = new URL("./helper.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import("./helper.js");
}
