/**
 * The model part of a gradlab config, as plain types: what src/core needs to build a network.
 * The JSON schema that validates user input into these types lives in src/experiment/config.ts.
 * Names follow the public contract (README.md, docs/architecture.md); add fields freely, rename never.
 * Each layer kind declares its own spec next to its forward and backward (src/core/layers/).
 */
import type { AnyLayerSpec } from "./layers/registry.ts";

/** Activation names; see activations.ts for the formulas. */
export type ActivationName =
  | "sigmoid" | "tanh" | "relu" | "leaky_relu" | "elu" | "gelu" | "softsign" | "linear";

/** Initializer names; aliases: xavier = glorot, kaiming = he. See init.ts. */
export type InitName =
  | "zeros" | "ones" | "normal" | "uniform" | "standard"
  | "glorot" | "xavier" | "glorot_normal" | "he" | "kaiming" | "he_uniform" | "lecun"
  | "orthogonal" | "identity";

/**
 * An initializer: a name, or an object with a scale. `std` applies to normal, `scale` to
 * uniform (U[−scale, scale]), `gain` multiplies any named init (orthogonal, identity, glorot, …).
 */
export type InitSpec = InitName | { type: InitName; std?: number; scale?: number; gain?: number };

/**
 * One layer of a config: the union of the specs the layer kinds declare in their own files
 * (src/core/layers/registry.ts lists them; `type` picks the kind).
 */
export type LayerSpec = AnyLayerSpec;
export type { DenseSpec } from "./layers/dense.ts";
export type { Conv2dSpec } from "./layers/conv2d.ts";
export type { PoolSpec } from "./layers/pool.ts";
export type { FlattenSpec } from "./layers/flatten.ts";
export type { BatchNormSpec } from "./layers/batchnorm.ts";
export type { ResidualSpec } from "./layers/residual.ts";
export type { RecurrentSpecBase } from "./layers/recurrent.ts";
export type { RnnSpec } from "./layers/rnn.ts";
export type { LstmSpec } from "./layers/lstm.ts";
export type { GruSpec } from "./layers/gru.ts";

export interface ModelSpec { layers: LayerSpec[] }

export type LossName = "cross_entropy" | "mse";

export interface OptimizerSpec {
  type: "sgd" | "adam" | "rmsprop";
  lr: number;
  momentum?: number;        // sgd, rmsprop; default 0
  nesterov?: boolean;       // sgd; default false
  weightDecay?: number;     // L2 added to the gradient (PyTorch's weight_decay); default 0
  betas?: [number, number]; // adam; default [0.9, 0.999]
  eps?: number;             // adam 1e-8, rmsprop 1e-8
  alpha?: number;           // rmsprop smoothing; default 0.99
  clipNorm?: number;        // clip by global L2 norm (PyTorch clip_grad_norm_)
  clipValue?: number;       // clip each element to [−v, v] (PyTorch clip_grad_value_)
}
