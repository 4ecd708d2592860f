/**
 * What rnn, lstm and gru share: PyTorch's four tensors and their initialization, the time-major
 * layout, the input projection of all steps in one GEMM, the weight gradients of all steps in one
 * GEMM each, and back-propagation through time. A cell (rnn.ts, lstm.ts, gru.ts) supplies only
 * its per-step forward and backward. Input x [B, T, D] → output h_{T−1} [B, H] or all h_t [B, T, H].
 */
import { InputError } from "../errors.ts";
import { initialize } from "../init.ts";
import * as accel from "../../accel/index.ts";
import type { InitSpec } from "../spec.ts";
import { floats, shapeText, size, type FloatArray } from "../tensor.ts";
import { bool, controls, init, positiveInt, type EditorControl, type Field, type Footprint } from "./kind.ts";
import { Workspace, type BuildContext, type Layer, type LayerProbe, type NamedBuffer, type Param, type TimeProbe } from "./layer.ts";

/**
 * Evaluation (train = false) runs the batch in chunks of examples so the per-step caches
 * [T, B, G·H] stay near this many elements; a 784-step sequence with a 1,000-example evaluation
 * batch would otherwise need gigabytes. Chunking changes nothing in the result: examples are independent.
 */
export const EVAL_CHUNK_ELEMENTS = 1 << 22;

/** What every recurrent spec has: `{"units": 32, "recurrentInit": "orthogonal", "returnSequences": true}`. */
export interface RecurrentSpecBase {
  name?: string; units: number; init?: InitSpec; recurrentInit?: InitSpec; biasInit?: InitSpec;
  returnSequences?: boolean;
}

/** The config fields rnn, lstm and gru share, in the order errors list them. */
export const RECURRENT_FIELDS: Record<string, Field> = {
  units: positiveInt().sizing("units"), init: init().optional(), recurrentInit: init().optional(), biasInit: init().optional(),
  returnSequences: bool().optional(),
};

/** The editor controls rnn, lstm and gru share, after units (and rnn's activation). */
export const RECURRENT_CONTROLS: readonly EditorControl[] = [
  controls.init,
  { control: "select", key: "recurrentInit", label: "W_hh init", options: controls.init.options, shown: "standard" },
  { control: "checkbox", key: "returnSequences", label: "all steps", id: "seq", aria: "return sequences" },
];

/**
 * Parameters and memory of a recurrent layer with G gate blocks over input [T, D] (a flat
 * input counts as one step).
 */
export function recurrentFootprint(G: number, spec: RecurrentSpecBase, inShape: number[]): Footprint {
  const T = inShape.length === 2 ? inShape[0] : 1;
  const D = inShape.length === 2 ? inShape[1] : size(inShape);
  const H = spec.units;
  return {
    params: G * H * (D + H) + 2 * G * H,
    outShape: spec.returnSequences ? [T, H] : [H],
    largest: G * H * Math.max(D, H),
    // [T, B, ·] caches: input, pre-activations and their gradient, h and its gradient, output
    recurrent: T * (2 * D + 2 * G * H + 4 * H),
  };
}

function isStandard(spec: InitSpec): boolean {
  return (typeof spec === "string" ? spec : spec.type) === "standard";
}

function initName(spec: InitSpec): string {
  return typeof spec === "string" ? spec : spec.type;
}

/**
 * Base class of the recurrent layers. Internal buffers are time-major ([T, B, ·]) so that one
 * step's slice is a contiguous [B, ·] matrix a GEMM can address by offset; the input is
 * transposed in and the output out, which costs O(B·T·(D + H)) against the O(B·T·G·H²) of the
 * recurrence.
 *
 * The cell contract, for step t of a batch of B:
 * - `stepForward(t, B)`: `pre[t]` [B, G·H] holds x_t·W_ihᵀ + b_ih (+ the part of b_hh the cell
 *   allows, see `hhBiasInProjection`); h_{t−1} is `hs[t]`; write h_t into `hs[t + 1]`.
 * - `stepBackward(t, B)`: `dh[t]` [B, H] holds the total ∂L/∂h_t; write ∂L/∂(x_t·W_ihᵀ + b_ih)
 *   into `dA[t]` and ∂L/∂(h_{t−1}·W_hhᵀ + b_hh) into `dHh[t]` (the same buffer unless the cell
 *   separates them, as GRU does), and add any direct (non-W_hh) dependence of h_t on h_{t−1}
 *   into `dh[t − 1]`. The base then adds dHh[t]·W_hh into dh[t − 1].
 */
