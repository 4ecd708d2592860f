/** Run the real `gradlab` command in a child process (as a user would) and capture its output. */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = join(import.meta.dirname, "..", "..", "bin", "gradlab.js");

export interface CliResult { code: number | null; stdout: string; stderr: string }

export function gradlab(args: string[], opts: { cwd?: string; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd, encoding: "utf8", timeout: opts.timeout ?? 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = "gradlab-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
