/**
 * WebAssembly SIMD kernels for the passes of a training step around the layers' products: the
 * optimizer's update of a tensor (which checks its gradient and its new weights in the same
 * pass), the non-finite check of a tensor, the gather of a batch of uint8 images into float32
 * inputs, and the row sums of the bias gradients. On the MLP 256 these passes took 40% of a step
 * as JS loops (~1.5 ns per value: scalar loads, double arithmetic, float32 stores); here they run
 * two or four values per instruction.
 *
 * Bit for bit what the TypeScript loops compute:
 *   - update: optim.ts's formulas, the same IEEE double operations in the same order, every
 *     float32 store (w, and the moment buffers m, v, which the loops read back after storing)
 *     rounded once as a Float32Array store rounds;
 *   - gather: x = b/255 rounded to float32 (f32.div is correctly rounded; views.ts's table
 *     rounds the double quotient, which the test checks is the same float for all 256 bytes).
 * The non-finite check adds (x − x) over the tensor in float32 lanes: 0 for every finite x,
 * NaN for NaN and ±Inf, so the total is NaN exactly when the tensor holds a NaN or ±Inf.
 */
import { add, div, mul, op, sub } from "./elementwise-wasm.ts";
import { forLoop, func, get, i32, iadd, ifElse, imul, set, uleb, type Code, type FuncDef } from "./wasm-asm.ts";

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

const sqrt = (a: Code): Code => [...a, ...op(0xef)]; // f64x2.sqrt (correctly rounded, as Math.sqrt)
const f32add = (a: Code, b: Code): Code => [...a, ...b, ...op(0xe4)];
const f32sub = (a: Code, b: Code): Code => [...a, ...b, ...op(0xe5)];
const f32div = (a: Code, b: Code): Code => [...a, ...b, ...op(0xe7)];
const vload = (addr: Code, offset = 0): Code => [...addr, ...op(0x00), 0, ...uleb(offset)];
const vstore = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, ...op(0x0b), 0, ...uleb(offset)];
const vstore16 = (addr: Code, v: Code): Code => [...addr, ...v, ...op(0x0b), 4, 0];
const vzero = (): Code => [...op(0x0c), ...new Array(16).fill(0)];

