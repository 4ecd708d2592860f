/**
 * The config schema: the seed preset resolves to the documented object (the README's "Public
 * contract", defaults from src/experiment/config.ts), and every class of bad input gives exactly
 * one documented line. Expected strings are written by hand from the documented message formats.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import { InputError } from "../../src/core/errors.ts";
import type { ActivationName, InitName, LayerSpec, ModelSpec, OptimizerSpec } from "../../src/core/spec.ts";
import {
  type Config, configSchema, parseConfig,
} from "../../src/experiment/config.ts";
import { listPresets, loadConfigFile, PRESETS_DIR, resolveConfigArg, resolveExperimentArg } from "../../src/experiment/config-file.ts";

const SEED_DESCRIPTION =
  "The classic 784-5-5-10 sigmoid network on MNIST, where each sigmoid layer shrinks the error on its way back; 5 epochs of SGD with lr 0.5 and batch 32.";

/** the README's example config with every default filled in. */
const SEED_RESOLVED: Config = {
  name: "seed",
  description: SEED_DESCRIPTION,
  data: { dataset: "mnist", view: "flat", train: 60000, test: 10000 },
  model: {
    layers: [
      { type: "dense", units: 5, activation: "sigmoid", init: "standard" },
      { type: "dense", units: 5, activation: "sigmoid", init: "standard" },
      { type: "dense", units: 10, init: "standard" },
    ],
  },
  loss: "cross_entropy",
  optimizer: { type: "sgd", lr: 0.5 },
  train: { epochs: 5, batchSize: 32, seed: 1, evalBatchSize: 1000, checkpointEvery: 1000, onNonFinite: "stop" },
  record: { every: 100, histograms: true },
};

/** A fresh, mutable copy of the smallest valid config. */
const minimal = (): any => ({
  name: "t",
  model: { layers: [{ type: "dense", units: 10 }] },
  optimizer: { type: "sgd", lr: 0.1 },
});

