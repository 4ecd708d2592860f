/**
 * The model part of a gradlab config, as plain types: what src/core needs to build a network.
 * The JSON schema that validates user input into these types lives in src/experiment/config.ts.
 * Names follow the public contract (README.md, docs/architecture.md); add fields freely, rename never.
 */

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

export interface DenseSpec {
  type: "dense"; name?: string; units: number;
  activation?: ActivationName; init?: InitSpec; biasInit?: InitSpec; bias?: boolean;
}
export interface Conv2dSpec {
  type: "conv2d"; name?: string; filters: number; kernel: number; stride?: number;
  padding?: "same" | "valid" | number; activation?: ActivationName; init?: InitSpec;
  biasInit?: InitSpec; bias?: boolean;
}
export interface PoolSpec { type: "maxpool2d" | "avgpool2d"; name?: string; size: number; stride?: number }
export interface FlattenSpec { type: "flatten"; name?: string }
export interface BatchNormSpec {
  type: "batchnorm"; name?: string; momentum?: number; eps?: number; activation?: ActivationName;
}
export interface ResidualSpec { type: "residual"; name?: string; layers: LayerSpec[]; activation?: ActivationName }
export interface RecurrentSpecBase {
  name?: string; units: number; init?: InitSpec; recurrentInit?: InitSpec; biasInit?: InitSpec;
  returnSequences?: boolean;
}
export interface RnnSpec extends RecurrentSpecBase { type: "rnn"; activation?: "tanh" | "relu" | "sigmoid" }
export interface LstmSpec extends RecurrentSpecBase { type: "lstm"; forgetBias?: number }
export interface GruSpec extends RecurrentSpecBase { type: "gru" }

export type LayerSpec =
  | DenseSpec | Conv2dSpec | PoolSpec | FlattenSpec | BatchNormSpec | ResidualSpec
  | RnnSpec | LstmSpec | GruSpec;

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