/** f64x2 → the float32 it stores as, back as f64x2: what a Float32Array store then load gives */
const round32 = (x: Code): Code => [...x, ...op(0x5e), ...op(0x5f)]; // f32x4.demote_f64x2_zero; f64x2.promote_low_f32x4
const promoteLow = (v: Code): Code => [...v, ...op(0x5f)];
/** lanes 2, 3 of an f32x4 as f64x2 */
const promoteHigh = (v: Code): Code => [...v, ...v, ...op(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, ...op(0x5f)];
/** two f64x2 rounded into one f32x4 (lo's lanes, then hi's) */
const demote2 = (lo: Code, hi: Code): Code => [...lo, ...op(0x5e), ...hi, ...op(0x5e), ...op(0x0d), 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/**
 * update(mode, n, w, g, m, v, p, out): one optimizer step over n float32 values (optim.ts's
 * loops), with the step's doubles at p (UPDATE_CONSTANTS); mode is an UpdateMode, + WITH_DECAY
 * when g + λw replaces g. Writes the non-finite checks of the updated w to out and of g to
 * out + 16 (f32x4 each: all lanes 0 when every value is finite, else a NaN lane).
 * Four values per iteration, as two f64x2 halves; the moment buffers' stored-then-read values
 * are the doubles rounded to float32 and back (round32), as the loops read them.
 */
const updateKernel = func(["mode", "n", "w", "g", "m", "v", "p", "out"], ["i", "o"],
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
      const out: Code = decay ? set(G, add(get(G), mul(K("wd"), get(W)))) : [];
      const newW = (u: Code) => set(W, sub(get(W), mul(K("lr"), u)));
      if (mode === UpdateMode.sgd) return [...out, ...newW(gi)];
      if (mode <= UpdateMode.nesterov) {
        const first = mode === UpdateMode.sgdMomentumFirst || mode === UpdateMode.nesterovFirst;
        const nesterov = mode === UpdateMode.nesterovFirst || mode === UpdateMode.nesterov;
        return [...out,
          ...set(M, round32(first ? gi : add(mul(K("mu"), get(M)), gi))),
          ...newW(nesterov ? add(gi, mul(K("mu"), get(M))) : get(M))];
      }
      if (mode === UpdateMode.adam) {
        return [...out,
          ...set(M, round32(add(mul(K("b1"), get(M)), mul(K("oneMinusB1"), gi)))),
          ...set(V, round32(add(mul(K("b2"), get(V)), mul(mul(K("oneMinusB2"), gi), gi)))),
          ...set(W, sub(get(W), div(mul(K("lrOverC1"), get(M)), add(div(sqrt(get(V)), K("sc2")), K("eps")))))];
      }
      return [...out,
        ...set(V, round32(add(mul(K("alpha"), get(V)), mul(mul(K("oneMinusAlpha"), gi), gi)))),
        ...set(U, div(gi, add(sqrt(get(V)), K("eps")))),
        ...(mode === UpdateMode.rmspropMomentum ? set(M, round32(add(mul(K("mu"), get(M)), get(U)))) : []),
        ...newW(mode === UpdateMode.rmspropMomentum ? get(M) : get(U))];
    };
    const usesM = (mode: number) => mode !== UpdateMode.sgd && mode !== UpdateMode.rmsprop;
    const usesV = (mode: number) => mode >= UpdateMode.adam;
    const addr = (base: number): Code => iadd(get(base), get(L.o));
    /** four values per iteration, then one at a time */
    const loop = (mode: number, decay: boolean): Code => {
      const split = (buf: number, name: string): Code => [
        ...set(L.x, vload(addr(buf))), ...set(h(name, 0), promoteLow(get(L.x))), ...set(h(name, 1), promoteHigh(get(L.x))),
      ];
      const one = (buf: number, name: string): Code => set(h(name, 0), [...addr(buf), ...op(0x5c), 2, 0, ...op(0x5f)]); // load32_zero; promote
      const storeOne = (buf: number, name: string): Code => [...addr(buf), ...get(h(name, 0)), ...op(0x5e), ...op(0x5a), 2, 0, 0]; // demote; store32_lane 0
      const check = (x: number): Code => set(L.acc, f32add(get(L.acc), f32sub(get(x), get(x))));
      return [
        ...forLoop(L.i, i32(0), [...get(L.n), ...i32(3), 0x6b] /* n − 3 */, 4, [
          ...set(L.o, imul(get(L.i), i32(4))),
          ...split(L.w, "W"), ...split(L.g, "G"), ...set(L.accG, f32add(get(L.accG), f32sub(get(L.x), get(L.x)))), // x: g's vector
          ...(usesM(mode) ? split(L.m, "M") : []), ...(usesV(mode) ? split(L.v, "V") : []),
          ...rule(mode, decay, 0), ...rule(mode, decay, 1),
          ...set(L.nw, demote2(get(h("W", 0)), get(h("W", 1)))), ...vstore(addr(L.w), get(L.nw)), ...check(L.nw),
          ...(usesM(mode) ? vstore(addr(L.m), demote2(get(h("M", 0)), get(h("M", 1)))) : []),
          ...(usesV(mode) ? vstore(addr(L.v), demote2(get(h("V", 0)), get(h("V", 1)))) : []),
        ]),
        ...set(L.i, [...get(L.n), ...i32(-4), 0x71] /* n & ~3 */),
        ...forLoop(L.i, get(L.i), get(L.n), 1, [
          ...set(L.o, imul(get(L.i), i32(4))),
          ...one(L.w, "W"), ...one(L.g, "G"),
          ...set(L.x, [...get(h("G", 0)), ...op(0x5e)]), ...set(L.accG, f32add(get(L.accG), f32sub(get(L.x), get(L.x)))), // g as f32x4 [g, 0, 0, 0]
          ...(usesM(mode) ? one(L.m, "M") : []), ...(usesV(mode) ? one(L.v, "V") : []),
          ...rule(mode, decay, 0),
          ...storeOne(L.w, "W"), ...(usesM(mode) ? storeOne(L.m, "M") : []), ...(usesV(mode) ? storeOne(L.v, "V") : []),
          // lane 0 alone (lane 1 computed the rule on zeros, which may be 0/0 when eps = 0)
          ...set(L.nw, [...get(h("W", 0)), ...op(0x5e), ...vzero(), ...op(0x0d), 0, 1, 2, 3, ...Array.from({ length: 12 }, (_, i) => 16 + i)]), ...check(L.nw),
        ]),
      ];
    };
    const modes = Object.values(UpdateMode).flatMap((m) => [m, m + WITH_DECAY]);
    const body = (m: number) => loop(m & (WITH_DECAY - 1), (m & WITH_DECAY) !== 0);
    const dispatch = (k: number): Code => k === modes.length - 1 ? body(modes[k]) : ifElse([...get(L.mode), ...i32(modes[k]), 0x46 /* i32.eq */], body(modes[k]), dispatch(k + 1));
    return [
      ...UPDATE_CONSTANTS.flatMap((name) => set(L[name], [...get(L.p), ...op(0x0a), 3, ...uleb(at(name))])), // v128.load64_splat, once
      ...set(L.acc, vzero()), ...set(L.accG, vzero()),
      ...dispatch(0),
      ...vstore16(get(L.out), get(L.acc)),
      ...vstore16(iadd(get(L.out), i32(16)), get(L.accG)),
    ];
  });

