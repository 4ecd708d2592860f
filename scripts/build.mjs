/**
 * Builds the npm package's JavaScript: src/ (all but the browser lab, src/web) compiled by
 * tsc -p tsconfig.build.json into dist/ as .js + .d.ts (the library: `import … from "gradlab"`),
 * plus the two worker boot files, which are plain JavaScript and are copied as they are; then the
 * command, `gradlab`, bundled by esbuild from src/cli/main.ts into dist/cli/gradlab.js and its
 * chunks beside it (what is loaded only on demand — a command, the report's ECharts — is a chunk
 * of its own). One bundle starts in a third of the CPU time of ~150 separate modules, which Node
 * resolves, reads and compiles one by one. The worker threads load the compiled modules.
 * Run by `npm run build` and by npm's `prepare`, so `npm ci` and `npm pack` build it. dist/web
 * (the lab's static site, `npm run build:web`) is left alone.
 *
 * The build is incremental (tsc's build info in node_modules/.cache), so a rebuild of unchanged
 * sources takes a second or two, not a full compile. tsc trusts its build info, not dist/, so:
 * when any output is missing the build info is dropped first (a full build), and afterwards every
 * file in dist/ that no source produces any more is removed, so nothing stale is ever packed.
 * Plain JavaScript on purpose: it runs before anything is built and needs no loader.
 */
import { execFileSync } from "node:child_process";
import { build } from "esbuild";
import { copyFileSync, existsSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");
const dist = join(root, "dist");
const buildInfo = join(root, "node_modules/.cache/gradlab/build.tsbuildinfo");
const BOOT = ["cli/helper.boot.js", "cli/sweep-worker.boot.js"];

/** Every file under `dir` (relative paths), skipping the folder `skip` at the top. */
function walk(dir, skip = null, base = dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) { if (relative(base, path) !== skip) out.push(...walk(path, skip, base)); } else out.push(relative(base, path));
  }
  return out;
}

// What the sources produce: x.ts → x.js and x.d.ts; the boot files as they are.
const sources = walk(src, "web").filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
const expected = new Set([...sources.flatMap((f) => [f.replace(/\.ts$/, ".js"), f.replace(/\.ts$/, ".d.ts")]), ...BOOT]);

if ([...expected].some((f) => !existsSync(join(dist, f)))) rmSync(buildInfo, { force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
for (const boot of BOOT) copyFileSync(join(src, boot), join(dist, boot));

// zod's messages in English only: `import { z } from "zod"` reaches its index of ~60 locales
// (366 KB of the engine's chunk, which every run parses), and gradlab speaks English.
const onlyEnglishZod = {
  name: "only-english-zod",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => /zod[\\/]v4[\\/]/.test(args.importer)
      ? { path: join(args.resolveDir, "../locales"), namespace: "zod-locales" } : undefined);
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({ contents: `export { default as en } from "./en.js";`, resolveDir: args.path }));
  },
};

// The command's bundle. Its chunks sit in dist/cli beside it, so `import.meta.url` names the same
// folder in all of them as in src/cli (src/cli/entries.ts, src/version.ts rely on that).
// CommonJS dependencies (cac, cli-progress) call require, which an ES module has not: the banner
// gives them Node's. resvg is a native addon, loaded from node_modules as it is.
const bundle = await build({
  entryPoints: { gradlab: join(src, "cli/main.ts") },
  outdir: join(dist, "cli"),
  chunkNames: "gradlab-[hash]",
  bundle: true, splitting: true, format: "esm", platform: "node", target: "node20",
  external: ["@resvg/resvg-js", "tsx", "tsx/*"],
  banner: { js: `import { createRequire as gradlabRequire } from "node:module"; const require = gradlabRequire(import.meta.url);` },
  metafile: true, logLevel: "warning",
  plugins: [onlyEnglishZod],
});
for (const out of Object.keys(bundle.metafile.outputs)) expected.add(relative(dist, join(root, out)));
for (const f of walk(dist, "web")) if (!expected.has(f)) rmSync(join(dist, f));
