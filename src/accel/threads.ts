/**
 * How many kernel threads a run uses when none is asked for: one, or two (the main thread and
 * a helper, engine.ts's withHelper), decided from the model's shapes alone so that the same
 * config always makes the same choice. The results are bit for bit the same either way (the
 * helper runs the same code on the same values; test/accel/threads.test.ts trains with both),
 * so the choice is only about speed.
 *
 * The rule, from the measurements of bench/README.md ("A second thread": helper ÷ one thread on
 * this project's seven benchmark networks): the helper splits products of ≥ 2^18 multiply-adds
 * and recurrent cell steps, and it pays where those dominate a step —
 *   recurrent layers of ≥ 64 units (row RNN/LSTM/GRU of 128: ×1.33–1.45), and
 *   dense layers whose fan-in and width are both ≥ 256 (MLP 784-256×3-10: ×1.14);
 * it does not pay where copies into shared memory, the one-thread gather and update, and small
 * products dominate: the seed 784-5-5-10 (×0.58), MLP 784-100×10-10 (×1.00), and convolutional
 * networks (the c8-p-c16-p CNN: ×0.84), which keep one thread.
 */
import type { LayerSpec } from "../core/spec.ts";

/** Recurrent layers at least this wide take the helper. */
export const RECURRENT_UNITS_FOR_TWO = 64;
/** Dense layers whose fan-in and width are both at least this take the helper. */
export const DENSE_SIDE_FOR_TWO = 256;

/**
 * The kernel threads for a model of `layers` on inputs of `inShape` (data/views.ts's viewShape):
 * 2 where the helper thread pays (see the header), else 1. Convolutional models always get 1.
 * @example chooseThreads([{ type: "lstm", units: 128 }, { type: "dense", units: 10 }], [28, 28]) // 2
 * @example chooseThreads([{ type: "dense", units: 5 }, { type: "dense", units: 10 }], [784]) // 1
 */
export function chooseThreads(layers: readonly LayerSpec[], inShape: readonly number[]): 1 | 2 {
  let conv = false, pays = false;
  let features = inShape.reduce((a, b) => a * b, 1); // the current layer's input width (flattened)
  const walk = (specs: readonly LayerSpec[]): void => {
    for (const s of specs) {
      if (s.type === "conv2d") conv = true;
      else if (s.type === "residual") walk(s.layers);
      else if (s.type === "rnn" || s.type === "lstm" || s.type === "gru") {
        if (s.units >= RECURRENT_UNITS_FOR_TWO) pays = true;
        features = s.units;
      } else if (s.type === "dense") {
        if (features >= DENSE_SIDE_FOR_TWO && s.units >= DENSE_SIDE_FOR_TWO) pays = true;
        features = s.units;
      }
    }
  };
  walk(layers);
  return pays && !conv ? 2 : 1;
}
