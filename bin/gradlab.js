#!/usr/bin/env node
// The `gradlab` command. Installed from npm it runs the compiled JavaScript in dist/ (no loader,
// nothing compiled at start-up). In a checkout of the repository, where src/ sits next to bin/
// and tsx (a devDependency) is installed, it runs the TypeScript source through tsx's loader
// instead, so what runs there is always the current source and never a stale build.
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
let register = null;
if (existsSync(source)) {
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
  await import("../dist/cli/main.js");
}
