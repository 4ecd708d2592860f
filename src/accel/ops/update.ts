/**
 * The optimizer's update of one tensor, the accelerator's "update" operation: optim.ts's
 * formulas (SGD with momentum or Nesterov, Adam, RMSprop; weight decay) applied to w and its
 * moment buffers in one pass, which also checks the gradient and the new weights for NaN and
 * ±Inf. Its reference is optim.ts's loops, which run where the operation is not registered or
 * declines (returns −1). As JS loops these passes took a large share of a step on the MLP 256
 * (~1.5 ns per value: scalar loads, double arithmetic, float32 stores); here four values per
 * iteration, as two f64x2 halves.
 *
 * Bit for bit what the loops compute: the same IEEE double operations in the same order, every
 * float32 store (w, and the moment buffers m, v, which the loops read back after storing)
 * rounded once as a Float32Array store rounds.
 */
import type { FloatArray } from "../../core/tensor.ts";
import {
  dadd, ddiv, demote, dmul, dsplat, dsqrt, dsub, forLoop, func, get, i32, iadd, iand, ieq, ifElse, imul, isub,
  promote, set, shuffle, vadd, vload, vload32, vstore, vstore32, vsub, vzero, type Code,
} from "../asm.ts";
import type { WasmEngine } from "../engine.ts";
import { WASM_MIN_VALUES, type AccelOps } from "../registry.ts";

/** The doubles an update reads, in this order at its `p` argument (optim.ts fills them). */
export const UPDATE_CONSTANTS = ["lr", "wd", "mu", "b1", "oneMinusB1", "b2", "oneMinusB2", "lrOverC1", "sc2", "eps", "alpha", "oneMinusAlpha"] as const;
export const UPDATE_CONSTANT_COUNT = UPDATE_CONSTANTS.length;
const at = (name: (typeof UPDATE_CONSTANTS)[number]) => 8 * UPDATE_CONSTANTS.indexOf(name);

/**
 * The update's rule, the `mode` argument: SGD plain, with momentum (on the first step, v = g),
 * with Nesterov momentum; Adam; RMSprop without and with momentum.
 */
export const UpdateMode = { sgd: 0, sgdMomentumFirst: 1, sgdMomentum: 2, nesterovFirst: 3, nesterov: 4, adam: 5, rmsprop: 6, rmspropMomentum: 7 } as const;
/** Added to an UpdateMode when the weight decay λ is not 0 (without it g is used as is, as PyTorch does). */
export const WITH_DECAY = 8;


