/**
 * Flatten: [B, ...inShape] → [B, Π inShape]. Row-major data needs no copy, so forward and
 * backward hand the same buffer through.
 */
import { size } from "../tensor.ts";
import type { FloatArray } from "../tensor.ts";
import type { LayerKind } from "./kind.ts";
import type { Layer, NamedBuffer, Param } from "./layer.ts";

/** `{"type": "flatten"}`. */
export interface FlattenSpec { type: "flatten"; name?: string }

export class Flatten implements Layer {
  readonly type = "flatten";
  readonly params: Param[] = [];
  readonly buffers: NamedBuffer[] = [];
  readonly outShape: number[];
  constructor(readonly name: string, readonly inShape: number[]) {
    this.outShape = [size(inShape)];
  }
  forward(x: FloatArray): FloatArray { return x; }
  backward(dy: FloatArray, _B: number, needDx: boolean): FloatArray | null { return needDx ? dy : null; }
  probe(): null { return null; }
}

/** The flatten kind: config fields, builder, name, memory, diagnosis role, lab texts, PyTorch twin. */
export const flattenKind: LayerKind<FlattenSpec> = {
  type: "flatten",
  about: "[C, H, W] or [T, H] to one row, row-major (no copy)",
  prefix: "flatten",
  fields: {},
  role: "shape-only",
  pytorch: "x.reshape(B, -1)",
  build: (_spec, name, inShape) => new Flatten(name, inShape),
  estimate: (_spec, inShape) => ({ params: 0, outShape: [size(inShape)] }),
  walk: { through: (name) => `through ${name} (a reshape)` },
  editor: { defaults: () => ({ type: "flatten" }), controls: [] },
};
