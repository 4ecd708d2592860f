/**
 * A tensor is a shape and a flat row-major buffer. Float32 for training; Float64 is allowed so
 * gradient checks can use central differences without float32 round-off.
 */

export type FloatArray = Float32Array | Float64Array;
export type DType = "f32" | "f64";

export interface Tensor {
  shape: number[];
  data: FloatArray;
}

/** Number of elements of a shape. @example size([2, 3, 4]) // 24 */
export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A zero-filled buffer of the given dtype. @example floats("f32", 4) // Float32Array(4) */
export function floats(dtype: DType, n: number): FloatArray {
  return dtype === "f64" ? new Float64Array(n) : new Float32Array(n);
}

/** A zero tensor. @example zeros("f32", [2, 3]).data.length // 6 */
export function zeros(dtype: DType, shape: number[]): Tensor {
  return { shape: [...shape], data: floats(dtype, size(shape)) };
}

/** The dtype of a buffer. */
export function dtypeOf(a: FloatArray): DType {
  return a instanceof Float64Array ? "f64" : "f32";
}

/** "[2, 3, 4]" style text for messages. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
