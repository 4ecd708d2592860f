// Config validation under generated input: valid configs with one field replaced,
// added or deleted, and arbitrary JSON, all end in a Config or one clean InputError. A Config
// that comes out survives the trip through config.json unchanged (resume hashes it) and gets a
// memory estimate without throwing, however absurd its sizes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/experiment/config.ts";
import { checkMemory, estimateMemory } from "../../src/experiment/memory.ts";
import { clean, RUNS } from "./clean.ts";

const base = () => ({
  name: "p",
  data: { dataset: "mnist", view: "flat", train: 1000, test: 100 },
  model: { layers: [
    { type: "dense", units: 5, activation: "sigmoid", init: "standard" },
    { type: "batchnorm" },
    { type: "residual", layers: [{ type: "dense", units: 5, activation: "relu" }] },
    { type: "dense", units: 10 },
  ] },
  loss: "cross_entropy",
  optimizer: { type: "adam", lr: 0.01, betas: [0.9, 0.99] },
  train: { epochs: 1, batchSize: 32, seed: 1, evalBatchSize: 1000, checkpointEvery: 100, onNonFinite: "stop" },
  record: { every: 10, histograms: true },
});

/** Paths into base() (and a few that do not exist yet). */
const PATHS: (string | number)[][] = [
  ["name"], ["description"], ["data"], ["data", "dataset"], ["data", "view"], ["data", "train"], ["data", "test"],
  ["model"], ["model", "layers"], ["model", "layers", 0], ["model", "layers", 0, "type"], ["model", "layers", 0, "units"],
  ["model", "layers", 0, "activation"], ["model", "layers", 0, "init"], ["model", "layers", 0, "name"],
  ["model", "layers", 1, "momentum"], ["model", "layers", 2, "layers"], ["model", "layers", 2, "layers", 0, "units"],
  ["model", "layers", 3, "units"], ["model", "layers", 9], ["loss"], ["optimizer"], ["optimizer", "type"], ["optimizer", "lr"],
  ["optimizer", "betas"], ["optimizer", "betas", 1], ["optimizer", "momentum"], ["optimizer", "clipNorm"],
  ["train"], ["train", "epochs"], ["train", "batchSize"], ["train", "seed"], ["train", "checkpointEvery"],
  ["train", "onNonFinite"], ["record", "every"], ["record", "histograms"],
];

const KEYS = fc.constantFrom("units", "unit", "type", "__proto__", "constructor", "toString", "layers", "lr", "x", "");
const WORDS = fc.constantFrom("dense", "conv2d", "rnn", "lstm", "gru", "flatten", "batchnorm", "residual", "maxpool2d",
  "relu", "sigmoid", "he", "orthogonal", "identity", "sgd", "adam", "rmsprop", "mse", "rows", "image", "pixels",
  "stop", "skip-step", "continue", "same", "valid", "fashion-mnist");
const NUMBERS = fc.oneof(
  fc.integer({ min: -3, max: 100 }), fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, 1, 2, 1e9, 1e15, 2 ** 31, 2 ** 53, 1e308, -0, 0.5),
);
/** Any JSON value, leaning toward ones a config could hold. */
const VALUE: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    NUMBERS, WORDS, fc.string({ maxLength: 6 }), fc.boolean(), fc.constant(null),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(KEYS, tie("v"), { maxKeys: 3 }),
  ),
})).v;

type Edit = { kind: "set" | "delete"; path: (string | number)[]; value: unknown } | { kind: "add"; path: (string | number)[]; key: string; value: unknown };
const EDIT: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), path: fc.constantFrom(...PATHS), value: VALUE }),
  fc.record({ kind: fc.constant("delete" as const), path: fc.constantFrom(...PATHS), value: fc.constant(null) }),
  fc.record({ kind: fc.constant("add" as const), path: fc.constantFrom<(string | number)[][]>([], ["data"], ["model", "layers", 0], ["train"], ["optimizer"]), key: KEYS, value: VALUE }),
);

/** base() with the edits applied, through JSON text as a config file would be read. */
function edited(edits: Edit[]): unknown {
  const raw = base() as Record<string, unknown>;
  for (const e of edits) {
    let cur: unknown = raw;
    for (const seg of e.path.slice(0, e.kind === "add" ? undefined : -1)) cur = cur && typeof cur === "object" ? (cur as Record<string | number, unknown>)[seg] : undefined;
    if (!cur || typeof cur !== "object") continue;
    const obj = cur as Record<string | number, unknown>;
    if (e.kind === "add") Object.defineProperty(obj, e.key, { value: e.value, enumerable: true, configurable: true, writable: true });
    else if (e.kind === "set") obj[e.path.at(-1)!] = e.value;
    else delete obj[e.path.at(-1)!];
  }
  return JSON.parse(JSON.stringify(raw));
}

let acceptedCount = 0;

/** What every accepted config must satisfy. */
function accepted(raw: unknown): boolean {
  const config = clean(() => parseConfig(raw, "p.json"), "p.json: ");
  if (config === null) return true;
  acceptedCount++;
  const again = parseConfig(JSON.parse(JSON.stringify(config)));
  expect(JSON.stringify(again)).toBe(JSON.stringify(config));
  const e = estimateMemory(config, { bytes: 55e6, rows: 28, cols: 28 });
  expect(e.bytes).toBeGreaterThan(0);
  expect(Number.isNaN(e.bytes)).toBe(false);
  clean(() => checkMemory(config, 2 ** 31, { bytes: 55e6, rows: 28, cols: 28 }), "memory: ");
  return true;
}

describe("parseConfig on generated input", () => {
  it(`${RUNS} edited configs: a Config (stable through config.json, with a memory estimate) or one clean InputError`, () => {
    acceptedCount = 0;
    fc.assert(fc.property(fc.array(EDIT, { minLength: 1, maxLength: 3 }), (edits) => accepted(edited(edits))), { numRuns: RUNS });
    expect(acceptedCount).toBeGreaterThan(RUNS / 20);  // both outcomes are exercised
  });

  it(`${RUNS} arbitrary JSON values`, () => {
    fc.assert(fc.property(fc.oneof(VALUE, fc.jsonValue({ maxDepth: 4 })), (raw) => accepted(JSON.parse(JSON.stringify(raw ?? null)))), { numRuns: RUNS });
  });
});
