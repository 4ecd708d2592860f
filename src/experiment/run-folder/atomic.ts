/**
 * The one atomic write of gradlab. Every file it writes — a run folder's files, checkpoints,
 * reports, gradients, suite indexes — goes through writeFileAtomic (or writeFilesAtomic for a set
 * of files that belong together, such as a report): the bytes go to a temporary sibling
 * `.<name>.tmp-<pid>` in the same folder, are fsynced, and the temporary file is renamed over the
 * target, then the folder is fsynced. A crash leaves the old file or the new one, never half of
 * one. A failed write removes its temporary files and throws an OsError (os-error.ts): one line
 * naming the target, what failed and that the target was not changed. Only regular files are
 * written: a target that is a folder, a device or a FIFO is refused and left as it is.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { InputError } from "../../core/errors.ts";
import { fileKind } from "../../data/read-file.ts";
import { asOsError, shownPath } from "../../data/os-error.ts";

/** A temporary file of writeFileAtomic's, e.g. `.summary.json.tmp-4242`. */
const TEMP_NAME = /^\.(.+)\.tmp-\d+$/;

/** The temporary sibling writeFileAtomic uses for `file`. @example tempFile("/r/summary.json") // "/r/.summary.json.tmp-<pid>" */
/**
 * mkdirSync(dir, { recursive: true }) one level at a time: the first folder created (or
 * undefined when `dir` existed), as Node's returns. Node's own recursion retries forever when
 * the file system answers ENOENT for a parent that exists (as /proc does); here each level is
 * made once and its error, whatever it is, is thrown.
 */
export function makeFolders(dir: string): string | undefined {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      if (statSync(d).isDirectory()) break;
      mkdirSync(d);  // not a folder: throws EEXIST, which names it
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || dirname(d) === d) throw e;
      missing.push(d);
    }
  }
  for (const d of missing.reverse()) {
    try { mkdirSync(d); } catch (e) { if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; }
  }
  return missing[0];
}

export function tempFile(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
}

/**
 * The file a temporary name stands for, or null when `name` is not one of writeFileAtomic's.
 * @example tempTarget(".summary.json.tmp-42") // "summary.json"
 */
export function tempTarget(name: string): string | null {
  return TEMP_NAME.exec(name)?.[1] ?? null;
}

/** fsync a folder so a rename inside it survives a power cut (a no-op where folders cannot be fsynced). */
export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try { fd = openSync(dir, "r"); fsyncSync(fd); } catch { /* not supported here */ } finally { if (fd !== null) closeSync(fd); }
}

/** What a file is written from: text, bytes, or pieces of text made while they are written. */
export type FileData = string | Uint8Array | Iterable<string>;

/**
 * Refuse to replace anything but a regular file (or nothing): a rename over /dev/full or a FIFO
 * would replace the node itself, and over a folder it fails half-way. Links are followed.
 * @example checkWritableTarget("/dev/full") // InputError: /dev/full: is a character device, not a regular file; …
 */
export function checkWritableTarget(file: string, what = "gradlab writes only regular files"): void {
  let st;
  try { st = statSync(file); } catch { return; }  // absent: created; a path problem shows when it is opened
  if (!st.isFile()) throw new InputError(`${shownPath(file)}: ${fileKind(st)}, not a regular file; ${what} (nothing was written, it is left as it is)`);
}

/** Remove a temporary file, ignoring every failure (it may never have been created). */
function dropTemp(tmp: string): void {
  try { rmSync(tmp, { force: true }); } catch { /* not there, or the file system refuses even that */ }
}

/**
 * Write `data` to `tmp` and fsync it; throws an OsError naming `file` (the target). `data` may be
 * pieces (an iterable of strings), made while they are written: a file larger than memory, e.g.
 * the CSV of a long run's metrics.
 */
function stage(file: string, tmp: string, data: FileData, kept: string): void {
  const pieces = typeof data === "string" || data instanceof Uint8Array ? [data] : data;
  try {
    const fd = openSync(tmp, "w");
    try {
      for (const piece of pieces) {
        const bytes = typeof piece === "string" ? Buffer.from(piece) : piece;
        for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
      }
      fsyncSync(fd);
    } finally { closeSync(fd); }
  } catch (e) {
    dropTemp(tmp);
    throw asOsError(e, file, "writing", kept);
  }
}

/** What is left when `file` could not be written: the old file, or nothing. */
function unchanged(file: string): string {
  try { statSync(file); return "the file was not changed"; } catch { return "nothing was written"; }
}

/**
 * Write `data` to `file` atomically and durably: temporary sibling, fsync, rename, fsync the
 * folder. On failure the temporary file is removed and an OsError (os-error.ts) thrown; `file`
 * is untouched. A target that is not a regular file is refused (checkWritableTarget).
 * @example writeFileAtomic("runs/seed/summary.json", JSON.stringify(summary))
 */
export function writeFileAtomic(file: string, data: FileData): void {
  checkWritableTarget(file);
  const tmp = tempFile(file);
  stage(file, tmp, data, unchanged(file));
  try { renameSync(tmp, file); } catch (e) {
    dropTemp(tmp);
    throw asOsError(e, file, "renaming its temporary file into place", unchanged(file));
  }
  fsyncDir(dirname(file));
}

/**
 * Write several files as one: every file is staged (temporary sibling, fsync) before any is
 * renamed into place, so a full disk or a refused file leaves all of them as they were, and no
 * temporary file behind. `kept` says what is left when staging fails (default: nothing was
 * changed). Returns the files written.
 * @example writeFilesAtomic([["runs/x/report.html", html], ["runs/x/metrics.csv", csv]])
 */
export function writeFilesAtomic(files: readonly (readonly [string, FileData])[], kept = "none of its files was changed"): string[] {
  for (const [file] of files) checkWritableTarget(file);
  const staged: [string, string][] = [];
  try {
    for (const [file, data] of files) {
      const tmp = tempFile(file);
      staged.push([file, tmp]);
      stage(file, tmp, data, kept);
    }
  } catch (e) {
    for (const [, tmp] of staged) dropTemp(tmp);
    throw e;
  }
  // Renames need no new space; should one still fail, the files before it are new, the rest old.
  for (let i = 0; i < staged.length; i++) {
    const [file, tmp] = staged[i];
    try { renameSync(tmp, file); } catch (e) {
      for (const [, t] of staged.slice(i)) dropTemp(t);
      const done = staged.slice(0, i).map(([f]) => basename(f));
      throw asOsError(e, file, "renaming its temporary file into place", done.length ? `${done.join(", ")} were replaced, the others not` : kept);
    }
  }
  for (const dir of new Set(staged.map(([f]) => dirname(f)))) fsyncDir(dir);
  return staged.map(([f]) => f);
}
