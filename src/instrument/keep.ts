/**
 * A bounded, evenly spaced selection of a long stream of records: what a run or a reader keeps
 * in memory for the report and the diagnosis while every record goes to metrics.jsonl.
 *
 * The i-th pushed item (0-based) is kept while i is a multiple of the current stride. When more
 * than `limit` items are kept, every other one is dropped (those at odd positions) and the stride
 * doubles, so the kept items stay evenly spaced over the whole stream: items 0, s, 2s, … with
 * limit/2 < count ≤ limit once the stream is long enough. The last pushed item is always
 * returned as well, so the report sees the first and the final record whatever the length.
 * Memory is O(limit) whatever the number of items pushed.
 */
/** Per-epoch results a run keeps in memory and in summary.json (an even selection beyond it). */
export const EPOCH_KEEP = 4096;

export class RecordKeep<T> {
  private kept: T[] = [];
  private stride = 1;
  private pushed = 0;
  private latest: T | undefined;

  /** @param limit the most items held at once (≥ 2) */
  constructor(readonly limit = 4096) {
    if (!(Number.isInteger(limit) && limit >= 2)) throw new Error(`RecordKeep: limit must be an integer ≥ 2, got ${limit}`);
  }

  /** Offer the next item of the stream. */
  push(item: T): void {
    if (this.pushed % this.stride === 0) {
      this.kept.push(item);
      if (this.kept.length > this.limit) {
        this.kept = this.kept.filter((_, i) => i % 2 === 0);
        this.stride *= 2;
      }
    }
    this.latest = item;
    this.pushed++;
  }

  /** Items pushed so far (kept or not). */
  get count(): number {
    return this.pushed;
  }

  /** Positions in the stream between two kept items. */
  get spacing(): number {
    return this.stride;
  }

  /**
   * The stream positions (0-based) that list() returns after `count` pushes into a keep of
   * `limit`: a pure function of the two, so a saved list can be checked and restored exactly.
   */
  static positions(count: number, limit: number): number[] {
    const { stride, kept } = layout(count, limit);
    const out: number[] = [];
    for (let i = 0; i < kept; i++) out.push(i * stride);
    if (count > 0 && (count - 1) % stride !== 0) out.push(count - 1);
    return out;
  }

  /**
   * Replace the state with what list() returned after `count` pushes (as saved by a
   * checkpoint). Throws RangeError when `items` are not that many; nothing is changed then.
   */
  restore(items: readonly T[], count: number): void {
    const { stride, kept } = layout(count, this.limit);
    const expected = RecordKeep.positions(count, this.limit).length;
    if (items.length !== expected) throw new RangeError(`RecordKeep.restore: expected ${expected} items for ${count} pushed, got ${items.length}`);
    this.kept = items.slice(0, kept);
    this.latest = items.at(-1);
    this.stride = stride;
    this.pushed = count;
  }

  /** The kept items in stream order, ending with the last pushed item. */
  list(): T[] {
    if (this.latest === undefined || (this.pushed - 1) % this.stride === 0) return this.kept.slice();
    return [...this.kept, this.latest];
  }
}

/** The stride and the number of kept items after `count` pushes, replaying push()'s rule. */
function layout(count: number, limit: number): { stride: number; kept: number } {
  let stride = 1;
  let kept = 0;
  for (let i = 0; i < count; i++) {
    if (i % stride === 0 && ++kept > limit) {
      kept = Math.ceil(kept / 2);
      stride *= 2;
    }
  }
  return { stride, kept };
}
