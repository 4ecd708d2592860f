/**
 * Layer normalization (Ba, Kiros & Hinton 2016; PyTorch's nn.LayerNorm(F, eps)) over the feature
 * dimension, the last one: each row x of F values — one example after dense, one time step of
 * one example after a recurrent layer — becomes x̂ = (x − μ)·r, r = 1/√(σ² + eps), μ and the biased
 * σ² over the row's F values; z = γ ⊙ x̂ + β, y = f(z). x, z, y [B, F] or [B, T, F]; γ, β [F].
 * Unlike batchnorm, the statistics never mix examples, so training and evaluation compute the same.
 * Backward, per row: dβ += dz, dγ += dz ⊙ x̂, g = γ ⊙ dz, dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂)).
 */
import { activation, type Activation } from "../activations.ts";
import { InputError } from "../errors.ts";
import type { ActivationName } from "../spec.ts";
import { floats, shapeText, size, type FloatArray } from "../tensor.ts";
import { activationField, controls, positiveNumber, type LayerKind } from "./kind.ts";
import { Workspace, type BuildContext, type Layer, type LayerProbe, type NamedBuffer, type Param } from "./layer.ts";

/** `{"type": "layernorm", "eps": 1e-5, "activation": "tanh"}`; eps 1e-5 by default. */
export interface LayerNormSpec { type: "layernorm"; name?: string; eps?: number; activation?: ActivationName }

export class LayerNorm implements Layer {
  readonly type = "layernorm";
  readonly params: Param[];
  readonly buffers: NamedBuffer[] = [];
  readonly outShape: number[];
  readonly weight: Param; // γ [F]
  readonly bias: Param;   // β [F]
  readonly act: Activation;
  private readonly F: number; // features per row
  private readonly R: number; // rows per example: T after a recurrent layer, else 1
  private readonly eps: number;
  private readonly meanWs: Workspace; // [B, R] μ of each row (Float64)
  private readonly rstdWs: Workspace; // [B, R] r = 1/√(σ² + eps) of each row (Float64)
  private readonly zWs: Workspace;    // [B, R, F]
  private readonly yWs: Workspace;    // [B, R, F]
  private readonly dzWs: Workspace;   // [B, R, F]
  private readonly dxWs: Workspace;   // [B, R, F]
  private x: FloatArray | null = null; // [B, R, F] the input, kept (not copied): backward rebuilds x̂ from it
  private mean: FloatArray | null = null;
  private rstd: FloatArray | null = null;
  private z: FloatArray | null = null;
  private y: FloatArray | null = null;
  private dz: FloatArray | null = null;

  constructor(readonly name: string, readonly inShape: number[], spec: LayerNormSpec, ctx: BuildContext) {
    if (inShape.length !== 1 && inShape.length !== 2) {
      throw new InputError(`${ctx.path}: layernorm normalizes features [F] or per-step features [T, F], got ${shapeText(inShape)}; for an image use batchnorm`);
    }
    const F = inShape[inShape.length - 1];
    this.F = F;
    this.R = inShape.length === 2 ? inShape[0] : 1;
    this.outShape = [...inShape];
    this.eps = spec.eps ?? 1e-5;
    this.act = activation(spec.activation);
    const param = (key: string, fill: number): Param => {
      const value = floats(ctx.dtype, F);
      value.fill(fill);
      return { name: `${name}.${key}`, key, shape: [F], value, grad: floats(ctx.dtype, F) };
    };
    this.weight = param("weight", 1);
    this.bias = param("bias", 0);
    this.params = [this.weight, this.bias];
    const n = size(inShape);
    this.meanWs = new Workspace("f64", this.R);
    this.rstdWs = new Workspace("f64", this.R);
    this.zWs = new Workspace(ctx.dtype, n);
    this.yWs = this.act.name === "linear" ? this.zWs : new Workspace(ctx.dtype, n);
    this.dzWs = new Workspace(ctx.dtype, n);
    this.dxWs = new Workspace(ctx.dtype, n);
  }

