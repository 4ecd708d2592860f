/**
 * Errors of the operating system (a full disk, a read-only folder, a path through a file, too
 * many open files…) in plain words. This is the one place that maps an errno code to words: the
 * checked reader, every writer and the CLI's last catch all go through it, so every such failure
 * reads the same way — one line naming the path, what failed and what was kept:
 *
 *   runs/x/metrics.jsonl: the disk is full (ENOSPC) while writing; nothing was kept
 *
 * An OsError is an InputError (one line, exit code 2): the problem is outside gradlab and the
 * user fixes it. Anything else that escapes is a bug and keeps its stack.
 */
import { isAbsolute, relative } from "node:path";
import { InputError } from "../core/errors.ts";

/** errno code → what it means, in words that complete "PATH: …". */
const WORDS: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
  EFBIG: "the file would be larger than the file system allows",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOENT: "no such file",
  ENOTDIR: "a part of the path is not a folder",
  EISDIR: "is a folder",
  EEXIST: "already exists",
  ENOTEMPTY: "the folder is not empty",
  EMFILE: "too many open files in this process",
  ENFILE: "too many open files on this system",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "is a loop of symbolic links",
  ENXIO: "is a socket or a device nothing answers on",
  EIO: "an input/output error (the disk or its connection failed)",
  EBUSY: "the file or device is busy",
  ETXTBSY: "the file is a running program",
  EXDEV: "the paths are on different file systems",
  ENODEV: "no such device",
  ESTALE: "stale network file handle",
  EAGAIN: "the resource is temporarily unavailable",
};

/** What a system call was doing, in words that complete "… while …". */
const DOING: Record<string, string> = {
  open: "opening", write: "writing", fsync: "writing", read: "reading", close: "closing",
  rename: "renaming", mkdir: "creating the folder", rmdir: "removing the folder", unlink: "removing",
  rm: "removing", scandir: "listing the folder", stat: "looking it up", lstat: "looking it up",
  fstat: "looking it up", access: "checking access", ftruncate: "truncating", copyfile: "copying",
};

/**
 * An errno code in words, or null for a code this module does not know.
 * @example osWords("ENOSPC") // "the disk is full"
 */
export function osWords(code: string): string | null {
  return WORDS[code] ?? null;
}

/** A Node.js system error: an Error with a string errno code such as "ENOSPC". */
export interface SystemError extends Error { code: string; syscall?: string; path?: string; dest?: string }

/**
 * Whether `e` is an error of the operating system (a Node.js system error with an E… code).
 * @example isSystemError(Object.assign(new Error("x"), { code: "ENOSPC", syscall: "write" })) // true
 */
export function isSystemError(e: unknown): e is SystemError {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === "string" && /^E[A-Z0-9]+$/.test(code) &&
    (typeof (e as { syscall?: unknown }).syscall === "string" || typeof (e as { errno?: unknown }).errno === "number");
}

/**
 * A path as messages show it: relative to the working directory when inside it.
 * @example shownPath(process.cwd() + "/runs/x") // "runs/x"
 */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/**
 * One OS failure: the path, the errno code, what gradlab was doing and what is left. Its message
 * is the one line the CLI prints, e.g.
 * `runs/x/report.html: the disk is full (ENOSPC) while writing; the report was not written`.
 */
export class OsError extends InputError {
  constructor(readonly path: string, readonly code: string, readonly doing: string, readonly kept: string) {
    super(`${shownPath(path)}: ${osWords(code) ?? "the operating system refused"} (${code}) while ${doing}${kept ? `; ${kept}` : ""}`);
    this.name = "OsError";
  }

  /** The same failure with another account of what is left (the caller knows more than the writer). */
  withKept(kept: string): OsError {
    return new OsError(this.path, this.code, this.doing, kept);
  }
}

/**
 * `e` as an OsError naming `path` (a system error's own path when none is given), or `e` itself
 * when it is not an OS error (an InputError or a bug: those pass through unchanged).
 * @example throw asOsError(e, "runs/x/summary.json", "writing", "the file was not changed")
 */
export function asOsError(e: unknown, path?: string, doing?: string, kept = ""): unknown {
  if (e instanceof OsError || !isSystemError(e)) return e;
  const where = path ?? e.path ?? "gradlab";
  const what = doing ?? (e.syscall === "rename" && e.dest ? `renaming it to ${e.dest}` : DOING[e.syscall ?? ""] ?? `${e.syscall ?? "using"} it`);
  return new OsError(where, e.code, what, kept);
}

/**
 * The one line for an error that escaped to the top: an InputError's (OsError's) message, a bare
 * system error in words, or null for a bug (which is shown with its stack).
 * @example errorLine(Object.assign(new Error("EROFS"), { code: "EROFS", syscall: "mkdir", path: "/ro/x" })) // "/ro/x: the file system is read-only (EROFS) while creating the folder"
 */
export function errorLine(e: unknown): string | null {
  if (e instanceof InputError) return e.message;
  const os = asOsError(e);
  return os instanceof OsError ? os.message : null;
}
