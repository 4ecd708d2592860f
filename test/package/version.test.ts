/** `gradlab --version` prints the version in package.json (src/version.ts reads it; nothing hard-codes it). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gradlab } from "../helpers/cli.ts";
import { VERSION } from "../../src/version.ts";

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8")) as { version: string };

describe("--version", () => {
  it("prints package.json's version", () => {
    const r = gradlab(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^gradlab/${pkg.version.replace(/\./g, "\\.")} `));
    expect(VERSION).toBe(pkg.version);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/); // a semver, not undefined or the file's text
  });
});
