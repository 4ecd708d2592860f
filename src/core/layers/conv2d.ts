/**
 * 2-D convolution (PyTorch's nn.Conv2d, a cross-correlation): y = f(z),
 * z[f, oy, ox] = b[f] + Σ_{c,ky,kx} W[f, c, ky, kx]·x[c, oy·S + ky − pad, ox·S + kx − pad].
 * x [B, C, H, W], W [F, C, K, K], b [F], z and y [B, F, Ho, Wo]; per example, im2col + GEMM
 * (accel/ops/conv.ts): z = W·col + b. Backward: dz = dy ⊙ f′(z); dW += dz·colᵀ; db += Σ dz;
 * dx = col2im(Wᵀ·dz). Backward redoes im2col from the kept input rather than storing every
 * example's col (R·P values each, K² times the input), so memory does not grow with the batch.
 */
import { activation, type Activation } from "../activations.ts";
import { InputError } from "../errors.ts";
import { initialize } from "../init.ts";
import * as accel from "../../accel/index.ts";
import { col2im, convOutSize, im2col, type ConvGeometry } from "../../accel/index.ts";
import type { ActivationName, InitSpec } from "../spec.ts";
import { floats, shapeText, size, type FloatArray } from "../tensor.ts";
import { activationField, bool, controls, either, init, int, oneOf, positiveInt, type LayerKind } from "./kind.ts";
import { Workspace, type BuildContext, type Layer, type LayerProbe, type NamedBuffer, type Param } from "./layer.ts";

/** `{"type": "conv2d", "filters": 8, "kernel": 3, "padding": "same"}`; stride 1 and "valid" by default. */
export interface Conv2dSpec {
  type: "conv2d"; name?: string; filters: number; kernel: number; stride?: number;
  padding?: "same" | "valid" | number; activation?: ActivationName; init?: InitSpec;
  biasInit?: InitSpec; bias?: boolean;
}

export class Conv2d implements Layer {
  readonly type = "conv2d";
  readonly params: Param[];
  readonly buffers: NamedBuffer[] = [];
  readonly outShape: number[];
  readonly weight: Param; // [F, C, K, K], read by the products as [F, R], R = C·K·K
  readonly bias: Param | null; // [F]
  readonly act: Activation;
  readonly geometry: ConvGeometry;
  private readonly F: number;
  private readonly P: number; // Ho·Wo output positions
  private readonly R: number; // C·K·K values per receptive field
  private readonly inSize: number; // C·H·W
  private readonly col: FloatArray;  // [R, P] one example's receptive fields (TS path)
  private readonly dcol: FloatArray; // [R, P] ∂L/∂col (TS path)
  private readonly zWs: Workspace;  // [B, F, P]
  private readonly yWs: Workspace;  // [B, F, P]
  private readonly dzWs: Workspace; // [B, F, P]
  private readonly dxWs: Workspace; // [B, C, H, W]
  private x: FloatArray | null = null; // [B, C, H, W] the input, kept (not copied): backward redoes im2col
  private z: FloatArray | null = null;
  private y: FloatArray | null = null;
  private dz: FloatArray | null = null;

