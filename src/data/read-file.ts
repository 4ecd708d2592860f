/**
 * The one checked way gradlab reads a file it did not just write itself (configs, dataset files,
 * weights, checkpoints, a run folder's metrics and summary). A path is opened (following links)
 * without blocking, the open descriptor is fstat'ed, and anything that is not a regular file is
 * refused before a single byte is read: a FIFO would block the read until a writer appears, and a
 * character device such as /dev/zero reports size 0 yet never ends. A regular file is then read
 * with a cap that fits what it should hold; a file beyond the cap is refused naming the cap.
 * Every refusal is an InputError of one line naming the path, what it is and what was expected.
 */
import { close, closeSync, constants, fstat, fstatSync, open, openSync, read, readSync, type Stats } from "node:fs";
import { InputError } from "../core/errors.ts";
import { osWords } from "./os-error.ts";

/** Caps for the files whose size follows from nothing else (bytes). */
export const CAPS = {
  /** a config or suite file: a large hand-written sweep is a few KB */
  config: 16 * 2 ** 20,
  /** summary.json, run.json and the run lock: small objects gradlab writes */
  small: 16 * 2 ** 20,
  /** metrics.jsonl: generous; one record per `record.every` steps */
  metrics: 512 * 2 ** 20 - 2 ** 16,
} as const;

/** A cap in words: "16 MB (16777216 bytes)". */
function capWords(cap: number): string {
  return cap >= 2 ** 20 ? `${+(cap / 2 ** 20).toFixed(1)} MB (${cap} bytes)` : `${cap} bytes`;
}

/** What a non-regular file is, in words. @example fileKind(statSync("/dev/null")) // "is a character device" */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return "is a folder";
  if (st.isFIFO()) return "is a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "is a character device";
  if (st.isBlockDevice()) return "is a block device";
  if (st.isSocket()) return "is a socket";
  return "is not a regular file";
}

/** Why `open` failed, in words (the one errno map, os-error.ts; the common ones without their code). */
function openProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? "";
  const words = osWords(code);
  if (words === null) return `cannot open (${code || String(e)})`;
  return ["ENOENT", "EACCES", "EPERM", "ENXIO", "ELOOP", "ENOTDIR"].includes(code) ? words : `${words} (${code})`;
}

/** An open regular file: its descriptor, its size when opened and its identity (prefetch's key). */
export interface CheckedFile { fd: number; size: number; id: string }

/** Which file, as which version: device, inode, size and modification time. */
const identity = (st: Stats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;

/**
 * Open `path` for reading (following links) and refuse, before any read, anything that is not a
 * regular file. `expected` completes the message, e.g. "expected a JSON config file". The
 * caller closes the descriptor.
 *
 * @example
 * openChecked("/dev/zero", "expected a .safetensors file")
 * // InputError: /dev/zero: is a character device (expected a .safetensors file)
 */
export function openChecked(path: string, expected: string, shown: string = path): CheckedFile {
  let fd: number;
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
  try { fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); } catch (e) {
    throw new InputError(`${shown}: ${openProblem(e)} (${expected})`);
  }
  let st: Stats;
  try { st = fstatSync(fd); } catch (e) {
    closeSync(fd);
    throw new InputError(`${shown}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}) (${expected})`);
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new InputError(`${shown}: ${fileKind(st)}, not a regular file (${expected})`);
  }
  return { fd, size: st.size, id: identity(st) };
}

/** Options of readChecked. */
export interface ReadOptions {
  /** the most bytes the file may hold */
  cap: number;
  /** completes every message, e.g. "expected a JSON config file" */
  expected: string;
  /** the path as messages show it (default: the path) */
  shown?: string;
  /** the message when the file holds more than `cap` bytes (default: names the cap) */
  tooBig?: (cap: number) => string;
  /** the buffer the file is read into, of `size` bytes (default: Buffer.allocUnsafe) */
  alloc?: (size: number) => Buffer;
}

/**
 * Read a whole regular file of at most `cap` bytes. The size is taken from the reads, not from
 * fstat alone, so a file that grows while it is read still stops at the cap.
 *
 * @example readChecked("my.json", { cap: CAPS.config, expected: "expected a JSON config file" }).length
 */
