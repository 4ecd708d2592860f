/**
 * Fully connected layer: z = x·Wᵀ + b, y = f(z).
 * x [B, D], W [H, D] (PyTorch's nn.Linear layout), b [H], z and y [B, H].
 * Backward: dz = dy ⊙ f′(z); dW += dzᵀ·x; db += Σ_b dz; dx = dz·W.
 */
import { activation, type Activation } from "../activations.ts";
import { InputError } from "../errors.ts";
import { initialize } from "../init.ts";
import * as accel from "../../accel/index.ts";
import type { ActivationName, InitSpec } from "../spec.ts";
import { floats, shapeText, size, type FloatArray } from "../tensor.ts";
import { activationField, bool, controls, init, positiveInt, type LayerKind } from "./kind.ts";
import { Workspace, type BuildContext, type Layer, type LayerProbe, type NamedBuffer, type Param } from "./layer.ts";

/** `{"type": "dense", "units": 10, "activation": "relu"}`; no bias with `"bias": false`. */
export interface DenseSpec {
  type: "dense"; name?: string; units: number;
  activation?: ActivationName; init?: InitSpec; biasInit?: InitSpec; bias?: boolean;
}

export class Dense implements Layer {
  readonly type = "dense";
  readonly params: Param[];
  readonly buffers: NamedBuffer[] = [];
  readonly outShape: number[];
  readonly weight: Param; // [H, D]
  readonly bias: Param | null; // [H]
  readonly act: Activation;
  private readonly D: number;
  private readonly H: number;
  private x: FloatArray | null = null; // [B, D] the input, kept (not copied) for dW
  private readonly zWs: Workspace;  // [B, H]
  private readonly yWs: Workspace;  // [B, H]
  private readonly dzWs: Workspace; // [B, H]
  private readonly dxWs: Workspace; // [B, D]
  private z: FloatArray | null = null;
  private y: FloatArray | null = null;
  private dz: FloatArray | null = null;

  constructor(readonly name: string, readonly inShape: number[], spec: DenseSpec, ctx: BuildContext) {
    if (inShape.length !== 1) {
      throw new InputError(`${ctx.path}: dense expects a flat input, got shape ${shapeText(inShape)}; add {"type": "flatten"} before it`);
    }
    const D = inShape[0];
    const H = spec.units;
    this.D = D;
    this.H = H;
    this.outShape = [H];
    this.act = activation(spec.activation);
    const init = spec.init ?? "standard";
    this.weight = { name: `${name}.weight`, key: "weight", shape: [H, D], value: floats(ctx.dtype, H * D), grad: floats(ctx.dtype, H * D) };
    initialize(init, this.weight.value, this.weight.shape, ctx.rng);
    this.params = [this.weight];
    this.bias = null;
    if (spec.bias !== false) {
      this.bias = { name: `${name}.bias`, key: "bias", shape: [H], value: floats(ctx.dtype, H), grad: floats(ctx.dtype, H) };
      // Biases start at zero, except under `standard`, which follows PyTorch's nn.Linear:
      // the bias is drawn from U[±1/√fan_in] like the weight. `biasInit` overrides either.
      const biasInit = spec.biasInit ?? (init === "standard" ? "standard" : "zeros");
      initialize(biasInit, this.bias.value, this.bias.shape, ctx.rng, D);
      this.params.push(this.bias);
    }
    this.zWs = new Workspace(ctx.dtype, H);
    this.yWs = this.act.name === "linear" ? this.zWs : new Workspace(ctx.dtype, H);
    this.dzWs = new Workspace(ctx.dtype, H);
    this.dxWs = new Workspace(ctx.dtype, D);
  }

  forward(x: FloatArray, B: number): FloatArray {
    const { D, H } = this;
    this.x = x;
    const z = this.zWs.get(B);
    accel.gemmNT(B, H, D, x, 0, this.weight.value, 0, z, 0, false, this.bias ? this.bias.value : null); // z = x·Wᵀ + b
    const y = this.yWs.get(B);
    if (y !== z) accel.activate(this.act, z, y, B * H);
    this.z = z;
    this.y = y;
    return y;
  }

  backward(dy: FloatArray, B: number, needDx: boolean): FloatArray | null {
    const { D, H } = this;
    const z = this.z!, y = this.y!, x = this.x!;
    // dz = dy ⊙ f′(z); for a linear layer dz is dy itself.
    let dz = dy;
    if (this.act.name !== "linear") {
      dz = this.dzWs.get(B);
      accel.activateBackward(this.act, z, y, dy, dz, B * H);
    }
    this.dz = dz;
    accel.gemmTN(H, D, B, dz, 0, x, 0, this.weight.grad, 0, true); // dW[H, D] += dzᵀ·x
    if (this.bias) {
      const db = this.bias.grad;
      if (!accel.ops.sumRows?.(B, H, dz, 0, db)) for (let i = 0; i < B; i++) for (let h = 0, o = i * H; h < H; h++) db[h] += dz[o + h];
    }
    if (!needDx) return null;
    const dx = this.dxWs.get(B);
    accel.gemmNN(B, D, H, dz, 0, this.weight.value, 0, dx, 0, false); // dx[B, D] = dz·W
    return dx;
  }

  probe(): LayerProbe {
    return { units: this.H, z: this.z, y: this.y, dz: this.dz, act: this.act };
  }
}

/** The dense kind: config fields, builder, name, memory, diagnosis role, lab texts, PyTorch twin. */
export const denseKind: LayerKind<DenseSpec> = {
  type: "dense",
  about: "fully connected: z = x·Wᵀ + b, y = f(z)",
  prefix: "dense",
  fields: {
    units: positiveInt().sizing("units"), activation: activationField().optional(), init: init().optional(),
    biasInit: init().optional(), bias: bool().optional(),
  },
  role: "weighted",
  pytorch: "nn.Linear(D, units), then the activation",
  build: (spec, name, inShape, ctx) => new Dense(name, inShape, spec, ctx),
  estimate(spec, inShape) {
    const n = size(inShape);
    return { params: n * spec.units + (spec.bias === false ? 0 : spec.units), outShape: [spec.units], largest: n * spec.units };
  },
  walk: {
    through: (name) => `× Wᵀ of ${name}`,
    explain: (name, outShape) => `Multiplying by the transposed weights Wᵀ of ${name} spreads the error over its ${outShape.join("×")} inputs`,
  },
  editor: {
    defaults: (c) => ({ type: "dense", units: c.units, activation: c.activation, init: c.init ?? "standard" }),
    controls: [controls.units, controls.activation, controls.init],
  },
};