/** The InputError message parseConfig throws; fails the test if it throws anything else. */
function errorOf(raw: unknown, source?: string): string {
  try {
    parseConfig(raw, source);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const message = (e as Error).message;
    expect(message).not.toMatch(/\n/);
    return message;
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(raw)}`);
}

/** minimal() with `edit` applied. */
const edited = (edit: (c: any) => void) => { const c = minimal(); edit(c); return c; };

const tmp = mkdtempSync(join(tmpdir(), "gradlab-config-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fileCount = 0;
/** Writes `text` to a fresh file in a temp folder and returns its absolute path. */
function tempFile(text: string, name = `c${fileCount++}.json`): string {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}
/** The InputError message of loadConfigFile(file). */
function loadError(file: string): string {
  try {
    loadConfigFile(file);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error(`loadConfigFile accepted ${file}`);
}

describe("presets", () => {
  it("PRESETS_DIR is <repo>/experiments", () => {
    expect(PRESETS_DIR).toBe(fileURLToPath(new URL("../../experiments", import.meta.url)));
  });

  it("seed resolves to the README's example with every default filled in", () => {
    const { config, source } = resolveConfigArg("seed");
    expect(config).toStrictEqual(SEED_RESOLVED);
    expect(source).toBe(join(PRESETS_DIR, "seed.json"));
  });

  it("every preset is valid, named after its file, and described", () => {
    const presets = listPresets();
    expect(presets.map((p) => p.name)).toEqual([...presets.map((p) => p.name)].sort());
    expect(presets).toContainEqual({ name: "seed", description: SEED_DESCRIPTION, runs: 1 });
    for (const p of presets) {
      const e = resolveExperimentArg(p.name);
      expect(e.kind === "config" ? e.config.name : e.suite.name).toBe(p.name);
      expect(p.description.length).toBeGreaterThan(0);
    }
  });

  it("an unknown preset suggests the nearest and lists the available ones", () => {
    const dir = join(tmp, "presets");
    mkdirSync(dir);
    writeFileSync(join(dir, "seed.json"), JSON.stringify({ ...minimal(), name: "seed", description: "s" }));
    writeFileSync(join(dir, "deep.json"), JSON.stringify({ ...minimal(), name: "deep", description: "d" }));
    writeFileSync(join(dir, "notes.txt"), "not a preset");
    expect(() => resolveConfigArg("sed", dir)).toThrow(new InputError(`unknown preset or file "sed"; did you mean "seed"? presets: deep, seed`));
    expect(() => resolveConfigArg("xyzzy", dir)).toThrow(new InputError(`unknown preset or file "xyzzy"; expected a .json file or one of the presets: deep, seed`));
    expect(listPresets(dir)).toEqual([{ name: "deep", description: "d", runs: 1 }, { name: "seed", description: "s", runs: 1 }]);
    expect(() => resolveConfigArg("sed")).toThrow(/^unknown preset or file "sed"; did you mean "seed"\? presets: .*\bseed\b/);
  });

  it("a path argument is a file; a missing file is named", () => {
    const file = tempFile(JSON.stringify(minimal()), "mine.json");
    expect(resolveConfigArg(file)).toEqual({ config: parseConfig(minimal()), source: file });
    const missing = join(tmp, "nope.json");
    expect(() => resolveConfigArg(missing)).toThrow(new InputError(`${missing}: no such file (expected a JSON config file)`));
    expect(() => resolveConfigArg(join(tmp, "sub", "seed"))).toThrow(InputError);  // a slash: a path, not a preset
  });
});

describe("defaults", () => {
  it("fills data, loss, train and record", () => {
    expect(parseConfig(minimal())).toStrictEqual({
      ...minimal(),
      data: { dataset: "mnist", view: "flat", train: 60000, test: 10000 },
      loss: "cross_entropy",
      train: { epochs: 5, batchSize: 32, seed: 1, evalBatchSize: 1000, checkpointEvery: 1000, onNonFinite: "stop" },
      record: { every: 100, histograms: true },
    });
  });

  it("keeps given values and fills the rest of a section", () => {
    const c = parseConfig(edited((c) => { c.train = { epochs: 2 }; c.data = { dataset: { idx: "digits" }, train: 100000 }; }));
    expect(c.train).toEqual({ epochs: 2, batchSize: 32, seed: 1, evalBatchSize: 1000, checkpointEvery: 1000, onNonFinite: "stop" });
    expect(c.data).toEqual({ dataset: { idx: "digits" }, view: "flat", train: 100000, test: 10000 });
  });

  it("the schema's output is the public types", () => {
    expectTypeOf<z.output<typeof configSchema>>().toExtend<Config>();
    expectTypeOf<Config["model"]>().toEqualTypeOf<ModelSpec>();
    expectTypeOf<Config["optimizer"]>().toEqualTypeOf<OptimizerSpec>();
  });

  it("accepts every activation and init name in spec.ts", () => {
    // Records keyed by the spec.ts unions: a name added there fails to compile here until listed.
    const activations: Record<ActivationName, true> = {
      sigmoid: true, tanh: true, relu: true, leaky_relu: true, elu: true, gelu: true, softsign: true, linear: true,
    };
    const inits: Record<InitName, true> = {
      zeros: true, ones: true, normal: true, uniform: true, standard: true, glorot: true, xavier: true,
      glorot_normal: true, he: true, kaiming: true, he_uniform: true, lecun: true, orthogonal: true, identity: true,
    };
    for (const a of Object.keys(activations)) expect(() => parseConfig(edited((c) => { c.model.layers[0].activation = a; }))).not.toThrow();
    for (const i of Object.keys(inits)) expect(() => parseConfig(edited((c) => { c.model.layers[0].init = { type: i, gain: 2 }; }))).not.toThrow();
  });

  it("accepts every layer type with every option", () => {
    const layers: LayerSpec[] = [
      { type: "conv2d", name: "conv_a", filters: 4, kernel: 3, stride: 1, padding: "same", activation: "relu", init: "he", biasInit: "zeros", bias: true },
      { type: "conv2d", filters: 4, kernel: 3, padding: 1 },
      { type: "batchnorm", name: "bn.a", momentum: 0.1, eps: 1e-5, activation: "relu" },
      { type: "layernorm", name: "ln.a", eps: 1e-5, activation: "tanh" },
      { type: "maxpool2d", size: 2, stride: 2 },
      { type: "avgpool2d", size: 2 },
      { type: "flatten" },
      { type: "rnn", units: 8, activation: "relu", init: { type: "normal", std: 0.01 }, recurrentInit: "identity", returnSequences: true },
      { type: "lstm", units: 8, forgetBias: 1, recurrentInit: { type: "orthogonal", gain: 1 } },
      { type: "gru", units: 8, biasInit: { type: "uniform", scale: 0.1 } },
      { type: "residual", layers: [{ type: "dense", units: 8, activation: "relu" }], activation: "relu" },
      { type: "dense", units: 10, bias: false },
    ];
    const types: Record<LayerSpec["type"], true> = {
      dense: true, conv2d: true, maxpool2d: true, avgpool2d: true, flatten: true, batchnorm: true, layernorm: true, residual: true, rnn: true, lstm: true, gru: true,
    };
    expect(new Set(layers.map((l) => l.type))).toEqual(new Set(Object.keys(types)));
    const optimizers: OptimizerSpec[] = [
      { type: "sgd", lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4, clipNorm: 1, clipValue: 5 },
      { type: "adam", lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8 },
      { type: "rmsprop", lr: 1e-2, alpha: 0.99, momentum: 0, eps: 1e-8 },
    ];
    for (const optimizer of optimizers) {
      const c = parseConfig(edited((c) => { c.model.layers = layers; c.optimizer = optimizer; }));
      expect(c.model.layers).toStrictEqual(layers);
      expect(c.optimizer).toStrictEqual(optimizer);
    }
  });
});

describe("error messages: one line, `<path>: expected <what>; got <value>`", () => {
  const ACTS = "sigmoid, tanh, relu, leaky_relu, elu, gelu, softsign, linear";
  const INITS = "zeros, ones, normal, uniform, standard, glorot, xavier, glorot_normal, he, kaiming, he_uniform, lecun, orthogonal, identity";
  const LAYERS = "dense, conv2d, maxpool2d, avgpool2d, flatten, batchnorm, layernorm, residual, rnn, lstm, gru";
  const dense5 = { type: "dense", units: 5 };
  const cases: [string, (c: any) => void, string][] = [
    ["unknown activation", (c) => { c.model.layers = [dense5, { ...dense5, activation: "sigmod" }]; },
      `model.layers[1].activation: expected one of ${ACTS}; got "sigmod"`],
    ["unknown key, with a suggestion", (c) => { c.model.layers[0] = { type: "dense", unit: 5 }; },
      `model.layers[0].unit: unknown key; did you mean "units"?`],
    ["unknown key, case and separators ignored", (c) => { c.train = { batch_size: 64 }; },
      `train.batch_size: unknown key; did you mean "batchSize"?`],
    ["unknown key, no close match", (c) => { c.model.layers[0].frobnicate = 1; },
      `model.layers[0].frobnicate: unknown key; allowed: type, name, units, activation, init, biasInit, bias`],
    ["recurrent-only key on a dense layer", (c) => { c.model.layers[0].recurrentInit = "orthogonal"; },
      `model.layers[0].recurrentInit: unknown key; allowed: type, name, units, activation, init, biasInit, bias`],
    ["missing required", (c) => { c.model.layers = [dense5, dense5, { type: "dense" }]; },
      `model.layers[2].units: required (a positive integer)`],
    ["wrong type", (c) => { c.train = { epochs: "5" }; }, `train.epochs: expected a positive integer; got "5"`],
    ["not an integer", (c) => { c.data = { train: 1.5 }; }, `data.train: expected a positive integer; got 1.5`],
    ["zero count", (c) => { c.record = { every: 0 }; }, `record.every: expected a positive integer; got 0`],
    ["negative seed", (c) => { c.train = { seed: -1 }; }, `train.seed: expected a non-negative integer; got -1`],
    ["unsafe seed", (c) => { c.train = { seed: 2 ** 53 }; }, `train.seed: expected a non-negative integer; got 9007199254740992`],
    ["infinite lr (1e999 in JSON)", (c) => { c.optimizer.lr = Infinity; }, `optimizer.lr: expected a positive number; got Infinity`],
    ["zero lr", (c) => { c.optimizer.lr = 0; }, `optimizer.lr: expected a positive number; got 0`],
    ["momentum 1", (c) => { c.optimizer.momentum = 1; }, `optimizer.momentum: expected a number in [0, 1); got 1`],
    ["nesterov without momentum", (c) => { c.optimizer.nesterov = true; },
      `optimizer.nesterov: expected false unless momentum > 0 (Nesterov needs momentum); got true`],
    ["beta out of range", (c) => { c.optimizer = { type: "adam", lr: 1e-3, betas: [0.9, 1] }; },
      `optimizer.betas[1]: expected a number in [0, 1); got 1`],
    ["one beta", (c) => { c.optimizer = { type: "adam", lr: 1e-3, betas: [0.9] }; },
      `optimizer.betas: expected a pair [beta1, beta2], each in [0, 1); got [0.9]`],
    ["adam option on sgd", (c) => { c.optimizer.betas = [0.9, 0.99]; },
      `optimizer.betas: unknown key; allowed: type, lr, weightDecay, clipNorm, clipValue, momentum, nesterov`],
    ["unknown optimizer", (c) => { c.optimizer = { type: "adamw", lr: 1 }; }, `optimizer.type: expected one of sgd, adam, rmsprop; got "adamw"`],
    ["optimizer not an object", (c) => { c.optimizer = "sgd"; }, `optimizer: expected an object like {"type": "sgd", "lr": 0.1}; got "sgd"`],
    ["unknown loss", (c) => { c.loss = "ce"; }, `loss: expected one of cross_entropy, mse; got "ce"`],
    ["unknown layer type", (c) => { c.model.layers[0].type = "dens"; }, `model.layers[0].type: expected one of ${LAYERS}; got "dens"`],
    ["layer without type", (c) => { delete c.model.layers[0].type; }, `model.layers[0].type: required (one of ${LAYERS})`],
    ["layer not an object", (c) => { c.model.layers.push(5); }, `model.layers[1]: expected a layer object like {"type": "dense", "units": 10}; got 5`],
    ["no layers", (c) => { c.model.layers = []; }, `model.layers: expected a non-empty array of layers; got []`],
    ["unknown init name", (c) => { c.model.layers[0].init = "glorott"; },
      `model.layers[0].init: expected an init name (one of ${INITS}) or an object {"type", "std", "scale", "gain"}; got "glorott"`],
    ["unknown init type in an object", (c) => { c.model.layers[0].init = { type: "glorott", gain: 2 }; },
      `model.layers[0].init.type: expected one of ${INITS}; got "glorott"`],
    ["std on a uniform init", (c) => { c.model.layers[0].init = { type: "uniform", std: 0.1 }; },
      `model.layers[0].init.std: expected nothing (std applies only to init "normal"); got 0.1`],
    ["rnn activation", (c) => { c.model.layers.unshift({ type: "rnn", units: 4, activation: "gelu" }); },
      `model.layers[0].activation: expected one of tanh, relu, sigmoid; got "gelu"`],
    ["padding", (c) => { c.model.layers.unshift({ type: "conv2d", filters: 4, kernel: 3, padding: "sam" }); },
      `model.layers[0].padding: expected "same", "valid" or a non-negative integer; got "sam"`],
    ["duplicate layer names", (c) => { c.model.layers = [{ ...dense5, name: "fc" }, { type: "residual", layers: [{ ...dense5, name: "fc" }] }]; },
      `model.layers[1].layers[0].name: expected a name not already used (model.layers[0] is called "fc"); got "fc"`],
    ["mnist has 60000 training examples", (c) => { c.data = { train: 60001 }; },
      `data.train: expected a positive integer ≤ 60000 (mnist has 60000 train examples); got 60001`],
    ["fashion-mnist has 10000 test examples", (c) => { c.data = { dataset: "fashion-mnist", test: 20000 }; },
      `data.test: expected a positive integer ≤ 10000 (fashion-mnist has 10000 test examples); got 20000`],
    ["unknown dataset", (c) => { c.data = { dataset: "mnis" }; }, `data.dataset: expected one of mnist, fashion-mnist, {"idx": "DIR"}; got "mnis"`],
    ["bad idx folder", (c) => { c.data = { dataset: { idx: "" } }; }, `data.dataset.idx: expected a folder of IDX files; got ""`],
    ["unknown view", (c) => { c.data = { view: "row" }; }, `data.view: expected one of flat, image, rows, pixels, pixels-permuted; got "row"`],
    ["empty name", (c) => { c.name = ""; }, `name: expected a non-empty string; got ""`],
    ["long name", (c) => { c.name = "n".repeat(201); }, `name: expected a string of at most 200 characters; got "${"n".repeat(58)}…`],
    ["missing model", (c) => { delete c.model; }, `model: required (an object {"layers": [...]})`],
    ["odd top-level key", (c) => { c["my key"] = 1; }, `["my key"]: unknown key; allowed: name, description, data, model, loss, optimizer, train, record`],
  ];
  it.each(cases)("%s", (_, edit, expected) => {
    expect(errorOf(edited(edit))).toBe(expected);
  });

  it("prefixes the source", () => {
    expect(errorOf(edited((c) => { c.train = { epochs: "5" }; }), "my.json")).toBe(`my.json: train.epochs: expected a positive integer; got "5"`);
    expect(errorOf(null, "my.json")).toBe(`my.json: config: expected a JSON object; got null`);
  });

  it("any name is allowed and shown escaped", () => {
    expect(parseConfig(edited((c) => { c.name = `<script>"\n`; })).name).toBe(`<script>"\n`);
    expect(errorOf({ ...edited((c) => { c.name = "a\nb"; }), extra: 1 })).toBe(`extra: unknown key; allowed: name, description, data, model, loss, optimizer, train, record`);
    expect(errorOf(edited((c) => { c.model.layers[0].name = "a\nb"; }))).toBe(
      `model.layers[0].name: expected a layer name of letters, digits and _ (parts joined by . or -); got "a\\nb"`);
  });
});

