/**
 * What gradlab knows about a layer kind, declared once, in the kind's own file (dense.ts,
 * layernorm.ts, …) next to its forward and backward, and listed in registry.ts. Every other
 * part of the program (building and naming in model.ts, the config schema, the memory estimate,
 * the lab's editor, walk and limits, the diagnosis) asks the registry instead of switching on
 * the type. docs/architecture.md lists the facets and walks through adding a kind.
 *
 * The config fields are declared with the small descriptors below, plain data (src/core has
 * no runtime dependencies, so no zod here); src/experiment/config.ts turns them into its zod
 * schema, with the same one-line error messages.
 */
import { ACTIVATION_NAMES } from "../activations.ts";
import type { InitName, LayerSpec } from "../spec.ts";
import type { BuildContext, Layer } from "./layer.ts";

// ---------------------------------------------------------------------------------------------
// Config fields.

/** What a number field sizes; the browser lab caps each class (src/web/state.ts LAB_LIMITS). */
export type SizeClass = "units" | "filters" | "kernel" | "window";

/** The value a field accepts. `what` is the text of `expected <what>; got …` in error messages. */
export type FieldType =
  | { kind: "number"; what: string; int: boolean; gt?: number; gte?: number; lt?: number; lte?: number }
  | { kind: "bool" }
  | { kind: "oneOf"; values: readonly string[] }
  | { kind: "init" }
  | { kind: "either"; what: string; options: readonly Field[] }
  | { kind: "layers" };

/** A config field: its value type, whether it may be left out, and what it sizes (if anything). */
export class Field {
  constructor(readonly type: FieldType, readonly required = true, readonly sizes: SizeClass | null = null) {}
  /** The same field, allowed to be absent. @example int("a positive integer", {gte: 1}).optional() */
  optional(): Field { return new Field(this.type, false, this.sizes); }
  /** The same field, marked as sizing `what` (the lab caps it). @example positiveInt().sizing("units") */
  sizing(what: SizeClass): Field { return new Field(this.type, this.required, what); }
}

type Bounds = { gt?: number; gte?: number; lt?: number; lte?: number };
/** A finite number within bounds. @example num("a number in [0, 1]", {gte: 0, lte: 1}) */
export const num = (what: string, bounds: Bounds = {}) => new Field({ kind: "number", what, int: false, ...bounds });
/** An integer within bounds. @example int("a non-negative integer", {gte: 0}) */
export const int = (what: string, bounds: Bounds = {}) => new Field({ kind: "number", what, int: true, ...bounds });
/** An integer ≥ 1: units, filters, sizes. */
export const positiveInt = () => int("a positive integer", { gte: 1 });
/** A number > 0: eps and friends. */
export const positiveNumber = () => num("a positive number", { gt: 0 });
/** true or false. */
export const bool = () => new Field({ kind: "bool" });
/** One of a list of names. @example oneOf(["tanh", "relu", "sigmoid"]) */
export const oneOf = (values: readonly string[]) => new Field({ kind: "oneOf", values });
/** An activation name (activations.ts). */
export const activationField = () => oneOf(ACTIVATION_NAMES);
/** An initializer: a name or an object {"type", "std", "scale", "gain"} (init.ts). */
export const init = () => new Field({ kind: "init" });
/** Any of several field types; `what` describes them together. */
export const either = (what: string, ...options: Field[]) => new Field({ kind: "either", what, options });
/** A non-empty list of layers (a container's block). */
export const layers = () => new Field({ kind: "layers" });

// ---------------------------------------------------------------------------------------------
// The other facets.

/**
 * What the layer does to the gradient, for the diagnosis: "weighted" (an affine map with a
 * weight matrix: dense, conv2d), "normalizes" (batchnorm, layernorm: has a weight, but a scale
 * and not a map, so it is left out of the depth profile), "shape-only" (no parameters: flatten,
 * pooling), "recurrent" (rnn, lstm, gru: a chain through time), "container" (holds a block).
 */
export type LayerRole = "weighted" | "normalizes" | "shape-only" | "recurrent" | "container";

