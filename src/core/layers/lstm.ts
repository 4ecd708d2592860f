/**
 * LSTM, PyTorch's nn.LSTM (gate order i, f, g, o): [i f g o] = [σ σ tanh σ](x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh),
 * c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t). x [B, T, D] → h_{T−1} [B, H] (or all h_t [B, T, H]);
 * weight_ih_l0 [4H, D], weight_hh_l0 [4H, H]. Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000.
 * `forgetBias`: unset keeps PyTorch's init (every bias U[±1/√H]); set, bias_ih_l0's forget slice is
 * filled with forgetBias and bias_hh_l0's with 0, so the forget gate starts at σ(forgetBias + W·…)
 * (1 is the common choice, Jozefowicz et al. 2015).
 */
import * as accel from "../../accel/index.ts";
import { controls, num, type LayerKind } from "./kind.ts";
import type { FloatArray } from "../tensor.ts";
import { Workspace, type BuildContext } from "./layer.ts";
import { RECURRENT_CONTROLS, RECURRENT_FIELDS, Recurrent, recurrentFootprint, type RecurrentSpecBase } from "./recurrent.ts";
import { exp, sigmoidF32, tanh, tanhF32 } from "../math.ts";

/** `{"type": "lstm", "units": 32, "forgetBias": 1}`; forgetBias, when set, fills the forget gate's bias. */
export interface LstmSpec extends RecurrentSpecBase { type: "lstm"; forgetBias?: number }

export class Lstm extends Recurrent {
  private readonly csWs: Workspace; // [T + 1, B, H] c_{t−1} at slot t; slot 0 is c₋₁ = 0
  private readonly tcWs: Workspace; // [T, B, H] tanh(c_t)
  private readonly dcWs: Workspace; // [T, B, H] total ∂L/∂c_t
  private readonly fWs: Workspace;  // [T, B, H] forget gate, copied out for the instrument
  private cs!: FloatArray;
  private tc!: FloatArray;
  private dc!: FloatArray;

  constructor(name: string, inShape: number[], spec: LstmSpec, ctx: BuildContext) {
    super("lstm", name, inShape, spec, 4, ctx);
    const H = this.H;
    if (spec.forgetBias !== undefined) {
      this.biasIH.value.fill(spec.forgetBias, H, 2 * H);
      this.biasHH.value.fill(0, H, 2 * H);
    }
    this.csWs = new Workspace(ctx.dtype, (this.T + 1) * H);
    this.tcWs = new Workspace(ctx.dtype, this.T * H);
    this.dcWs = new Workspace(ctx.dtype, this.T * H);
    this.fWs = new Workspace(ctx.dtype, this.T * H);
  }

  protected beginForward(B: number): void {
    this.cs = this.csWs.get(B);
    this.cs.fill(0, 0, B * this.H); // c₋₁ = 0
    this.tc = this.tcWs.get(B);
  }

  protected beginBackward(B: number): void {
    this.dc = this.dcWs.get(B);
  }

  protected sequenceForward(B: number): boolean {
    return accel.ops.lstmSequence?.(this.T, B, this.H, this.pre, this.weightHH.value, this.cs, this.tc, this.hs) ?? false;
  }

  protected sequenceBackward(B: number): boolean {
    return accel.ops.lstmSequenceBackward?.(this.T, B, this.H, this.pre, this.cs, this.tc, this.dh, this.weightHH.value, this.dc, this.dA) ?? false;
  }

  // pre[t] [B, 4H]: the pre-activations, overwritten in place by the gate values i, f, g, o.
  protected stepForward(t: number, B: number): void {
    const H = this.H, GH = this.GH, a = this.pre, hs = this.hs, cs = this.cs, tc = this.tc;
    const ao = t * B * GH, prev = t * B * H, next = prev + B * H;
    if (t > 0) accel.gemmNT(B, GH, H, hs, prev, this.weightHH.value, 0, a, ao, true); // += h_{t−1}·W_hhᵀ
    if (accel.ops.lstmStep?.(B, H, a, ao, cs, prev, next, tc, prev, hs, next)) return; // the loop below in WebAssembly, same bits
    if (a instanceof Float32Array) return this.stepForwardF32(ao, prev, next, B);
    for (let b = 0; b < B; b++) {
      const r = ao + b * GH, hb = b * H;
      for (let h = 0; h < H; h++) {
        const i = 1 / (1 + exp(-a[r + h]));
        const f = 1 / (1 + exp(-a[r + H + h]));
        const g = tanh(a[r + 2 * H + h]);
        const o = 1 / (1 + exp(-a[r + 3 * H + h]));
        a[r + h] = i; a[r + H + h] = f; a[r + 2 * H + h] = g; a[r + 3 * H + h] = o;
        const c = f * cs[prev + hb + h] + i * g;
        const th = tanh(c);
        cs[next + hb + h] = c;
        tc[prev + hb + h] = th;
        hs[next + hb + h] = o * th;
      }
    }
  }

