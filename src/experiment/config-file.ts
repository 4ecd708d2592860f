/**
 * Config files and presets on disk (Node only; the schema itself is in config.ts so the browser
 * can validate configs too). A preset is a JSON file in experiments/.
 */
import { readdirSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { PACKAGE_ROOT } from "../version.ts";
import { CAPS, readChecked } from "../data/read-file.ts";
import { parseConfig, parseJsonText, type Config } from "./config.ts";
import { decodeUtf8 } from "./json-text.ts";
import { expandSuite, isSuite, type Suite } from "./suite.ts";
import { closest } from "./suggest.ts";

/** Absolute path of <package>/experiments, where the preset configs live. */
export const PRESETS_DIR: string = join(PACKAGE_ROOT, "experiments");

/** A path as shown in messages: relative to the working directory when inside it. */
function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

/**
 * Reads a file as strict UTF-8 text, a regular file of at most CAPS.config bytes (read-file.ts);
 * a missing, unreadable, non-regular or non-UTF-8 file is an InputError naming it.
 */
function readText(file: string, what: string): string {
  let bytes: Uint8Array;
  try {
    bytes = readChecked(file, { cap: CAPS.config, expected: what, shown: displayPath(resolve(file)) });
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a file" : `cannot read (${code ?? String(e)})`;
    throw new InputError(`${displayPath(file)}: ${why} (${what})`);
  }
  return decodeUtf8(bytes, displayPath(resolve(file)));
}

/**
 * Reads and validates a JSON config file. Errors name the file, and for JSON syntax the
 * line:column, e.g. `my.json:3:17: invalid JSON: unexpected "}"; expected a value`.
 */
export function loadConfigFile(path: string): Config {
  const shown = displayPath(resolve(path));
  const raw = parseJsonText(readText(path, "expected a JSON config file"), shown);
  return parseConfig(raw, shown);
}

/** Preset names: the *.json file names in the presets folder, sorted. */
function presetNames(presetsDir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(presetsDir);
  } catch {
    throw new InputError(`${displayPath(presetsDir)}: presets folder not found`);
  }
  return files.filter((f) => f.endsWith(".json")).map((f) => basename(f, ".json")).sort();
}

/**
 * A name that is neither a preset nor a file path: the nearest preset when one is close, and
 * always the list (one line).
 * @example unknownPreset("sede", ["depth", "seed"]).message // `unknown preset or file "sede"; did you mean "seed"? presets: depth, seed`
 */
function unknownPreset(arg: string, names: string[]): InputError {
  const best = closest(arg, names);
  const hint = best !== undefined ? `did you mean ${JSON.stringify(best)}? presets: ` : "expected a .json file or one of the presets: ";
  return new InputError(`unknown preset or file ${JSON.stringify(arg)}; ${hint}${names.join(", ")}`);
}

/** A preset or file: one config, or a suite of runs (see suite.ts). */
export type Experiment = { kind: "config"; config: Config; source: string } | { kind: "suite"; suite: Suite; source: string };

/** Read an experiment file: a suite when it has "base", else one config. */
export function loadExperimentFile(path: string): Experiment {
  const file = resolve(path);
  const shown = displayPath(file);
  const raw = parseJsonText(readText(path, "expected a JSON config file"), shown);
  return isSuite(raw) ? { kind: "suite", suite: expandSuite(raw, shown), source: file } : { kind: "config", config: parseConfig(raw, shown), source: file };
}

/** The file a CLI argument names: `seed` is experiments/seed.json; a `.json` or a path is a file. */
export function experimentPath(arg: string, presetsDir: string = PRESETS_DIR): string {
  if (arg.endsWith(".json") || arg.includes("/") || arg.includes("\\")) return resolve(arg);
  const names = presetNames(presetsDir);
  if (!names.includes(arg)) throw unknownPreset(arg, names);
  return resolve(join(presetsDir, `${arg}.json`));
}

/** A CLI argument to an experiment (a preset name or a file). */
export function resolveExperimentArg(arg: string, presetsDir: string = PRESETS_DIR): Experiment {
  return loadExperimentFile(experimentPath(arg, presetsDir));
}

/**
 * A CLI argument to a config: `seed` is the preset experiments/seed.json; anything ending in
 * `.json` or containing a path separator is a file. `source` is the absolute file path.
 *
 * @example
 * resolveConfigArg("seed").config.optimizer   // → { type: "sgd", lr: 0.5 }
 * resolveConfigArg("sed")                      // throws `unknown preset or file "sed"; did you mean "seed"? presets: …`
 */
export function resolveConfigArg(arg: string, presetsDir: string = PRESETS_DIR): { config: Config; source: string } {
  if (arg.endsWith(".json") || arg.includes("/") || arg.includes("\\")) {
    return { config: loadConfigFile(arg), source: resolve(arg) };
  }
  const names = presetNames(presetsDir);
  if (!names.includes(arg)) throw unknownPreset(arg, names);
  const file = resolve(join(presetsDir, `${arg}.json`));
  return { config: loadConfigFile(file), source: file };
}

/** Every preset's name and description, sorted by name; an invalid preset throws InputError. */
export function listPresets(presetsDir: string = PRESETS_DIR): { name: string; description: string; runs: number }[] {
  return presetNames(presetsDir)
    .map((n) => loadExperimentFile(join(presetsDir, `${n}.json`)))
    .map((e) => e.kind === "config"
      ? { name: e.config.name, description: e.config.description ?? "", runs: 1 }
      : { name: e.suite.name, description: e.suite.description, runs: e.suite.runs.length })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
