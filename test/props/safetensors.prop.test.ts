// The safetensors reader under generated input: random bytes, and files whose header
// length field, JSON header (dtypes, shapes, offsets, metadata) and data section are generated
// around the valid form, end in decoded tensors or one clean InputError naming the file. What
// is decoded never exceeds the input's size (no header can make the reader allocate more), and
// valid F32 files round-trip exactly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, type StInput } from "../../src/data/safetensors.ts";
import { clean, RUNS } from "./clean.ts";

/** Usually `usual`, sometimes anything from `other`. */
const mostly = <T>(usual: fc.Arbitrary<T>, other: fc.Arbitrary<T>) => fc.oneof({ arbitrary: usual, weight: 5 }, { arbitrary: other, weight: 1 });
const COUNT = mostly<unknown>(fc.integer({ min: 0, max: 8 }), fc.constantFrom(-1, 1.5, 2 ** 31, 2 ** 53, 2 ** 60, 1e300, "3"));
const ENTRY = fc.record({
  name: mostly(fc.constantFrom("w", "b", "dense1.weight", "x.y"), fc.oneof(fc.constantFrom("__metadata__", "", "__proto__"), fc.string({ maxLength: 4 }))),
  dtype: mostly<unknown>(fc.constantFrom("F32", "F64", "I32", "I64", "U8"), fc.constantFrom("F16", "BF16", "f32", "", 4)),
  shape: mostly<unknown>(fc.array(COUNT, { maxLength: 4 }), fc.constantFrom(null, "2x2", {})),
  /** offsets: the exact tiling (null) or a generated pair */
  offsets: mostly<unknown[] | null>(fc.constant(null), fc.array(COUNT, { minLength: 0, maxLength: 3 })),
});
const METADATA = mostly<unknown>(
  fc.option(fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 })),
  fc.oneof(fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }), fc.constant([])),
);
const SIZE: Record<string, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1 };

/** A file built from generated entries: offsets tile the data unless generated; then mutations. */
const FILE = fc.record({
  entries: fc.array(ENTRY, { maxLength: 4 }),
  metadata: METADATA,
  lengthDelta: mostly(fc.constant(0n), fc.oneof(fc.bigInt({ min: -9n, max: 9n }), fc.constantFrom(2n ** 63n, 2n ** 64n - 1n, 100_000_001n))),
  dataDelta: mostly(fc.constant(0), fc.integer({ min: -8, max: 8 })),
  junk: mostly(fc.constant(false), fc.constant(true)),
}).map(({ entries, metadata, lengthDelta, dataDelta, junk }) => {
  const header: Record<string, unknown> = {};
  if (metadata !== null) header.__metadata__ = metadata;
  let offset = 0;
  for (const e of entries) {
    const size = SIZE[e.dtype as string] ?? 4;
    const n = Array.isArray(e.shape) && e.shape.every((d) => typeof d === "number" && d >= 0 && d <= 8 && Number.isInteger(d)) ? (e.shape as number[]).reduce((a, b) => a * b, 1) : 1;
    const offsets = e.offsets ?? [offset, offset + size * n];
    offset = Math.max(offset, typeof offsets[1] === "number" && offsets[1] <= 4096 ? offsets[1] : offset);
    Object.defineProperty(header, e.name as string, { value: { dtype: e.dtype, shape: e.shape, data_offsets: offsets }, enumerable: true, configurable: true, writable: true });
  }
  const json = new TextEncoder().encode(junk ? JSON.stringify(header).slice(0, -1) : JSON.stringify(header));
  const dataLength = Math.max(0, offset + dataDelta);
  const bytes = new Uint8Array(8 + json.length + dataLength);
  const claimed = BigInt(json.length) + lengthDelta;
  new DataView(bytes.buffer).setBigUint64(0, claimed < 0n ? 0n : claimed & (2n ** 64n - 1n), true);
  bytes.set(json, 8);
  for (let i = 0; i < dataLength; i++) bytes[8 + json.length + i] = (i * 131) & 255;
  return bytes;
});

describe("decodeSafetensors on generated input", () => {
  it(`${RUNS} generated files and byte strings: tensors no larger than the input, or one clean InputError`, () => {
    let decoded = 0;
    fc.assert(fc.property(fc.oneof(FILE, fc.uint8Array({ maxLength: 48 })), (bytes) => {
      const st = clean(() => decodeSafetensors(bytes, "w.safetensors"), "w.safetensors: ");
      if (st === null) return true;
      decoded++;
      let total = 0;
      for (const t of st.tensors.values()) {
        expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        total += t.data.byteLength;
      }
      expect(total).toBeLessThanOrEqual(bytes.length);
      for (const v of Object.values(st.metadata)) expect(typeof v).toBe("string");
      return true;
    }), { numRuns: RUNS });
    expect(decoded).toBeGreaterThan(RUNS / 50);  // both outcomes are exercised
  });

  it(`${RUNS} valid F32 files round-trip exactly`, () => {
    const tensor = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }).chain((shape) =>
      fc.float32Array({ minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1), noDefaultInfinity: false })
        .map((data): StInput => ({ shape, data })));
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }).filter((k) => k !== "__metadata__"), tensor, { maxKeys: 3 }), (tensors) => {
      const { tensors: back } = decodeSafetensors(encodeSafetensors(new Map(Object.entries(tensors))), "rt");
      expect([...back.keys()].sort()).toEqual(Object.keys(tensors).sort());
      for (const [k, t] of Object.entries(tensors)) {
        const b = back.get(k)!;
        expect(b.shape).toEqual(t.shape);
        expect(Buffer.from((b.data as Float32Array).buffer).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true);
      }
      return true;
    }), { numRuns: RUNS });
  });
});
