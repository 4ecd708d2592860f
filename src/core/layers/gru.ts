/**
 * GRU, PyTorch's nn.GRU (gate order r, z, n): r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
 * n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h (Cho et al. 2014, with
 * PyTorch's placement of r). x [B, T, D] → h_{T−1} [B, H] (or all h_t [B, T, H]); weight_ih_l0 [3H, D], weight_hh_l0 [3H, H].
 */
import * as accel from "../../accel/index.ts";
import { controls, type LayerKind } from "./kind.ts";
import type { FloatArray } from "../tensor.ts";
import { Workspace, type BuildContext } from "./layer.ts";
import { RECURRENT_CONTROLS, RECURRENT_FIELDS, Recurrent, recurrentFootprint, type RecurrentSpecBase } from "./recurrent.ts";
import { exp, sigmoidF32, tanh, tanhF32 } from "../math.ts";

/** `{"type": "gru", "units": 32}`. */
export interface GruSpec extends RecurrentSpecBase { type: "gru" }

export class Gru extends Recurrent {
  private readonly hhWs: Workspace;  // [B, 3H] h_{t−1}·W_hhᵀ of the current step
  private readonly hnWs: Workspace;  // [T, B, H] W_hn h_{t−1} + b_hn, kept for ∂r
  private readonly dHhWs: Workspace; // [T, B, 3H] ∂L/∂(h_{t−1}·W_hhᵀ + b_hh)
  private readonly zWs: Workspace;   // [T, B, H] update gate, copied out for the instrument
  private hh!: FloatArray;
  private hn!: FloatArray;

  constructor(name: string, inShape: number[], spec: GruSpec, ctx: BuildContext) {
    // b_hr and b_hz add straight into the pre-activations, so they join the input projection;
    // b_hn sits inside r ⊙ (…) and is added per step.
    super("gru", name, inShape, spec, 3, ctx, 2 * spec.units);
    this.hhWs = new Workspace(ctx.dtype, this.GH);
    this.hnWs = new Workspace(ctx.dtype, this.T * this.H);
    this.dHhWs = new Workspace(ctx.dtype, this.T * this.GH);
    this.zWs = new Workspace(ctx.dtype, this.T * this.H);
  }

  protected beginForward(B: number): void {
    this.hh = this.hhWs.get(B);
    this.hn = this.hnWs.get(B);
  }

  protected beginBackward(B: number): void {
    this.dHh = this.dHhWs.get(B);
  }

  protected sequenceForward(B: number): boolean {
    return accel.ops.gruSequence?.(this.T, B, this.H, this.pre, this.weightHH.value, this.biasHH.value, this.hh, this.hn, this.hs) ?? false;
  }

  protected sequenceBackward(B: number): boolean {
    return accel.ops.gruSequenceBackward?.(this.T, B, this.H, this.pre, this.hs, this.hn, this.dh, this.weightHH.value, this.dA, this.dHh) ?? false;
  }

  // pre[t] [B, 3H]: the input parts of r, z, n, overwritten in place by the gate values r, z, n.
  protected stepForward(t: number, B: number): void {
    const H = this.H, GH = this.GH, a = this.pre, hs = this.hs, hh = this.hh, hn = this.hn;
    const bhn = this.biasHH.value;
    const ao = t * B * GH, prev = t * B * H, next = prev + B * H;
    if (t > 0) accel.gemmNT(B, GH, H, hs, prev, this.weightHH.value, 0, hh, 0, false); // hh = h_{t−1}·W_hhᵀ
    else hh.fill(0, 0, B * GH);
    if (accel.ops.gruStep?.(B, H, a, ao, hh, bhn, hs, prev, hn, prev, next)) return; // the loop below in WebAssembly, same bits
    if (a instanceof Float32Array) return this.stepForwardF32(ao, prev, next, B);
    for (let b = 0; b < B; b++) {
      const r0 = ao + b * GH, q = b * GH, hb = b * H;
      for (let h = 0; h < H; h++) {
        const r = 1 / (1 + exp(-(a[r0 + h] + hh[q + h])));
        const z = 1 / (1 + exp(-(a[r0 + H + h] + hh[q + H + h])));
        const m = hh[q + 2 * H + h] + bhn[2 * H + h];
        const n = tanh(a[r0 + 2 * H + h] + r * m);
        a[r0 + h] = r; a[r0 + H + h] = z; a[r0 + 2 * H + h] = n;
        hn[prev + hb + h] = m;
        hs[next + hb + h] = (1 - z) * n + z * hs[prev + hb + h];
      }
    }
  }

