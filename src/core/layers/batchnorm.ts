/**
 * Batch normalization (Ioffe & Szegedy 2015; PyTorch's nn.BatchNorm1d on x [B, F], BatchNorm2d
 * on x [B, C, H, W] with statistics per channel over B·H·W): x̂ = (x − μ)/√(σ² + eps),
 * z = γ·x̂ + β, y = f(z). Training uses the batch's μ and biased σ² and updates the running
 * stats with momentum m: r ← (1 − m)·r + m·stat, using the unbiased variance; eval uses them.
 * Backward (training): dx = γ/(N·σ)·(N·dz − Σdz − x̂·Σ(dz·x̂)), N = values per channel.
 */
import { activation, type Activation } from "../activations.ts";
import { InputError } from "../errors.ts";
import * as accel from "../../accel/index.ts";
import type { ActivationName } from "../spec.ts";
import { floats, shapeText, size, type FloatArray } from "../tensor.ts";
import { activationField, controls, num, positiveNumber, type LayerKind } from "./kind.ts";
import { Workspace, type BuildContext, type Layer, type LayerProbe, type NamedBuffer, type Param } from "./layer.ts";

/** `{"type": "batchnorm", "activation": "sigmoid"}`; momentum 0.1 and eps 1e-5 by default. */
export interface BatchNormSpec {
  type: "batchnorm"; name?: string; momentum?: number; eps?: number; activation?: ActivationName;
}

export class BatchNorm implements Layer {
  readonly type = "batchnorm";
  readonly params: Param[];
  readonly buffers: NamedBuffer[];
  readonly outShape: number[];
  readonly weight: Param; // γ [C]
  readonly bias: Param;   // β [C]
  readonly runningMean: NamedBuffer; // [C]
  readonly runningVar: NamedBuffer;  // [C]
  readonly act: Activation;
  private readonly C: number; // channels (features for 1-d input)
  private readonly S: number; // values per channel per example: H·W, or 1 for [F]
  private readonly momentum: number;
  private readonly eps: number;
  private readonly invStd: Float64Array; // [C] 1/√(σ² + eps) used by the last forward
  private readonly xhatWs: Workspace; // [B, C, S] normalized input x̂
  private readonly zWs: Workspace;    // [B, C, S]
  private readonly yWs: Workspace;    // [B, C, S]
  private readonly dzWs: Workspace;   // [B, C, S]
  private readonly dxWs: Workspace;   // [B, C, S]
  private readonly path: string; // "model.layers[1]", for the one error forward can raise
  private trained = false; // whether the last forward used batch statistics
  private xhat: FloatArray | null = null;
  private z: FloatArray | null = null;
  private y: FloatArray | null = null;
  private dz: FloatArray | null = null;

  constructor(readonly name: string, readonly inShape: number[], spec: BatchNormSpec, ctx: BuildContext) {
    if (inShape.length !== 1 && inShape.length !== 3) {
      throw new InputError(`${ctx.path}: batchnorm expects features [F] or an image [C, H, W], got ${shapeText(inShape)}`);
    }
    const C = inShape[0];
    this.path = ctx.path;
    this.C = C;
    this.S = size(inShape) / C;
    this.outShape = [...inShape];
    this.momentum = spec.momentum ?? 0.1;
    this.eps = spec.eps ?? 1e-5;
    this.act = activation(spec.activation);
    const param = (key: string, fill: number): Param => {
      const value = floats(ctx.dtype, C);
      value.fill(fill);
      return { name: `${name}.${key}`, key, shape: [C], value, grad: floats(ctx.dtype, C) };
    };
    this.weight = param("weight", 1);
    this.bias = param("bias", 0);
    this.params = [this.weight, this.bias];
    this.runningMean = { name: `${name}.running_mean`, key: "running_mean", shape: [C], value: floats(ctx.dtype, C) };
    this.runningVar = { name: `${name}.running_var`, key: "running_var", shape: [C], value: floats(ctx.dtype, C).fill(1) };
    this.buffers = [this.runningMean, this.runningVar];
    this.invStd = new Float64Array(C);
    const per = C * this.S;
    this.xhatWs = new Workspace(ctx.dtype, per);
    this.zWs = new Workspace(ctx.dtype, per);
    this.yWs = this.act.name === "linear" ? this.zWs : new Workspace(ctx.dtype, per);
    this.dzWs = new Workspace(ctx.dtype, per);
    this.dxWs = new Workspace(ctx.dtype, per);
  }

