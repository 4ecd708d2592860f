/**
 * Run the real `gradlab` command in a child process under the fault-injecting file system
 * (fault-fs.mjs): `fault` is GRADLAB_FAULT, e.g. "ENOSPC:metrics.jsonl:after=4096".
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { CliResult } from "./cli.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "gradlab.js");
const PRELOAD = join(import.meta.dirname, "fault-fs.mjs");

/** Start `gradlab args` with faults; the child and a promise of its result. */
export function startWithFaults(args: string[], fault: string, opts: { cwd?: string; log?: string } = {}): { child: ChildProcess; done: Promise<CliResult & { signal: string | null }> } {
  const env = { ...process.env, GRADLAB_FAULT: fault, ...(opts.log ? { GRADLAB_FAULT_LOG: opts.log } : {}) };
  const child = spawn(process.execPath, ["--import", PRELOAD, BIN, ...args], { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult & { signal: string | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Run `gradlab args` with faults to the end. */
export function gradlabWithFaults(args: string[], fault: string, opts: { cwd?: string; log?: string } = {}): Promise<CliResult & { signal: string | null }> {
  return startWithFaults(args, fault, opts).done;
}

/** Every file under `dir` (relative paths), sorted; [] when it does not exist. */
export function filesUnder(dir: string): string[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  return names.flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)).map((f) => `${n}/${f}`) : [n])).sort();
}

/** Temporary or partial files a failed write could leave: `.x.tmp-<pid>`, `x.partial-N`. */
export const LEFTOVER = /(^|\/)\.[^/]+\.tmp-\d+$|\.partial/;
