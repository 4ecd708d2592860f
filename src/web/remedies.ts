/**
 * The remedies for vanishing and exploding gradients, as edits of a raw config: each says what
 * it fixes and why, and `apply` returns the edited config (the input is left alone). A remedy
 * that makes its layers' signal larger (ReLU with He's init) also trains with a learning rate
 * that suits it: plain SGD at most 0.1, the rate of the remedies preset
 * (experiments/remedies.json), where the seed network's 0.5 can diverge. `remedyFor` says
 * when a remedy has nothing to act on in a network. Used by the learn panel ("try it", or
 * "compare in A/B") and the architecture editor. Pure.
 */
import type { RawConfig } from "./state.ts";

export interface Remedy {
  id: string;
  title: string;
  /** which factor of the product it acts on */
  fixes: string;
  why: string;
  /** what a network needs for the remedy to change it ("sigmoid or tanh hidden layers") */
  needs: string;
  apply(raw: RawConfig): RawConfig;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

function layersOf(raw: RawConfig): Json[] {
  const m = raw.model;
  return isObject(m) && Array.isArray(m.layers) ? (m.layers.filter(isObject) as Json[]) : [];
}

function withLayers(raw: RawConfig, layers: unknown[]): RawConfig {
  const out = clone(raw);
  out.model = { ...(isObject(out.model) ? out.model : {}), layers };
  return out;
}

/** Hidden layers: all but the last top-level layer (the output). */
function mapHidden(raw: RawConfig, f: (l: Json) => Json | Json[]): RawConfig {
  const ls = clone(layersOf(raw));
  const out: Json[] = [];
  ls.forEach((l, i) => { const r = i === ls.length - 1 ? l : f(l); out.push(...(Array.isArray(r) ? r : [r])); });
  return withLayers(raw, out);
}

/** The largest plain-SGD learning rate a remedy that enlarges the signal trains with (as experiments/remedies.json). */
export const REMEDY_SGD_LR = 0.1;

/** `raw` with plain SGD's learning rate lowered to at most `cap` (other optimizers left alone). */
function capSgdLr(raw: RawConfig, cap: number): RawConfig {
  const o = raw.optimizer;
  if (isObject(o) && o.type === "sgd" && typeof o.lr === "number" && o.lr > cap) raw.optimizer = { ...o, lr: cap };
  return raw;
}

const RECURRENT = ["rnn", "lstm", "gru"];

export const REMEDIES: Remedy[] = [
  {
    id: "relu",
    title: "ReLU activations with He initialization",
    fixes: "the f′(z) factor",
    why: "ReLU's derivative is exactly 1 wherever the unit is active, instead of sigmoid's ≤ 0.25, so the activation no longer shrinks the error at every layer; He's N(0, 2/fan_in) keeps the signal's size through the layers (He et al. 2015). Plain SGD trains it at a learning rate of at most 0.1. Watch for dead units instead.",
    needs: "hidden dense or convolutional layers with a non-linear activation",
    apply: (raw) => capSgdLr(mapHidden(raw, (l) => {
      if ((l.type === "dense" || l.type === "conv2d") && typeof l.activation === "string" && l.activation !== "linear") return { ...l, activation: "relu", init: "he" };
      if (l.type === "residual" && Array.isArray(l.layers)) return { ...l, layers: (l.layers as Json[]).map((x) => (x.type === "dense" || x.type === "conv2d") && x.activation && x.activation !== "linear" ? { ...x, activation: "relu", init: "he" } : x) };
      return l;
    }), REMEDY_SGD_LR),
  },
  {
    id: "glorot",
    title: "Glorot (Xavier) initialization",
    fixes: "the Wᵀ factor",
    why: "U[±√(6/(fan_in+fan_out))] makes each layer pass the error back at about the same size it received, on average (Glorot & Bengio 2010); it does not change the ≤ 0.25 of sigmoid. Recurrent layers get it for W_hh too, which tames a W_hh that grows the error at every time step.",
    needs: "layers with weights",
    apply: (raw) => withLayers(raw, layersOf(raw).map((l) => (l.type === "dense" || l.type === "conv2d" ? { ...clone(l), init: "glorot" }
      : RECURRENT.includes(String(l.type)) ? { ...clone(l), init: "glorot", recurrentInit: "glorot" } : clone(l)))),
  },
  {
    id: "batchnorm",
    title: "Batch normalization before each activation",
    fixes: "saturation (f′(z) ≈ 0)",
    why: "Normalizing z to mean 0 and variance 1 over the batch keeps it in the activation's steep middle, where sigmoid′ is near its 0.25 rather than near 0 (Ioffe & Szegedy 2015).",
    needs: "hidden dense or convolutional layers with a non-linear activation",
    apply: (raw) => mapHidden(raw, (l) => {
      if ((l.type === "dense" || l.type === "conv2d") && typeof l.activation === "string" && l.activation !== "linear") {
        const { activation, ...rest } = l;
        return [{ ...rest }, { type: "batchnorm", activation }];
      }
      return l;
    }),
  },
  {
    id: "layernorm",
    title: "Layer normalization before each activation",
    fixes: "saturation (f′(z) ≈ 0)",
    why: "Normalizing each example's z over its own units to mean 0 and variance 1 keeps it in the activation's steep middle, like batch normalization, but without batch statistics: training and evaluation compute the same, at any batch size (Ba, Kiros & Hinton 2016).",
    needs: "hidden dense layers with a non-linear activation",
    apply: (raw) => mapHidden(raw, (l) => {
      if (l.type === "dense" && typeof l.activation === "string" && l.activation !== "linear") {
        const { activation, ...rest } = l;
        return [{ ...rest }, { type: "layernorm", activation }];
      }
      return l;
    }),
  },
  {
    id: "residual",
    title: "Residual connections",
    fixes: "the whole product",
    why: "y = x + F(x) gives the error an identity path: ∂y/∂x = I + ∂F/∂x, so what reaches the input is at least what left the output of the block, however small F's factors are (He et al. 2016). Applies to hidden dense layers whose width equals their input's; each block's weights start at zero, so it starts as the identity and deep stacks of ReLU blocks do not blow the signal up (Goyal et al. 2017, Zhang et al. 2019).",
    needs: "hidden dense layers as wide as their input",
    apply: (raw) => {
      let width = typeof (raw.data as Json | undefined)?.view === "string" && (raw.data as Json).view !== "flat" ? -1 : 784;
      const ls = layersOf(raw);
      return withLayers(raw, ls.map((l, i) => {
        const units = typeof l.units === "number" ? l.units : -1;
        const wrap = i < ls.length - 1 && l.type === "dense" && units === width;
        width = l.type === "dense" ? units : -1;
        return wrap ? { type: "residual", layers: [{ ...clone(l), init: "zeros" }] } : clone(l);
      }));
    },
  },
  {
    id: "lstm",
    title: "Gating: LSTM instead of a plain RNN",
    fixes: "the product through time",
    why: "An LSTM carries its cell state forward additively, scaled by a forget gate it learns, so ∂c_t/∂c_{t−1} can stay near 1 over many steps where a tanh RNN multiplies by W_hhᵀ·tanh′ at every step (Hochreiter & Schmidhuber 1997).",
    needs: "a plain recurrent (rnn) layer",
    apply: (raw) => withLayers(raw, layersOf(raw).map((l) => {
      if (l.type !== "rnn") return clone(l);
      const { activation: _a, ...rest } = clone(l);
      return { ...rest, type: "lstm" };
    })),
  },
  {
    id: "clip",
    title: "Gradient clipping (norm 1)",
    fixes: "exploding gradients only",
    why: "Rescaling the whole gradient when its norm exceeds a threshold stops one huge step from wrecking the weights (Pascanu et al. 2013). It cannot make a vanishing gradient bigger.",
    needs: "no clipping at norm 1 or below already",
    apply: (raw) => {
      const out = clone(raw);
      out.optimizer = { ...(isObject(out.optimizer) ? out.optimizer : {}), clipNorm: 1 };
      return out;
    },
  },
];

/**
 * Why a remedy would leave this network as it is (so there is nothing to compare), or null when
 * it changes it. A change of the learning rate alone does not count.
 * @example remedyFor(remedy("lstm"), seedRaw) // "changes nothing here: it needs a plain recurrent (rnn) layer"
 */
export function remedyFor(r: Remedy, raw: RawConfig): string | null {
  const applied = r.apply(raw);
  const strip = (c: RawConfig) => { const o = clone(c); if (isObject(o.optimizer)) delete o.optimizer.lr; return JSON.stringify(o); };
  return strip(applied) === strip(raw) ? `changes nothing here: it needs ${r.needs}` : null;
}

/** The remedy with this id. @example remedy("relu").fixes // "the f′(z) factor" */
export function remedy(id: string): Remedy {
  const r = REMEDIES.find((x) => x.id === id);
  if (!r) throw new Error(`no remedy ${id}`);
  return r;
}
