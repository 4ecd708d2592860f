/**
 * Paths into parsed JSON, for one-line messages about a field: the config's (config.ts) and the
 * run folder's files' (run-schema.ts). A path is what zod reports for an issue.
 */

/** A path into parsed JSON: keys and array indices. */
export type JsonPath = readonly PropertyKey[];

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * A JS-style path, `model.layers[3].units`; a key that is not an identifier is quoted (cut to
 * `maxKey` characters), and the empty path is `root`.
 * @example formatPath(["layers", 0, "hist", "grad"], "the record") // "layers[0].hist.grad"
 */
export function formatPath(path: JsonPath, root: string, maxKey = Infinity): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (typeof seg === "string" && IDENT.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg).slice(0, maxKey))}]`;
  }
  return out === "" ? root : out;
}

/** The raw value at `path`, following own properties only (a `__proto__` key is just a key). */
export function valueAt(raw: unknown, path: JsonPath): unknown {
  let cur = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}
