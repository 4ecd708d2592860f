/**
 * 2-D pooling over size×size windows with a stride (default = size, no padding, floor):
 * x [B, C, H, W] → y [B, C, Ho, Wo], Ho = floor((H − size)/stride) + 1 (PyTorch's
 * nn.MaxPool2d / nn.AvgPool2d). Max: y = the window's largest value (first one on ties, as
 * PyTorch), backward sends dy to that position only. Avg: y = the window's mean, backward
 * spreads dy/size² over the window. No weights and no activation, so probe() is null.
 */
import { InputError } from "../errors.ts";
import * as accel from "../../accel/index.ts";
import { shapeText, size, type FloatArray } from "../tensor.ts";
import { positiveInt, type LayerKind } from "./kind.ts";
import { Workspace, type BuildContext, type Layer, type NamedBuffer, type Param } from "./layer.ts";

/** `{"type": "maxpool2d", "size": 2}` (or avgpool2d); the stride defaults to the size. */
export interface PoolSpec { type: "maxpool2d" | "avgpool2d"; name?: string; size: number; stride?: number }

/** Shared shape logic: C, H, W in; Ho, Wo out; the spec's window and stride. */
abstract class Pool2d implements Layer {
  abstract readonly type: string;
  readonly params: Param[] = [];
  readonly buffers: NamedBuffer[] = [];
  readonly outShape: number[];
  protected readonly C: number;
  protected readonly H: number;
  protected readonly W: number;
  protected readonly Ho: number;
  protected readonly Wo: number;
  protected readonly size: number;
  protected readonly stride: number;
  protected readonly yWs: Workspace;  // [B, C, Ho, Wo]
  protected readonly dxWs: Workspace; // [B, C, H, W]

  constructor(readonly name: string, readonly inShape: number[], spec: PoolSpec, ctx: BuildContext) {
    if (inShape.length !== 3) {
      throw new InputError(`${ctx.path}: ${spec.type} expects an image input [C, H, W], got ${shapeText(inShape)}; use data.view "image"`);
    }
    const [C, H, W] = inShape;
    this.C = C;
    this.H = H;
    this.W = W;
    this.size = spec.size;
    this.stride = spec.stride ?? spec.size;
    this.Ho = Math.floor((H - this.size) / this.stride) + 1;
    this.Wo = Math.floor((W - this.size) / this.stride) + 1;
    if (this.Ho <= 0 || this.Wo <= 0) {
      throw new InputError(`${ctx.path}.size: a ${this.size}×${this.size} window does not fit the input ${shapeText(inShape)}`);
    }
    this.outShape = [C, this.Ho, this.Wo];
    this.yWs = new Workspace(ctx.dtype, C * this.Ho * this.Wo);
    this.dxWs = new Workspace(ctx.dtype, C * H * W);
  }

  abstract forward(x: FloatArray, B: number, train: boolean): FloatArray;
  abstract backward(dy: FloatArray, B: number, needDx: boolean): FloatArray | null;
  probe(): null { return null; }
}

export class MaxPool2d extends Pool2d {
  readonly type = "maxpool2d";
  private argmax = new Int32Array(0); // [B, C, Ho, Wo] index into x of each window's maximum