/** f64x2 → the float32 it stores as, back as f64x2: what a Float32Array store then load gives */
const round32 = (x: Code): Code => promote(demote(x));
/** lanes 2, 3 of an f32x4 as f64x2 */
const promoteHigh = (v: Code): Code => promote(shuffle(v, v, [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]));
/** two f64x2 rounded into one f32x4 (lo's lanes, then hi's) */
const demote2 = (lo: Code, hi: Code): Code => shuffle(demote(lo), demote(hi), [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);

/**
 * update(mode, n, w, g, m, v, p, out): one optimizer step over n float32 values (optim.ts's
 * loops), with the step's doubles at p (UPDATE_CONSTANTS); mode is an UpdateMode, + WITH_DECAY
 * when g + λw replaces g. Writes the non-finite checks of the updated w to out and of g to
 * out + 16 (f32x4 each: all lanes 0 when every value is finite, else a NaN lane).
 * Four values per iteration, as two f64x2 halves; the moment buffers' stored-then-read values
 * are the doubles rounded to float32 and back (round32), as the loops read them.
 */
const updateKernel = func("update", ["mode", "n", "w", "g", "m", "v", "p", "out"], ["i", "o"],
  ["acc", "accG", "x", "nw", "nm", "nv", ...["W", "G", "M", "V", "U"].flatMap((x) => [`${x}0`, `${x}1`]), ...UPDATE_CONSTANTS], (L) => {
    const K = (name: (typeof UPDATE_CONSTANTS)[number]): Code => get(L[name]);
    type Half = 0 | 1;
    const h = (x: string, half: Half) => L[`${x}${half}`];
    /**
     * The rule on one half: from W, G (and M, V, the buffers' old values) set W to the new
     * weight and M, V to the buffers' new (float32-rounded) values. G becomes g + λw.
     */
    const rule = (mode: number, decay: boolean, half: Half): Code => {
      const W = h("W", half), G = h("G", half), M = h("M", half), V = h("V", half), U = h("U", half);
      const gi = get(G);
      const out: Code = decay ? set(G, dadd(get(G), dmul(K("wd"), get(W)))) : [];
      const newW = (u: Code) => set(W, dsub(get(W), dmul(K("lr"), u)));
      if (mode === UpdateMode.sgd) return [...out, ...newW(gi)];
      if (mode <= UpdateMode.nesterov) {
        const first = mode === UpdateMode.sgdMomentumFirst || mode === UpdateMode.nesterovFirst;
        const nesterov = mode === UpdateMode.nesterovFirst || mode === UpdateMode.nesterov;
        return [...out,
          ...set(M, round32(first ? gi : dadd(dmul(K("mu"), get(M)), gi))),
          ...newW(nesterov ? dadd(gi, dmul(K("mu"), get(M))) : get(M))];
      }
      if (mode === UpdateMode.adam) {
        return [...out,
          ...set(M, round32(dadd(dmul(K("b1"), get(M)), dmul(K("oneMinusB1"), gi)))),
          ...set(V, round32(dadd(dmul(K("b2"), get(V)), dmul(dmul(K("oneMinusB2"), gi), gi)))),
          ...set(W, dsub(get(W), ddiv(dmul(K("lrOverC1"), get(M)), dadd(ddiv(dsqrt(get(V)), K("sc2")), K("eps")))))];
      }
      return [...out,
        ...set(V, round32(dadd(dmul(K("alpha"), get(V)), dmul(dmul(K("oneMinusAlpha"), gi), gi)))),
        ...set(U, ddiv(gi, dadd(dsqrt(get(V)), K("eps")))),
        ...(mode === UpdateMode.rmspropMomentum ? set(M, round32(dadd(dmul(K("mu"), get(M)), get(U)))) : []),
        ...newW(mode === UpdateMode.rmspropMomentum ? get(M) : get(U))];
    };
    const usesM = (mode: number) => mode !== UpdateMode.sgd && mode !== UpdateMode.rmsprop;
    const usesV = (mode: number) => mode >= UpdateMode.adam;
    const addr = (base: number): Code => iadd(get(base), get(L.o));
    /** four values per iteration, then one at a time */
    const loop = (mode: number, decay: boolean): Code => {
      const split = (buf: number, name: string): Code => [
        ...set(L.x, vload(addr(buf))), ...set(h(name, 0), promote(get(L.x))), ...set(h(name, 1), promoteHigh(get(L.x))),
      ];
      const one = (buf: number, name: string): Code => set(h(name, 0), promote(vload32(addr(buf))));
      const storeOne = (buf: number, name: string): Code => vstore32(addr(buf), demote(get(h(name, 0))));
      const check = (x: number): Code => set(L.acc, vadd(get(L.acc), vsub(get(x), get(x))));
      return [
        ...forLoop(L.i, i32(0), isub(get(L.n), i32(3)), 4, [
          ...set(L.o, imul(get(L.i), i32(4))),
          ...split(L.w, "W"), ...split(L.g, "G"), ...set(L.accG, vadd(get(L.accG), vsub(get(L.x), get(L.x)))), // x: g's vector
          ...(usesM(mode) ? split(L.m, "M") : []), ...(usesV(mode) ? split(L.v, "V") : []),
          ...rule(mode, decay, 0), ...rule(mode, decay, 1),
          ...set(L.nw, demote2(get(h("W", 0)), get(h("W", 1)))), ...vstore(addr(L.w), get(L.nw)), ...check(L.nw),
          ...(usesM(mode) ? vstore(addr(L.m), demote2(get(h("M", 0)), get(h("M", 1)))) : []),
          ...(usesV(mode) ? vstore(addr(L.v), demote2(get(h("V", 0)), get(h("V", 1)))) : []),
        ]),
        ...set(L.i, iand(get(L.n), i32(-4))),
        ...forLoop(L.i, get(L.i), get(L.n), 1, [
          ...set(L.o, imul(get(L.i), i32(4))),
          ...one(L.w, "W"), ...one(L.g, "G"),
          ...set(L.x, demote(get(h("G", 0)))), ...set(L.accG, vadd(get(L.accG), vsub(get(L.x), get(L.x)))), // g as f32x4 [g, 0, 0, 0]
          ...(usesM(mode) ? one(L.m, "M") : []), ...(usesV(mode) ? one(L.v, "V") : []),
          ...rule(mode, decay, 0),
          ...storeOne(L.w, "W"), ...(usesM(mode) ? storeOne(L.m, "M") : []), ...(usesV(mode) ? storeOne(L.v, "V") : []),
          // lane 0 alone (lane 1 computed the rule on zeros, which may be 0/0 when eps = 0)
          ...set(L.nw, shuffle(demote(get(h("W", 0))), vzero(), [0, 1, 2, 3, ...Array.from({ length: 12 }, (_, i) => 16 + i)])), ...check(L.nw),
        ]),
      ];
    };
    const modes = Object.values(UpdateMode).flatMap((m) => [m, m + WITH_DECAY]);
    const body = (m: number) => loop(m & (WITH_DECAY - 1), (m & WITH_DECAY) !== 0);
    const dispatch = (k: number): Code => k === modes.length - 1 ? body(modes[k]) : ifElse(ieq(get(L.mode), i32(modes[k])), body(modes[k]), dispatch(k + 1));
    return [
      ...UPDATE_CONSTANTS.flatMap((name) => set(L[name], dsplat(get(L.p), at(name)))), // once
      ...set(L.acc, vzero()), ...set(L.accG, vzero()),
      ...dispatch(0),
      ...vstore(get(L.out), get(L.acc)),
      ...vstore(iadd(get(L.out), i32(16)), get(L.accG)),
    ];
  });

/** The update's WebAssembly function. */
export const UPDATE_FUNCS = [updateKernel] as const;

/** The update on engine `e`: Float32 tensors of ≥ WASM_MIN_VALUES values, else declined (−1). */
export function updateOps(e: WasmEngine): Pick<AccelOps, "update"> {
  return {
    update(mode: number, n: number, w: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, c: Float64Array) {
      if (n < WASM_MIN_VALUES || !(w instanceof Float32Array && g instanceof Float32Array && m instanceof Float32Array && v instanceof Float32Array)) return -1;
      return e.update(mode, n, w, g, m, v, c);
    },
  };
}
