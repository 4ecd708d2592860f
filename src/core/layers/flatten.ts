/**
 * Flatten: [B, ...inShape] → [B, Π inShape]. Row-major data needs no copy, so forward and
 * backward hand the same buffer through.
 */
import { size } from "../tensor.ts";
import type { FloatArray } from "../tensor.ts";
import type { Layer, NamedBuffer, Param } from "./layer.ts";

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
