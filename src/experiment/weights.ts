/**
 * Weights as safetensors, under PyTorch's names and layouts, so a
 * state_dict moves between gradlab and PyTorch unchanged. Pure: bytes in, bytes out.
 */
import { InputError } from "../core/errors.ts";
import type { Model } from "../core/model.ts";
import { shapeText } from "../core/tensor.ts";
import { decodeSafetensors, encodeSafetensors, type StInput } from "../data/safetensors.ts";

/** The model's parameters and buffers (running statistics) as a safetensors file. */
export function encodeWeights(model: Model, metadata?: Record<string, string>): Uint8Array {
  const out = new Map<string, StInput>();
  for (const t of [...model.params, ...model.buffers]) out.set(t.name, { shape: t.shape, data: Float32Array.from(t.value) });
  return encodeSafetensors(out, metadata);
}

/**
 * Load weights into the model. Every parameter and buffer must be present with its exact shape
 * and dtype F32; unknown names are errors too (they usually mean a different architecture).
 * Nothing is changed unless the whole file fits.
 */
export function loadWeights(model: Model, bytes: Uint8Array, what: string): void {
  const { tensors } = decodeSafetensors(bytes, what);
  const wanted = [...model.params, ...model.buffers];
  const names = new Set(wanted.map((t) => t.name));
  for (const name of tensors.keys()) {
    if (!names.has(name)) {
      throw new InputError(`${what}: tensor "${name}" does not belong to this model; expected only ${[...names].join(", ")}`);
    }
  }
  for (const t of wanted) {
    const st = tensors.get(t.name);
    if (!st) throw new InputError(`${what}: tensor "${t.name}" is missing; the model needs ${shapeText(t.shape)} F32`);
    if (st.dtype !== "F32") throw new InputError(`${what}: tensor "${t.name}" has dtype ${st.dtype}; expected F32`);
    if (st.shape.length !== t.shape.length || st.shape.some((d, i) => d !== t.shape[i])) {
      throw new InputError(`${what}: tensor "${t.name}" has shape ${shapeText(st.shape)}; expected ${shapeText(t.shape)}`);
    }
  }
  for (const t of wanted) t.value.set(tensors.get(t.name)!.data as Float32Array);
}