  forward(x: FloatArray, B: number, train: boolean): FloatArray {
    const { C, S, eps } = this;
    const N = B * S; // values per channel
    const stride = C * S; // distance between examples
    const xhat = this.xhatWs.get(B);
    const z = this.zWs.get(B);
    const gamma = this.weight.value, beta = this.bias.value;
    const rm = this.runningMean.value, rv = this.runningVar.value;
    if (train && N < 2) {
      // PyTorch refuses too: the batch variance of one value is 0 and its unbiased estimate undefined.
      throw new InputError(`${this.path}: batchnorm in training needs more than one value per channel; got a batch of ${B} × ${shapeText(this.inShape)}`);
    }
    for (let c = 0; c < C; c++) {
      let mean: number, variance: number;
      if (train) {
        // μ and the biased σ² of channel c over the batch (two passes, in double precision)
        let s = 0;
        for (let b = 0; b < B; b++) for (let i = b * stride + c * S, e = i + S; i < e; i++) s += x[i];
        mean = s / N;
        let v = 0;
        for (let b = 0; b < B; b++) for (let i = b * stride + c * S, e = i + S; i < e; i++) { const d = x[i] - mean; v += d * d; }
        variance = v / N;
        rm[c] = (1 - this.momentum) * rm[c] + this.momentum * mean;
        rv[c] = (1 - this.momentum) * rv[c] + this.momentum * variance * N / (N - 1);
      } else {
        mean = rm[c];
        variance = rv[c];
      }
      const inv = 1 / Math.sqrt(variance + eps);
      this.invStd[c] = inv;
      // x̂ = (x − μ)·inv; z = γ·x̂ + β
      const g = gamma[c], bt = beta[c];
      for (let b = 0; b < B; b++) {
        for (let i = b * stride + c * S, e = i + S; i < e; i++) {
          const h = (x[i] - mean) * inv;
          xhat[i] = h;
          z[i] = g * h + bt;
        }
      }
    }
    const y = this.yWs.get(B);
    if (y !== z) accel.activate(this.act, z, y, B * stride);
    this.trained = train;
    this.xhat = xhat;
    this.z = z;
    this.y = y;
    return y;
  }

  backward(dy: FloatArray, B: number, needDx: boolean): FloatArray | null {
    const { C, S } = this;
    const N = B * S;
    const stride = C * S;
    const xhat = this.xhat!;
    let dz = dy;
    if (this.act.name !== "linear") {
      dz = this.dzWs.get(B);
      accel.activateBackward(this.act, this.z!, this.y!, dy, dz, B * stride);
    }
    this.dz = dz;
    const gamma = this.weight.value;
    const dGamma = this.weight.grad, dBeta = this.bias.grad;
    const dx = needDx ? this.dxWs.get(B) : null;
    for (let c = 0; c < C; c++) {
      // Σdz and Σ dz·x̂ over channel c: dβ and dγ, and the two terms of the batch-statistics gradient
      let sumDz = 0, sumDzXhat = 0;
      for (let b = 0; b < B; b++) {
        for (let i = b * stride + c * S, e = i + S; i < e; i++) { sumDz += dz[i]; sumDzXhat += dz[i] * xhat[i]; }
      }
      dBeta[c] += sumDz;
      dGamma[c] += sumDzXhat;
      if (!dx) continue;
      const k = gamma[c] * this.invStd[c];
      if (this.trained) {
        // dx = γ/(N·σ)·(N·dz − Σdz − x̂·Σ(dz·x̂)): μ and σ depend on every x of the channel
        const meanDz = sumDz / N, meanDzXhat = sumDzXhat / N;
        for (let b = 0; b < B; b++) {
          for (let i = b * stride + c * S, e = i + S; i < e; i++) dx[i] = k * (dz[i] - meanDz - xhat[i] * meanDzXhat);
        }
      } else {
        // eval: μ and σ are constants, so the layer is affine in x
        for (let b = 0; b < B; b++) {
          for (let i = b * stride + c * S, e = i + S; i < e; i++) dx[i] = k * dz[i];
        }
      }
    }
    return dx;
  }

  probe(): LayerProbe {
    return { units: this.C * this.S, z: this.z, y: this.y, dz: this.dz, act: this.act };
  }
}

/** The batchnorm kind: config fields, builder, name, memory, diagnosis role, lab texts, PyTorch twin. */
export const batchnormKind: LayerKind<BatchNormSpec> = {
  type: "batchnorm",
  about: "batch normalization per feature or channel (batch statistics in training, running ones in evaluation), then f",
  prefix: "bn",
  fields: { momentum: num("a number in [0, 1]", { gte: 0, lte: 1 }).optional(), eps: positiveNumber().optional(), activation: activationField().optional() },
  role: "normalizes",
  pytorch: "nn.BatchNorm1d(F) on [B, F], nn.BatchNorm2d(C) on [B, C, H, W] (eps, momentum), training mode, then the activation",
  build: (spec, name, inShape, ctx) => new BatchNorm(name, inShape, spec, ctx),
  // γ and β; the running mean and variance are buffers, not counted
  estimate: (_spec, inShape) => ({ params: 2 * inShape[0], outShape: inShape }),
  walk: { through: (name) => `through ${name}'s normalization` },
  editor: { defaults: (c) => ({ type: "batchnorm", activation: c.activation }), controls: [controls.optionalActivation] },
};