export function readChecked(path: string, opts: ReadOptions): Buffer {
  const shown = opts.shown ?? path;
  const { fd, size, id } = openChecked(path, opts.expected, shown);
  try {
    const early = takePrefetched(path, id, opts.cap);
    if (early) return early;
    const over = () => new InputError(opts.tooBig ? opts.tooBig(opts.cap) :
      `${shown}: larger than the ${capWords(opts.cap)} limit for this file (${opts.expected})`);
    if (size > opts.cap) throw over();
    let buf = (opts.alloc ?? Buffer.allocUnsafe)(Math.min(size, opts.cap) + 1); // one byte more, to see an end past the cap
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > opts.cap) throw over();
        const bigger = (opts.alloc ?? Buffer.allocUnsafe)(Math.min(2 * buf.length + 4096, opts.cap + 1));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
    if (n > opts.cap) throw over();
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${shown}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}) (${opts.expected})`);
  } finally {
    closeSync(fd);
  }
}

/** readChecked as UTF-8 text. */
export function readTextChecked(path: string, opts: ReadOptions): string {
  return readChecked(path, opts).toString("utf8");
}

/**
 * The first `n` bytes of a regular file (fewer when it is shorter), for header peeks.
 *
 * @example readHeadChecked("train-images-idx3-ubyte", 16, "expected an IDX file") // <Buffer 00 00 08 03 …>
 */
export function readHeadChecked(path: string, n: number, expected: string, shown: string = path): Buffer {
  const { fd } = openChecked(path, expected, shown);
  try {
    const buf = Buffer.alloc(n);
    let got = 0;
    for (let k; got < n && (k = readSync(fd, buf, got, n - got, got)) > 0;) got += k;
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The largest safetensors header read (the reference implementation's MAX_HEADER_SIZE). */
const SAFETENSORS_MAX_HEADER = 100_000_000;

/**
 * A .safetensors file read no further than it declares: its 8-byte header length, the header,
 * and the largest end offset of its tensors. A header that does not parse is read alone, so
 * decodeSafetensors reports its problem; bytes past the declared tensors are refused here.
 *
 * @example decodeSafetensors(readSafetensorsChecked("w.safetensors", "expected a .safetensors file"), "w.safetensors")
 */
export function readSafetensorsChecked(path: string, expected: string, shown: string = path): Buffer {
  const lengthBytes = readHeadChecked(path, 8, expected, shown);
  if (lengthBytes.length < 8) return lengthBytes;
  const n = lengthBytes.readBigUInt64LE(0);
  if (n > BigInt(SAFETENSORS_MAX_HEADER)) return lengthBytes;
  const headerEnd = 8 + Number(n);
  let dataLength = 0;
  try {
    const header = JSON.parse(readHeadChecked(path, headerEnd, expected, shown).subarray(8).toString("utf8")) as Record<string, { data_offsets?: unknown }>;
    for (const [name, entry] of Object.entries(header)) {
      const end = name === "__metadata__" || !Array.isArray(entry?.data_offsets) ? 0 : Number(entry.data_offsets[1]);
      if (Number.isSafeInteger(end) && end > dataLength) dataLength = end;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    return readHeadChecked(path, headerEnd, expected, shown); // not JSON: decodeSafetensors says so
  }
  const cap = headerEnd + dataLength;
  return readChecked(path, {
    cap, expected, shown,
    tooBig: () => `${shown}: trailing bytes: its header declares ${cap} bytes in all, the file has more (${expected})`,
  });
}

/** Bytes read ahead by prefetchFiles, by path, with the identity of the file they came from. */
const prefetched = new Map<string, { id: string; bytes: Buffer }>();

/** Hand over (once) what prefetchFiles read of `path`, if it is still the same file and fits `cap`. */
function takePrefetched(path: string, id: string, cap: number): Buffer | null {
  const hit = prefetched.get(path);
  if (!hit) return null;
  prefetched.delete(path);
  return hit.id === id && hit.bytes.length <= cap ? hit.bytes : null;
}

const call = <T>(f: (done: (e: NodeJS.ErrnoException | null, v: T) => void) => void) =>
  new Promise<T>((ok, no) => f((e, v) => (e ? no(e) : ok(v))));

/** Options of prefetchFiles. */
export interface PrefetchOptions {
  /** bytes per read (default 8 MiB) */
  chunk?: number;
  /** files larger than this are left to readChecked (default 256 MiB, the largest dataset file a loader reads) */
  maxBytes?: number;
  /** the buffer a file of `size` bytes is read into (default: Buffer.allocUnsafe) */
  alloc?: (size: number) => Buffer;
}

/** Reads of one file in flight at once: the page faults of filling a fresh buffer then run on several threads. */
const READS_IN_FLIGHT = 4;

/**
 * Read one byte of every page of bytes[from, to), on this thread, while the other reads run. A
 * page the kernel has filled can still cost a fault on its first access from the program: on
 * virtual machines that shadow the page tables (such as the one these figures come from) about
 * 5 µs a page, 60 ms for MNIST's 47 MB of training images, which the first epoch's random
 * batches would otherwise pay a page at a time. Elsewhere it costs a fraction of a millisecond.
 */
function touchPages(bytes: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i += 4096) sum += bytes[i];
  return sum;
}

/**
 * Read regular files ahead, asynchronously and in chunks (a few in flight at once), so that while
 * they load (a large dataset, a slow disk, a big checkpoint) the event loop runs — Ctrl-C or
 * SIGTERM can end the process with its one line, and other work (loading code) goes on. The next
 * readChecked of each file takes the bytes instead of reading them, after checking it is still
 * the same file (device, inode, size, mtime). Anything that is not a regular file, is larger than
 * `maxBytes`, or fails to read, is skipped: readChecked reads or refuses it when it gets there.
 * @example await prefetchFiles(["data/train-images-idx3-ubyte"]); readChecked("data/train-images-idx3-ubyte", …) // no read
 */
export async function prefetchFiles(paths: readonly string[], opts: PrefetchOptions = {}): Promise<void> {
  const { chunk = 8 * 2 ** 20, maxBytes = 256 * 2 ** 20, alloc = Buffer.allocUnsafe } = opts;
  await Promise.all(paths.map(async (path) => {
    let fd: number | null = null;
    try {
      fd = await call<number>((done) => open(path, constants.O_RDONLY | constants.O_NONBLOCK, done));
      const st = await call<Stats>((done) => fstat(fd!, done));
      if (!st.isFile() || st.size > maxBytes) return;
      const bytes = alloc(st.size);
      let next = 0, complete = true;
      const reader = async () => {
        while (next < st.size) {
          const at = next, n = Math.min(chunk, st.size - at);
          next += n;
          let done = 0;
          for (let got = 1; done < n && got > 0; done += got) {
            got = await call<number>((cb) => read(fd!, bytes, at + done, n - done, at + done, cb));
          }
          if (done < n) complete = false; // the file shrank
          touchPages(bytes, at, at + done);
        }
      };
      await Promise.all(Array.from({ length: READS_IN_FLIGHT }, reader));
      if (complete) prefetched.set(path, { id: identity(st), bytes });
    } catch { /* readChecked says what is wrong */ } finally {
      if (fd !== null) close(fd, () => {});
    }
  }));
}
