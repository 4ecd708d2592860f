/**
 * One helper makes a layer's gradient check one line (after tinygrad's helper_test_op).
 * The network runs in Float64; the loss is L = Σ r ⊙ y for a fixed random r, so ∂L/∂y = r.
 * Numerical derivatives use the five-point central stencil
 *   f′ ≈ [8(f(x+h) − f(x−h)) − (f(x+2h) − f(x−2h))] / 12h,  h = 1e-4  (error O(h⁴)),
 * and every input and parameter element (up to `maxPerTensor`, evenly spaced) is compared by
 * |a − n| / max(|a| + |n|, 1e-8), the project's rule (docs/style.md).
 */
import { buildNetwork, type Model } from "../../src/core/model.ts";
import { Rng } from "../../src/core/rng.ts";
import type { LayerSpec } from "../../src/core/spec.ts";
import { size, type FloatArray } from "../../src/core/tensor.ts";

export interface GradcheckOptions {
  B?: number;
  seed?: number;
  /** input generator: normal (default) or uniform in [0,1) like pixels */
  input?: "normal" | "uniform";
  inputScale?: number;
  train?: boolean;
  maxPerTensor?: number;
  h?: number;
  /** adjust the model before checking (e.g. move relu pre-activations away from 0) */
  prepare?: (m: Model) => void;
}

/** worst relative error per checked tensor: "input", "dense1.weight", … */
export function gradcheck(layers: LayerSpec[], inShape: number[], opts: GradcheckOptions = {}): Record<string, number> {
  const B = opts.B ?? 3;
  const rng = new Rng(opts.seed ?? 7, 99);
  const model = buildNetwork({ layers }, inShape, { dtype: "f64", seed: opts.seed ?? 7 });
  opts.prepare?.(model);
  const x = new Float64Array(B * size(inShape));
  const scale = opts.inputScale ?? 1;
  for (let i = 0; i < x.length; i++) x[i] = scale * (opts.input === "uniform" ? rng.uniform() : rng.normal());
  const outSize = size(model.outShape);
  const r = new Float64Array(B * outSize);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal();
  const train = opts.train ?? true;

  const lossAt = () => {
    const y = model.forward(x, B, train);
    let s = 0;
    for (let i = 0; i < r.length; i++) s += r[i] * y[i];
    return s;
  };
  // Analytic gradients.
  for (const p of model.params) p.grad.fill(0);
  model.forward(x, B, train);
  model.backward(r, B, true);
  const analytic: [string, FloatArray, FloatArray][] = [["input", x, Float64Array.from(model.inputGrad!)]];
  for (const p of model.params) analytic.push([p.name, p.value, Float64Array.from(p.grad)]);

  const h = opts.h ?? 1e-4;
  const maxPer = opts.maxPerTensor ?? 64;
  const worst: Record<string, number> = {};
  for (const [name, values, grad] of analytic) {
    const n = values.length;
    const stride = Math.max(1, Math.floor(n / maxPer));
    let w = 0;
    for (let i = 0; i < n; i += stride) {
      const orig = values[i];
      const f = (d: number) => { values[i] = orig + d; return lossAt(); };
      const num = (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h);
      values[i] = orig;
      const a = grad[i];
      const err = Math.abs(a - num) / Math.max(Math.abs(a) + Math.abs(num), 1e-8);
      if (err > w) w = err;
    }
    worst[name] = w;
  }
  return worst;
}

/** Tensors whose worst error is at or above `tol` (empty when all pass), for readable failures. */
export function failures(worst: Record<string, number>, tol = 1e-6): Record<string, number> {
  return Object.fromEntries(Object.entries(worst).filter(([, e]) => !(e < tol)));
}
