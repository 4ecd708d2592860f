/**
 * Elman RNN, PyTorch's nn.RNN: z_t = x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh, h_t = f(z_t), f = tanh | relu
 * (PyTorch's two), or sigmoid, the lab's third: γ = sup f′ = 1/4 makes Pascanu's vanishing bound easy to meet.
 * x [B, T, D] → h_{T−1} [B, H] (returnSequences: all h_t [B, T, H]); weight_ih_l0 [H, D], weight_hh_l0 [H, H] (nn.RNN's names).
 * Backward through time: dz_t = dh_t ⊙ f′(z_t), dh_{t−1} += dz_t·W_hh (Werbos 1990). With relu
 * and recurrentInit "identity" this is the IRNN of Le, Jaitly & Hinton 2015.
 */
import { activation, type Activation } from "../activations.ts";
import * as accel from "../../accel/index.ts";
import { controls, oneOf, type LayerKind } from "./kind.ts";
import type { FloatArray } from "../tensor.ts";
import { Workspace, type BuildContext, type LayerProbe } from "./layer.ts";
import { RECURRENT_CONTROLS, RECURRENT_FIELDS, Recurrent, recurrentFootprint, type RecurrentSpecBase } from "./recurrent.ts";
import { exp, tanh, tanhF32 } from "../math.ts";

/** `{"type": "rnn", "units": 32, "activation": "tanh"}` (relu with recurrentInit "identity": the IRNN). */
export interface RnnSpec extends RecurrentSpecBase { type: "rnn"; activation?: "tanh" | "relu" | "sigmoid" }

export class Rnn extends Recurrent {
  readonly act: Activation;
  private readonly relu: boolean;
  private readonly sigmoid: boolean;
  // Batch-major copies for the probe, made only when the instrument asks.
  private readonly zBWs: Workspace;  // [B, T·H]
  private readonly yBWs: Workspace;  // [B, T·H]
  private readonly dzBWs: Workspace; // [B, T·H]

  constructor(name: string, inShape: number[], spec: RnnSpec, ctx: BuildContext) {
    super("rnn", name, inShape, spec, 1, ctx);
    this.act = activation(spec.activation ?? "tanh");
    this.relu = this.act.name === "relu";
    this.sigmoid = this.act.name === "sigmoid";
    this.zBWs = new Workspace(ctx.dtype, this.T * this.H);
    this.yBWs = new Workspace(ctx.dtype, this.T * this.H);
    this.dzBWs = new Workspace(ctx.dtype, this.T * this.H);
  }

  protected beginForward(): void {}
  protected beginBackward(): void {}

  protected sequenceForward(B: number): boolean {
    const f = this.relu ? "relu" : this.sigmoid ? "sigmoid" : "tanh";
    return accel.ops.rnnSequence?.(f, this.T, B, this.H, this.pre, this.weightHH.value, this.hs) ?? false;
  }

  protected sequenceBackward(B: number): boolean {
    const f = this.relu ? "relu" : this.sigmoid ? "sigmoid" : "tanh";
    return accel.ops.rnnSequenceBackward?.(f, this.T, B, this.H, this.relu ? this.pre : this.hs, this.relu ? 0 : B * this.H, this.dh, this.weightHH.value, this.dA) ?? false;
  }

  // pre[t] holds z_t [B, H] (kept for relu′ and the probe); h_t goes to hs[t + 1].
  protected stepForward(t: number, B: number): void {
    const H = this.H, z = this.pre, hs = this.hs;
    const n = B * H, zo = t * n, ho = (t + 1) * n;
    // z_t += h_{t−1}·W_hhᵀ (h₋₁ = 0: nothing to add at t = 0)
    if (t > 0) accel.gemmNT(B, H, H, hs, t * n, this.weightHH.value, 0, z, zo, true);
    if (this.relu) for (let i = 0; i < n; i++) { const v = z[zo + i]; hs[ho + i] = v > 0 ? v : 0; }
    else if (accel.ops.map?.(this.sigmoid ? "sigmoid" : "tanh", n, z, zo, hs, ho)) return; // the loops below in WebAssembly, same bits
    else if (this.sigmoid) {
      for (let i = 0; i < n; i++) {
        const v = z[zo + i];
        if (v >= 0) hs[ho + i] = 1 / (1 + exp(-v));
        else { const e = exp(v); hs[ho + i] = e / (1 + e); }
      }
    }
    else if (hs instanceof Float32Array) for (let i = 0; i < n; i++) hs[ho + i] = tanhF32(z[zo + i]); // activations.ts's tanh
    else for (let i = 0; i < n; i++) hs[ho + i] = tanh(z[zo + i]);
  }

