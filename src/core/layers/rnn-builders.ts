/** Builders for the recurrent family (rnn, lstm, gru). */
import type { LayerBuilder } from "../model.ts";
import type { GruSpec, LstmSpec, RnnSpec } from "../spec.ts";
import { Gru } from "./gru.ts";
import { Lstm } from "./lstm.ts";
import { Rnn } from "./rnn.ts";

export const RNN_BUILDERS: Record<string, LayerBuilder> = {
  rnn: (spec, name, inShape, ctx) => new Rnn(name, inShape, spec as RnnSpec, ctx),
  lstm: (spec, name, inShape, ctx) => new Lstm(name, inShape, spec as LstmSpec, ctx),
  gru: (spec, name, inShape, ctx) => new Gru(name, inShape, spec as GruSpec, ctx),
};
