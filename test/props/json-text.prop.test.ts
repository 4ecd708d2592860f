// Config text under generated input: any bytes end in text or one clean InputError (and agree
// with TextDecoder and with invalidUtf8At); any JSON text ends in a value or one clean
// InputError; a key repeated anywhere in generated JSON is found at its path, and JSON without
// a repeat is never refused.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJsonText } from "../../src/experiment/config.ts";
import { decodeUtf8, duplicateKey, invalidUtf8At } from "../../src/experiment/json-text.ts";
import { clean, RUNS } from "./clean.ts";

const KEYS = fc.constantFrom("lr", "units", "a", "__proto__", "", "odd key", "é", "l\u0072", "x\"y", "\\");
const JSON_VALUE: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.integer(), fc.string({ maxLength: 5 }), fc.boolean(), fc.constant(null),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(KEYS, tie("v"), { maxKeys: 3 }),
  ),
})).v;

/** A path as config errors write it (written out here independently of json-text.ts). */
const childPath = (p: string, k: string | number) => typeof k === "number" ? `${p}[${k}]`
  : /^[A-Za-z_$][\w$]*$/.test(k) ? (p === "" ? k : `${p}.${k}`) : `${p}[${JSON.stringify(k)}]`;

/** Every object in `v` with its path written the way duplicateKey writes it. */
function objects(v: unknown, path = ""): { path: string; obj: Record<string, unknown> }[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => objects(x, childPath(path, i)));
  if (v === null || typeof v !== "object") return [];
  const o = v as Record<string, unknown>;
  return [{ path, obj: o }, ...Object.keys(o).flatMap((k) => objects(o[k], childPath(path, k)))];
}

describe("config text (property)", () => {
  it("any bytes: strict text or one InputError naming the first bad byte", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (raw, utf8) => {
      const b = utf8 ? new TextEncoder().encode(new TextDecoder().decode(raw)) : raw;
      const valid = invalidUtf8At(b) === -1;
      let strict: string | null = null;
      try { strict = new TextDecoder("utf-8", { fatal: true }).decode(b); } catch { /* invalid */ }
      expect(valid).toBe(strict !== null);
      const text = clean(() => decodeUtf8(b, "f.json"), `f.json: invalid UTF-8 at byte ${invalidUtf8At(b)} `);
      expect(text).toBe(strict);
    }), { numRuns: RUNS });
  });

  it("any text: a value or one InputError", () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 30 }), JSON_VALUE.map((v) => JSON.stringify(v))), (text) => {
      clean(() => parseJsonText(text, "f.json"), "f.json");
    }), { numRuns: RUNS });
  });

  it("JSON without repeats is never refused; a repeated key is found at its path", () => {
    fc.assert(fc.property(JSON_VALUE, fc.nat(), JSON_VALUE, (v, pick, extra) => {
      const text = JSON.stringify(v);
      expect(duplicateKey(text)).toBeNull();
      expect(parseJsonText(text, "f.json")).toEqual(JSON.parse(text));
      const objs = objects(v).filter((o) => Object.keys(o.obj).length > 0);
      if (objs.length === 0) return;
      // Repeat one key of one object by writing it again at the object's end, with another value.
      const target = objs[pick % objs.length];
      const keys = Object.keys(target.obj);
      const key = keys[pick % keys.length];
      const marker = "\u0000MARK\u0000";
      const tagged = JSON.stringify(v, function (this: unknown, _k, value) {
        return value === target.obj ? { ...target.obj, [marker]: extra } : value;
      });
      const repeated = tagged.replace(JSON.stringify(marker), JSON.stringify(key));
      const keyPath = childPath(target.path, key);
      // Only this object repeats a key, so the first repeat in document order is this one.
      expect(duplicateKey(repeated)).toEqual({ path: keyPath, key });
      clean(() => parseJsonText(repeated, "f.json"), `f.json: ${keyPath}: the key`);
      expect(clean(() => parseJsonText(repeated, "f.json"))).toBeNull();
    }), { numRuns: RUNS });
  });
});
