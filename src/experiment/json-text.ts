/**
 * The text of JSON a user hands gradlab (configs, suites, sweep grids): bytes decoded as strict
 * UTF-8 (an invalid byte is refused, never turned into U+FFFD), and objects scanned for a key
 * that appears twice (JSON.parse silently keeps the last one, so `{"lr": 0.1, "lr": 1e9}` would
 * train at 1e9). Both refusals are one line naming the file and where.
 */
import { InputError } from "../core/errors.ts";

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The offset of the first byte that does not start or continue a well-formed UTF-8 sequence
 * (overlong forms, surrogates and code points above U+10FFFF included), or -1 when all are valid.
 * @example invalidUtf8At(new Uint8Array([0x61, 0xff])) // 1
 */
export function invalidUtf8At(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) { i++; continue; }
    let need: number, lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) { need = 2; if (b === 0xe0) lo = 0xa0; if (b === 0xed) hi = 0x9f; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; if (b === 0xf0) lo = 0x90; if (b === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;  // truncated at the end of the file
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i + k;
    }
    i += need + 1;
  }
  return -1;
}

/**
 * Bytes as strict UTF-8 text (a leading BOM dropped); invalid bytes are an InputError naming
 * `shown` and the byte offset.
 * @example decodeUtf8(new Uint8Array([0x7b, 0xc3, 0x28]), "my.json")
 * // throws `my.json: invalid UTF-8 at byte 2 (0x28); expected UTF-8 text`
 */
export function decodeUtf8(bytes: Uint8Array, shown: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    const at = invalidUtf8At(bytes);
    throw new InputError(`${shown}: invalid UTF-8 at byte ${at} (0x${bytes[at].toString(16).padStart(2, "0")}); expected UTF-8 text`);
  }
}

/** Where a key is, as config paths are written: `optimizer.lr`, `model.layers[2].units`, `a["odd key"]`. */
function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

type Frame = { kind: "object"; path: string; keys: Set<string>; key: string | null; wantKey: boolean }
  | { kind: "array"; path: string; index: number };

/**
 * The first key that appears twice in one object of valid JSON text, with its path, or null.
 * Keys are compared after unescaping (`"l\u0072"` is `"lr"`). An explicit stack, so nesting
 * depth costs no call stack. Text that is not valid JSON gives an unspecified answer.
 * @example duplicateKey('{"optimizer": {"lr": 0.1, "lr": 1e9}}') // { path: "optimizer.lr", key: "lr" }
 */
export function duplicateKey(text: string): { path: string; key: string } | null {
  const stack: Frame[] = [];
  const here = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return "";
    return top.kind === "array" ? childPath(top.path, top.index) : childPath(top.path, top.key ?? "");
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "{") { stack.push({ kind: "object", path: here(), keys: new Set(), key: null, wantKey: true }); i++; continue; }
    if (c === "[") { stack.push({ kind: "array", path: here(), index: 0 }); i++; continue; }
    if (c === "}" || c === "]") { stack.pop(); i++; continue; }
    if (c === ",") {
      const top = stack[stack.length - 1];
      if (top?.kind === "object") top.wantKey = true; else if (top) top.index++;
      i++; continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.kind === "object" && top.wantKey) {
        let key: string;
        try { key = JSON.parse(text.slice(i, j + 1)) as string; } catch { return null; }
        if (top.keys.has(key)) return { path: childPath(top.path, key), key };
        top.keys.add(key);
        top.key = key;
        top.wantKey = false;
      }
      i = j + 1; continue;
    }
    i++;  // whitespace, ":", numbers, true/false/null
  }
  return null;
}

/**
 * Refuse valid JSON text that holds a duplicate key, in one line naming `shown` and the path.
 * @example checkNoDuplicateKeys('{"a": 1, "a": 2}', "my.json") // throws `my.json: a: the key "a" appears twice`
 */
export function checkNoDuplicateKeys(text: string, shown: string): void {
  const dup = duplicateKey(text);
  if (dup) throw new InputError(`${shown}: ${dup.path}: the key ${JSON.stringify(dup.key)} appears twice; each key may appear once in an object`);
}
