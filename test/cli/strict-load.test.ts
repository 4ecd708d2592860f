// Weights move to PyTorch unchanged: gradlab's tensor names and shapes for each layer kind are
// exactly the state_dict of the PyTorch model the README documents, so
// `model.load_state_dict(tensors, strict=True)` takes weights.safetensors as it is.
// Expected keys, shapes, inputs and logits: test/reference/make_reference.py (PyTorch 1.13,
// float64), which builds each model, writes its state_dict to fixtures/state-dict/NAME.safetensors,
// loads the file back with strict=True and records the logits of a fixed input.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildNetwork } from "../../src/core/model.ts";
import type { ModelSpec } from "../../src/core/spec.ts";
import { decodeSafetensors, encodeSafetensors, type StInput } from "../../src/data/safetensors.ts";
import { encodeWeights, loadWeights } from "../../src/experiment/weights.ts";

const DIR = join(import.meta.dirname, "../reference/fixtures/state-dict");
interface StateDictFixture {
  name: string; pytorch: string; model: ModelSpec; inputShape: number[];
  keys: [string, number[]][]; notInGradlab: string[]; input: number[]; logits: number[];
}
const fixtures: StateDictFixture[] = readdirSync(DIR).filter((f) => f.endsWith(".json")).sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), "utf8")));
const bytesOf = (name: string) => new Uint8Array(readFileSync(join(DIR, `${name}.safetensors`)));

/** The logits of the fixture's input through `model` (evaluation mode: batch norm uses its running statistics). */
function logitsOf(fx: StateDictFixture, model: ReturnType<typeof buildNetwork>): Float64Array {
  const B = fx.input.length / fx.inputShape.reduce((a, b) => a * b, 1);
  return Float64Array.from(model.forward(Float64Array.from(fx.input), B, false));
}

/** The fixture's tensors under other names (`rename` returns the new name, or null to drop it). */
function renamed(name: string, rename: (key: string) => string | null, extra: [string, string][] = []): Uint8Array {
  const { tensors } = decodeSafetensors(bytesOf(name), name);
  const out = new Map<string, StInput>();
  for (const [k, t] of tensors) { const n = rename(k); if (n !== null) out.set(n, { shape: t.shape, data: t.data as Float32Array }); }
  for (const [from, to] of extra) { const t = tensors.get(from)!; out.set(to, { shape: t.shape, data: t.data as Float32Array }); }
  return encodeSafetensors(out);
}
const OLD = (k: string) => k.replace(/_l0$/, "");

describe("weights.safetensors is the PyTorch model's state_dict", () => {
  it("covers every layer kind with weights, and the recurrent ones under nn.RNN/LSTM/GRU's names", () => {
    expect(fixtures.map((f) => f.name)).toEqual(["batchnorm", "cnn", "gru", "layernorm", "lstm", "mlp", "rnn"]);
    for (const kind of ["rnn", "lstm", "gru"]) {
      const fx = fixtures.find((f) => f.name === kind)!;
      expect(fx.keys.map(([k]) => k).slice(0, 4)).toEqual(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"].map((k) => `${kind}1.${k}`));
    }
  });

  for (const fx of fixtures) {
    it(`${fx.name} (${fx.pytorch}): gradlab's names and shapes are the state_dict's keys, the only extra being ${fx.notInGradlab.join(", ") || "none"}`, () => {
      const model = buildNetwork(fx.model, fx.inputShape);
      const ours = [...decodeSafetensors(encodeWeights(model), "ours").tensors].map(([k, t]) => [k, t.shape]);
      const theirs = fx.keys.filter(([k]) => !fx.notInGradlab.includes(k));
      // same set; gradlab lists buffers after parameters, so compare sorted
      expect(ours.sort()).toEqual([...theirs].sort());
      // the buffer gradlab does not keep is batch norm's step counter, and only there
      expect(fx.notInGradlab).toEqual(fx.name === "batchnorm" ? ["bn1.num_batches_tracked"] : []);
    });

    it(`${fx.name}: the state_dict written by PyTorch loads into gradlab and gives PyTorch's logits`, () => {
      const model = buildNetwork(fx.model, fx.inputShape, { dtype: "f64" });
      loadWeights(model, bytesOf(fx.name), `${fx.name}.safetensors`);
      const got = logitsOf(fx, model);
      // float64 on both sides from the same float32 weights and inputs: rounding only
      fx.logits.forEach((want, i) => expect(Math.abs(got[i] - want), `logit ${i}`).toBeLessThan(1e-12));
    });
  }

  for (const kind of ["rnn", "lstm", "gru"]) {
    it(`${kind}: weights written with the older names (no _l0) still load, to the same values`, () => {
      const fx = fixtures.find((f) => f.name === kind)!;
      const model = buildNetwork(fx.model, fx.inputShape, { dtype: "f64" });
      loadWeights(model, renamed(kind, OLD), "old.safetensors");
      const got = logitsOf(fx, model);
      fx.logits.forEach((want, i) => expect(Math.abs(got[i] - want)).toBeLessThan(1e-12));
    });

    it(`${kind}: a file holding both names of one tensor is refused, naming both`, () => {
      const model = buildNetwork(fx0(kind).model, fx0(kind).inputShape);
      const both = renamed(kind, (k) => k, [[`${kind}1.weight_hh_l0`, `${kind}1.weight_hh`]]);
      expect(() => loadWeights(model, both, "both.safetensors")).toThrow(`both.safetensors: holds both "${kind}1.weight_hh" and "${kind}1.weight_hh_l0"`);
    });
  }

  it("a name that is neither form is still refused as not belonging to the model", () => {
    const model = buildNetwork(fx0("lstm").model, fx0("lstm").inputShape);
    const bad = renamed("lstm", (k) => k.replace("weight_ih_l0", "weight_ih_l1"));
    expect(() => loadWeights(model, bad, "bad.safetensors")).toThrow('bad.safetensors: tensor "lstm1.weight_ih_l1" does not belong to this model');
  });
});

function fx0(name: string): StateDictFixture {
  return fixtures.find((f) => f.name === name)!;
}

describe("metrics records under either name", () => {
  it("the tensor that stands for a recurrent layer is weight_ih_l0, or weight_ih in metrics written before", async () => {
    const { weightKeyOf } = await import("../../src/instrument/profile.ts");
    const stats = { gradNorm: 1, gradMeanAbs: 1, gradMaxAbs: 1, gradRms: 1, updateRatio: 1, nonFinite: 0, zeros: 0 };
    const layer = (keys: string[]) => ({ name: "lstm1", type: "lstm", params: Object.fromEntries(keys.map((k) => [k, stats])) }) as never;
    expect(weightKeyOf(layer(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]))).toBe("weight_ih_l0");
    expect(weightKeyOf(layer(["weight_hh", "weight_ih", "bias_ih", "bias_hh"]))).toBe("weight_ih");
    expect(weightKeyOf(layer(["weight", "bias"]))).toBe("weight");
  });
});
