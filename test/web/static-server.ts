/**
 * A tiny static file server for the built lab (dist/web) on 127.0.0.1 and a random port, for
 * the end-to-end test. Files are served as they are: the .gz data files as plain bytes (no
 * Content-Encoding), as most static hosts serve them. Paths outside the folder are refused.
 * Every response carries the cross-origin isolation headers the dev server sends
 * (vite.config.ts), unless `isolated` is false: a host that does not send them. `intercept`
 * may take a request over (it returns true once it owns the response): a slow or failing file.
 */
import { createReadStream, statSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";
import { CROSS_ORIGIN_ISOLATION } from "../../vite.config.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".gz": "application/octet-stream",
};

export interface StaticServer { url: string; close(): Promise<void> }
/** How serveStatic serves: with the isolation headers or without, and which requests a test takes over. */
export interface ServeOptions {
  isolated?: boolean;
  /** called with each request's path first; true when it has taken the response over */
  intercept?: (path: string, res: ServerResponse) => boolean;
}

/**
 * Serve `dir` until close(), cross-origin isolated unless `isolated` is false.
 * @example const s = await serveStatic("dist/web"); fetch(s.url)
 */
export function serveStatic(dir: string, { isolated = true, intercept }: ServeOptions = {}): Promise<StaticServer> {
  const root = resolve(dir);
  const isolation = isolated ? CROSS_ORIGIN_ISOLATION : {};
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (intercept?.(path, res)) return;
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    let size = -1;
    try { if (file === root || file.startsWith(root + sep)) size = statSync(file).isFile() ? statSync(file).size : -1; } catch { size = -1; }
    if (size < 0) { res.writeHead(404, { ...isolation, "Content-Type": "text/plain" }); res.end("not found"); return; }
    res.writeHead(200, { ...isolation, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Content-Length": size, "Cache-Control": "no-cache" });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      ok({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }) });
    });
  });
}
