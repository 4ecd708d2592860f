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

// Recurrent tensors before their names followed nn.RNN/LSTM/GRU's (`lstm1.weight_ih`).
const OLD_RECURRENT_NAME = /\.(weight_ih|weight_hh|bias_ih|bias_hh)$/;

/**
 * The tensors of a file with recurrent names of the older form (`lstm1.weight_ih`) read under
 * PyTorch's (`lstm1.weight_ih_l0`), where `known` holds the latter; every other name is kept.
 * A file that holds both forms of one tensor is refused: which one is meant is unclear.
 * @example currentNames(new Map([["rnn1.weight_hh", t]]), new Set(["rnn1.weight_hh_l0"]), "w").keys() // "rnn1.weight_hh_l0"
 */
export function currentNames<T>(tensors: Map<string, T>, known: ReadonlySet<string>, what: string): Map<string, T> {
  const out = new Map<string, T>();
  for (const [name, t] of tensors) {
    const renamed = !known.has(name) && OLD_RECURRENT_NAME.test(name) && known.has(`${name}_l0`) ? `${name}_l0` : name;
    if (renamed !== name && tensors.has(renamed)) throw new InputError(`${what}: holds both "${name}" and "${renamed}"; expected one of them (PyTorch's name, "${renamed}")`);
    out.set(renamed, t);
  }
  return out;
}

/**
 * Load weights into the model. Every parameter and buffer must be present with its exact shape
 * and dtype F32; unknown names are errors too (they usually mean a different architecture).
 Recurrent tensors may carry the older names without `_l0` (see currentNames).
 * Nothing is changed unless the whole file fits.
 */
export function loadWeights(model: Model, bytes: Uint8Array, what: string): void {
  const wanted = [...model.params, ...model.buffers];
  const names = new Set(wanted.map((t) => t.name));
  const tensors = currentNames(decodeSafetensors(bytes, what).tensors, names, what);
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
