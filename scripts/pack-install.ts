/**
 * Packs the project as npm would publish it (`npm pack`, which runs `prepare`: the build) and
 * installs the tarball into an empty folder, as a user's `npm install gradlab` would; for the
 * package test (test/package/pack.test.ts) and the cold-start benchmark (bench/cold-start.ts).
 * The install uses the local npm cache first (--prefer-offline); the registry is only asked for
 * what the cache lacks.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root folder. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What npm pack made and where it was installed. */
export interface Installed {
  /** the tarball's path */
  tarball: string;
  /** the paths inside the tarball (package/ stripped), as `npm pack --json` lists them */
  files: string[];
  /** the consumer folder that depends on the installed package */
  dir: string;
  /** node_modules/gradlab inside it */
  packageDir: string;
}

/** npm, run with output captured; its failure throws with npm's own output. */
function npm(args: string[], cwd: string): string {
  return execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } });
}

/** Pack the project into `into` and install the tarball into the empty folder `into`/consumer. */
export function packAndInstall(into: string): Installed {
  // The prepare script's own output (the build) would precede the JSON on stdout; the JSON is the last array printed.
  const out = npm(["pack", "--json", "--pack-destination", into], ROOT);
  const packed = JSON.parse(out.slice(out.indexOf("[\n"))) as { filename: string; files: { path: string }[] }[];
  const tarball = join(into, packed[0].filename);
  const dir = join(into, "consumer");
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2) + "\n");
  npm(["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], dir);
  return { tarball, files: packed[0].files.map((f) => f.path), dir, packageDir: join(dir, "node_modules", "gradlab") };
}
