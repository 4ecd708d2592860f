// RecordKeep: the expected kept positions follow from its rule (keep i when i is a multiple of
// the stride; halve and double the stride when more than `limit` are held), worked by hand below.
import { describe, expect, it } from "vitest";
import { RecordKeep } from "../../src/instrument/keep.ts";

function keepOf(n: number, limit: number): number[] {
  const k = new RecordKeep<number>(limit);
  for (let i = 0; i < n; i++) k.push(i);
  return k.list();
}

describe("RecordKeep", () => {
  it("keeps everything while under the limit", () => {
    expect(keepOf(5, 8)).toEqual([0, 1, 2, 3, 4]);
  });

  it("halves to even spacing when the limit is passed, and always ends with the last item", () => {
    // limit 4: 0,1,2,3 kept; pushing 4 makes 5 > 4 → keep 0,2,4 with stride 2; 5 is skipped,
    // 6 kept (0,2,4,6); 7 skipped but returned as the latest.
    expect(keepOf(8, 4)).toEqual([0, 2, 4, 6, 7]);
    // 9 items: 8 kept → 0,2,4,6,8 > 4 → 0,4,8 stride 4; the last (8) is already kept.
    expect(keepOf(9, 4)).toEqual([0, 4, 8]);
  });

  it("holds O(limit) items for a long stream, evenly spaced from the first", () => {
    const k = new RecordKeep<number>(100);
    for (let i = 0; i < 1_000_000; i++) k.push(i);
    const got = k.list();
    expect(got.length).toBeLessThanOrEqual(101);
    expect(got.length).toBeGreaterThan(50);
    expect(got[0]).toBe(0);
    expect(got.at(-1)).toBe(999_999);
    for (let i = 1; i < got.length - 1; i++) expect(got[i] - got[i - 1]).toBe(k.spacing);
    expect(k.count).toBe(1_000_000);
  });

  it("refuses a limit below 2", () => {
    expect(() => new RecordKeep(1)).toThrow(/limit must be an integer ≥ 2/);
  });

  it("positions(count, limit) are what list() returns, and restore() continues exactly as if never stopped", () => {
    // Every count 0..120 and limit 2..9: the replayed rule must name the items push() kept, and
    // a keep restored from a list (as a checkpoint does) must keep the same items afterwards.
    for (let limit = 2; limit <= 9; limit++) {
      for (let n = 0; n <= 120; n++) {
        const list = keepOf(n, limit);
        expect(RecordKeep.positions(n, limit)).toEqual(list);
        const resumed = new RecordKeep<number>(limit);
        resumed.restore(list, n);
        for (let i = n; i < n + 40; i++) resumed.push(i);
        expect(resumed.list()).toEqual(keepOf(n + 40, limit));
      }
    }
  });

  it("restore() refuses a list of the wrong length and changes nothing", () => {
    const k = new RecordKeep<number>(4);
    k.push(7);
    expect(() => k.restore([0, 1, 2], 8)).toThrow(/expected 5 items for 8 pushed, got 3/);
    expect([k.list(), k.count]).toEqual([[7], 1]);
  });
});
