/**
 * The gather of a batch, the accelerator's "gather" operation: views.ts's copy of the batch's
 * uint8 images, in the shuffled order, into float32 inputs scaled to [0, 1]. Its reference is
 * views.ts's loop (a 256-entry table of b/255), which runs where the operation is not
 * registered or declines. The WebAssembly kernel computes x = b/255 rounded to float32 (f32.div
 * is correctly rounded; the table rounds the double quotient, which test/core/train-kernels.test.ts
 * checks is the same float for all 256 bytes).
 */
import {
  f32, f32store, fdiv, fFromU32, forLoop, func, get, i32, i32load, i32load8u, i32store8, iadd, iand, imul, isub, ixor,
  set, vconstF32, vdiv, vFromU32, vload, vstore, widen16High, widen16Low, widen8High, widen8Low, type Code,
} from "../asm.ts";
import type { WasmEngine } from "../engine.ts";
import { WASM_MIN_VALUES, type AccelOps } from "../registry.ts";

/**
 * gather(count, P, img, idx, out): out[b·P + i] = img[idx[b]·P + i] / 255 as float32, for
 * b < count (idx: int32 example numbers) and i < P (bytes per example). 16 bytes per
 * iteration: widened u8 → u16 → u32, converted, divided; the last P mod 16 one at a time.
 */
const gatherKernel = func("gather", ["count", "P", "img", "idx", "out"], ["b", "i", "src", "dst", "touch"], ["x", "h"], (L) => {
  const quarter = (half: Code, low: boolean, offset: number): Code =>
    vstore(iadd(get(L.dst), imul(get(L.i), i32(4))), vdiv(vFromU32(low ? widen16Low(half) : widen16High(half)), vconstF32(255)), offset);
  const row = set(L.src, iadd(get(L.img), imul(i32load(iadd(get(L.idx), imul(get(L.b), i32(4)))), get(L.P))));
  return [
    // First touch one byte of every 64-byte line of every example: independent loads, so the
    // cache misses of the randomly placed examples overlap instead of coming one row at a time
    // (15 → 8.4 µs for a batch of 32 MNIST images). The xor is stored so the loads are kept.
    ...forLoop(L.b, i32(0), get(L.count), 1, [
      ...row,
      ...forLoop(L.i, i32(0), get(L.P), 64, set(L.touch, ixor(get(L.touch), i32load8u(iadd(get(L.src), get(L.i)))))),
    ]),
    ...i32store8(get(L.out), get(L.touch)), // at out: overwritten below
    ...forLoop(L.b, i32(0), get(L.count), 1, [
      ...row,
      ...set(L.dst, iadd(get(L.out), imul(imul(get(L.b), get(L.P)), i32(4)))),
      ...forLoop(L.i, i32(0), isub(get(L.P), i32(15)), 16, [
        ...set(L.x, vload(iadd(get(L.src), get(L.i)))),
        ...set(L.h, widen8Low(get(L.x))),
        ...quarter(get(L.h), true, 0), ...quarter(get(L.h), false, 16),
        ...set(L.h, widen8High(get(L.x))),
        ...quarter(get(L.h), true, 32), ...quarter(get(L.h), false, 48),
      ]),
      ...set(L.i, iand(get(L.P), i32(-16))),
      ...forLoop(L.i, get(L.i), get(L.P), 1, [
        ...f32store(iadd(get(L.dst), imul(get(L.i), i32(4))), fdiv(fFromU32(i32load8u(iadd(get(L.src), get(L.i)))), f32(255))),
      ]),
    ]),
  ];
});

/** The gather's WebAssembly function. */
export const GATHER_FUNCS = [gatherKernel] as const;

/** The gather on engine `e`: Float32 batches of ≥ WASM_MIN_VALUES values, else declined. */
export function gatherOps(e: WasmEngine): Pick<AccelOps, "gather"> {
  return {
    gather(images: Uint8Array, P: number, order: Int32Array | null, start: number, count: number, x) {
      return count * P >= WASM_MIN_VALUES && x instanceof Float32Array && e.gather(images, P, order, start, count, x);
    },
  };
}