describe("residual blocks validate recursively", () => {
  const block = (layers: unknown[]) => ({ type: "residual", layers });
  const withLayers = (layers: unknown[]) => edited((c) => { c.model.layers = layers; });
  const dense = { type: "dense", units: 8 };

  it("reports paths inside blocks", () => {
    expect(errorOf(withLayers([dense, dense, dense, block([{ type: "dense" }])]))).toBe(`model.layers[3].layers[0].units: required (a positive integer)`);
    expect(errorOf(withLayers([block([dense, block([{ ...dense, units: 0 }])])]))).toBe(
      `model.layers[0].layers[1].layers[0].units: expected a positive integer; got 0`);
    expect(errorOf(withLayers([block([{ ...dense, unitz: 3 }])]))).toBe(`model.layers[0].layers[0].unitz: unknown key; did you mean "units"?`);
    expect(errorOf(withLayers([block([])]))).toBe(`model.layers[0].layers: expected a non-empty array of layers; got []`);
  });

  it("accepts nested blocks", () => {
    const layers = [block([dense, block([dense, dense]), { type: "batchnorm" }]), { type: "dense", units: 10 }];
    expect(parseConfig(withLayers(layers)).model.layers).toStrictEqual(layers);
  });
});

describe("JSON files", () => {
  const cases: [string, string, string][] = [
    ["missing comma", `{\n  "name": "x"\n  "model": {}\n}`, `3:3: invalid JSON: unexpected "\\""; expected "," or "}"`],
    ["trailing comma", `{ "name": "x",\n}`, `2:1: invalid JSON: trailing comma before "}"`],
    ["trailing comma in array", `{ "a": [1, 2, ]\n}`, `1:15: invalid JSON: trailing comma before "]"`],
    ["single quotes", `{ "name": 'x' }`, `1:11: invalid JSON: strings need double quotes`],
    ["comment", `{\n  // a comment\n  "name": "x" }`, `2:3: invalid JSON: JSON has no comments`],
    ["unquoted key", `{ name: "x" }`, `1:3: invalid JSON: unexpected "n"; expected a double-quoted property name`],
    ["missing colon", `{ "name" "x" }`, `1:10: invalid JSON: unexpected "\\""; expected ":" after the property name`],
    ["truncated", `{ "name": "x",\r\n  "model": {`, `2:13: invalid JSON: unexpected end of input`],
    ["empty file", ``, `1:1: invalid JSON: unexpected end of input`],
    ["unterminated string", `{ "name": "x }`, `1:11: invalid JSON: unterminated string`],
    ["line break in a string", `{ "name": "x\n" }`, `1:13: invalid JSON: line break inside a string (missing closing quote?)`],
    ["bad escape", `{ "name": "\\x" }`, `1:12: invalid JSON: bad escape in string`],
    ["two values", `{}\n{}`, `2:1: invalid JSON: unexpected "{" after the end of the JSON value`],
    ["NaN", `{ "lr": NaN }`, `1:9: invalid JSON: unexpected "N"; expected a value`],
    ["leading zero", `{ "lr": 01 }`, `1:10: invalid JSON: unexpected "1"; expected "," or "}"`],
  ];
  it.each(cases)("%s names line:column", (_, text, expected) => {
    const file = tempFile(text);
    expect(loadError(file)).toBe(`${file}:${expected}`);
  });

  it("a valid file with a bad config names the file", () => {
    const file = tempFile(`\uFEFF${JSON.stringify(edited((c) => { c.loss = "l2"; }))}`);
    expect(loadError(file)).toBe(`${file}: loss: expected one of cross_entropy, mse; got "l2"`);
  });

  it("a syntax error always gets a position; valid JSON never gets a syntax error", () => {
    // Property test: the scanner that locates errors agrees with JSON.parse on mutated JSON.
    const mutated = fc.tuple(fc.json(), fc.nat(), fc.constantFrom("", ",", "}", "]", "\"", ":", "{", "[", "-", ".", "\\", "\n", "e", "x", "'"))
      .map(([text, at, insert]) => {
        const i = at % (text.length + 1);
        return at % 2 === 0 ? text.slice(0, i) + insert + text.slice(i) : text.slice(0, i) + text.slice(i + 1);
      });
    fc.assert(fc.property(fc.oneof(mutated, fc.string()), (text) => {
      const message = loadError(tempFile(text, "prop.json"));
      let valid = true;
      try { JSON.parse(text); } catch { valid = false; }
      expect(message.includes("invalid JSON")).toBe(!valid);
      if (!valid) expect(message).toMatch(/\.json:\d+:\d+: invalid JSON: /);
    }), { numRuns: 300 });
  });
});