/**
 * nonFinite(n, a, out): out (f32x4) = Σ (a[i] − a[i]) in four float32 lanes: all 0 when every
 * value is finite, a NaN lane otherwise. Four accumulators, 16 values per iteration.
 */
const nonFiniteKernel = func(["n", "a", "out"], ["i", "q"], ["x", "a0", "a1", "a2", "a3"], (L) => {
  const term = (acc: number, offset: number): Code => [...set(L.x, vload(get(L.q), offset)), ...set(acc, f32add(get(acc), f32sub(get(L.x), get(L.x))))];
  return [
    ...set(L.a0, vzero()), ...set(L.a1, vzero()), ...set(L.a2, vzero()), ...set(L.a3, vzero()),
    ...forLoop(L.i, i32(0), [...get(L.n), ...i32(15), 0x6b] /* n − 15 */, 16, [
      ...set(L.q, iadd(get(L.a), imul(get(L.i), i32(4)))),
      ...term(L.a0, 0), ...term(L.a1, 16), ...term(L.a2, 32), ...term(L.a3, 48),
    ]),
    ...set(L.i, [...get(L.n), ...i32(-16), 0x71] /* n & ~15 */),
    ...forLoop(L.i, get(L.i), get(L.n), 1, [
      ...set(L.x, [...iadd(get(L.a), imul(get(L.i), i32(4))), ...op(0x5c), 2, 0]), // v128.load32_zero
      ...set(L.a0, f32add(get(L.a0), f32sub(get(L.x), get(L.x)))),
    ]),
    ...vstore16(get(L.out), f32add(f32add(get(L.a0), get(L.a1)), f32add(get(L.a2), get(L.a3)))),
  ];
});

/** f32x4 of four 255s (v128.const) */
const V255: Code = [...op(0x0c), ...Array.from(new Uint8Array(new Float32Array([255, 255, 255, 255]).buffer))];

/**
 * gather(count, P, img, idx, out): out[b·P + i] = img[idx[b]·P + i] / 255 as float32, for
 * b < count (idx: int32 example numbers) and i < P (bytes per example). 16 bytes per
 * iteration: widened u8 → u16 → u32, converted, divided; the last P mod 16 one at a time.
 */
