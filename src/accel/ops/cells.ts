/**
 * Recurrent cell steps, the accelerator's "lstmStep" and "gruStep" operations: the elementwise
 * part of one time step of lstm.ts and gru.ts (the gates from their pre-activations, the new
 * cell and hidden state). Their reference is the loop in each layer's file, which runs where
 * the operation is not registered or declines; the WebAssembly kernels below do the layers'
 * arithmetic in the layers' order — the forward cells in float32 operations (math.ts's
 * sigmoidF32 and tanhF32), the backward cells in double, rounding to float32 once per stored
 * value — as the TypeScript loops do on float32 tensors, so they match them bit for bit.
 * Also the whole-sequence operations ("lstmSequence", "gruSequence", "rnnSequence" and their
 * …Backward, with the kernels lstmBackward and gruBackward of the layers' stepBackward loops):
 * every time step of a layer's forward or backward in one engine call, with W_hh resident (engine.ts). They run the very kernels the per-step path runs, so they
 * take a call only where that path would run WebAssembly for every step (the products' N·K ≥
 * WASM_MIN_NK, the cells' B·H ≥ WASM_MIN_VALUES, those operations registered), and decline the rest.
 */
import type { FloatArray } from "../../core/tensor.ts";
import { dadd, dmul, dsub, forLoop, func, get, i32, iadd, ieq, ifElse, imul, set, vadd, vmul, vsub, type Code } from "../asm.ts";
import type { WasmEngine } from "../engine.ts";
import { F32_SCRATCH, k, kf, pairs, quads, sigmoidF32Into, tanhF32Into } from "../lane-math.ts";
import { WASM_MIN_NK } from "./gemm.ts";
import { ops, WASM_MIN_VALUES, type AccelOps } from "../registry.ts";

/**
 * lstm(B, H, a, cPrev, cNext, tc, hNext): one LSTM step as lstm.ts computes it on float32
 * tensors, per example b and unit h, with a [B, 4H] the pre-activations (overwritten by the
 * gates i, f, g, o), in float32 operations (math.ts's sigmoidF32 and tanhF32, four units per
 * f32x4):
 *   i, f, o = σ(a), g = tanh a;  c = f·c_prev + i·g;  th = tanh c;  h = o·th
 * stored as cNext = c, tc = th, hNext = h (all [B, H]).
 */
const lstmKernel = func("lstm", ["B", "H", "a", "cPrev", "cNext", "tc", "hNext"], ["b", "i", "row", "cell", "n"],
  ["gi", "gf", "gg", "go", "x", "cv", "th", ...F32_SCRATCH], (L) => {
    const gate = (g: number) => iadd(get(L.row), imul(get(L.H), i32(4 * g)));
    return [
      ...set(L.n, get(L.H)),
      ...forLoop(L.b, i32(0), get(L.B), 1, [
        ...set(L.row, iadd(get(L.a), imul(imul(get(L.b), get(L.H)), i32(16)))), // &a[b, 0]
        ...set(L.cell, imul(imul(get(L.b), get(L.H)), i32(4))), // byte offset of [b, 0] in [B, H]
        ...quads(L, get(L.n), (ld, st) => [
          ...set(L.x, ld(gate(0))), ...sigmoidF32Into(L, L.x, L.gi),
          ...set(L.x, ld(gate(1))), ...sigmoidF32Into(L, L.x, L.gf),
          ...set(L.x, ld(gate(2))), ...tanhF32Into(L, L.x, L.gg),
          ...set(L.x, ld(gate(3))), ...sigmoidF32Into(L, L.x, L.go),
          ...st(gate(0), get(L.gi)), ...st(gate(1), get(L.gf)), ...st(gate(2), get(L.gg)), ...st(gate(3), get(L.go)),
          ...set(L.cv, vadd(vmul(get(L.gf), ld(iadd(get(L.cPrev), get(L.cell)))), vmul(get(L.gi), get(L.gg)))),
          ...tanhF32Into(L, L.cv, L.th),
          ...st(iadd(get(L.cNext), get(L.cell)), get(L.cv)),
          ...st(iadd(get(L.tc), get(L.cell)), get(L.th)),
          ...st(iadd(get(L.hNext), get(L.cell)), vmul(get(L.go), get(L.th))),
        ]),
      ]),
    ];
  });

