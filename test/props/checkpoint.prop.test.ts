// Checkpoint files are untrusted input too. Generated corruptions — truncation, flipped
// or overwritten bytes, and (re-sealed with a valid checksum, so the field checks are reached)
// every state field replaced by another value, tensors reshaped, dropped or added, the example
// order made a non-permutation — end in a checkpoint that restores and trains, or one clean
// InputError naming the file.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, type StInput } from "../../src/data/safetensors.ts";
import { applyCheckpoint, configHash, decodeCheckpoint, encodeCheckpoint } from "../../src/experiment/run-folder/checkpoint.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { datasetFor } from "../../src/experiment/run-folder/session.ts";
import { Trainer } from "../../src/experiment/trainer.ts";
import { clean, RUNS } from "./clean.ts";

const config = parseConfig({
  name: "ck", data: { train: 40, test: 10 },
  model: { layers: [{ type: "dense", units: 3, activation: "tanh" }, { type: "batchnorm" }, { type: "dense", units: 10 }] },
  optimizer: { type: "adam", lr: 0.01 }, train: { epochs: 2, batchSize: 16, seed: 2 }, record: { every: 2 },
});
const data = datasetFor(config);
const HASH = configHash(config);
const source = new Trainer(config, data);
for (let i = 0; i < 4; i++) source.trainStep();  // step 4: mid-epoch 2 (3 steps per epoch)
const GOOD = encodeCheckpoint(source, { configSha256: HASH, metrics: { bytes: 0, sha256: "0".repeat(64), records: 0 }, seconds: 1 });
const decoded = decodeSafetensors(GOOD, "good");
const STATE = JSON.parse(decoded.metadata.state);

/** Re-encode tensors + state with a valid checksum, as encodeCheckpoint does. */
function seal(tensors: Map<string, StInput>, state: string): Uint8Array {
  const zeros = "0".repeat(64);
  const bytes = encodeSafetensors(tensors, { ...decoded.metadata, state, sha256: zeros });
  const at = Buffer.from(bytes).indexOf(`"sha256":"${zeros}"`) + `"sha256":"`.length;
  bytes.set(Buffer.from(createHash("sha256").update(bytes).digest("hex")), at);
  return bytes;
}
const tensorsOf = () => new Map([...decoded.tensors].map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.data as Float32Array) }]));

/** Every path into the state JSON, for replacement. */
const PATHS: (string | number)[][] = [];
(function collect(v: unknown, path: (string | number)[]) {
  PATHS.push(path);
  if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) collect(x, [...path, Array.isArray(v) ? Number(k) : k]);
})(STATE, []);

const VALUE = fc.oneof(
  fc.integer({ min: -2, max: 10 }), fc.double(), fc.constantFrom(2 ** 32, 2 ** 53, -0, 1e308), fc.constant({ $: "NaN" }),
  fc.string({ maxLength: 4 }), fc.constant(null), fc.boolean(), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 5 }),
  fc.constant({}), fc.constant("a".repeat(64)),
);

type Mutation =
  | { kind: "truncate"; at: number } | { kind: "flip"; at: number; bit: number } | { kind: "overwrite"; at: number; bytes: number[] }
  | { kind: "state"; path: (string | number)[]; value: unknown; drop: boolean }
  | { kind: "tensor"; name: string; how: "drop" | "reshape" | "extra" | "poke"; index: number; value: number };

const TENSOR_NAMES = [...decoded.tensors.keys()];
const MUTATION: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat({ max: GOOD.length - 1 }) }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat({ max: GOOD.length - 1 }), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant("overwrite" as const), at: fc.nat({ max: GOOD.length - 1 }), bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 8 }) }),
  { arbitrary: fc.record({ kind: fc.constant("state" as const), path: fc.constantFrom(...PATHS), value: VALUE, drop: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({
    kind: fc.constant("tensor" as const), name: fc.constantFrom(...TENSOR_NAMES), how: fc.constantFrom("drop" as const, "reshape" as const, "extra" as const, "poke" as const),
    index: fc.nat({ max: 100 }), value: fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.double(), fc.constantFrom(NaN, Infinity, 0.5)),
  }), weight: 3 },
);

function mutate(m: Mutation): Uint8Array {
  if (m.kind === "truncate") return GOOD.subarray(0, m.at);
  if (m.kind === "flip") { const b = Uint8Array.from(GOOD); b[m.at] ^= 1 << m.bit; return b; }
  if (m.kind === "overwrite") { const b = Uint8Array.from(GOOD); b.set(m.bytes.slice(0, b.length - m.at), m.at); return b; }
  const tensors = tensorsOf();
  let state = structuredClone(STATE);
  if (m.kind === "state") {
    if (m.path.length === 0) state = m.value;
    else {
      let cur = state;
      for (const seg of m.path.slice(0, -1)) cur = cur[seg];
      if (m.drop) delete cur[m.path.at(-1)!]; else cur[m.path.at(-1)!] = m.value;
    }
  } else {
    const t = tensors.get(m.name)!;
    if (m.how === "drop") tensors.delete(m.name);
    else if (m.how === "reshape") tensors.set(m.name, { shape: [t.data.length + 1], data: new Float32Array(t.data.length + 1) });
    else if (m.how === "extra") tensors.set(`${m.name}.x`, { shape: [1], data: new Float32Array(1) });
    else if (t.data.length > 0) t.data[m.index % t.data.length] = m.value;
  }
  return seal(tensors, JSON.stringify(state));
}

describe("decodeCheckpoint on generated corruptions", () => {
  it("the untouched checkpoint restores exactly", () => {
    const t = new Trainer(config, data);
    applyCheckpoint(t, decodeCheckpoint(GOOD, t, HASH, "good"));
    expect(t.snapshot()).toEqual(source.snapshot());
    expect(t.model.params.map((p) => Array.from(p.value))).toEqual(source.model.params.map((p) => Array.from(p.value)));
  });

  it(`${RUNS} corruptions: a checkpoint that restores and trains on, or one clean InputError`, () => {
    let restored = 0;
    const t = new Trainer(config, data);
    fc.assert(fc.property(MUTATION, (m) => {
      const ck = clean(() => decodeCheckpoint(mutate(m), t, HASH, "step-0000000004.safetensors"), "step-0000000004.safetensors: ");
      if (ck === null) return true;
      restored++;
      applyCheckpoint(t, ck);
      t.trainStep();  // whatever survived validation trains without throwing
      return true;
    }), { numRuns: RUNS });
    expect(restored).toBeGreaterThan(RUNS / 50);  // some mutations are harmless (a weight poked, a loss changed)
  });
});