  // dz_t = dh_t ⊙ f′(z_t): relu′ = [z > 0], tanh′ = 1 − h_t², sigmoid′ = h_t(1 − h_t)
  protected stepBackward(t: number, B: number): void {
    const n = B * this.H, o = t * n, ho = (t + 1) * n;
    const z = this.pre, hs = this.hs, dh = this.dh, dz = this.dA;
    const f = this.relu ? "relu" : this.sigmoid ? "sigmoid" : "tanh";
    if (accel.ops.mapBackward?.(f, n, this.relu ? z : hs, this.relu ? o : ho, dh, o, dz, o)) return; // the loops below, same bits
    if (this.relu) for (let i = 0; i < n; i++) dz[o + i] = z[o + i] > 0 ? dh[o + i] : 0;
    else if (this.sigmoid) for (let i = 0; i < n; i++) { const y = hs[ho + i]; dz[o + i] = dh[o + i] * y * (1 - y); }
    else for (let i = 0; i < n; i++) { const y = hs[ho + i]; dz[o + i] = dh[o + i] * (1 - y * y); }
  }

  protected gateValues(): { name: string; values: FloatArray }[] {
    return [];
  }

  protected gamma(): number {
    return this.act.maxDf;
  }

  /**
   * z, y = f(z) and dz = ∂L/∂z of every step, as [B, T·H] (unit t·H + h), so the instrument's
   * per-example δ norm covers the whole unrolled layer. Copied out of the time-major buffers on request.
   */
  probe(): LayerProbe {
    const { T, H, B } = this;
    const units = T * H;
    if (B === 0) return { units, z: null, y: null, dz: null, act: this.act };
    const z = this.zBWs.get(B), y = this.yBWs.get(B);
    const dz = this.backwardDone ? this.dzBWs.get(B) : null;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const s = (t * B + b) * H, d = b * units + t * H;
        for (let h = 0; h < H; h++) {
          z[d + h] = this.pre[s + h];
          y[d + h] = this.hs[s + B * H + h];
          if (dz) dz[d + h] = this.dA[s + h];
        }
      }
    }
    return { units, z, y, dz, act: this.act };
  }
}

/** The rnn kind: config fields, builder, name, memory, diagnosis role, lab texts, PyTorch twin. */
export const rnnKind: LayerKind<RnnSpec> = {
  type: "rnn",
  about: "Elman RNN: h_t = f(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh), f tanh, relu or sigmoid",
  prefix: "rnn",
  fields: { ...RECURRENT_FIELDS, activation: oneOf(["tanh", "relu", "sigmoid"]).optional() },
  role: "recurrent",
  pytorch: "nn.RNN(D, units, nonlinearity, batch_first=True) (sigmoid: the same cell unrolled by hand)",
  build: (spec, name, inShape, ctx) => new Rnn(name, inShape, spec, ctx),
  estimate: (spec, inShape) => recurrentFootprint(1, spec, inShape),
  walk: { through: (name) => `back through time in ${name}` },
  editor: { defaults: (c) => ({ type: "rnn", units: c.units, activation: c.activation === "relu" ? "relu" : "tanh" }), controls: [controls.units, { control: "select", key: "activation", label: "activation", options: ["tanh", "relu", "sigmoid"], shown: "tanh" }, ...RECURRENT_CONTROLS] },
};