export abstract class Recurrent implements Layer {
  readonly params: Param[];
  readonly buffers: NamedBuffer[] = [];
  readonly outShape: number[];
  readonly weightIH: Param; // [G·H, D]
  readonly weightHH: Param; // [G·H, H]
  readonly biasIH: Param;   // [G·H]
  readonly biasHH: Param;   // [G·H]
  readonly returnSequences: boolean;
  protected readonly T: number;
  protected readonly D: number;
  protected readonly H: number;
  protected readonly G: number;
  protected readonly GH: number;
  /** b_hh[j] joins the input projection for j < this; GRU keeps b_hn apart (it sits inside r ⊙ (…)) */
  protected readonly hhBiasInProjection: number;
  private readonly xTWs: Workspace;  // [T, B, D] the input, time-major
  private readonly preWs: Workspace; // [T, B, G·H]
  private readonly hsWs: Workspace;  // [T + 1, B, H] h_{t−1} at slot t; slot 0 is h₋₁ = 0
  private readonly outWs: Workspace; // [B, T, H] or [B, H]
  private readonly dhWs: Workspace;  // [T, B, H] total ∂L/∂h_t
  private readonly dAWs: Workspace;  // [T, B, G·H]
  private readonly dxTWs: Workspace; // [T, B, D]
  private readonly dxWs: Workspace;  // [B, T, D]
  private readonly biasSum: FloatArray; // [G·H] b_ih + the projected part of b_hh
  private readonly dbIH: Float64Array;  // [G·H] Σ over steps and examples of dA, summed in double
  private readonly dbHH: Float64Array;  // [G·H] Σ of dHh
  /** the batch size of the cached forward, and whether backward has run on it */
  protected B = 0;
  protected backwardDone = false;
  protected xT!: FloatArray;
  protected pre!: FloatArray;
  protected hs!: FloatArray;
  protected dh!: FloatArray;
  protected dA!: FloatArray;
  protected dHh!: FloatArray;

  constructor(readonly type: string, readonly name: string, readonly inShape: number[], spec: RecurrentSpecBase, G: number, ctx: BuildContext, hhBiasInProjection = G * spec.units) {
    if (inShape.length !== 2) {
      throw new InputError(`${ctx.path}: ${type} expects a sequence [T, D], got ${shapeText(inShape)}; use data.view "rows" or "pixels"`);
    }
    const [T, D] = inShape;
    const H = spec.units;
    const GH = G * H;
    this.T = T; this.D = D; this.H = H; this.G = G; this.GH = GH;
    this.returnSequences = spec.returnSequences ?? false;
    this.outShape = this.returnSequences ? [T, H] : [H];
    this.hhBiasInProjection = hhBiasInProjection;
    const param = (key: string, shape: number[]): Param => {
      const n = shape.reduce((a, b) => a * b, 1);
      return { name: `${name}.${key}`, key, shape, value: floats(ctx.dtype, n), grad: floats(ctx.dtype, n) };
    };
    // nn.RNN/LSTM/GRU's own names (layer 0 of a one-layer module), so a state_dict loads strictly
    this.weightIH = param("weight_ih_l0", [GH, D]);
    this.weightHH = param("weight_hh_l0", [GH, H]);
    this.biasIH = param("bias_ih_l0", [GH]);
    this.biasHH = param("bias_hh_l0", [GH]);
    this.params = [this.weightIH, this.weightHH, this.biasIH, this.biasHH];

    // Initialization, in PyTorch's parameter order. `standard` is PyTorch's nn.RNN/LSTM/GRU
    // default U[±1/√H] for every tensor (fan-in H, not D); other inits use the tensor's own fans.
    const init = spec.init ?? "standard";
    initialize(init, this.weightIH.value, this.weightIH.shape, ctx.rng, isStandard(init) ? H : undefined);
    const rec = spec.recurrentInit ?? "standard";
    const kind = initName(rec);
    if (kind === "orthogonal" || kind === "identity") {
      // One gate block [H, H] at a time, so each gate's own recurrent matrix is orthogonal / I.
      for (let g = 0; g < G; g++) initialize(rec, this.weightHH.value.subarray(g * H * H, (g + 1) * H * H), [H, H], ctx.rng);
    } else {
      initialize(rec, this.weightHH.value, this.weightHH.shape, ctx.rng, isStandard(rec) ? H : undefined);
    }
    const biasInit = spec.biasInit ?? "standard";
    initialize(biasInit, this.biasIH.value, this.biasIH.shape, ctx.rng, isStandard(biasInit) ? H : undefined);
    initialize(biasInit, this.biasHH.value, this.biasHH.shape, ctx.rng, isStandard(biasInit) ? H : undefined);

    this.xTWs = new Workspace(ctx.dtype, T * D);
    this.preWs = new Workspace(ctx.dtype, T * GH);
    this.hsWs = new Workspace(ctx.dtype, (T + 1) * H);
    this.outWs = new Workspace(ctx.dtype, this.returnSequences ? T * H : H);
    this.dhWs = new Workspace(ctx.dtype, T * H);
    this.dAWs = new Workspace(ctx.dtype, T * GH);
    this.dxTWs = new Workspace(ctx.dtype, T * D);
    this.dxWs = new Workspace(ctx.dtype, T * D);
    this.biasSum = floats(ctx.dtype, GH);
    this.dbIH = new Float64Array(GH);
    this.dbHH = new Float64Array(GH);
  }