  constructor(readonly name: string, readonly inShape: number[], spec: Conv2dSpec, ctx: BuildContext) {
    if (inShape.length !== 3) {
      throw new InputError(`${ctx.path}: conv2d expects an image input [C, H, W], got ${shapeText(inShape)}; use data.view "image"`);
    }
    const [C, H, W] = inShape;
    const F = spec.filters;
    const K = spec.kernel;
    const S = spec.stride ?? 1;
    const padding = spec.padding ?? "valid";
    let pad: number;
    if (padding === "same") {
      if (S !== 1 || K % 2 === 0) {
        throw new InputError(`${ctx.path}.padding: "same" needs stride 1 and an odd kernel; got stride ${S}, kernel ${K}; give the padding as a number instead`);
      }
      pad = (K - 1) / 2;
    } else if (padding === "valid") {
      pad = 0;
    } else if (Number.isInteger(padding) && padding >= 0) {
      pad = padding;
    } else {
      throw new InputError(`${ctx.path}.padding: expected "same", "valid" or a non-negative integer; got ${JSON.stringify(padding)}`);
    }
    const Ho = convOutSize(H, K, S, pad);
    const Wo = convOutSize(W, K, S, pad);
    if (Ho <= 0 || Wo <= 0) {
      throw new InputError(
        `${ctx.path}: conv2d output would be ${Ho}×${Wo} (input ${shapeText(inShape)}, kernel ${K}, stride ${S}, padding ${pad}); use a smaller kernel or more padding`,
      );
    }
    this.geometry = { C, H, W, K, S, pad, Ho, Wo };
    this.F = F;
    this.P = Ho * Wo;
    this.R = C * K * K;
    this.inSize = C * H * W;
    this.outShape = [F, Ho, Wo];
    this.act = activation(spec.activation);

    const init = spec.init ?? "standard";
    const wShape = [F, C, K, K];
    this.weight = { name: `${name}.weight`, key: "weight", shape: wShape, value: floats(ctx.dtype, F * this.R), grad: floats(ctx.dtype, F * this.R) };
    initialize(init, this.weight.value, wShape, ctx.rng);
    this.params = [this.weight];
    this.bias = null;
    if (spec.bias !== false) {
      this.bias = { name: `${name}.bias`, key: "bias", shape: [F], value: floats(ctx.dtype, F), grad: floats(ctx.dtype, F) };
      // As in dense.ts: `standard` draws the bias from U[±1/√fan_in] like PyTorch's nn.Conv2d,
      // fan_in = C·K·K; other inits start it at zero; `biasInit` overrides either.
      const biasInit = spec.biasInit ?? (init === "standard" ? "standard" : "zeros");
      initialize(biasInit, this.bias.value, this.bias.shape, ctx.rng, this.R);
      this.params.push(this.bias);
    }

    this.col = floats(ctx.dtype, this.R * this.P);
    this.dcol = floats(ctx.dtype, this.R * this.P);
    this.zWs = new Workspace(ctx.dtype, F * this.P);
    this.yWs = this.act.name === "linear" ? this.zWs : new Workspace(ctx.dtype, F * this.P);
    this.dzWs = new Workspace(ctx.dtype, F * this.P);
    this.dxWs = new Workspace(ctx.dtype, this.inSize);
  }

  forward(x: FloatArray, B: number): FloatArray {
    const { F, P, R, inSize, geometry: g, col } = this;
    const z = this.zWs.get(B);
    const w = this.weight.value;
    const b = this.bias ? this.bias.value : null;
    // The WebAssembly engine runs this loop for the whole batch at once (accel/ops/conv.ts, accel/engine.ts).
    if (!accel.ops.conv2dForward?.(g, F, B, x, 0, w, b, z, 0)) {
      for (let i = 0; i < B; i++) {
        im2col(x, i * inSize, g, col, 0);                           // col [R, P]
        accel.gemmNN(F, P, R, w, 0, col, 0, z, i * F * P, false); // z_i [F, P] = W·col
        if (b) for (let f = 0; f < F; f++) for (let p = 0, o = (i * F + f) * P; p < P; p++) z[o + p] += b[f];
      }
    }
    const y = this.yWs.get(B);
    if (y !== z) accel.activate(this.act, z, y, B * F * P);
    this.x = x;
    this.z = z;
    this.y = y;
    return y;
  }