/** What a layer costs in memory, from its spec and input shape alone (nothing is allocated). */
export interface Footprint {
  /** parameter count */
  params: number;
  /** per-example output shape */
  outShape: number[];
  /** elements of the largest single array besides the output (a weight matrix, im2col's columns) */
  largest?: number;
  /** per-example scratch elements besides the output's copies (im2col and its gradient) */
  scratch?: number;
  /** per-example elements of [T, B, ·] caches, which evaluation runs in chunks (recurrent.ts) */
  recurrent?: number;
}

/** One control of the lab's editor row. */
export type EditorControl =
  | { control: "number"; key: string; label: string; min: number; optional?: boolean }
  /** a select showing `shown` (else "(default)") when the key is unset; picking `unsetOn` removes the key */
  | { control: "select"; key: string; label: string; options: readonly string[]; shown?: string; unsetOn?: string }
  /** a checkbox: checked sets the key to true, unchecked removes it; `id` names its DOM key */
  | { control: "checkbox"; key: string; label: string; id: string; aria: string };

/** What the editor carries over from the row a new layer replaces. */
export interface Carried { units: number; activation: string; init: string | undefined }

/** What every layer spec has; a kind's spec adds its fields. */
export interface BaseSpec { type: string; name?: string }

/**
 * Everything about one layer kind. `S` is its config spec (the JSON object of one layer).
 * Methods, not function properties, so a kind of one spec type fits the registry's list.
 */
export interface LayerKind<S extends BaseSpec = BaseSpec> {
  /** the config's "type" */
  readonly type: S["type"];
  /** one line for the README's config reference and the editor's tooltip */
  readonly about: string;
  /** auto-names are prefix + 1-based count: conv2d → conv1, batchnorm → bn1 */
  readonly prefix: string;
  /** the spec's fields besides "type" and "name", in the order errors list them */
  readonly fields: Readonly<Record<string, Field>>;
  readonly role: LayerRole;
  /** the PyTorch module(s) computing the same thing, as the fixtures script builds them */
  readonly pytorch: string;
  /** build the layer for per-example input `inShape`; shape mistakes are InputErrors naming ctx.path */
  build(spec: S, name: string, inShape: number[], ctx: BuildContext): Layer;
  /**
   * Parameters, output shape and memory of the layer, without building it; never throws on a
   * valid spec. `nested` estimates a container's block and returns its output shape.
   */
  estimate(spec: S, inShape: number[], nested: (specs: LayerSpec[], inShape: number[]) => number[]): Footprint;
  /** the walk (src/web/walk-view.ts): how the error passes back through the layer */
  readonly walk: {
    /** the step's label: "through bn1's normalization" */
    through(name: string): string;
    /** for a weight map, the sentence that explains the step: "Multiplying by …" */
    explain?(name: string, outShape: number[]): string;
  };
  /** the lab's editor (src/web/editor.ts): a new row of this kind, and the row's controls */
  readonly editor: {
    defaults(carried: Carried): Record<string, unknown>;
    controls: readonly EditorControl[];
  };
}

/** Initializers in the order the editor offers them: the common ones first. */
const EDITOR_INITS: readonly InitName[] = [
  "standard", "glorot", "glorot_normal", "he", "he_uniform", "lecun", "normal", "uniform", "orthogonal", "identity",
  "zeros", "ones", "xavier", "kaiming",
];

/** The recurring editor controls, spelled once. */
export const controls = {
  units: { control: "number", key: "units", label: "units", min: 1 },
  activation: { control: "select", key: "activation", label: "activation", options: ACTIVATION_NAMES, shown: "linear" },
  /** for layers where no activation is the default: picking linear removes the key */
  optionalActivation: { control: "select", key: "activation", label: "activation", options: ACTIVATION_NAMES, shown: "linear", unsetOn: "linear" },
  init: { control: "select", key: "init", label: "init", options: EDITOR_INITS, shown: "standard" },
} as const satisfies Record<string, EditorControl>;