/**
 * gru(B, H, a, hh, bhn, hPrev, hn, hNext): one GRU step as gru.ts computes it on float32
 * tensors, with a [B, 3H] the input parts (overwritten by r, z, n), hh [B, 3H] = h_{t−1}·W_hhᵀ,
 * bhn = &b_hh[2H], in float32 operations (math.ts's sigmoidF32 and tanhF32, four units per f32x4):
 *   r = σ(a_r + hh_r), z = σ(a_z + hh_z), m = hh_n + b_hn, n = tanh(a_n + r·m), h = (1 − z)·n + z·h_prev
 * stored as hn = m, hNext = h.
 */
const gruKernel = func("gru", ["B", "H", "a", "hh", "bhn", "hPrev", "hn", "hNext"], ["b", "i", "row", "cell", "n"],
  ["gr", "gz", "gn", "m", "x", ...F32_SCRATCH], (L) => {
    const part = (base: Code, g: number) => iadd(base, imul(get(L.H), i32(4 * g)));
    const rowA = get(L.row), rowH = iadd(get(L.hh), imul(imul(get(L.b), get(L.H)), i32(12)));
    return [
      ...set(L.n, get(L.H)),
      ...forLoop(L.b, i32(0), get(L.B), 1, [
        ...set(L.row, iadd(get(L.a), imul(imul(get(L.b), get(L.H)), i32(12)))), // &a[b, 0]
        ...set(L.cell, imul(imul(get(L.b), get(L.H)), i32(4))),
        ...quads(L, get(L.n), (ld, st) => [
          ...set(L.x, vadd(ld(part(rowA, 0)), ld(part(rowH, 0)))), ...sigmoidF32Into(L, L.x, L.gr),
          ...set(L.x, vadd(ld(part(rowA, 1)), ld(part(rowH, 1)))), ...sigmoidF32Into(L, L.x, L.gz),
          ...set(L.m, vadd(ld(part(rowH, 2)), ld(part(get(L.bhn), 0)))),
          ...set(L.x, vadd(ld(part(rowA, 2)), vmul(get(L.gr), get(L.m)))), ...tanhF32Into(L, L.x, L.gn),
          ...st(part(rowA, 0), get(L.gr)), ...st(part(rowA, 1), get(L.gz)), ...st(part(rowA, 2), get(L.gn)),
          ...st(iadd(get(L.hn), get(L.cell)), get(L.m)),
          ...st(iadd(get(L.hNext), get(L.cell)),
            vadd(vmul(vsub(kf(1), get(L.gz)), get(L.gn)), vmul(get(L.gz), ld(iadd(get(L.hPrev), get(L.cell)))))),
        ]),
      ]),
    ];
  });


/**
 * lstmBackward(B, H, a, cPrev, tc, dh, dcNext, aNext, dc, dA, last): one step of lstm.ts's
 * stepBackward, per example b and unit h, with a [B, 4H] the gates i, f, g, o of step t, aNext
 * those of step t + 1 (its f read), cPrev = c_{t−1}, tc = tanh c_t, dh = ∂L/∂h_t, dcNext =
 * ∂L/∂c_{t+1} (all [B, H]; aNext and dcNext unread when `last` is 1):
 *   dc = dh·o·(1 − th²) (+ dcNext·f_{t+1});  dA = [dc·g·i(1 − i), dc·c_{t−1}·f(1 − f), dc·i(1 − g²), dh·th·o(1 − o)]
 * in double in the loop's order, each stored once as float32.
 */
