/**
 * gradlab's version: package.json's `version`, read once at import (the file sits one folder up
 * from both src/ and the compiled dist/), so the library reports the version that was installed;
 * src/cli/main.ts reads the same file for `gradlab --version`.
 * @example VERSION // "0.1.0"
 */
import { readFileSync } from "node:fs";

/** The installed package's version, e.g. "0.1.0". */
export const VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
