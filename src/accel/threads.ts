/**
 * How many kernel threads a run uses when none is asked for: one, or two (the main thread and
 * a helper, engine.ts's withHelper), decided from the model's shapes alone so that the same
 * config always makes the same choice. The results are bit for bit the same either way (the
 * helper runs the same code on the same values; test/accel/threads.test.ts trains with both),
 * so the choice is only about speed.
 *
 * The rule, from whole runs (bench/README.md, part 0: 20,000 training and 10,000 test examples,
 * the helper ÷ one thread): the helper splits products of ≥ 2^18 multiply-adds and recurrent
 * cell steps, and it pays where those dominate a run —
 *   recurrent layers of ≥ 64 units (row RNN/LSTM/GRU of 128: ×1.01–1.42), and
 *   dense layers of ≥ 2^20 weights, fan-in × width (MLP 784-1024×3-10: ×1.3);
 * it does not pay where copies into shared memory (~4× slower than into private memory), the
 * one-thread gather and update, and small products dominate: MLP 784-256×3-10 (two threads
 * 0.74–1.10× one across five measurements, median 0.98: where it is even, one thread leaves the
 * other core free), 784-512×3-10 (even), the seed 784-5-5-10, MLP 784-100×10-10 and
 * convolutional networks (the c8-p-c16-p CNN), which keep one thread.
 */
import type { LayerSpec } from "../core/spec.ts";

/** Recurrent layers at least this wide take the helper. */
export const RECURRENT_UNITS_FOR_TWO = 64;
/** Dense layers with at least this many weights (fan-in × width: 1,024 × 1,024) take the helper. */
export const DENSE_WEIGHTS_FOR_TWO = 2 ** 20;

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
        if (features * s.units >= DENSE_WEIGHTS_FOR_TWO) pays = true;
        features = s.units;
      }
    }
  };
  walk(layers);
  return pays && !conv ? 2 : 1;
}
