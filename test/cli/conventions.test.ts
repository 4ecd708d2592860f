// The command line's conventions, through the real `gradlab` in a child process: a mistyped
// command, option or preset is one line on stderr with the nearest name and exit code 2 (nothing
// on stdout); `gradlab help <command>` and `<command> --help` give the description and examples;
// --version and --help answer without loading the engine or the report.
// Expected suggestions: the names gradlab declares (src/cli/main.ts, experiments/*.json) at edit
// distance ≤ 1 of what is typed, as closest() in src/experiment/suggest.ts defines "close".
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gradlab, tempDir } from "../helpers/cli.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/** A refusal: exit 2, nothing on stdout, exactly one line on stderr, which is returned. */
function refusal(args: string[]): string {
  const r = gradlab(args, { cwd: tempDir() });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0];
}

describe("mistyped names: one line, the nearest name, exit 2", () => {
  it.each([
    [["run", "seed", "--epoch", "2"], `gradlab: unknown option --epoch for "gradlab run"; did you mean --epochs?`],
    [["rn", "seed"], `gradlab: unknown command "rn"; did you mean "run"?`],
    [["swep", "depth"], `gradlab: unknown command "swep"; did you mean "sweep"?`],
    [["--verison"], "gradlab: unknown option --verison; did you mean --version?"],
    [["sweep", "depth", "--shrad", "1/2"], `gradlab: unknown option --shrad for "gradlab sweep"; did you mean --shard?`],
    [["run", "seed", "--max_memory", "1GB"], `gradlab: unknown option --max_memory for "gradlab run"; did you mean --max-memory?`],
    [["compare", "runs", "--jsn"], `gradlab: unknown option --jsn for "gradlab compare"; did you mean --json?`],
    [["help", "rn"], `gradlab: unknown command "rn"; did you mean "run"?`],
  ])("gradlab %j", (args, line) => {
    expect(refusal(args)).toBe(line);
  });

  it("a preset name one swap away from a preset is suggested, with the list", () => {
    expect(refusal(["run", "sede"])).toMatch(/^gradlab: unknown preset or file "sede"; did you mean "seed"\? presets: .*\bdepth\b.*\bseed\b/);
  });

  it("with nothing close, the refusal lists what is accepted instead", () => {
    expect(refusal(["run", "seed", "--frobnicate"])).toMatch(/^gradlab: unknown option --frobnicate for "gradlab run"; expected one of --out, --resume, --epochs, .*--png/);
    expect(refusal(["frobnicate"])).toBe(`gradlab: unknown command "frobnicate"; expected one of run, grads, sweep, report, compare, presets, replicate, help`);
    expect(refusal(["run", "seed", "-x"])).toMatch(/^gradlab: unknown option -x for "gradlab run"; expected one of /);
  });

  it("option values are not taken for options, and the parser's own forms are accepted (--no-png, --png, --out=DIR)", () => {
    // a value that looks like a flag is a flag, as the parser reads it; a value with = or after its flag is not
    expect(refusal(["run", "seed", "--seed", "--epoch", "--out=x"])).toBe(`gradlab: unknown option --epoch for "gradlab run"; did you mean --epochs?`);
    expect(refusal(["run", "seed", "--out", "--jsn"])).toBe(`gradlab: unknown option --jsn for "gradlab run"; did you mean --json?`);
    expect(refusal(["run", "seed", "--seed", "x", "--out=--y"])).toMatch(/^gradlab: command line: train\.seed: expected a non-negative integer; got "x"$/);
    // sweep declares --png; its negation is no unknown option (the refusal is about the missing suite)
    expect(refusal(["sweep", "no-such-suite.json", "--no-png"])).toMatch(/^gradlab: no-such-suite\.json: no such file/);
  });
});

