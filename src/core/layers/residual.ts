/**
 * Residual connection (He et al. 2016, "Deep residual learning"): z = x + block(x), y = f(z),
 * for any block of layers that keeps the shape; x, z, y [B, ...inShape].
 * Backward: dz = dy ⊙ f′(z); dx = dz + block.backward(dz): the identity path hands the error
 * straight to the layers below, however small the block's own gradient gets.
 */
import { activation, type Activation } from "../activations.ts";
import { InputError } from "../errors.ts";
import type { ActivationName, LayerSpec } from "../spec.ts";
import { shapeText, size, type FloatArray } from "../tensor.ts";
import { activationField, controls, layers, type LayerKind } from "./kind.ts";
import { Workspace, type BuildContext, type Layer, type LayerProbe, type NamedBuffer, type Param } from "./layer.ts";

/** `{"type": "residual", "layers": [...], "activation": "relu"}`: y = f(x + block(x)). */
export interface ResidualSpec { type: "residual"; name?: string; layers: LayerSpec[]; activation?: ActivationName }

export class Residual implements Layer {
  readonly type = "residual";
  readonly params: Param[] = [];   // the block's layers own theirs (see children)
  readonly buffers: NamedBuffer[] = [];
  readonly outShape: number[];
  readonly children: Layer[];
  readonly act: Activation;
  private readonly n: number; // values per example
  private readonly zWs: Workspace;  // [B, ...inShape] x + block(x)
  private readonly yWs: Workspace;  // [B, ...inShape]
  private readonly dzWs: Workspace; // [B, ...inShape]
  private readonly dxWs: Workspace; // [B, ...inShape]
  private z: FloatArray | null = null;
  private y: FloatArray | null = null;
  private dz: FloatArray | null = null;

  constructor(readonly name: string, readonly inShape: number[], spec: ResidualSpec, ctx: BuildContext) {
    if (!spec.layers || spec.layers.length === 0) {
      throw new InputError(`${ctx.path}.layers: a residual block needs at least one layer`);
    }
    // Built through the model's builder so nested layers get global depth-first names (dense2, …).
    this.children = ctx.build(spec.layers, inShape, `${ctx.path}.layers`);
    const blockOut = this.children[this.children.length - 1].outShape;
    if (shapeText(blockOut) !== shapeText(inShape)) {
      throw new InputError(`${ctx.path}: residual block maps ${shapeText(inShape)} to ${shapeText(blockOut)}; a residual block must keep the shape (y = x + block(x))`);
    }
    this.outShape = [...inShape];
    this.n = size(inShape);
    this.act = activation(spec.activation);
    this.zWs = new Workspace(ctx.dtype, this.n);
    this.yWs = this.act.name === "linear" ? this.zWs : new Workspace(ctx.dtype, this.n);
    this.dzWs = new Workspace(ctx.dtype, this.n);
    this.dxWs = new Workspace(ctx.dtype, this.n);
  }

  forward(x: FloatArray, B: number, train: boolean): FloatArray {
    let h = x;
    for (const l of this.children) h = l.forward(h, B, train);
    // z = x + block(x), in a buffer of our own (a block may hand x itself back, e.g. flatten)
    const z = this.zWs.get(B);
    for (let i = 0, n = B * this.n; i < n; i++) z[i] = x[i] + h[i];
    const y = this.yWs.get(B);
    if (y !== z) this.act.forward(z, y, B * this.n);
    this.z = z;
    this.y = y;
    return y;
  }

  backward(dy: FloatArray, B: number, needDx: boolean): FloatArray | null {
    const n = B * this.n;
    let dz = dy;
    if (this.act.name !== "linear") {
      dz = this.dzWs.get(B);
      this.act.backward(this.z!, this.y!, dy, dz, n);
    }
    this.dz = dz;
    // the block's path: its first layer needs no dx unless ours is needed
    let d: FloatArray | null = dz;
    for (let i = this.children.length - 1; i >= 0; i--) d = this.children[i].backward(d!, B, i > 0 || needDx);
    if (!needDx) return null;
    // dx = dz (identity path) + d block/dx
    const dx = this.dxWs.get(B);
    for (let i = 0; i < n; i++) dx[i] = dz[i] + d![i];
    return dx;
  }

  /** Measured only when it has its own activation; the block's layers are measured themselves. */
  probe(): LayerProbe | null {
    if (this.act.name === "linear") return null;
    return { units: this.n, z: this.z, y: this.y, dz: this.dz, act: this.act };
  }
}

/** The residual kind: config fields, builder, name, memory, diagnosis role, lab texts, PyTorch twin. */
export const residualKind: LayerKind<ResidualSpec> = {
  type: "residual",
  about: "y = f(x + block(x)) for a block of layers that keeps the shape",
  prefix: "residual",
  fields: { layers: layers(), activation: activationField().optional() },
  role: "container",
  pytorch: "x + block(x) with the block's own modules, then the activation",
  build: (spec, name, inShape, ctx) => new Residual(name, inShape, spec, ctx),
  // the block's layers count themselves
  estimate: (spec, inShape, nested) => ({ params: 0, outShape: nested(spec.layers, inShape) }),
  walk: { through: (name) => `through ${name} (identity path + block)` },
  editor: {
    defaults: (c) => ({ type: "residual", layers: [{ type: "dense", units: c.units, activation: c.activation, init: "he" }] }),
    controls: [controls.optionalActivation],
  },
};