  /**
   * The step on float32 tensors, in float32 operations (the kernels' cells.ts gru does the same
   * operations): σ and tanh are math.ts's sigmoidF32 and tanhF32, every sum and product rounded.
   */
  private stepForwardF32(ao: number, prev: number, next: number, B: number): void {
    const H = this.H, GH = this.GH, a = this.pre, hs = this.hs, hh = this.hh, hn = this.hn, bhn = this.biasHH.value, f32 = Math.fround;
    for (let b = 0; b < B; b++) {
      const r0 = ao + b * GH, q = b * GH, hb = b * H;
      for (let h = 0; h < H; h++) {
        const r = sigmoidF32(f32(a[r0 + h] + hh[q + h]));
        const z = sigmoidF32(f32(a[r0 + H + h] + hh[q + H + h]));
        const m = f32(hh[q + 2 * H + h] + bhn[2 * H + h]);
        const n = tanhF32(f32(a[r0 + 2 * H + h] + f32(r * m)));
        a[r0 + h] = r; a[r0 + H + h] = z; a[r0 + 2 * H + h] = n;
        hn[prev + hb + h] = m;
        hs[next + hb + h] = f32(f32(f32(1 - z) * n) + f32(z * hs[prev + hb + h]));
      }
    }
  }

  // With a_n = dh ⊙ (1 − z) ⊙ (1 − n²):
  //   ∂/∂(input part)     [r, z, n] = [a_n ⊙ (W_hn h + b_hn) ⊙ r(1−r), dh ⊙ (h_{t−1} − n) ⊙ z(1−z), a_n]
  //   ∂/∂(recurrent part) [r, z, n] = the same but a_n ⊙ r for n
  //   direct path: dh_{t−1} += dh_t ⊙ z
  protected stepBackward(t: number, B: number): void {
    const { H, GH } = this;
    const a = this.pre, hs = this.hs, hn = this.hn, dh = this.dh, dA = this.dA, dHh = this.dHh;
    const ao = t * B * GH, o0 = t * B * H;
    for (let b = 0; b < B; b++) {
      const r0 = ao + b * GH, hb = o0 + b * H;
      for (let h = 0; h < H; h++) {
        const r = a[r0 + h], z = a[r0 + H + h], n = a[r0 + 2 * H + h];
        const dht = dh[hb + h], hPrev = hs[hb + h];
        const dan = dht * (1 - z) * (1 - n * n);
        const daz = dht * (hPrev - n) * z * (1 - z);
        const dar = dan * hn[hb + h] * r * (1 - r);
        dA[r0 + h] = dar; dA[r0 + H + h] = daz; dA[r0 + 2 * H + h] = dan;
        dHh[r0 + h] = dar; dHh[r0 + H + h] = daz; dHh[r0 + 2 * H + h] = dan * r;
        if (t > 0) dh[hb - B * H + h] += dht * z;
      }
    }
  }

  protected gateValues(): { name: string; values: FloatArray }[] {
    return [{ name: "update", values: this.extractGate(1, this.zWs.get(this.B)) }];
  }
}

/** The gru kind: config fields, builder, name, memory, diagnosis role, lab texts, PyTorch twin. */
export const gruKind: LayerKind<GruSpec> = {
  type: "gru",
  about: "GRU (gates r, z, n and PyTorch's formula): h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}",
  prefix: "gru",
  fields: { ...RECURRENT_FIELDS },
  role: "recurrent",
  pytorch: "nn.GRU(D, units, batch_first=True)",
  build: (spec, name, inShape, ctx) => new Gru(name, inShape, spec, ctx),
  estimate: (spec, inShape) => recurrentFootprint(3, spec, inShape),
  walk: { through: (name) => `back through time in ${name}` },
  editor: { defaults: (c) => ({ type: "gru", units: c.units }), controls: [controls.units, ...RECURRENT_CONTROLS] },
};