const lstmBackKernel = func("lstmBackward", ["B", "H", "a", "cPrev", "tc", "dh", "dcNext", "aNext", "dc", "dA", "last"], ["b", "i", "row", "rowD", "next", "cell", "n"],
  ["gi", "gf", "gg", "go", "th", "dht", "dct"], (L) => {
    const gate = (row: number, g: number) => iadd(get(row), imul(get(L.H), i32(4 * g)));
    const at = (p: number) => iadd(get(p), get(L.cell));
    const dAt = (g: number) => gate(L.rowD, g); // &dA[b, g·H]
    const one = k(1);
    return [
      ...set(L.n, get(L.H)),
      ...forLoop(L.b, i32(0), get(L.B), 1, [
        ...set(L.row, iadd(get(L.a), imul(imul(get(L.b), get(L.H)), i32(16)))), // &a[b, 0]
        ...set(L.rowD, iadd(get(L.dA), imul(imul(get(L.b), get(L.H)), i32(16)))),
        ...set(L.next, iadd(get(L.aNext), imul(imul(get(L.b), get(L.H)), i32(16)))),
        ...set(L.cell, imul(imul(get(L.b), get(L.H)), i32(4))),
        ...pairs(L, get(L.n), (ld, st) => [
          ...set(L.gi, ld(gate(L.row, 0))), ...set(L.gf, ld(gate(L.row, 1))), ...set(L.gg, ld(gate(L.row, 2))), ...set(L.go, ld(gate(L.row, 3))),
          ...set(L.th, ld(at(L.tc))), ...set(L.dht, ld(at(L.dh))),
          ...set(L.dct, dmul(dmul(get(L.dht), get(L.go)), dsub(one, dmul(get(L.th), get(L.th))))),
          ...ifElse(ieq(get(L.last), i32(0)), set(L.dct, dadd(get(L.dct), dmul(ld(at(L.dcNext)), ld(gate(L.next, 1)))))),
          ...st(at(L.dc), get(L.dct)),
          ...st(dAt(0),
            dmul(dmul(dmul(get(L.dct), get(L.gg)), get(L.gi)), dsub(one, get(L.gi)))),
          ...st(dAt(1),
            dmul(dmul(dmul(get(L.dct), ld(at(L.cPrev))), get(L.gf)), dsub(one, get(L.gf)))),
          ...st(dAt(2),
            dmul(dmul(get(L.dct), get(L.gi)), dsub(one, dmul(get(L.gg), get(L.gg))))),
          ...st(dAt(3),
            dmul(dmul(dmul(get(L.dht), get(L.th)), get(L.go)), dsub(one, get(L.go)))),
        ]),
      ]),
    ];
  });

/**
 * gruBackward(B, H, a, hPrev, hn, dh, dA, dHh, dhPrev, first): one step of gru.ts's stepBackward,
 * with a [B, 3H] the gates r, z, n of step t, hPrev = h_{t−1}, hn = W_hn h_{t−1} + b_hn, dh =
 * ∂L/∂h_t (each [B, H]); with a_n = dh·(1 − z)·(1 − n²):
 *   dA = [a_n·hn·r(1 − r), dh·(h_{t−1} − n)·z(1 − z), a_n], dHh = the same with a_n·r last,
 *   and, unless `first` is 1, dhPrev += dh·z — in double in the loop's order, stored once as float32.
 */
const gruBackKernel = func("gruBackward", ["B", "H", "a", "hPrev", "hn", "dh", "dA", "dHh", "dhPrev", "first"], ["b", "i", "row", "cell", "n"],
  ["gr", "gz", "gn", "dht", "dan", "daz", "dar"], (L) => {
    const part = (base: Code, g: number) => iadd(base, imul(get(L.H), i32(4 * g)));
    const at = (p: number) => iadd(get(p), get(L.cell));
    const rowOf = (p: number) => iadd(get(p), imul(imul(get(L.b), get(L.H)), i32(12)));
    const one = k(1);
    return [
      ...set(L.n, get(L.H)),
      ...forLoop(L.b, i32(0), get(L.B), 1, [
        ...set(L.row, rowOf(L.a)), // &a[b, 0]
        ...set(L.cell, imul(imul(get(L.b), get(L.H)), i32(4))),
        ...pairs(L, get(L.n), (ld, st) => [
          ...set(L.gr, ld(part(get(L.row), 0))), ...set(L.gz, ld(part(get(L.row), 1))), ...set(L.gn, ld(part(get(L.row), 2))),
          ...set(L.dht, ld(at(L.dh))),
          ...set(L.dan, dmul(dmul(get(L.dht), dsub(one, get(L.gz))), dsub(one, dmul(get(L.gn), get(L.gn))))),
          ...set(L.daz, dmul(dmul(dmul(get(L.dht), dsub(ld(at(L.hPrev)), get(L.gn))), get(L.gz)), dsub(one, get(L.gz)))),
          ...set(L.dar, dmul(dmul(dmul(get(L.dan), ld(at(L.hn))), get(L.gr)), dsub(one, get(L.gr)))),
          ...st(part(rowOf(L.dA), 0), get(L.dar)), ...st(part(rowOf(L.dA), 1), get(L.daz)), ...st(part(rowOf(L.dA), 2), get(L.dan)),
          ...st(part(rowOf(L.dHh), 0), get(L.dar)), ...st(part(rowOf(L.dHh), 1), get(L.daz)), ...st(part(rowOf(L.dHh), 2), dmul(get(L.dan), get(L.gr))),
          ...ifElse(ieq(get(L.first), i32(0)), st(at(L.dhPrev), dadd(ld(at(L.dhPrev)), dmul(get(L.dht), get(L.gz))))),
        ]),
      ]),
    ];
  });

