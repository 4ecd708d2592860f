/**
 * The layer kinds gradlab knows, in the order the config reference lists them. Each kind's file
 * declares everything about it (kind.ts lists the facets); this list is the one place that
 * names them all. Adding a kind = its file, this line, its test and its PyTorch fixture
 * (docs/architecture.md, "How to add a layer kind").
 */
import { batchnormKind } from "./batchnorm.ts";
import { conv2dKind } from "./conv2d.ts";
import { denseKind } from "./dense.ts";
import { flattenKind } from "./flatten.ts";
import { gruKind } from "./gru.ts";
import type { LayerKind, LayerRole } from "./kind.ts";
import { layernormKind } from "./layernorm.ts";
import { lstmKind } from "./lstm.ts";
import { avgpool2dKind, maxpool2dKind } from "./pool.ts";
import { residualKind } from "./residual.ts";
import { rnnKind } from "./rnn.ts";

/** Every kind, in the config reference's order. */
export const KINDS = [
  denseKind, conv2dKind, maxpool2dKind, avgpool2dKind, flattenKind, batchnormKind, layernormKind, residualKind,
  rnnKind, lstmKind, gruKind,
] as const;

/** The spec a kind builds from. */
type SpecOf<K> = K extends LayerKind<infer S> ? S : never;
/** The spec of one layer of a config: the union of every kind's spec (re-exported by spec.ts). */
export type AnyLayerSpec = SpecOf<(typeof KINDS)[number]>;

/** The layer type names: "dense", "conv2d", …, in the config reference's order. */
export const LAYER_TYPES: readonly string[] = KINDS.map((k) => k.type);

const BY_TYPE = new Map<string, LayerKind>(KINDS.map((k) => [k.type, k as LayerKind]));

/** The kind of a type name, or undefined. @example kindOf("layernorm")?.prefix // "ln" */
export function kindOf(type: string): LayerKind | undefined {
  return BY_TYPE.get(type);
}

/**
 * What a layer of this type does to the gradient (kind.ts LayerRole); undefined for a type
 * gradlab does not know (a layer recorded by the PyTorch probe, say).
 * @example layerRole("batchnorm") // "normalizes"
 */
export function layerRole(type: string): LayerRole | undefined {
  return BY_TYPE.get(type)?.role;
}

/**
 * Whether the layer normalizes (batchnorm, layernorm): it has a weight, but a scale per feature
 * and not a map between layers, so the depth profile and the vanishing verdict leave it out.
 * @example isNormalization("layernorm") // true
 */
export function isNormalization(type: string): boolean {
  return layerRole(type) === "normalizes";
}

/** The nested layer specs of a container (residual's block), else null. */
export function childSpecs(spec: AnyLayerSpec): AnyLayerSpec[] | null {
  return layerRole(spec.type) === "container" ? (spec as { layers: AnyLayerSpec[] }).layers : null;
}

/** The facets every kind must declare (kind.ts), each with what it is for. */
const FACETS: Record<keyof LayerKind, string> = {
  type: "its config type name",
  about: "its one-line description",
  prefix: "its name prefix (conv2d → conv1)",
  fields: "its config fields",
  role: "its role for the diagnosis",
  pytorch: "its PyTorch counterpart",
  build: "its builder",
  estimate: "its memory estimate",
  walk: "its text in the walk",
  editor: "its editor defaults and controls",
};
const ROLES: readonly LayerRole[] = ["weighted", "normalizes", "shape-only", "recurrent", "container"];

/**
 * What is missing or wrong in a kind's declaration, one line each (empty when complete). Type
 * checking catches the same in TypeScript; this also guards kinds built from plain objects.
 * @example kindProblems({ ...denseKind, walk: undefined }) // ['layer kind "dense" does not declare walk (its text in the walk)']
 */
export function kindProblems(kind: Partial<Record<keyof LayerKind, unknown>>): string[] {
  const name = typeof kind.type === "string" && kind.type ? kind.type : "(unnamed)";
  const out: string[] = [];
  for (const [facet, what] of Object.entries(FACETS)) {
    if (kind[facet as keyof LayerKind] === undefined || kind[facet as keyof LayerKind] === null) out.push(`layer kind "${name}" does not declare ${facet} (${what})`);
  }
  if (out.length) return out;
  const k = kind as LayerKind;
  if (!/^[a-z][a-z0-9]*$/.test(k.prefix)) out.push(`layer kind "${name}": prefix must be lower-case letters and digits; got ${JSON.stringify(k.prefix)}`);
  if (!ROLES.includes(k.role)) out.push(`layer kind "${name}": role must be one of ${ROLES.join(", ")}; got ${JSON.stringify(k.role)}`);
  if (typeof k.build !== "function") out.push(`layer kind "${name}": build must be a function`);
  if (typeof k.estimate !== "function") out.push(`layer kind "${name}": estimate must be a function`);
  if (typeof k.walk.through !== "function") out.push(`layer kind "${name}" does not declare walk.through (its text in the walk)`);
  if (typeof k.editor.defaults !== "function") out.push(`layer kind "${name}" does not declare editor.defaults (a new row of this kind)`);
  if (!Array.isArray(k.editor.controls)) out.push(`layer kind "${name}" does not declare editor.controls (its editor row)`);
  for (const key of ["type", "name"]) if (key in k.fields) out.push(`layer kind "${name}": fields must not declare "${key}" (every layer has it)`);
  return out;
}

// A kind missing a facet stops the program at start-up with the line naming it.
for (const k of KINDS) {
  const problems = kindProblems(k);
  if (problems.length) throw new Error(problems[0]);
}
{
  const prefixes = new Map<string, string>();
  for (const k of KINDS) {
    const other = prefixes.get(k.prefix);
    if (other) throw new Error(`layer kinds "${other}" and "${k.type}" share the name prefix "${k.prefix}"`);
    prefixes.set(k.prefix, k.type);
  }
}