  /** the cell's per-step forward; see the class comment */
  protected abstract stepForward(t: number, B: number): void;
  /** the cell's per-step backward; see the class comment */
  protected abstract stepBackward(t: number, B: number): void;
  /** get the cell's own forward buffers for a batch of B (called once per forward) */
  protected abstract beginForward(B: number): void;
  /** get the cell's own backward buffers; may point `dHh` elsewhere (called once per backward) */
  protected abstract beginBackward(B: number): void;
  /**
   * Every step's forward in one accelerator call (ops/cells.ts's …Sequence, the same bits as the
   * steps), after beginForward; false when declined (then stepForward runs for each t).
   */
  protected abstract sequenceForward(B: number): boolean;
  /**
   * Every step's backward in one call, the recurrent products dh[t − 1] += dHh[t]·W_hh included,
   * when only dh[T − 1] holds the output's gradient; false when declined (then the step loop runs).
   */
  protected abstract sequenceBackward(B: number): boolean;

  forward(x: FloatArray, B: number, train: boolean): FloatArray {
    // A new version of W_hh for this pass: the accelerator keeps it resident (packed once for all
    // T steps and the backward) and re-reads it here, whatever wrote it since the last pass.
    accel.touch(this.weightHH.value);
    const out = this.outWs.get(B);
    const chunk = train ? B : Math.max(1, Math.min(B, Math.floor(EVAL_CHUNK_ELEMENTS / (this.T * this.GH))));
    const outSize = this.outShape.length === 2 ? this.T * this.H : this.H;
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const Bc = Math.min(chunk, B - b0);
      this.run(x, b0 * this.T * this.D, Bc, out, b0 * outSize);
    }
    return out;
  }

  /** Forward of Bc examples starting at x[xOff] (batch-major), output to out[outOff]. */
  private run(x: FloatArray, xOff: number, B: number, out: FloatArray, outOff: number): void {
    const { T, D, H, GH } = this;
    this.B = B;
    this.backwardDone = false;
    // x [B, T, D] → xT [T, B, D]
    const xT = this.xTWs.get(B);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const s = xOff + (b * T + t) * D, d = (t * B + b) * D;
        for (let k = 0; k < D; k++) xT[d + k] = x[s + k];
      }
    }
    // The input projection of every step in one GEMM: pre [T·B, G·H] = xT·W_ihᵀ + b_ih + b_hh.
    const pre = this.preWs.get(B);
    const bs = this.biasSum, bih = this.biasIH.value, bhh = this.biasHH.value;
    for (let j = 0; j < GH; j++) bs[j] = bih[j] + (j < this.hhBiasInProjection ? bhh[j] : 0);
    accel.gemmNT(T * B, GH, D, xT, 0, this.weightIH.value, 0, pre, 0, false, bs);
    const hs = this.hsWs.get(B);
    hs.fill(0, 0, B * H); // h₋₁ = 0
    this.xT = xT;
    this.pre = pre;
    this.hs = hs;
    this.beginForward(B);
    if (!this.sequenceForward(B)) for (let t = 0; t < T; t++) this.stepForward(t, B);
    // hs → output: all steps [B, T, H], or the last [B, H]
    if (this.returnSequences) {
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const s = ((t + 1) * B + b) * H, d = outOff + (b * T + t) * H;
          for (let h = 0; h < H; h++) out[d + h] = hs[s + h];
        }
      }
    } else {
      const s = T * B * H;
      for (let i = 0; i < B * H; i++) out[outOff + i] = hs[s + i];
    }
  }

  backward(dy: FloatArray, B: number, needDx: boolean): FloatArray | null {
    const { T, D, H, GH } = this;
    if (B !== this.B) throw new Error(`${this.name}: backward for a batch of ${B} after a forward of ${this.B}`);
    const dh = this.dhWs.get(B);
    const dA = this.dAWs.get(B);
    dh.fill(0, 0, T * B * H);
    this.dh = dh;
    this.dA = dA;
    this.dHh = dA;
    this.beginBackward(B);
    const dHh = this.dHh;
    const W = this.weightHH.value;
    // Back-propagation through time, t = T−1 … 0. On entering step t, dh[t] already holds what
    // flows back from step t + 1; the output's own gradient at t is added here (the last step's
    // before the loop: nothing flows into dh[T − 1] from later steps).
    if (!this.returnSequences) for (let i = 0, o = (T - 1) * B * H; i < B * H; i++) dh[o + i] += dy[i];
    if (this.returnSequences || !this.sequenceBackward(B)) {
      for (let t = T - 1; t >= 0; t--) {
        const o = t * B * H;
        if (this.returnSequences) {
          for (let b = 0; b < B; b++) for (let h = 0, s = (b * T + t) * H; h < H; h++) dh[o + b * H + h] += dy[s + h];
        }
        this.stepBackward(t, B);
        // dh[t−1] += dHh[t]·W_hh   ([B, G·H]·[G·H, H])
        if (t > 0) accel.gemmNN(B, H, GH, dHh, t * B * GH, W, 0, dh, (t - 1) * B * H, true);
      }
    }
    // Weight gradients of all steps at once, summed over the R = T·B rows:
    //   dW_ih += dAᵀ·xT,  dW_hh += dHhᵀ·h_{t−1},  db_ih += Σ dA,  db_hh += Σ dHh.
    // Step 0 is included although h₋₁ = 0 adds nothing (1/T extra work): skipping it would
    // split the GEMM. Row r = t·B + b of hs (slot t) holds h_{t−1} of step t.
    const R = T * B;
    accel.gemmTN(GH, D, R, dA, 0, this.xT, 0, this.weightIH.grad, 0, true);
    accel.gemmTN(GH, H, R, dHh, 0, this.hs, 0, this.weightHH.grad, 0, true);
    const si = this.dbIH, sh = this.dbHH;
    si.fill(0);
    sh.fill(0);
    if (!(accel.ops.sumRows?.(R, GH, dA, 0, si) && accel.ops.sumRows?.(R, GH, dHh, 0, sh))) {
      si.fill(0);
      sh.fill(0);
      for (let r = 0; r < R; r++) {
        for (let j = 0, o = r * GH; j < GH; j++) { si[j] += dA[o + j]; sh[j] += dHh[o + j]; }
      }
    }
    const dbih = this.biasIH.grad, dbhh = this.biasHH.grad;
    for (let j = 0; j < GH; j++) { dbih[j] += si[j]; dbhh[j] += sh[j]; }
    this.backwardDone = true;
    if (!needDx) return null;
    // dxT [R, D] = dA·W_ih, then back to batch-major [B, T, D]
    const dxT = this.dxTWs.get(B);
    accel.gemmNN(R, D, GH, dA, 0, this.weightIH.value, 0, dxT, 0, false);
    const dx = this.dxWs.get(B);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const s = (t * B + b) * D, d = (b * T + t) * D;
        for (let k = 0; k < D; k++) dx[d + k] = dxT[s + k];
      }
    }
    return dx;
  }

  probe(): LayerProbe | null {
    return null;
  }

  /** the cell's gate values for saturation statistics, each [T, B, H] */
  protected abstract gateValues(): { name: string; values: FloatArray }[];
  /**
   * γ = sup of the derivative of the nonlinearity h_t passes through (Pascanu et al. 2013):
   * 1 for tanh and relu, 1/4 for sigmoid; LSTM and GRU report 1, for the tanh their h_t goes through.
   */
  protected gamma(): number { return 1; }
  /** total ∂L/∂c_t [T, B, H] (LSTM), else null */
  protected cellGrad(): FloatArray | null { return null; }

  timeProbe(): TimeProbe | null {
    if (!this.backwardDone) return null;
    return {
      T: this.T, H: this.H, dh: this.dh, dc: this.cellGrad(), weightHH: this.weightHH, gates: this.G,
      gamma: this.gamma(),
      gateValues: this.gateValues(),
    };
  }

  /**
   * Copy gate `g` out of pre [T, B, G·H] into dst [T, B, H] (for gate statistics; runs only
   * when the instrument asks, never in a plain training step).
   */
  protected extractGate(g: number, dst: FloatArray): FloatArray {
    const { H, GH } = this;
    const rows = this.T * this.B;
    for (let r = 0; r < rows; r++) {
      const s = r * GH + g * H, d = r * H;
      for (let h = 0; h < H; h++) dst[d + h] = this.pre[s + h];
    }
    return dst;
  }
}