/** The cells' WebAssembly functions, in the module's order. */
export const CELL_FUNCS = [lstmKernel, gruKernel, lstmBackKernel, gruBackKernel] as const;

/** The cell steps on engine `e`: Float32 and B·H ≥ WASM_MIN_VALUES, else declined. */
export function cellOps(e: WasmEngine): Pick<AccelOps, "lstmStep" | "gruStep" | "lstmSequence" | "gruSequence" | "rnnSequence" | "lstmSequenceBackward" | "gruSequenceBackward" | "rnnSequenceBackward"> {
  const F = (a: FloatArray): boolean => a instanceof Float32Array;
  return {
    lstmStep(B: number, H: number, a: FloatArray, aOff: number, cs: FloatArray, cPrev: number, cNext: number, tc: FloatArray, tcOff: number, hs: FloatArray, hNext: number) {
      if (B * H < WASM_MIN_VALUES || !(a instanceof Float32Array && cs instanceof Float32Array && tc instanceof Float32Array && hs instanceof Float32Array)) return false;
      e.lstm(B, H, a, aOff, cs, cPrev, cNext, tc, tcOff, hs, hNext);
      return true;
    },
    gruStep(B, H, a, aOff, hh, bhh, hs, hPrev, hn, hnOff, hNext) {
      if (B * H < WASM_MIN_VALUES || !(a instanceof Float32Array && hh instanceof Float32Array && bhh instanceof Float32Array && hs instanceof Float32Array && hn instanceof Float32Array)) return false;
      e.gru(B, H, a, aOff, hh, bhh, hs, hPrev, hn, hnOff, hNext);
      return true;
    },
    lstmSequence(T, B, H, pre, W, cs, tc, hs) {
      if (B * H < WASM_MIN_VALUES || 4 * H * H < WASM_MIN_NK || !ops.gemmNT || !ops.lstmStep) return false;
      return F(pre) && F(W) && F(cs) && F(tc) && F(hs) && e.lstmSequence(T, B, H, pre as Float32Array, W as Float32Array, cs as Float32Array, tc as Float32Array, hs as Float32Array);
    },
    gruSequence(T, B, H, pre, W, bhh, hh, hn, hs) {
      if (B * H < WASM_MIN_VALUES || 3 * H * H < WASM_MIN_NK || !ops.gemmNT || !ops.gruStep) return false;
      return F(pre) && F(W) && F(bhh) && F(hh) && F(hn) && F(hs) && e.gruSequence(T, B, H, pre as Float32Array, W as Float32Array, bhh as Float32Array, hh as Float32Array, hn as Float32Array, hs as Float32Array);
    },
    rnnSequence(f, T, B, H, z, W, hs) {
      if (B * H < WASM_MIN_VALUES || H * H < WASM_MIN_NK || !ops.gemmNT || (f !== "relu" && !ops.map)) return false;
      return F(z) && F(W) && F(hs) && e.rnnSequence(f, T, B, H, z as Float32Array, W as Float32Array, hs as Float32Array);
    },
    lstmSequenceBackward(T, B, H, pre, cs, tc, dh, W, dc, dA) {
      if (B * H < WASM_MIN_VALUES || 4 * H * H < WASM_MIN_NK || !ops.gemmNN) return false;
      return F(pre) && F(cs) && F(tc) && F(dh) && F(W) && F(dc) && F(dA) && e.lstmSequenceBackward(T, B, H, pre as Float32Array, cs as Float32Array, tc as Float32Array, dh as Float32Array, W as Float32Array, dc as Float32Array, dA as Float32Array);
    },
    gruSequenceBackward(T, B, H, pre, hs, hn, dh, W, dA, dHh) {
      if (B * H < WASM_MIN_VALUES || 3 * H * H < WASM_MIN_NK || !ops.gemmNN) return false;
      return F(pre) && F(hs) && F(hn) && F(dh) && F(W) && F(dA) && F(dHh) && e.gruSequenceBackward(T, B, H, pre as Float32Array, hs as Float32Array, hn as Float32Array, dh as Float32Array, W as Float32Array, dA as Float32Array, dHh as Float32Array);
    },
    rnnSequenceBackward(f, T, B, H, zOrY, yOff, dh, W, dz) {
      if (B * H < WASM_MIN_VALUES || H * H < WASM_MIN_NK || !ops.gemmNN || !ops.mapBackward) return false;
      return F(zOrY) && F(dh) && F(W) && F(dz) && e.rnnSequenceBackward(f, T, B, H, zOrY as Float32Array, yOff, dh as Float32Array, W as Float32Array, dz as Float32Array);
    },
  };
}
