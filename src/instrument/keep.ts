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

  /** The kept items in stream order, ending with the last pushed item. */
  list(): T[] {
    if (this.latest === undefined || (this.pushed - 1) % this.stride === 0) return this.kept.slice();
    return [...this.kept, this.latest];
  }
}
