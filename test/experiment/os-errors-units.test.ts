// The pieces behind the one-line OS errors, in-process: the errno table and its wrapping
// (os-error.ts), the all-or-nothing writes (atomic.ts), the --out checks (out-path.ts) and the
// read-ahead that lets Ctrl-C end a load (read-file.ts prefetchFiles). Real file system errors
// are provoked by real paths (a file used as a folder), so the expected lines follow from
// os-error.ts's table and the paths made here.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { asOsError, errorLine, OsError, osWords } from "../../src/data/os-error.ts";
import { prefetchFiles, readChecked } from "../../src/data/read-file.ts";
import { checkOutFile, checkOutFolder } from "../../src/experiment/out-path.ts";
import { makeFolders, writeFileAtomic, writeFilesAtomic } from "../../src/experiment/run-folder/atomic.ts";
import { tempDir } from "../helpers/cli.ts";
import { filesUnder, LEFTOVER } from "../helpers/fault-fs.ts";

/** The error `f` throws. */
function thrown(f: () => unknown): unknown {
  try { f(); } catch (e) { return e; }
  throw new Error("expected a throw");
}

describe("os-error.ts", () => {
  it("puts errno codes in words, and knows when it does not know one", () => {
    expect(osWords("ENOSPC")).toBe("the disk is full");
    expect(osWords("EROFS")).toBe("the file system is read-only");
    expect(osWords("EMFILE")).toBe("too many open files in this process");
    expect(osWords("EWHATEVER")).toBeNull();
  });

  it("wraps a real system error as one line naming the path; an InputError or a bug passes through", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "f"), "");
    const raw = thrown(() => mkdirSync(join(dir, "f", "sub")));
    const os = asOsError(raw);
    expect(os).toBeInstanceOf(OsError);
    expect(os).toBeInstanceOf(InputError);  // one line, exit 2
    expect((os as OsError).message).toBe(`${dir}/f/sub: a part of the path is not a folder (ENOTDIR) while creating the folder`);
    expect(errorLine(raw)).toBe((os as OsError).message);
    expect((os as OsError).withKept("nothing was kept").message).toMatch(/while creating the folder; nothing was kept$/);
    const bug = new TypeError("x is not a function");
    expect(asOsError(bug)).toBe(bug);
    expect(errorLine(bug)).toBeNull();
    const input = new InputError("config.json: bad");
    expect(asOsError(input)).toBe(input);
    expect(errorLine(input)).toBe("config.json: bad");
  });
});

describe("atomic writes", () => {
  it("writeFilesAtomic: when the second file cannot be staged, the first is not replaced and no temporary file stays", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.txt"), "old a");
    writeFileSync(join(dir, "blocker"), "a file where a folder should be");
    const e = thrown(() => writeFilesAtomic([[join(dir, "a.txt"), "new a"], [join(dir, "blocker", "b.txt"), "new b"]]));
    expect((e as OsError).message).toBe(`${dir}/blocker/b.txt: a part of the path is not a folder (ENOTDIR) while writing; none of its files was changed`);
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("old a");
    expect(filesUnder(dir).filter((f) => LEFTOVER.test(f))).toEqual([]);
  });

  it("writeFileAtomic refuses a FIFO and a folder as its target and leaves them as they are", () => {
    const dir = tempDir();
    const fifo = join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    expect((thrown(() => writeFileAtomic(fifo, "x")) as Error).message).toBe(`${fifo}: is a FIFO (named pipe), not a regular file; gradlab writes only regular files (nothing was written, it is left as it is)`);
    expect(statSync(fifo).isFIFO()).toBe(true);
    mkdirSync(join(dir, "d"));
    expect((thrown(() => writeFileAtomic(join(dir, "d"), "x")) as Error).message).toMatch(/\/d: is a folder, not a regular file;/);
    expect(filesUnder(dir)).toEqual(["pipe"]);
  });
});

describe("out-path.ts", () => {
  it("accepts a folder, or a new path under a writable one; refuses empty, a file, a path through a file", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "f"), "");
    expect(() => checkOutFolder(dir, "--out")).not.toThrow();
    expect(() => checkOutFolder(join(dir, "new", "deeper"), "--out")).not.toThrow();
    expect(() => checkOutFolder("", "--out")).toThrow("--out: expected a folder to write into, got an empty string");
    expect(() => checkOutFolder(join(dir, "f"), "--out")).toThrow(`${dir}/f: is a file, not a folder (--out: expected a folder to write into)`);
    expect(() => checkOutFolder(join(dir, "f", "x", "y"), "--out")).toThrow(`${dir}/f/x/y: a part of the path is not a folder (ENOTDIR) while checking --out`);
    expect(() => checkOutFile(join(dir, "g.safetensors"), "--out")).not.toThrow();
    expect(() => checkOutFile(dir, "--out")).toThrow(`${dir}: is a folder, not a regular file`);
    expect(() => checkOutFile("/dev/null", "--out")).toThrow("/dev/null: is a character device, not a regular file");
  });
});

describe("prefetchFiles", () => {
  it("hands its bytes to the next readChecked of the same file, and never those of a file since replaced", async () => {
    const dir = tempDir();
    const file = join(dir, "data.bin");
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    writeFileSync(file, bytes);
    await prefetchFiles([file], { chunk: 4096 });  // 18 reads of 4 KB
    expect(readChecked(file, { cap: 1e6, expected: "expected data" }).equals(bytes)).toBe(true);

    await prefetchFiles([file]);
    writeFileSync(join(dir, "other"), "replaced");
    renameSync(join(dir, "other"), file);  // another inode, another size: the read-ahead is stale
    expect(readChecked(file, { cap: 1e6, expected: "expected data" }).toString()).toBe("replaced");
  });
});

describe("makeFolders", () => {
  it("creates the missing levels and returns the first it created, as mkdirSync(recursive) does", () => {
    const root = tempDir();
    expect(makeFolders(join(root, "a", "b", "c"))).toBe(join(root, "a"));
    expect(statSync(join(root, "a", "b", "c")).isDirectory()).toBe(true);
    expect(makeFolders(join(root, "a", "b"))).toBeUndefined();  // there already
  });

  it("a file on the way: its errno (ENOTDIR, or EEXIST for the file itself), never a loop", () => {
    const root = tempDir();
    writeFileSync(join(root, "f"), "x");
    expect((thrown(() => makeFolders(join(root, "f", "sub"))) as NodeJS.ErrnoException).code).toBe("ENOTDIR");
    expect((thrown(() => makeFolders(join(root, "f"))) as NodeJS.ErrnoException).code).toBe("EEXIST");
  });

  it.runIf(process.platform === "linux")("/proc answers ENOENT for a folder it will not make: thrown at once (Node's recursive mkdirSync retries forever there)", () => {
    expect((thrown(() => makeFolders("/proc/gradlab-no-such/sub")) as NodeJS.ErrnoException).code).toBe("ENOENT");
  });
});