  forward(x: FloatArray, B: number): FloatArray {
    const { C, H, W, Ho, Wo, size, stride } = this;
    const n = B * C * Ho * Wo;
    if (this.argmax.length < n) this.argmax = new Int32Array(n);
    const arg = this.argmax;
    const y = this.yWs.get(B);
    if (accel.ops.maxpoolForward?.(B * C, H, W, Ho, Wo, size, stride, x, y, arg)) return y; // the loop below in WebAssembly, same result
    let o = 0;
    for (let plane = 0; plane < B * C; plane++) {
      const base = plane * H * W;
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0, start = base + oy * stride * W; ox < Wo; ox++, o++, start += stride) {
          // scan order (row by row) with a strict >, so a tie goes to the first, as in PyTorch
          let best = start;
          let max = x[start];
          if (size === 2) {
            // the common 2×2 window unrolled (performance: about 1.5× the loops below)
            let v = x[start + 1]; if (v > max) { max = v; best = start + 1; }
            v = x[start + W]; if (v > max) { max = v; best = start + W; }
            v = x[start + W + 1]; if (v > max) { max = v; best = start + W + 1; }
          } else {
            for (let ky = 0, r = start; ky < size; ky++, r += W) {
              for (let kx = 0; kx < size; kx++) {
                const v = x[r + kx];
                if (v > max) { max = v; best = r + kx; }
              }
            }
          }
          y[o] = max;
          arg[o] = best;
        }
      }
    }
    return y;
  }

  backward(dy: FloatArray, B: number, needDx: boolean): FloatArray | null {
    if (!needDx) return null;
    const { C, H, W, Ho, Wo } = this;
    const dx = this.dxWs.get(B);
    const arg = this.argmax;
    if (accel.ops.maxpoolBackward?.(B * C * Ho * Wo, arg, dy, dx, B * C * H * W)) return dx; // the loop below in WebAssembly
    dx.fill(0, 0, B * C * H * W);
    // += because windows overlap when stride < size
    for (let o = 0, n = B * C * Ho * Wo; o < n; o++) dx[arg[o]] += dy[o];
    return dx;
  }
}

export class AvgPool2d extends Pool2d {
  readonly type = "avgpool2d";

  forward(x: FloatArray, B: number): FloatArray {
    const { C, H, W, Ho, Wo, size, stride } = this;
    const y = this.yWs.get(B);
    const inv = 1 / (size * size);
    let o = 0;
    for (let plane = 0; plane < B * C; plane++) {
      const base = plane * H * W;
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++, o++) {
          let s = 0;
          for (let ky = 0, r = base + oy * stride * W + ox * stride; ky < size; ky++, r += W) {
            for (let kx = 0; kx < size; kx++) s += x[r + kx];
          }
          y[o] = s * inv;
        }
      }
    }
    return y;
  }

  backward(dy: FloatArray, B: number, needDx: boolean): FloatArray | null {
    if (!needDx) return null;
    const { C, H, W, Ho, Wo, size, stride } = this;
    const dx = this.dxWs.get(B);
    dx.fill(0, 0, B * C * H * W);
    const inv = 1 / (size * size);
    let o = 0;
    for (let plane = 0; plane < B * C; plane++) {
      const base = plane * H * W;
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++, o++) {
          const g = dy[o] * inv;
          for (let ky = 0, r = base + oy * stride * W + ox * stride; ky < size; ky++, r += W) {
            for (let kx = 0; kx < size; kx++) dx[r + kx] += g;
          }
        }
      }
    }
    return dx;
  }
}

/** The fields, memory estimate and editor controls both pooling kinds share. */
const poolKind = (type: PoolSpec["type"], about: string, pytorch: string, walk: (name: string) => string): LayerKind<PoolSpec> => ({
  type,
  about,
  prefix: type.replace(/2d$/, ""),
  fields: { size: positiveInt().sizing("window"), stride: positiveInt().sizing("window").optional() },
  role: "shape-only",
  pytorch,
  build: (spec, name, inShape, ctx) => (type === "maxpool2d" ? new MaxPool2d(name, inShape, spec, ctx) : new AvgPool2d(name, inShape, spec, ctx)),
  estimate(spec, inShape) {
    const [C, H, W] = inShape.length === 3 ? inShape : [1, 1, size(inShape)];
    const S = spec.stride ?? spec.size;
    return { params: 0, outShape: [C, Math.max(1, Math.floor((H - spec.size) / S) + 1), Math.max(1, Math.floor((W - spec.size) / S) + 1)] };
  },
  walk: { through: walk },
  editor: {
    defaults: () => ({ type, size: 2 }),
    controls: [
      { control: "number", key: "size", label: "size", min: 1 },
      { control: "number", key: "stride", label: "stride", min: 1, optional: true },
    ],
  },
});

/** The maxpool2d kind. */
export const maxpool2dKind = poolKind("maxpool2d", "the largest value of each size×size window",
  "nn.MaxPool2d(size, stride)", (name) => `through ${name} (to the max of each window)`);
/** The avgpool2d kind. */
export const avgpool2dKind = poolKind("avgpool2d", "the mean of each size×size window",
  "nn.AvgPool2d(size, stride)", (name) => `through ${name} (spread over each window)`);
