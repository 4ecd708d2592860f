/**
 * Which layers a depth profile compares, read from metrics records and the layer registry's
 * roles: every layer with a weight tensor, input → output, except normalization layers, which
 * rescale δ by construction.
 */
import { isNormalization } from "../core/layers/registry.ts";
import type { LayerRecord, StepRecord } from "./recorder.ts";

/** Whether a layer type normalizes its input (the registry's role "normalizes"): such a layer rescales δ by construction. */
export { isNormalization };

/** The key of the weight tensor that stands for a layer ("weight", "weight_ih" for recurrent layers, else the first). */
export function weightKeyOf(l: LayerRecord): string | undefined {
  if (l.params.weight) return "weight";
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