  /**
   * The step on float32 tensors, in float32 operations (the kernels' cells.ts lstm does the same
   * operations): σ and tanh are math.ts's sigmoidF32 and tanhF32, c = f·c_prev + i·g rounded
   * after each product and the sum.
   */
  private stepForwardF32(ao: number, prev: number, next: number, B: number): void {
    const H = this.H, GH = this.GH, a = this.pre, hs = this.hs, cs = this.cs, tc = this.tc, f32 = Math.fround;
    for (let b = 0; b < B; b++) {
      const r = ao + b * GH, hb = b * H;
      for (let h = 0; h < H; h++) {
        const i = sigmoidF32(a[r + h]);
        const f = sigmoidF32(a[r + H + h]);
        const g = tanhF32(a[r + 2 * H + h]);
        const o = sigmoidF32(a[r + 3 * H + h]);
        a[r + h] = i; a[r + H + h] = f; a[r + 2 * H + h] = g; a[r + 3 * H + h] = o;
        const c = f32(f32(f * cs[prev + hb + h]) + f32(i * g));
        const th = tanhF32(c);
        cs[next + hb + h] = c;
        tc[prev + hb + h] = th;
        hs[next + hb + h] = o * th; // one rounding: the float32 product
      }
    }
  }

  // dc_t = dh_t ⊙ o ⊙ (1 − tanh²c_t) + dc_{t+1} ⊙ f_{t+1}   (the total ∂L/∂c_t)
  // di = dc_t ⊙ g ⊙ i(1−i), df = dc_t ⊙ c_{t−1} ⊙ f(1−f), dg = dc_t ⊙ i ⊙ (1−g²), do = dh_t ⊙ tanh c_t ⊙ o(1−o)
  protected stepBackward(t: number, B: number): void {
    const { H, GH, T } = this;
    const a = this.pre, cs = this.cs, tc = this.tc, dh = this.dh, dc = this.dc, dA = this.dA;
    const ao = t * B * GH, o0 = t * B * H;
    const last = t === T - 1;
    for (let b = 0; b < B; b++) {
      const r = ao + b * GH, hb = o0 + b * H;
      const rNext = r + B * GH; // row of step t + 1
      for (let h = 0; h < H; h++) {
        const i = a[r + h], f = a[r + H + h], g = a[r + 2 * H + h], o = a[r + 3 * H + h];
        const th = tc[hb + h], dht = dh[hb + h];
        let dct = dht * o * (1 - th * th);
        if (!last) dct += dc[hb + B * H + h] * a[rNext + H + h];
        dc[hb + h] = dct;
        dA[r + h] = dct * g * i * (1 - i);
        dA[r + H + h] = dct * cs[hb + h] * f * (1 - f);
        dA[r + 2 * H + h] = dct * i * (1 - g * g);
        dA[r + 3 * H + h] = dht * th * o * (1 - o);
      }
    }
  }

  protected cellGrad(): FloatArray {
    return this.dc;
  }

  protected gateValues(): { name: string; values: FloatArray }[] {
    return [{ name: "forget", values: this.extractGate(1, this.fWs.get(this.B)) }];
  }
}

/** The lstm kind: config fields, builder, name, memory, diagnosis role, lab texts, PyTorch twin. */
export const lstmKind: LayerKind<LstmSpec> = {
  type: "lstm",
  about: "LSTM (gate order i, f, g, o as PyTorch): an additive cell state c_t scaled by a learned forget gate",
  prefix: "lstm",
  fields: { ...RECURRENT_FIELDS, forgetBias: num("a number").optional() },
  role: "recurrent",
  pytorch: "nn.LSTM(D, units, batch_first=True)",
  build: (spec, name, inShape, ctx) => new Lstm(name, inShape, spec, ctx),
  estimate: (spec, inShape) => recurrentFootprint(4, spec, inShape),
  walk: { through: (name) => `back through time in ${name}` },
  editor: { defaults: (c) => ({ type: "lstm", units: c.units }), controls: [controls.units, ...RECURRENT_CONTROLS] },
};
