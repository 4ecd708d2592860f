/**
 * A URL-friendly notation for JSON values (a strict subset of Rison, after Kibana's URL state):
 * objects `(key:value,key:value)`, arrays `!(a,b)`, `!t` `!f` `!n`, JSON numbers, and strings
 * bare when they are plain words (`sigmoid`, `he_uniform`) else quoted `'…'` with `!'` and `!!`
 * as escapes. It keeps a layer list readable in an address bar:
 *   !((type:dense,units:5,activation:sigmoid),(type:dense,units:10))
 * Pure and hostile-input safe: bounded length and nesting, keys limited to identifiers and never
 * `__proto__` / `constructor` / `prototype`, objects built with own properties only.
 */

export type RisonValue = null | boolean | number | string | RisonValue[] | { [key: string]: RisonValue };

/** Longest text and deepest nesting decoded: far beyond any real layer list. */
export const RISON_MAX_LENGTH = 20_000;
export const RISON_MAX_DEPTH = 16;

const KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const BARE = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Thrown for text that is not valid notation; the message says where and why. */
export class RisonError extends Error {}

/**
 * Writes a JSON value in the notation.
 * @example encodeRison([{ type: "dense", units: 5 }]) // "!((type:dense,units:5))"
 */
export function encodeRison(v: unknown): string {
  if (v === null || v === undefined) return "!n";
  if (v === true) return "!t";
  if (v === false) return "!f";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new RisonError(`cannot encode the number ${v}`);
    return JSON.stringify(v);
  }
  if (typeof v === "string") return BARE.test(v) ? v : `'${v.replace(/!/g, "!!").replace(/'/g, "!'")}'`;
  if (Array.isArray(v)) return `!(${v.map(encodeRison).join(",")})`;
  if (typeof v === "object") {
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined) continue;
      if (!KEY.test(k) || FORBIDDEN_KEYS.has(k)) throw new RisonError(`cannot encode the key ${JSON.stringify(k)}`);
      parts.push(`${k}:${encodeRison(x)}`);
    }
    return `(${parts.join(",")})`;
  }
  throw new RisonError(`cannot encode a ${typeof v}`);
}

/**
 * Reads the notation back into a JSON value; throws RisonError naming the offset of the first
 * problem.
 * @example decodeRison("!((type:dense,units:5))") // [{ type: "dense", units: 5 }]
 */
export function decodeRison(text: string): RisonValue {
  if (text.length > RISON_MAX_LENGTH) throw new RisonError(`longer than ${RISON_MAX_LENGTH} characters`);
  let i = 0;
  const fail = (why: string): never => { throw new RisonError(`at character ${i + 1}: ${why}`); };
  const value = (depth: number): RisonValue => {
    if (depth > RISON_MAX_DEPTH) fail(`nested deeper than ${RISON_MAX_DEPTH} levels`);
    const c = text[i];
    if (c === undefined) return fail("unexpected end");
    if (c === "!") {
      const n = text[i + 1];
      i += 2;
      if (n === "t") return true;
      if (n === "f") return false;
      if (n === "n") return null;
      if (n === "(") {
        const out: RisonValue[] = [];
        if (text[i] === ")") { i++; return out; }
        for (;;) {
          out.push(value(depth + 1));
          if (out.length > 1000) fail("a list of more than 1000 items");
          if (text[i] === ",") { i++; continue; }
          if (text[i] === ")") { i++; return out; }
          return fail(`expected "," or ")"`);
        }
      }
      i -= 2;
      return fail(`unknown escape "!${n ?? ""}"`);
    }
    if (c === "(") {
      i++;
      // Own data properties only: a "__proto__" key can never reach a prototype.
      const out: Record<string, RisonValue> = {};
      if (text[i] === ")") { i++; return out; }
      for (;;) {
        const m = /[A-Za-z_][A-Za-z0-9_]*/y;
        m.lastIndex = i;
        const km = m.exec(text);
        if (!km) return fail("expected a key");
        const key = km[0];
        if (!KEY.test(key) || FORBIDDEN_KEYS.has(key)) return fail(`key ${JSON.stringify(key)} is not allowed`);
        if (Object.hasOwn(out, key)) return fail(`key ${JSON.stringify(key)} appears twice`);
        i += key.length;
        if (text[i] !== ":") return fail(`expected ":" after ${key}`);
        i++;
        Object.defineProperty(out, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        if (text[i] === ",") { i++; continue; }
        if (text[i] === ")") { i++; return out; }
        return fail(`expected "," or ")"`);
      }
    }
    if (c === "'") {
      let s = "";
      for (i++; i < text.length; i++) {
        const d = text[i];
        if (d === "'") { i++; return s; }
        if (d === "!") {
          const e = text[i + 1];
          if (e !== "!" && e !== "'") return fail(`bad escape "!${e ?? ""}" in a string`);
          s += e;
          i++;
        } else s += d;
      }
      return fail("unterminated string");
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num) {
      const v = Number(num[0]);
      if (!Number.isFinite(v)) return fail(`the number ${num[0]} is too large`);
      i += num[0].length;
      return v;
    }
    const w = /[A-Za-z_][A-Za-z0-9_.\-/]*/y;
    w.lastIndex = i;
    const word = w.exec(text);
    if (word) { i += word[0].length; return word[0]; }
    return fail(`unexpected ${JSON.stringify(c)}`);
  };
  const v = value(0);
  if (i !== text.length) fail(`unexpected ${JSON.stringify(text[i])} after the value`);
  return v;
}
