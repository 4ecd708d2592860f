// bin/gradlab.js in a checkout: the bundle in dist/ runs only when it was built after the last
// change under src/ (a file changed, added or deleted); otherwise the TypeScript source runs
// through tsx, so a stale build is never what runs. Checked on a miniature checkout whose
// "source" and "bundle" each print their own name.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/cli.ts";

const ROOT = join(import.meta.dirname, "..", "..");

describe("bin/gradlab.js in a checkout", () => {
  const dir = tempDir();
  for (const d of ["bin", "src/cli", "src/core", "src/web", "dist/cli"]) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(join(ROOT, "bin", "gradlab.js"), join(dir, "bin", "gradlab.js"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  writeFileSync(join(dir, "package.json"), `{ "name": "gradlab", "type": "module" }\n`);
  writeFileSync(join(dir, "src/cli/main.ts"), `const from: string = "source"; console.log(from);\n`);
  writeFileSync(join(dir, "dist/cli/gradlab.js"), `console.log("bundle");\n`);
  const runs = () => spawnSync(process.execPath, [join(dir, "bin", "gradlab.js")], { encoding: "utf8" }).stdout.trim();
  const at = (path: string, seconds: number) => utimesSync(join(dir, path), seconds, seconds);
  /** The two source files, every source file and folder at t = 1000 s, the bundle at `bundle`. */
  const reset = (bundle: number) => {
    writeFileSync(join(dir, "src/core/layer.ts"), "export {};\n");
    for (const p of ["src/cli/main.ts", "src/core/layer.ts", "src/cli", "src/core", "src/web", "src"]) at(p, 1000);
    at("dist/cli/gradlab.js", bundle);
  };

  it("runs the bundle when it is newer than every source, the source otherwise", () => {
    reset(2000);
    expect(runs()).toBe("bundle");
    reset(500);
    expect(runs()).toBe("source");
  });

  it("a changed, added or deleted source file makes it run the source", () => {
    reset(2000);
    at("src/core/layer.ts", 3000);
    expect(runs()).toBe("source");
    reset(2000);
    writeFileSync(join(dir, "src/core/new.ts"), "export {};\n"); // the folder's time is now
    expect(runs()).toBe("source");
    rmSync(join(dir, "src/core/new.ts"));
    reset(2000);
    expect(runs()).toBe("bundle");
    rmSync(join(dir, "src/core/layer.ts"));
    expect(runs()).toBe("source");
  });

  it("the browser lab's sources (src/web) are not in the bundle and do not count", () => {
    reset(2000);
    writeFileSync(join(dir, "src/web/page.ts"), "export {};\n");
    at("src", 1000);
    expect(runs()).toBe("bundle");
  });
});