const gatherKernel = func(["count", "P", "img", "idx", "out"], ["b", "i", "src", "dst", "touch"], ["x", "h"], (L) => {
  const quarter = (half: Code, low: boolean, offset: number): Code =>
    vstore(iadd(get(L.dst), imul(get(L.i), i32(4))), f32div([...half, ...op(low ? 0xa9 : 0xaa), ...op(0xfb)], V255), offset); // i32x4.extend_{low,high}_i16x8_u; f32x4.convert_i32x4_u
  const row = set(L.src, iadd(get(L.img), imul([...iadd(get(L.idx), imul(get(L.b), i32(4))), 0x28, 2, 0] /* i32.load */, get(L.P))));
  return [
    // First touch one byte of every 64-byte line of every example: independent loads, so the
    // cache misses of the randomly placed examples overlap instead of coming one row at a time
    // (15 → 8.4 µs for a batch of 32 MNIST images). The xor is stored so the loads are kept.
    ...forLoop(L.b, i32(0), get(L.count), 1, [
      ...row,
      ...forLoop(L.i, i32(0), get(L.P), 64, set(L.touch, [...get(L.touch), ...iadd(get(L.src), get(L.i)), 0x2d, 0, 0, 0x73])), // i32.load8_u; i32.xor
    ]),
    ...get(L.out), ...get(L.touch), 0x3a, 0, 0, // i32.store8 at out: overwritten below
    ...forLoop(L.b, i32(0), get(L.count), 1, [
      ...row,
      ...set(L.dst, iadd(get(L.out), imul(imul(get(L.b), get(L.P)), i32(4)))),
      ...forLoop(L.i, i32(0), [...get(L.P), ...i32(15), 0x6b] /* P − 15 */, 16, [
        ...set(L.x, vload(iadd(get(L.src), get(L.i)))),
        ...set(L.h, [...get(L.x), ...op(0x89)]), // i16x8.extend_low_i8x16_u
        ...quarter(get(L.h), true, 0), ...quarter(get(L.h), false, 16),
        ...set(L.h, [...get(L.x), ...op(0x8a)]), // i16x8.extend_high_i8x16_u
        ...quarter(get(L.h), true, 32), ...quarter(get(L.h), false, 48),
      ]),
      ...set(L.i, [...get(L.P), ...i32(-16), 0x71] /* P & ~15 */),
      ...forLoop(L.i, get(L.i), get(L.P), 1, [
        ...iadd(get(L.dst), imul(get(L.i), i32(4))),
        ...iadd(get(L.src), get(L.i)), 0x2d, 0, 0, // i32.load8_u
        0xb3, // f32.convert_i32_u
        0x43, 0x00, 0x00, 0x7f, 0x43, // f32.const 255
        0x95, // f32.div
        0x38, 2, 0, // f32.store
      ]),
    ]),
  ];
});

/**
 * sumRows32(M, N, src, dst) and sumRows64(M, N, src, dst): dst[n] += src[m·N + n] for m = 0 … M−1
 * in that order (bias gradients: a sum over the batch), dst float32 (each add rounded to
 * float32, as a Float32Array's `+=` does) or float64 (src promoted, added in double). Row by row,
 * so src streams in order while dst stays in L1.
 */
function sumRowsKernel(double: boolean): FuncDef {
  return func(["M", "N", "src", "dst"], ["m", "n", "row", "at"], ["x"], (L) => {
    const step = double ? 2 : 4;
    const dstAt = (n: Code): Code => iadd(get(L.dst), imul(n, i32(double ? 8 : 4)));
    const srcAt = (n: Code): Code => iadd(get(L.row), imul(n, i32(4)));
    const vec = double
      ? [...set(L.at, dstAt(get(L.n))), ...vstore(get(L.at), add(vload(get(L.at)), [...srcAt(get(L.n)), ...op(0x5d), 3, 0, ...op(0x5f)]))] // + promote(load64_zero)
      : [...set(L.at, dstAt(get(L.n))), ...vstore(get(L.at), f32add(vload(get(L.at)), vload(srcAt(get(L.n)))))];
    const one = double
      ? [...set(L.at, dstAt(get(L.n))), ...get(L.at), ...add([...get(L.at), ...op(0x5d), 3, 0], [...srcAt(get(L.n)), ...op(0x5c), 2, 0, ...op(0x5f)]), ...op(0x5b), 3, 0, 0] // store64_lane 0
      : [...set(L.at, dstAt(get(L.n))), ...get(L.at), ...f32add([...get(L.at), ...op(0x5c), 2, 0], [...srcAt(get(L.n)), ...op(0x5c), 2, 0]), ...op(0x5a), 2, 0, 0]; // store32_lane 0
    return forLoop(L.m, i32(0), get(L.M), 1, [
      ...set(L.row, iadd(get(L.src), imul(imul(get(L.m), get(L.N)), i32(4)))),
      ...forLoop(L.n, i32(0), [...get(L.N), ...i32(step - 1), 0x6b], step, vec),
      ...set(L.n, [...get(L.N), ...i32(-step), 0x71] /* N & ~(step − 1) */),
      ...forLoop(L.n, get(L.n), get(L.N), 1, one),
    ]);
  });
}

export const TRAIN_KERNELS: Record<string, FuncDef> = {
  sumRows32: sumRowsKernel(false),
  sumRows64: sumRowsKernel(true),
  update: updateKernel,
  nonFinite: nonFiniteKernel,
  gather: gatherKernel,
};
