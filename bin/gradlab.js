#!/usr/bin/env node
// The `gradlab` command. Installed from npm it runs the bundled JavaScript in dist/cli (no loader,
// nothing compiled at start-up; scripts/build.mjs). In a checkout of the repository, where src/
// sits next to bin/, it runs that bundle only when it was built after the last change to the
// sources (`npm ci` and `npm run build` build it); otherwise it runs the TypeScript source
// through tsx's loader (a devDependency), so what runs there is always the current source.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = new URL("../src/cli/main.ts", import.meta.url);
const bundle = new URL("../dist/cli/gradlab.js", import.meta.url);

/** The latest modification time under `dir` (files and folders, so a deletion counts), src/web aside. */
function newest(dir) {
  let t = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "web" && dir.endsWith("/src")) continue; // the browser lab is not in the bundle
    const path = `${dir}/${e.name}`;
    t = Math.max(t, e.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

/** Whether the bundle exists and is newer than every source it is built from. */
function bundleIsCurrent() {
  try {
    return statSync(bundle).mtimeMs > newest(fileURLToPath(new URL("../src", import.meta.url)));
  } catch {
    return false;
  }
}

let register = null;
if (existsSync(source) && !bundleIsCurrent()) {
  try {
    ({ register } = await import("tsx/esm/api"));
  } catch {
    // a checkout without its devDependencies: the build in dist/ runs
  }
}
if (register) {
  register();
  await import(source.href);
} else {
  await import(bundle.href);
}
