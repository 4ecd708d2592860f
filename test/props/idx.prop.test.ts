// The IDX reader under generated input: random bytes and headers with random types,
// dims (0, small, 2^32 − 1) and data lengths end in a parsed array or one clean InputError
// naming the file. An accepted array is a view into the input (no allocation at all) holding
// exactly prod(dims) bytes, so no header can make the reader allocate anything large.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseIdx } from "../../src/data/idx.ts";
import { clean, RUNS } from "./clean.ts";

const DIM = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 6 }), weight: 6 },
  { arbitrary: fc.constantFrom(0, 28, 60000, 2 ** 16, 2 ** 24, 2 ** 30, 2 ** 31, 2 ** 32 - 1), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 2 ** 32 - 1 }), weight: 1 },
);
/** Usually `usual`, sometimes anything from `other`. */
const mostly = <T>(usual: T, other: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(usual), weight: 4 }, { arbitrary: other, weight: 1 });

/** A header that is mostly well-formed: magic 00 00, a type byte, ndim, dims, then some data. */
const HEADERED = fc.record({
  zero: mostly([0, 0], fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))),
  type: mostly(8, fc.integer({ min: 0, max: 255 })),
  ndimDelta: mostly(0, fc.integer({ min: -2, max: 255 })),
  dims: fc.array(DIM, { minLength: 1, maxLength: 4 }),
  extra: mostly(0, fc.integer({ min: -3, max: 3 })),
  cut: mostly<number | null>(null, fc.integer({ min: 0, max: 40 })),
}).map(({ zero, type, ndimDelta, dims, extra, cut }) => {
  const ndim = Math.max(0, Math.min(255, dims.length + ndimDelta));
  const head = new Uint8Array(4 + 4 * dims.length);
  head.set([zero[0], zero[1], type, ndim]);
  const view = new DataView(head.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const want = dims.slice(0, ndim).reduce((a, b) => a * b, 1);
  const n = Math.max(0, Math.min(want + extra, 4096));  // the data: about what the header says, when small
  const bytes = new Uint8Array(head.length + n);
  bytes.set(head);
  for (let i = 0; i < n; i++) bytes[head.length + i] = (i * 37) & 255;
  return cut === null ? bytes : bytes.subarray(0, cut);
});

describe("parseIdx on generated input", () => {
  it(`${RUNS} headers and byte strings: a view of exactly prod(dims) bytes, or one clean InputError`, () => {
    let parsed = 0;
    fc.assert(fc.property(fc.oneof(HEADERED, fc.uint8Array({ maxLength: 64 })), (bytes) => {
      const idx = clean(() => parseIdx(bytes, "x-idx3-ubyte"), "x-idx3-ubyte: ");
      if (idx === null) return true;
      parsed++;
      expect(idx.data.buffer).toBe(bytes.buffer);  // a view: nothing allocated
      expect(idx.data.length).toBe(idx.dims.reduce((a, b) => a * b, 1));
      expect(idx.dims.length).toBe(bytes[3]);
      expect(idx.dims.every((d) => Number.isInteger(d) && d > 0)).toBe(true);
      expect(4 + 4 * idx.dims.length + idx.data.length).toBe(bytes.length);
      return true;
    }), { numRuns: RUNS });
    expect(parsed).toBeGreaterThan(RUNS / 50);  // both outcomes are exercised
  });
});
