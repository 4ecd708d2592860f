/**
 * Where a command will write, checked before it does any work: `--out` of run, sweep and
 * compare (a folder), the folder `report` writes into, and `grads --out` (a file). A path that
 * cannot be written — empty, through a file (ENOTDIR), on a read-only file system (EROFS),
 * without permission (EACCES), too long, a loop of links, or a file that is not a regular file
 * — is refused in one line naming it (an InputError, exit code 2), before anything is trained,
 * read or created.
 */
import { accessSync, constants, statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { OsError, shownPath } from "../data/os-error.ts";
import { fileKind } from "../data/read-file.ts";

/** stat (following links), or the errno code that refused it. */
function look(path: string): Stats | string {
  try { return statSync(path); } catch (e) { return (e as NodeJS.ErrnoException).code ?? "EIO"; }
}

/**
 * The nearest folder that exists on the way up from `path` (itself included), after refusing
 * anything on the way that is not a folder or cannot be looked at.
 */
function nearestFolder(path: string, option: string, expected: string): string {
  for (let p = resolve(path); ; p = dirname(p)) {
    const st = look(p);
    if (typeof st === "string") {
      if (st === "ENOENT" && dirname(p) !== p) continue;
      throw new OsError(p, st, `checking ${option}`, expected);
    }
    if (st.isDirectory()) return p;
    throw new OsError(p, "ENOTDIR", `checking ${option}`, expected);
  }
}

/** Refuse a folder gradlab may not create files in (read-only file system, no permission). */
function checkWritable(folder: string, option: string, expected: string): void {
  try { accessSync(folder, constants.W_OK | constants.X_OK); } catch (e) {
    throw new OsError(folder, (e as NodeJS.ErrnoException).code ?? "EACCES", `checking ${option}`, expected);
  }
}

/**
 * Check that `path` is, or can become, a folder gradlab writes into: it is a folder, or nothing
 * is there yet and the nearest existing folder above it can be written. `option` names the
 * argument in messages.
 * @example checkOutFolder("notes.txt/sub", "--out") // OsError: notes.txt: a part of the path is not a folder (ENOTDIR) while checking --out; expected a folder to write into
 */
export function checkOutFolder(path: string, option: string): void {
  const expected = "expected a folder to write into";
  if (path === "") throw new InputError(`${option}: ${expected}, got an empty string`);
  const st = look(resolve(path));
  if (typeof st !== "string" && !st.isDirectory()) throw new InputError(`${shownPath(resolve(path))}: ${st.isFile() ? "is a file" : fileKind(st)}, not a folder (${option}: ${expected})`);
  checkWritable(nearestFolder(path, option, expected), option, expected);
}

/**
 * Check that `path` can be written as a regular file: nothing there yet or a regular file (a
 * folder, a device such as /dev/full, a FIFO are refused and left as they are), in a folder that
 * exists or can be created, and can be written.
 * @example checkOutFile("/dev/full", "--out") // InputError: /dev/full: is a character device, not a regular file (--out: expected a regular file to write)
 */
export function checkOutFile(path: string, option: string): void {
  const expected = "expected a regular file to write";
  if (path === "") throw new InputError(`${option}: ${expected}, got an empty string`);
  const st = look(resolve(path));
  if (typeof st !== "string" && !st.isFile()) throw new InputError(`${shownPath(resolve(path))}: ${fileKind(st)}, not a regular file (${option}: ${expected}; it is left as it is)`);
  if (typeof st === "string" && st !== "ENOENT") throw new OsError(resolve(path), st, `checking ${option}`, expected);
  checkWritable(nearestFolder(dirname(resolve(path)), option, expected), option, expected);
}
