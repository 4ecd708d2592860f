// `gradlab grads` end to end: gradients of the mean loss over examples A..B-1, checked against
// five-point finite differences of the loss computed independently in Float64 from the same
// weights file (the CLI computes in Float32, hence the 1e-4 tolerance).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOSSES } from "../../src/core/losses.ts";
import { buildModel } from "../../src/core/model.ts";
import { decodeSafetensors } from "../../src/data/safetensors.ts";
import { BatchSource } from "../../src/data/views.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { datasetFor } from "../../src/experiment/run-folder/session.ts";
import { loadWeights } from "../../src/experiment/weights.ts";
import { gradlab, tempDir } from "../helpers/cli.ts";

describe("gradlab grads", () => {
  it("writes ∂L/∂θ of the mean loss over the given examples, under the weights' names", () => {
    const dir = tempDir();
    const run = gradlab(["run", "seed", "--train", "640", "--test", "100", "--epochs", "1", "--out", join(dir, "run"), "--quiet"]);
    expect(run.code).toBe(0);
    const cfgPath = join(dir, "run", "config.json");
    const wPath = join(dir, "run", "weights.safetensors");
    const r = gradlab(["grads", cfgPath, "--weights", wPath, "--examples", "8:24", "--out", join(dir, "g.safetensors")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout.trim());
    expect(printed.examples).toEqual([8, 24]);

    const g = decodeSafetensors(readFileSync(join(dir, "g.safetensors")), "g").tensors;
    const w = decodeSafetensors(readFileSync(wPath), "w").tensors;
    expect([...g.keys()].sort()).toEqual([...w.keys()].sort());

    // Independent Float64 evaluation of the loss over examples 8..23.
    const cfg = parseConfig(JSON.parse(readFileSync(cfgPath, "utf8")));
    const data = datasetFor(cfg);
    const model = buildModel(cfg.model, [784], 10, { dtype: "f64" });
    loadWeights(model, readFileSync(wPath), "w");
    const B = 16;
    const x = new Float64Array(B * 784);
    const y = new Int32Array(B);
    new BatchSource(data.trainImages, data.trainLabels, data.nTrain, 28, 28, "flat", 0).fill(8, B, x, y, true);
    const L = () => LOSSES.cross_entropy.value(model.forward(x, B, false), y, B, 10);
    expect(Math.abs(printed.loss - L()) / L()).toBeLessThan(1e-6);
    const h = 1e-4;
    for (const name of ["dense1.weight", "dense1.bias", "dense2.weight", "dense3.bias"]) {
      const p = model.params.find((q) => q.name === name)!;
      const got = g.get(name)!.data as Float32Array;
      let scale = 0;
      for (const v of got) scale = Math.max(scale, Math.abs(v));
      for (const i of [0, 3, Math.floor(p.value.length / 2) + 200 < p.value.length ? Math.floor(p.value.length / 2) + 200 : 1]) {
        const o = p.value[i];
        const f = (d: number) => { p.value[i] = o + d; return L(); };
        const num = (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h);
        p.value[i] = o;
        expect(Math.abs(got[i] - num) / scale, `${name}[${i}]`).toBeLessThan(1e-4);
      }
    }
  });
});
