/**
 * The run lock: `run.lock` in a run folder, created exclusively (O_EXCL) and holding
 * {pid, host, started}, so two runs never write into the same folder. A lock whose process is
 * gone (kill -9) is stale and is broken by the next run; a live one refuses with inUseError's
 * one line, the only wording of that refusal.
 */
import { closeSync, existsSync, openSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { InputError } from "../../core/errors.ts";
import { readTextChecked } from "../../data/read-file.ts";

export const LOCK_FILE = "run.lock";
/** What a stale lock is moved aside to while it is broken: `run.lock.stale-<pid>`. */
export const STALE_LOCK = /^run\.lock\.stale-\d+$/;

/** Who holds a lock. */
export interface LockHolder { pid: number; host: string; started: string }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A lock file's text: a regular file of at most 64 KB (read-file.ts), so a FIFO never blocks. */
function readLock(file: string): string {
  return readTextChecked(file, { cap: 2 ** 16, expected: "expected gradlab's run lock" });
}

function readHolder(file: string): LockHolder | null {
  try {
    const v = JSON.parse(readLock(file));
    return isObject(v) && Number.isSafeInteger(v.pid) && typeof v.host === "string" && typeof v.started === "string" ? (v as unknown as LockHolder) : null;
  } catch { return null; }
}

/** Whether the process holding a lock is still running (on another host: assumed so). */
function alive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  try { process.kill(h.pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === "EPERM"; }
}

/**
 * Who holds `runDir`'s lock, if a live process does; a lock whose process is gone (kill -9) is
 * stale and reported as null. An unreadable lock younger than 10 s is being written: held.
 */
export function lockHolder(runDir: string): LockHolder | null {
  const file = join(runDir, LOCK_FILE);
  if (!existsSync(file)) return null;
  const h = readHolder(file);
  if (h) return alive(h) ? h : null;
  try {
    const age = Date.now() - statSync(file).mtimeMs;
    return age < 10_000 ? { pid: 0, host: "?", started: "just now" } : null;
  } catch { return null; }
}

/**
 * The refusal of a folder another live run holds, in one line.
 * @example inUseError("runs/seed", { pid: 42, host: "lab", started: "2026-01-01T00:00:00Z" }).message
 * // "runs/seed: in use by another gradlab run (pid 42 on lab, since 2026-01-01T00:00:00Z); two runs never share a folder (…)"
 */
export function inUseError(runDir: string, h: LockHolder): InputError {
  return new InputError(`${runDir}: in use by another gradlab run (pid ${h.pid} on ${h.host}, since ${h.started}); two runs never share a folder (if no gradlab run is using it, delete ${join(runDir, LOCK_FILE)})`);
}

/** Throw inUseError when a live run holds `runDir`'s lock. */
export function checkNotInUse(runDir: string, shown: string = runDir): void {
  const holder = lockHolder(runDir);
  if (holder) throw inUseError(shown, holder);
}

/** A held lock; release() removes it if it is still ours. */
export class RunLock {
  constructor(readonly file: string, private readonly content: string) {}
  release(): void {
    try { if (readLock(this.file) === this.content) unlinkSync(this.file); } catch { /* already gone */ }
  }
}

/**
 * Take `runDir`'s lock (the folder must exist), breaking a stale one. Throws InputError when a
 * live run holds it.
 */
export function acquireLock(runDir: string): RunLock {
  const file = join(runDir, LOCK_FILE);
  const content = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }) + "\n";
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx");
      try { writeSync(fd, content); } finally { closeSync(fd); }
      return new RunLock(file, content);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    checkNotInUse(runDir);
    // Stale: move it aside under a name of our own, and check that what we moved is what we judged
    // (another process may have replaced it in between; then put it back and yield to it).
    let before: string;
    try { before = readLock(file); } catch { continue; }  // gone meanwhile: try again
    const aside = `${file}.stale-${process.pid}`;
    try { renameSync(file, aside); } catch { continue; }
    const moved = readLock(aside);
    if (moved !== before) {
      try { renameSync(aside, file); } catch { /* it is theirs; ours to lose */ }
      const h = readHolder(file);
      if (h) throw inUseError(runDir, h);
    }
    rmSync(aside, { force: true });
  }
  throw new InputError(`${runDir}: could not take ${LOCK_FILE}; another run is starting in this folder (if no gradlab run is using it, delete ${file})`);
}