describe("garbage in, InputError out", () => {
  it.each([
    [null, `config: expected a JSON object; got null`],
    [[], `config: expected a JSON object; got []`],
    [42, `config: expected a JSON object; got 42`],
    ["seed", `config: expected a JSON object; got "seed"`],
    [undefined, `config: required (a JSON object)`],
    [{}, `name: required (a non-empty string)`],
    [{ name: "x", model: [], optimizer: {} }, `model: expected an object {"layers": [...]}; got []`],
  ])("%j", (raw, expected) => {
    expect(errorOf(raw)).toBe(expected);
  });

  it("rejects __proto__ as an unknown key without polluting Object.prototype", () => {
    const top = JSON.parse(`{"__proto__": {"polluted": 1}, ${JSON.stringify(minimal()).slice(1)}`);
    expect(Object.hasOwn(top, "__proto__")).toBe(true);
    expect(errorOf(top)).toBe(`__proto__: unknown key; allowed: name, description, data, model, loss, optimizer, train, record`);
    const inLayer = JSON.parse(`{"name": "x", "model": {"layers": [{"type": "dense", "units": 3, "__proto__": {"polluted": 1}}]}, "optimizer": {"type": "sgd", "lr": 1}}`);
    expect(errorOf(inLayer)).toBe(`model.layers[0].__proto__: unknown key; allowed: type, name, units, activation, init, biasInit, bias`);
    const asUnits = JSON.parse(`{"name": "x", "model": {"layers": [{"type": "dense", "__proto__": 3}]}, "optimizer": {"type": "sgd", "lr": 1}}`);
    // units is missing too, but the unknown key on the same object is the better report
    expect(errorOf(asUnits)).toBe(`model.layers[0].__proto__: unknown key; allowed: type, name, units, activation, init, biasInit, bias`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("deep nesting and cycles are errors, not stack overflows", () => {
    let deep: unknown = { type: "dense", units: 1 };
    for (let i = 0; i < 5000; i++) deep = { type: "residual", layers: [deep] };
    expect(errorOf(edited((c) => { c.model.layers = [deep]; }))).toBe(
      `model.layers[0].layers[0].layers[0].layers[0].laye…[0].layers[0].layers[0].layers[0].layers: nested deeper than 64 levels`);
    const cycle: any = minimal();
    cycle.model.layers[0].self = cycle;
    expect(errorOf(cycle)).toMatch(/nested deeper than 64 levels$/);
    const text = "[".repeat(100000) + "]".repeat(100000);
    expect(loadError(tempFile(text))).toMatch(/\.json: \[0\]\[0\]\[0\].*: nested deeper than 64 levels$/);
  });

  it("arbitrary values only ever throw InputError with one line", () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true, withSparseArray: true }), (raw) => {
      try { parseConfig(raw); } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).not.toMatch(/\n/);
      }
    }), { numRuns: 500 });
  });

  it("any one field of the seed replaced by junk gives one InputError line", () => {
    const paths: (string | number)[][] = [];
    const collect = (v: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) collect(x, [...path, Array.isArray(v) ? Number(k) : k]);
    };
    collect(SEED_RESOLVED, []);
    const junk = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.constantFrom("__proto__", -1, 0, 1.5, 1e308, "", [], {}));
    fc.assert(fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), junk, (path, value) => {
      const raw: any = structuredClone(SEED_RESOLVED);
      let parent = raw;
      for (const seg of path.slice(0, -1)) parent = parent[seg];
      parent[path[path.length - 1]] = value;
      try { parseConfig(raw); } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toMatch(/^[^\n]+$/);
      }
    }), { numRuns: 500 });
  });
});
