/**
 * Config text: strict UTF-8 (the offset of the first bad byte, by hand from the UTF-8 table of
 * RFC 3629 §4) and the duplicate-key scanner (paths as config errors write them).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseJsonText } from "../../src/experiment/config.ts";
import { loadConfigFile } from "../../src/experiment/config-file.ts";
import { decodeUtf8, duplicateKey, invalidUtf8At } from "../../src/experiment/json-text.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

describe("strict UTF-8", () => {
  it("finds the first invalid byte", () => {
    expect(invalidUtf8At(new TextEncoder().encode("aé€𝄞"))).toBe(-1);
    expect(invalidUtf8At(bytes(0x61, 0xff))).toBe(1);            // 0xff never occurs in UTF-8
    expect(invalidUtf8At(bytes(0x61, 0xc3, 0x28))).toBe(2);      // lead byte, then no continuation
    expect(invalidUtf8At(bytes(0xc0, 0xaf))).toBe(0);            // overlong "/": 0xc0 is never valid
    expect(invalidUtf8At(bytes(0xe0, 0x80, 0xaf))).toBe(1);      // overlong 3-byte form: after e0 comes a0..bf
    expect(invalidUtf8At(bytes(0xed, 0xa0, 0x80))).toBe(1);      // U+D800, a surrogate
    expect(invalidUtf8At(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(1); // above U+10FFFF
    expect(invalidUtf8At(bytes(0x61, 0xe2, 0x82))).toBe(1);      // truncated at the end: the lead byte
    expect(invalidUtf8At(bytes(0x80))).toBe(0);                  // a lone continuation byte
  });

  it("decodes valid text (BOM dropped) and refuses invalid bytes in one line", () => {
    expect(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x7b, 0x7d), "f.json")).toBe("{}");
    expect(() => decodeUtf8(bytes(0x7b, 0xc3, 0x28), "f.json")).toThrow(/^f\.json: invalid UTF-8 at byte 2 \(0x28\); expected UTF-8 text$/);
  });

  it("a config file with a Latin-1 byte is refused, not read as U+FFFD", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradlab-utf8-"));
    const file = join(dir, "latin1.json");
    // "caf\xe9" in Latin-1: 0xe9 at byte 13 starts a 3-byte sequence that the following '"' does not continue
    writeFileSync(file, Buffer.concat([Buffer.from('{"name": "caf'), Buffer.from([0xe9]), Buffer.from('"}')]));
    expect(() => loadConfigFile(file)).toThrow(/latin1\.json: invalid UTF-8 at byte 14 \(0x22\); expected UTF-8 text$/);
  });
});

describe("duplicate keys", () => {
  it("names the path of the repeated key", () => {
    expect(duplicateKey('{"optimizer": {"lr": 0.1, "lr": 1e9}}')).toEqual({ path: "optimizer.lr", key: "lr" });
    expect(duplicateKey('{"model": {"layers": [{"type": "dense"}, {"units": 1, "type": "a", "units": 2}]}}'))
      .toEqual({ path: "model.layers[1].units", key: "units" });
    expect(duplicateKey('{"a": 1, "a": 2}')).toEqual({ path: "a", key: "a" });
    expect(duplicateKey('{"x": {"odd key": 1, "odd key": 2}}')).toEqual({ path: 'x["odd key"]', key: "odd key" });
    // escapes are compared after decoding: "l\u0072" is "lr"
    expect(duplicateKey('{"o": {"lr": 1, "l\\u0072": 2}}')).toEqual({ path: "o.lr", key: "lr" });
  });

  it("sees no duplicate in the same key in different objects, in string values or in escaped quotes", () => {
    expect(duplicateKey('{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 1}, {"k": 2}]}')).toBeNull();
    expect(duplicateKey('{"a": "a", "b": ["a", "a"], "c": "\\"a\\": 1, \\"a\\": 2"}')).toBeNull();
    expect(duplicateKey('{"a": {"b": 1}, "b": 2}')).toBeNull();  // "b" once in each object
    expect(duplicateKey("[1, 2, {}]")).toBeNull();
  });

  it("parseJsonText refuses the duplicate in one line naming the file and the path", () => {
    expect(() => parseJsonText('{"optimizer": {"lr": 0.1, "lr": 1e9}}', "c.json"))
      .toThrow(/^c\.json: optimizer\.lr: the key "lr" appears twice; each key may appear once in an object$/);
    expect(parseJsonText('{"optimizer": {"lr": 0.1}}', "c.json")).toEqual({ optimizer: { lr: 0.1 } });
  });

  it("deep nesting costs no call stack", () => {
    const deep = `${'{"a":'.repeat(100_000)}{"b": 1, "b": 2}${"}".repeat(100_000)}`;
    expect(duplicateKey(deep)?.key).toBe("b");
  });
});