  backward(dy: FloatArray, B: number, needDx: boolean): FloatArray | null {
    const { F, P, R, inSize, geometry: g, col, dcol } = this;
    const x = this.x!;
    // dz = dy ⊙ f′(z); for a linear layer dz is dy itself.
    let dz = dy;
    if (this.act.name !== "linear") {
      dz = this.dzWs.get(B);
      accel.activateBackward(this.act, this.z!, this.y!, dy, dz, B * F * P);
    }
    this.dz = dz;
    const w = this.weight.value, dW = this.weight.grad;
    const db = this.bias ? this.bias.grad : null;
    const dx = needDx ? this.dxWs.get(B) : null;
    if (accel.ops.conv2dBackward?.(g, F, B, x, w, dz, dW, db, dx)) return dx; // the loop below, batched, in WebAssembly (wasm.ts)
    if (dx) dx.fill(0, 0, B * inSize);
    for (let i = 0; i < B; i++) {
      const d = i * F * P;
      if (db) {
        for (let f = 0; f < F; f++) {
          let s = 0;
          for (let p = 0; p < P; p++) s += dz[d + f * P + p];
          db[f] += s;                                    // db += Σ_p dz_i
        }
      }
      im2col(x, i * inSize, g, col, 0);                   // col [R, P] again, as in forward
      accel.gemmNT(F, R, P, dz, d, col, 0, dW, 0, true); // dW[F, R] += dz_i·colᵀ
      if (!dx) continue;
      accel.gemmTN(R, P, F, w, 0, dz, d, dcol, 0, false); // dcol[R, P] = Wᵀ·dz_i
      col2im(dcol, 0, g, dx, i * inSize);                 // dx_i += col2im(dcol)
    }
    return dx;
  }

  probe(): LayerProbe {
    return { units: this.F * this.P, z: this.z, y: this.y, dz: this.dz, act: this.act };
  }
}

const PADDING = `"same", "valid" or a non-negative integer`;

/** The conv2d kind: config fields, builder, name, memory, diagnosis role, lab texts, PyTorch twin. */
export const conv2dKind: LayerKind<Conv2dSpec> = {
  type: "conv2d",
  about: "2-D convolution over an image [C, H, W]: filters K×K, stride, padding \"same\" / \"valid\" / n",
  prefix: "conv",
  fields: {
    filters: positiveInt().sizing("filters"), kernel: positiveInt().sizing("kernel"), stride: positiveInt().sizing("kernel").optional(),
    padding: either(PADDING, oneOf(["same", "valid"]), int(PADDING, { gte: 0 })).sizing("kernel").optional(),
    activation: activationField().optional(), init: init().optional(), biasInit: init().optional(), bias: bool().optional(),
  },
  role: "weighted",
  pytorch: "nn.Conv2d(C, filters, kernel, stride, padding), then the activation",
  build: (spec, name, inShape, ctx) => new Conv2d(name, inShape, spec, ctx),
  estimate(spec, inShape) {
    // A flat input is refused by the builder; estimate it as one row so the estimate never throws.
    const [C, H, W] = inShape.length === 3 ? inShape : [1, 1, size(inShape)];
    const K = spec.kernel, S = spec.stride ?? 1;
    const p = spec.padding === "same" ? Math.floor(K / 2) : spec.padding === "valid" || spec.padding === undefined ? 0 : spec.padding;
    const Ho = Math.max(1, convOutSize(H, K, S, p)), Wo = Math.max(1, convOutSize(W, K, S, p));
    return {
      params: spec.filters * C * K * K + (spec.bias === false ? 0 : spec.filters),
      outShape: [spec.filters, Ho, Wo],
      scratch: C * K * K * Ho * Wo * 2,  // im2col and its gradient
      largest: Math.max(spec.filters * C * K * K, C * K * K * Ho * Wo),
    };
  },
  walk: { through: (name) => `× Wᵀ of ${name} (a transposed convolution)` },
  editor: {
    defaults: (c) => ({ type: "conv2d", filters: Math.min(c.units, 64), kernel: 3, padding: "same", activation: c.activation, init: "he" }),
    controls: [
      { control: "number", key: "filters", label: "filters", min: 1 },
      { control: "number", key: "kernel", label: "kernel", min: 1 },
      { control: "number", key: "stride", label: "stride", min: 1, optional: true },
      { control: "select", key: "padding", label: "padding", options: ["same", "valid"] },
      controls.activation, controls.init,
    ],
  },
};
