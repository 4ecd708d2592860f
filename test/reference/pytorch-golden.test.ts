// Golden values from PyTorch 1.13 (float64), made by test/reference/make_reference.py: every
// fixture in test/reference/fixtures is loaded through our safetensors reader, run once forward
// and backward, and the loss, every parameter gradient, the input gradient, each layer's
// δ norm and each recurrent layer's per-step ‖∂ℓ/∂h_t‖ (and ‖∂ℓ/∂c_t‖) must match.
// Tolerances: the Float64 engine must match the JSON's float64 loss and norms to 1e-9 and the
// stored gradients to 2e-7 (they are saved as F32, so ~6e-8 of rounding is in the fixture
// itself); the Float32 engine must match everything to 1e-5 (relative to a tensor's largest entry).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LAYER_TYPES } from "../../src/core/layers/registry.ts";
import { buildNetwork } from "../../src/core/model.ts";
import { LOSSES } from "../../src/core/losses.ts";
import type { DType } from "../../src/core/tensor.ts";
import type { LossName, ModelSpec } from "../../src/core/spec.ts";
import { decodeSafetensors } from "../../src/data/safetensors.ts";
import { Recorder } from "../../src/instrument/recorder.ts";

const DIR = join(import.meta.dirname, "fixtures");
interface Fixture {
  name: string; model: ModelSpec; loss: LossName; inputShape: number[]; batch: number; labels: number[];
  loss_value: number; deltaNorm: Record<string, number>; hGradNorm: Record<string, number[]>; cGradNorm: Record<string, number[]>;
  bnAfter?: boolean;
}
const cases = readdirSync(DIR).filter((f) => f.endsWith(".json")).map((f) => f.replace(/\.json$/, "")).sort();

/**
 * max |a − e| / max |e| over a tensor (a norm-relative error that tolerates tiny entries); the
 * absolute error when e is zero up to rounding (|e| < 1e-12): a bias right before a batchnorm
 * has gradient exactly 0 in exact arithmetic (the batch mean cancels it), so the fixture holds
 * PyTorch's ~1e-16 rounding noise, which no other engine reproduces digit for digit.
 */
function relErr(a: ArrayLike<number>, e: ArrayLike<number>): number {
  expect(a.length).toBe(e.length);
  let num = 0, den = 0;
  for (let i = 0; i < e.length; i++) { num = Math.max(num, Math.abs(a[i] - e[i])); den = Math.max(den, Math.abs(e[i])); }
  return den < 1e-12 ? num : num / den;
}

function run(name: string, dtype: DType) {
  const fx: Fixture = JSON.parse(readFileSync(join(DIR, `${name}.json`), "utf8"));
  const { tensors } = decodeSafetensors(readFileSync(join(DIR, `${name}.safetensors`)), `${name}.safetensors`);
  const model = buildNetwork(fx.model, fx.inputShape, { dtype });
  for (const t of [...model.params, ...model.buffers]) {
    const st = tensors.get(t.name);
    if (!st) throw new Error(`${name}: fixture lacks ${t.name}`);
    expect(st.shape).toEqual(t.shape);
    t.value.set(st.data as Float32Array);
  }
  const B = fx.batch;
  const x = dtype === "f64" ? Float64Array.from(tensors.get("input")!.data as Float32Array) : Float32Array.from(tensors.get("input")!.data as Float32Array);
  const labels = Int32Array.from(fx.labels);
  const recorder = new Recorder(model);
  const loss = model.forwardBackward(x, labels, B, LOSSES[fx.loss], true);
  recorder.beforeUpdate(0, 0, loss, 0, B);
  const rec = recorder.afterUpdate();
  return { fx, tensors, model, loss, rec };
}

describe("PyTorch golden values", () => {
  for (const name of cases) {
    for (const [dtype, tol, tensorTol] of [["f64", 1e-9, 2e-7], ["f32", 1e-5, 1e-5]] as [DType, number, number][]) {
      it(`${name} (${dtype}): loss, input and parameter gradients, δ and ‖∂ℓ/∂h_t‖ norms`, () => {
        const { fx, tensors, model, loss, rec } = run(name, dtype);
        expect(Math.abs(loss - fx.loss_value) / Math.abs(fx.loss_value)).toBeLessThan(tol);
        expect(relErr(model.inputGrad!, tensors.get("grad.input")!.data as Float32Array)).toBeLessThan(tensorTol);
        for (const p of model.params) {
          const g = tensors.get(`grad.${p.name}`);
          expect(g, `grad.${p.name} in fixture`).toBeDefined();
          expect(relErr(p.grad, g!.data as Float32Array), p.name).toBeLessThan(tensorTol);
        }
        for (const b of model.buffers) {
          const after = tensors.get(`after.${b.name}`);
          if (after) expect(relErr(b.value, after.data as Float32Array), b.name).toBeLessThan(tensorTol);
        }
        const byName = new Map(rec.layers.map((l) => [l.name, l]));
        for (const [layer, want] of Object.entries(fx.deltaNorm)) {
          expect(byName.get(layer)?.deltaNorm, `${layer}.deltaNorm`).toBeDefined();
          expect(Math.abs(byName.get(layer)!.deltaNorm! - want) / want, `${layer}.deltaNorm`).toBeLessThan(tol);
        }
        for (const [field, table] of [["hGradNorm", fx.hGradNorm], ["cGradNorm", fx.cGradNorm]] as const) {
          for (const [layer, want] of Object.entries(table)) {
            const got = byName.get(layer)?.[field];
            expect(got, `${layer}.${field}`).toBeDefined();
            // per step, relative to that step's own value (they span many decades in lstm_long)
            want.forEach((w, t) => expect(Math.abs(got![t] - w) / w, `${layer}.${field}[${t}]`).toBeLessThan(tol * 10));
          }
        }
      });
    }
  }
  it("covers every layer family the config accepts", () => {
    const types = new Set<string>();
    const visit = (ls: { type: string; layers?: unknown }[]) => ls.forEach((l) => { types.add(l.type); if (Array.isArray(l.layers)) visit(l.layers); });
    for (const name of cases) visit(JSON.parse(readFileSync(join(DIR, `${name}.json`), "utf8")).model.layers);
    // every kind of the registry, so a new kind cannot come without its fixture
    expect([...types].sort()).toEqual([...LAYER_TYPES].sort());
  });
});