describe("help", () => {
  const commands = ["run", "grads", "sweep", "report", "compare", "presets", "replicate", "help"];

  it.each(commands)("gradlab help %s: usage, description, options and examples; the same as %s --help", (name) => {
    const r = gradlab(["help", name]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Usage:\\n  \\$ gradlab ${name}\\b`));
    // the description sits right under the usage line, as a sentence
    const afterUsage = r.stdout.split("Usage:\n")[1].split("\n\n")[1];
    expect(afterUsage).toMatch(/^[A-Z].{20,}\.$/);
    expect(r.stdout).toMatch(new RegExp(`Examples:\\n  \\$ gradlab ${name}\\b`));
    expect(gradlab([name, "--help"]).stdout).toBe(r.stdout);
    // a --no-… option says what it does, not cac's implicit "(default: true)"
    expect(r.stdout).not.toMatch(/--no-\S+ .*\(default: true\)/);
  });

  it("gradlab help (and gradlab alone) lists every command", () => {
    const r = gradlab(["help"]);
    for (const c of commands) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, "m"));
    expect(gradlab([]).stdout).toBe(r.stdout);
  });

  it("--version prints package.json's version", () => {
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
    expect(gradlab(["--version"]).stdout).toMatch(new RegExp(`^gradlab/${version.replace(/\./g, "\\.")} `));
  });
});

describe("start-up", () => {
  // A module-loading hook that lists every file module the process loads.
  const dir = tempDir();
  // It appends synchronously, before the module loads, so a process that exits at once loses no line.
  const log = join(dir, "loaded.txt");
  writeFileSync(join(dir, "hooks.mjs"), `import { appendFileSync } from "node:fs";
export async function load(url, context, next) { if (url.startsWith("file:")) appendFileSync(${JSON.stringify(log)}, url + "\\n"); return next(url, context); }\n`);
  writeFileSync(join(dir, "register.mjs"), `import { register } from "node:module"; register(${JSON.stringify(`file://${join(dir, "hooks.mjs")}`)});\n`);
  /** The files under `under` that `gradlab …args` loads, run from `entry` (the source through tsx, or the bundle). */
  const loadedFiles = (entry: string[], args: string[], under: string) => {
    writeFileSync(log, "");
    spawnSync(process.execPath, ["--import", join(dir, "register.mjs"), ...entry, ...args], { encoding: "utf8" });
    const urls = readFileSync(log, "utf8").split("\n").filter((l) => l.includes(under));
    return [...new Set(urls.map((l) => l.slice(l.indexOf(under) + 1)))].sort();
  };
  // The source's modules, loaded through tsx as a checkout with changed sources runs them (bin/gradlab.js).
  const loaded = (args: string[]) => loadedFiles(["--import", "tsx", join(ROOT, "src", "cli", "main.ts")], args, "/src/");

  it.each([["--version"], ["--help"], ["help", "sweep"], ["run", "seed", "--epoch", "2"]])("gradlab %j loads only the parser's own modules from src/", (...args) => {
    // main.ts and what parsing needs; no engine (src/core/model.ts …), no report, no loaders
    expect(loaded(args)).toEqual(["src/cli/main.ts", "src/cli/printable.ts", "src/core/errors.ts", "src/data/os-error.ts", "src/experiment/suggest.ts", "src/version.ts"]);
  });

  it.each([["--version"], ["--help"], ["run", "seed", "--epoch", "2"]])("the bundled command (dist/cli/gradlab.js) loads under 64 KB of code for gradlab %j", (...args) => {
    // npm ci builds dist/ (scripts/build.mjs): the bundle's entry and the chunks of what parsing
    // needs, not the engine and zod (a chunk of about 1 MB) nor the report's code
    const files = loadedFiles([join(ROOT, "dist", "cli", "gradlab.js")], args, "/dist/");
    expect(files).toContain("dist/cli/gradlab.js");
    const bytes = files.reduce((sum, f) => sum + statSync(join(ROOT, f)).size, 0);
    expect(bytes).toBeLessThan(64 * 1024);
  });

  it("the bundle carries zod's English messages and none of its other locales (scripts/build.mjs)", () => {
    // German is one of zod's ~60 locales ("Ungültige Eingabe": its invalid-input message); the
    // source (node_modules) has it, so the check would fail if the build took every locale again.
    const chunks = readdirSync(join(ROOT, "dist", "cli")).filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(ROOT, "dist", "cli", f), "utf8"));
    expect(readFileSync(join(ROOT, "node_modules", "zod", "v4", "locales", "de.js"), "utf8")).toContain("Ungültige Eingabe");
    expect(chunks.filter((c) => c.includes("Ungültige Eingabe"))).toEqual([]);
    expect(chunks.some((c) => c.includes("Invalid input"))).toBe(true);
  });

  it("the bundled command loads the engine's chunk when a run starts (the check above can fail)", () => {
    const files = loadedFiles([join(ROOT, "dist", "cli", "gradlab.js")], ["presets"], "/dist/");
    expect(files.reduce((sum, f) => sum + statSync(join(ROOT, f)).size, 0)).toBeGreaterThan(512 * 1024);
  });

  it("a command loads its code when it runs (the hook sees it: the check above can fail)", () => {
    const mods = loaded(["presets"]);
    expect(mods).toContain("src/cli/commands/presets.ts");
    expect(mods).toContain("src/experiment/config.ts");
    expect(mods).not.toContain("src/report/write.ts"); // listing presets renders nothing
  });
});
