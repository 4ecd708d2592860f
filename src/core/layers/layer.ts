/**
 * The layer contract. Every layer pairs forward and backward in one file; forward keeps exactly
 * what backward needs; backward returns dX and ACCUMULATES (+=) into parameter gradients, which
 * the optimizer step zeroes. Buffers are raw arrays with an explicit batch size B and are
 * allocated once per capacity, so a training step allocates nothing.
 */
import type { Activation } from "../activations.ts";
import type { DType, FloatArray } from "../tensor.ts";
import type { Rng } from "../rng.ts";

/** A named tensor owned by a layer: parameters have a gradient, buffers (running stats) do not. */
export interface Param {
  /** full name, PyTorch style: "dense1.weight" */
  name: string;
  /** name within the layer: "weight", "bias", "weight_hh_l0", … */
  key: string;
  shape: number[];
  value: FloatArray;
  /** ∂L/∂value of the batch-mean loss; same shape */
  grad: FloatArray;
}

export interface NamedBuffer { name: string; key: string; shape: number[]; value: FloatArray }

/**
 * What the instrument reads after a backward pass, per layer: the pre-activation z, the output
 * y = f(z) and the back-propagated error dz = ∂L/∂z, each [B, units]. Null where a layer has no
 * such stage (flatten, pooling). Statistics are computed in src/instrument, never here.
 */
export interface LayerProbe {
  units: number;
  z: FloatArray | null;
  y: FloatArray | null;
  dz: FloatArray | null;
  act: Activation | null;
}

/**
 * Recurrent layers also expose per-time-step gradients: dh[t] = ∂L/∂h_t as [T, B, H]
 * (and dc for LSTM), filled during backward, plus W_hh for the spectral-norm check.
 */
export interface TimeProbe {
  T: number;
  H: number;
  dh: FloatArray;          // [T, B, H]
  dc: FloatArray | null;   // [T, B, H], LSTM only
  weightHH: Param;         // [G·H, H]
  gates: number;           // G: 1 rnn, 3 gru, 4 lstm
  gamma: number;           // sup of the nonlinearity's derivative: 1 tanh/relu, 0.25 sigmoid
  /** gate activations for saturation stats: [T, B, H] each */
  gateValues: { name: string; values: FloatArray }[];
}

export interface Layer {
  readonly name: string;
  readonly type: string;
  /** per-example input and output shapes (no batch dimension) */
  readonly inShape: number[];
  readonly outShape: number[];
  readonly params: Param[];
  readonly buffers: NamedBuffer[];
  /** y[B, ...outShape] = layer(x[B, ...inShape]); the returned array stays valid until the next forward */
  forward(x: FloatArray, B: number, train: boolean): FloatArray;
  /** given dy = ∂L/∂y, accumulate parameter gradients and return ∂L/∂x (null when !needDx) */
  backward(dy: FloatArray, B: number, needDx: boolean): FloatArray | null;
  /** the stage the instrument measures (null for shape-only layers) */
  probe(): LayerProbe | null;
  timeProbe?(): TimeProbe | null;
  /** nested layers (residual blocks), for instrumenting every layer */
  children?: Layer[];
}

/** What a layer builder receives besides its spec. */
export interface BuildContext {
  dtype: DType;
  rng: Rng;
  /** JSON path of the spec, for error messages: "model.layers[2]" */
  path: string;
  /** build nested layer specs (residual) */
  build(specs: import("../spec.ts").LayerSpec[], inShape: number[], path: string): Layer[];
}

/** A growable per-batch buffer: reallocated only when B exceeds the capacity. */
export class Workspace {
  private buf: FloatArray;
  constructor(private readonly dtype: DType, private readonly perExample: number) {
    this.buf = dtype === "f64" ? new Float64Array(0) : new Float32Array(0);
  }
  get(B: number): FloatArray {
    const n = B * this.perExample;
    if (this.buf.length < n) this.buf = this.dtype === "f64" ? new Float64Array(n) : new Float32Array(n);
    return this.buf;
  }
}