  forward(x: FloatArray, B: number): FloatArray {
    const { F, eps } = this;
    const rows = B * this.R;
    const mean = this.meanWs.get(B), rstd = this.rstdWs.get(B);
    const z = this.zWs.get(B);
    const gamma = this.weight.value, beta = this.bias.value;
    for (let r = 0; r < rows; r++) {
      const o = r * F;
      // μ and the biased σ² of the row (two passes, in double precision)
      let s = 0;
      for (let f = 0; f < F; f++) s += x[o + f];
      const m = s / F;
      let v = 0;
      for (let f = 0; f < F; f++) { const d = x[o + f] - m; v += d * d; }
      const inv = 1 / Math.sqrt(v / F + eps);
      mean[r] = m;
      rstd[r] = inv;
      // z = γ ⊙ x̂ + β
      for (let f = 0; f < F; f++) z[o + f] = gamma[f] * ((x[o + f] - m) * inv) + beta[f];
    }
    const y = this.yWs.get(B);
    if (y !== z) this.act.forward(z, y, rows * F);
    this.x = x;
    this.mean = mean;
    this.rstd = rstd;
    this.z = z;
    this.y = y;
    return y;
  }

  backward(dy: FloatArray, B: number, needDx: boolean): FloatArray | null {
    const { F } = this;
    const rows = B * this.R;
    const x = this.x!, mean = this.mean!, rstd = this.rstd!;
    let dz = dy;
    if (this.act.name !== "linear") {
      dz = this.dzWs.get(B);
      this.act.backward(this.z!, this.y!, dy, dz, rows * F);
    }
    this.dz = dz;
    const gamma = this.weight.value;
    const dGamma = this.weight.grad, dBeta = this.bias.grad;
    const dx = needDx ? this.dxWs.get(B) : null;
    for (let r = 0; r < rows; r++) {
      const o = r * F, m = mean[r], inv = rstd[r];
      // dβ += dz, dγ += dz ⊙ x̂; and Σ g, Σ g ⊙ x̂ with g = γ ⊙ dz, the two terms μ and σ contribute
      let sumG = 0, sumGXhat = 0;
      for (let f = 0; f < F; f++) {
        const xhat = (x[o + f] - m) * inv, d = dz[o + f], g = gamma[f] * d;
        dBeta[f] += d;
        dGamma[f] += d * xhat;
        sumG += g;
        sumGXhat += g * xhat;
      }
      if (!dx) continue;
      // dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂))
      const meanG = sumG / F, meanGXhat = sumGXhat / F;
      for (let f = 0; f < F; f++) {
        const xhat = (x[o + f] - m) * inv;
        dx[o + f] = inv * (gamma[f] * dz[o + f] - meanG - xhat * meanGXhat);
      }
    }
    return dx;
  }

  probe(): LayerProbe {
    return { units: this.R * this.F, z: this.z, y: this.y, dz: this.dz, act: this.act };
  }
}

/** The layernorm kind: config fields, builder, name, memory, diagnosis role, lab texts, PyTorch twin. */
export const layernormKind: LayerKind<LayerNormSpec> = {
  type: "layernorm",
  about: "layer normalization over the features of each example (of each time step after a recurrent layer), then f",
  prefix: "ln",
  fields: { eps: positiveNumber().optional(), activation: activationField().optional() },
  role: "normalizes",
  pytorch: "nn.LayerNorm(F, eps) over the last dimension (F.layer_norm), then the activation",
  build: (spec, name, inShape, ctx) => new LayerNorm(name, inShape, spec, ctx),
  estimate: (_spec, inShape) => ({
    params: 2 * inShape[inShape.length - 1],  // γ and β
    outShape: inShape,
    scratch: inShape.length === 2 ? 2 * inShape[0] : 2,  // μ and r of each row
  }),
  walk: { through: (name) => `through ${name}'s normalization (over each example's features)` },
  editor: { defaults: (c) => ({ type: "layernorm", activation: c.activation }), controls: [controls.optionalActivation] },
};
