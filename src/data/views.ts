/**
 * Views turn 28×28 uint8 images into network inputs, a batch at a time (the full training set as
 * float32 would be 188 MB). Pixels are scaled to [0, 1] as x/255 and nothing else.
 *   flat [784] · image [1, 28, 28] · rows [28 steps × 28] · pixels [784 steps × 1]
 *   pixels-permuted [784 steps × 1] with one fixed permutation of the pixels (seed 1, stream 3,
 *   the same for every run so that runs compare; after Le, Jaitly & Hinton 2015)
 * All but the permuted view share the row-major pixel order, so they differ only in shape.
 */
import { InputError } from "../core/errors.ts";
import * as accel from "../accel/index.ts";
import { Rng } from "../core/rng.ts";

export type ViewName = "flat" | "image" | "rows" | "pixels" | "pixels-permuted";
export const VIEW_NAMES: ViewName[] = ["flat", "image", "rows", "pixels", "pixels-permuted"];

/** Per-example input shape of a view. @example viewShape("rows", 28, 28) // [28, 28] */
export function viewShape(view: ViewName, rows: number, cols: number): number[] {
  switch (view) {
    case "flat": return [rows * cols];
    case "image": return [1, rows, cols];
    case "rows": return [rows, cols];
    case "pixels": case "pixels-permuted": return [rows * cols, 1];
    default: throw new InputError(`data.view: expected one of ${VIEW_NAMES.join(", ")}; got ${JSON.stringify(view)}`);
  }
}

/** x/255 for every byte, rounded to float32 once (identical to PyTorch's float32 x/255). */
const SCALE = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/**
 * Draws minibatches from uint8 images: a seeded shuffle per epoch (stream 2 of the run's seed,
 * drawn at the start of each epoch) and a gather + scale into caller-owned buffers.
 */
export class BatchSource {
  readonly pixels: number;
  /** the current epoch's order of example indices */
  readonly order: Int32Array;
  private readonly perm: Int32Array | null;
  private readonly rng: Rng;

  constructor(
    private readonly images: Uint8Array,
    private readonly labels: Uint8Array,
    readonly n: number,
    rows: number,
    cols: number,
    view: ViewName,
    seed: number,
  ) {
    this.pixels = rows * cols;
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.rng = new Rng(seed, 2);
    this.perm = view === "pixels-permuted" ? fixedPermutation(this.pixels) : null;
  }

  /** Reshuffle the order for a new epoch. */
  shuffle(): void {
    for (let i = 0; i < this.n; i++) this.order[i] = i;
    this.rng.shuffle(this.order);
  }

  get rngState() { return this.rng.state(); }
  set rngState(s) { this.rng.setState(s); }

  /**
   * Fill x [count, pixels] and y [count] with examples order[start .. start+count) (or, when
   * `inOrder`, examples start .. start+count-1 unshuffled). Returns count.
   */
  fill(start: number, count: number, x: Float32Array | Float64Array, y: Int32Array, inOrder = false): number {
    const P = this.pixels;
    const img = this.images;
    const perm = this.perm;
    // The accelerator's gather (the same floats) reads images held in kernel memory (read into
    // accel.kernelBytes, or the training images it keeps there after their first batch).
    if (!perm && accel.ops.gather?.(img, P, inOrder ? null : this.order, start, count, x)) {
      for (let b = 0; b < count; b++) y[b] = this.labels[inOrder ? start + b : this.order[start + b]];
      return count;
    }
    for (let b = 0; b < count; b++) {
      const idx = inOrder ? start + b : this.order[start + b];
      const src = idx * P;
      const dst = b * P;
      if (perm) for (let i = 0; i < P; i++) x[dst + i] = SCALE[img[src + perm[i]]];
      else for (let i = 0; i < P; i++) x[dst + i] = SCALE[img[src + i]];
      y[b] = this.labels[idx];
    }
    return count;
  }
}

/** The permutation used by pixels-permuted; fixed, so every run sees the same one. */
export function fixedPermutation(n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  new Rng(1, 3).shuffle(p);
  return p;
}
