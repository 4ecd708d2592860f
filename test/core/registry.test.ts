// The layer registry: every kind declares every facet, and a kind that forgets one is refused
// with a line naming the kind and the facet; what each facet promises holds for every kind
// (its builder agrees with its memory estimate and name prefix, its config fields are exactly
// what the schema accepts, the fixtures script names it the same way). The expected values are
// the kinds' own declarations, the PyTorch script's PREFIX table and the built models.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { denseKind } from "../../src/core/layers/dense.ts";
import type { LayerKind } from "../../src/core/layers/kind.ts";
import { childSpecs, isNormalization, KINDS, kindOf, kindProblems, LAYER_TYPES, layerRole } from "../../src/core/layers/registry.ts";
import { buildNetwork } from "../../src/core/model.ts";
import type { LayerSpec } from "../../src/core/spec.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { isNormalization as profileIsNormalization } from "../../src/instrument/profile.ts";

/** One small valid spec of each kind, with an input shape it fits. */
const SAMPLES: Record<string, [LayerSpec, number[]]> = {
  dense: [{ type: "dense", units: 3 }, [4]],
  conv2d: [{ type: "conv2d", filters: 2, kernel: 3, padding: "same" }, [1, 5, 5]],
  maxpool2d: [{ type: "maxpool2d", size: 2 }, [2, 4, 4]],
  avgpool2d: [{ type: "avgpool2d", size: 2, stride: 1 }, [2, 4, 4]],
  flatten: [{ type: "flatten" }, [2, 3]],
  batchnorm: [{ type: "batchnorm" }, [4]],
  layernorm: [{ type: "layernorm" }, [3, 4]],
  residual: [{ type: "residual", layers: [{ type: "dense", units: 4 }] }, [4]],
  rnn: [{ type: "rnn", units: 3 }, [5, 2]],
  lstm: [{ type: "lstm", units: 3, returnSequences: true }, [5, 2]],
  gru: [{ type: "gru", units: 3 }, [5, 2]],
};

describe("the layer registry", () => {
  it("lists every kind once, each complete", () => {
    expect(LAYER_TYPES).toEqual(["dense", "conv2d", "maxpool2d", "avgpool2d", "flatten", "batchnorm", "layernorm", "residual", "rnn", "lstm", "gru"]);
    for (const k of KINDS) expect(kindProblems(k), k.type).toEqual([]);
    expect(new Set(KINDS.map((k) => k.prefix)).size).toBe(KINDS.length);
  });

  it("names the kind and the facet a new kind forgets", () => {
    const { walk: _walk, ...noWalk } = denseKind;
    expect(kindProblems({ ...noWalk, type: "swish" })).toEqual([`layer kind "swish" does not declare walk (its text in the walk)`]);
    const { estimate: _e, role: _r, ...two } = denseKind;
    expect(kindProblems({ ...two, type: "swish" })).toEqual([
      `layer kind "swish" does not declare role (its role for the diagnosis)`,
      `layer kind "swish" does not declare estimate (its memory estimate)`,
    ]);
    expect(kindProblems({ ...denseKind, type: "swish", role: "mystery" as never })).toEqual([
      `layer kind "swish": role must be one of weighted, normalizes, shape-only, recurrent, container; got "mystery"`,
    ]);
    expect(kindProblems({ ...denseKind, type: "swish", walk: {} as never })).toEqual([`layer kind "swish" does not declare walk.through (its text in the walk)`]);
    expect(kindProblems({ ...denseKind, type: "swish", fields: { ...denseKind.fields, name: denseKind.fields.units } })).toEqual([
      `layer kind "swish": fields must not declare "name" (every layer has it)`,
    ]);
  });

  it("answers the diagnosis's questions: role and normalization", () => {
    expect(KINDS.map((k) => [k.type, layerRole(k.type)])).toEqual([
      ["dense", "weighted"], ["conv2d", "weighted"], ["maxpool2d", "shape-only"], ["avgpool2d", "shape-only"],
      ["flatten", "shape-only"], ["batchnorm", "normalizes"], ["layernorm", "normalizes"], ["residual", "container"],
      ["rnn", "recurrent"], ["lstm", "recurrent"], ["gru", "recurrent"],
    ]);
    expect(LAYER_TYPES.filter(isNormalization)).toEqual(["batchnorm", "layernorm"]);
    expect(layerRole("fc1")).toBeUndefined(); // a PyTorch probe's module type
    expect(childSpecs({ type: "residual", layers: [{ type: "flatten" }] })).toEqual([{ type: "flatten" }]);
    expect(childSpecs({ type: "dense", units: 2 })).toBeNull();
  });

  for (const k of KINDS) {
    it(`${k.type}: builds under its prefix, as large as its estimate says, and the schema takes exactly its fields`, () => {
      const sample = SAMPLES[k.type];
      expect(sample, `a sample spec of ${k.type} in this test`).toBeDefined();
      const [spec, inShape] = sample;
      const model = buildNetwork({ layers: [spec] }, inShape, { dtype: "f64" });
      const layer = model.layers[0];
      expect(layer.type).toBe(k.type);
      expect(layer.name).toBe(`${k.prefix}1`);
      const nested = (specs: LayerSpec[], shape: number[]) => buildNetwork({ layers: specs }, shape).outShape;
      const f = (k as LayerKind).estimate(spec, inShape, nested);
      expect(f.outShape).toEqual(layer.outShape);
      // its own parameters (a container's block counts its own, through `nested`)
      expect(f.params).toBe(layer.params.reduce((n, p) => n + p.value.length, 0));
      // the config schema: type, name and the declared fields are the allowed keys, in order
      const base = { name: "t", model: { layers: [{ ...spec, bogus: 1 }] }, optimizer: { type: "sgd", lr: 0.1 } };
      expect(() => parseConfig(base)).toThrow(`model.layers[0].bogus: unknown key; allowed: ${["type", "name", ...Object.keys(k.fields)].join(", ")}`);
      // the editor's new row is a valid spec of this kind
      const row = k.editor.defaults({ units: 4, activation: "tanh", init: undefined });
      expect(row.type).toBe(k.type);
      expect(() => parseConfig({ ...base, model: { layers: [row] } })).not.toThrow();
      expect(k.walk.through("x1")).toContain("x1");
    });
  }

  it("the report's own list of normalizing types (instrument/profile.ts, kept free of engine code) is the registry's", () => {
    // a new kind with role "normalizes" must be added there too, or the depth profile compares it as a layer
    for (const type of [...LAYER_TYPES, "unknown"]) expect(profileIsNormalization(type), type).toBe(isNormalization(type));
  });

  it("the PyTorch fixtures script names every kind with the same prefix and builds each", () => {
    const script = readFileSync(join(import.meta.dirname, "../reference/make_reference.py"), "utf8");
    const table = /^PREFIX = \{([\s\S]*?)\}/m.exec(script);
    expect(table, "PREFIX table in make_reference.py").not.toBeNull();
    const prefixes = Object.fromEntries([...table![1].matchAll(/"(\w+)": "(\w+)"/g)].map((m) => [m[1], m[2]]));
    expect(prefixes).toEqual(Object.fromEntries(KINDS.map((k) => [k.type, k.prefix])));
    for (const k of KINDS) expect(script, `make_reference.py builds ${k.type}`).toMatch(new RegExp(`kind (==|in) .*"${k.type}"`));
  });

  it("kindOf knows the listed kinds only", () => {
    for (const t of LAYER_TYPES) expect(kindOf(t)?.type).toBe(t);
    expect(kindOf("dropout")).toBeUndefined();
  });
});
