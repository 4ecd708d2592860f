/**
 * gradlab's own folder and version. The folder (where package.json, experiments/ and dist/ sit)
 * is found by walking up from this module's file to the package.json named "gradlab", so the
 * answer is the same from src/, from the compiled dist/ and from the bundled command
 * (dist/cli/gradlab.js and its chunks), whatever their depth. The library reports the version
 * that was installed, and `gradlab --version` prints the same.
 * @example VERSION // "0.1.0"
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder of the package.json named "gradlab" at or above `from`. */
function packageRoot(from: string): { root: string; version: string } {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "gradlab") return { root: dir, version: String(pkg.version) };
    }
    if (dirname(dir) === dir) throw new Error(`gradlab: no package.json named "gradlab" above ${from}`);
  }
}

const own = packageRoot(dirname(fileURLToPath(import.meta.url)));

/** The installed package's folder (absolute), e.g. "/usr/lib/node_modules/gradlab". */
export const PACKAGE_ROOT: string = own.root;

/** The installed package's version, e.g. "0.1.0". */
export const VERSION: string = own.version;
