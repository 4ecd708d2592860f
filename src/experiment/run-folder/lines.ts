/**
 * Line-by-line reading of a long text file (metrics.jsonl) in bounded memory: one chunk and the
 * current line are held at a time, whatever the file's length, so a run of any number of records
 * can be resumed, reported and compared without holding the file. Lines are split at the byte
 * "\n" (which never occurs inside a UTF-8 sequence) and decoded one at a time, so the lines are
 * exactly those of text.split("\n") on the whole file decoded at once.
 */
import { closeSync, readSync } from "node:fs";
import { InputError } from "../../core/errors.ts";
import { openChecked } from "../../data/read-file.ts";

/** Bytes read per call. */
const CHUNK = 1 << 20;

/** The longest line read (64 MB): a metrics record is a few KB, a 784-step LSTM's about 32 KB. */
export const MAX_LINE = 64 * 2 ** 20;

/** What forEachLine reads and where its messages point. */
export interface LineSource {
  /** the path as messages show it */
  shown: string;
  /** read at most this many bytes from the start (default: to the end) */
  bytes?: number;
  /** sees every chunk read, in order (e.g. to hash the bytes) */
  onBytes?: (chunk: Buffer) => void;
}

/**
 * The lines of an open file (without their "\n"; the last line too when it has none), each with
 * its 0-based index. A line longer than MAX_LINE is an InputError naming its number.
 * @example for (const [line, i] of readLines(fd, { shown: "runs/seed/metrics.jsonl" })) records.push(JSON.parse(line))
 */
export function* readLines(fd: number, source: LineSource): Generator<[string, number]> {
  const buf = Buffer.allocUnsafe(CHUNK);
  const limit = source.bytes ?? Infinity;
  let carry: Buffer[] = [];  // the current line's bytes from earlier chunks
  let carried = 0;
  let index = 0;
  for (let pos = 0; pos < limit;) {
    const got = readSync(fd, buf, 0, Math.min(CHUNK, limit - pos), pos);
    if (got === 0) break;
    pos += got;
    const chunk = buf.subarray(0, got);
    source.onBytes?.(chunk);
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const line = carried > 0 ? Buffer.concat([...carry, piece]) : piece;
      if (line.length > MAX_LINE) throw tooLong(source.shown, index);
      carry = [];
      carried = 0;
      start = nl + 1;
      yield [line.toString("utf8"), index++];
    }
    if (start < got) {
      carried += got - start;
      if (carried > MAX_LINE) throw tooLong(source.shown, index);
      carry.push(Buffer.from(chunk.subarray(start)));  // copied: buf is reused by the next read
    }
  }
  if (carried > 0) yield [Buffer.concat(carry).toString("utf8"), index];
}

/**
 * Call `onLine` with each line of an open file and its 0-based index (readLines).
 * @example forEachLine(fd, { shown: "runs/seed/metrics.jsonl" }, (line, i) => records.push(JSON.parse(line)))
 */
export function forEachLine(fd: number, source: LineSource, onLine: (line: string, index: number) => void): void {
  for (const [line, index] of readLines(fd, source)) onLine(line, index);
}

/**
 * The lines of a file opened through the checked reader (a FIFO or a device is refused), each
 * with its 0-based index; the file is closed when the iteration ends, however it ends.
 * @example for (const [line] of linesOf("runs/seed/metrics.jsonl", "expected the run's metrics.jsonl")) n++
 */
export function* linesOf(path: string, expected: string, shown: string = path): Generator<[string, number]> {
  const { fd } = openChecked(path, expected, shown);
  try { yield* readLines(fd, { shown }); } finally { closeSync(fd); }
}

function tooLong(shown: string, index: number): InputError {
  return new InputError(`${shown}: line ${index + 1} is longer than ${MAX_LINE} bytes; expected one metrics record per line`);
}
