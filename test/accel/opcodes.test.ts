// The opcode table (src/accel/opcodes.ts) against the WebAssembly core specification 2.0, §5.4
// "Instructions" (the byte values below are copied from its tables), LEB128 against the worked
// examples of the LEB128 article on Wikipedia, and the rule that no other accelerator source
// spells a byte in hexadecimal.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { immediate, op, opByCode, sleb, uleb, type OpName } from "../../src/accel/opcodes.ts";

describe("the opcode table", () => {
  it("holds the spec's bytes (spot checks across the one-byte, 0xFC and 0xFD spaces)", () => {
    const spec: [OpName, number[]][] = [
      ["i32_shr_s", [0x75]], ["i32_shr_u", [0x76]], ["i32_add", [0x6a]], ["local_get", [0x20]], ["br_if", [0x0d]], ["select", [0x1b]],
      ["memory_copy", [0xfc, 10]], ["memory_fill", [0xfc, 11]],
      ["v128_load", [0xfd, 0x00]], ["v128_const", [0xfd, 0x0c]], ["i8x16_shuffle", [0xfd, 0x0d]],
      // opcodes ≥ 128 take two LEB128 bytes after the prefix
      ["f32x4_mul", [0xfd, 0xe6, 0x01]], ["f64x2_add", [0xfd, 0xf0, 0x01]], ["i32x4_extend_low_i16x8_u", [0xfd, 0xa9, 0x01]],
      ["f32x4_convert_i32x4_u", [0xfd, 0xfb, 0x01]], ["i16x8_extend_low_i8x16_u", [0xfd, 0x89, 0x01]],
    ];
    for (const [name, bytes] of spec) expect(op[name], name).toEqual(bytes);
    expect(immediate.v128_store32_lane).toBe("memarg_lane");
    expect(immediate.i32_const).toBe("i32");
  });

  it("names every opcode once: no two names share bytes, and each decodes back to its name", () => {
    const seen = new Map<string, string>();
    for (const [name, bytes] of Object.entries(op)) {
      const key = bytes.join(",");
      expect(seen.get(key), `${name} and ${seen.get(key)}`).toBeUndefined();
      seen.set(key, name);
      const prefixed = bytes[0] === 0xfc || bytes[0] === 0xfd;
      const code = prefixed ? (bytes.length === 3 ? bytes[1] - 128 + 128 * bytes[2] : bytes[1]) : bytes[0];
      expect(opByCode(prefixed ? bytes[0] : 0, code)).toBe(name);
    }
  });

  it("LEB128: 624485 → e5 8e 26, −123456 → c0 bb 78, and the edges of one byte", () => {
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(sleb(-65)).toEqual([0xbf, 0x7f]);
  });
});

describe("no raw opcodes outside the table", () => {
  /** Every .ts file under src/accel. */
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
  const root = join(import.meta.dirname, "../../src/accel");

  it("no source of src/accel but opcodes.ts spells a byte (0x0 … 0xff) in hexadecimal", () => {
    const all = files(root);
    expect(all.length).toBeGreaterThan(10);
    const stray: string[] = [];
    for (const f of all) {
      if (f.endsWith("opcodes.ts")) continue;
      readFileSync(f, "utf8").split("\n").forEach((line, i) => {
        if (/\b0x[0-9a-f]{1,2}\b/i.test(line)) stray.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(stray).toEqual([]);
  });

  it("the check would catch one (the pattern matches a raw opcode and not a 32-bit constant)", () => {
    expect(/\b0x[0-9a-f]{1,2}\b/i.test("[...a, ...b, 0x6a]")).toBe(true);
    expect(/\b0x[0-9a-f]{1,2}\b/i.test("fromHigh(0x3fd62e42 + 1)")).toBe(false);
  });
});
