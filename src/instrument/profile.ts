/**
 * Which layers a depth profile compares, read from metrics records alone (no engine code, so the
 * browser page can use it): every layer with a weight tensor, input → output, except
 * normalization layers, which rescale δ by construction.
 */
import type { LayerRecord, StepRecord } from "./recorder.ts";

/**
 * Whether a layer type normalizes its input (batch norm, layer norm). Such a layer rescales δ
 * by construction, so the depth profile and the diagnosis leave it out of the layer-to-layer
 * comparison. A list of names rather than a look-up in the layer registry, so that the report's
 * charts (and the browser page that draws them) need no engine code; test/core/registry.test.ts
 * keeps it equal to the kinds whose role is "normalizes".
 * @example isNormalization("batchnorm") // true
 */
export function isNormalization(type: string): boolean {
  return type === "batchnorm" || type === "layernorm";
}

/**
 * The key of the weight tensor that stands for a layer: "weight", "weight_ih_l0" for recurrent
 * layers ("weight_ih" in metrics written before the names followed PyTorch's), else the first.
 */
export function weightKeyOf(l: LayerRecord): string | undefined {
  if (l.params.weight) return "weight";
  if (l.params.weight_ih_l0) return "weight_ih_l0";
  if (l.params.weight_ih) return "weight_ih";
  return Object.keys(l.params)[0];
}

/**
 * The layers of a depth profile, input → output: every layer with a weight tensor, except
 * normalization layers.
 * @example profileLayers(rec).map((l) => l.name) // ["dense1", "dense2", "dense3"]
 */
export function profileLayers(rec: StepRecord): LayerRecord[] {
  return rec.layers.filter((l) => weightKeyOf(l) !== undefined && !isNormalization(l.type));
}
