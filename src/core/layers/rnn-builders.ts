/** Builders for the recurrent family (rnn, lstm, gru). */
import type { LayerBuilder } from "../model.ts";

export const RNN_BUILDERS: Record<string, LayerBuilder> = {};
