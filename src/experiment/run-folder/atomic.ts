/**
 * The one atomic write of gradlab. Every file it writes — a run folder's files, checkpoints,
 * reports, gradients, suite indexes — goes through writeFileAtomic: the bytes go to a temporary
 * sibling `.<name>.tmp-<pid>` in the same folder, are fsynced, and the temporary file is renamed
 * over the target, then the folder is fsynced. A crash leaves the old file or the new one, never
 * half of one; a failed write removes its temporary file.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** A temporary file of writeFileAtomic's, e.g. `.summary.json.tmp-4242`. */
const TEMP_NAME = /^\.(.+)\.tmp-\d+$/;

/** The temporary sibling writeFileAtomic uses for `file`. @example tempFile("/r/summary.json") // "/r/.summary.json.tmp-<pid>" */
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

/**
 * Write `data` to `file` atomically and durably: temporary sibling, fsync, rename, fsync the
 * folder. On failure the temporary file is removed and the error rethrown; `file` is untouched.
 * `data` may be pieces (an iterable of strings), made while they are written: a file larger than
 * memory, e.g. the CSV of a long run's metrics.
 * @example writeFileAtomic("runs/seed/summary.json", JSON.stringify(summary))
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | Iterable<string>): void {
  const tmp = tempFile(file);
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
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(file));
}
