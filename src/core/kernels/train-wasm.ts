/**
 * WebAssembly SIMD kernels for the passes of a training step that are not layers: the
 * optimizer's update of a tensor, the non-finite check of a tensor, and the gather of a batch of
 * uint8 images into float32 inputs. On the MLP 256 these passes took 40% of a step as JS loops
 * (~1.5 ns per value: scalar loads, double arithmetic, float32 stores); here they run two or
 * four values per instruction.
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
import { add, div, mul, op, pairs, sub } from "./elementwise-wasm.ts";
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

const sqrt = (a: Code): Code => [...a, ...op(0xef)]; // f64x2.sqrt (correctly rounded, as Math.sqrt)
const f32add = (a: Code, b: Code): Code => [...a, ...b, ...op(0xe4)];
const f32sub = (a: Code, b: Code): Code => [...a, ...b, ...op(0xe5)];
const f32div = (a: Code, b: Code): Code => [...a, ...b, ...op(0xe7)];
const vload = (addr: Code, offset = 0): Code => [...addr, ...op(0x00), 0, ...uleb(offset)];
const vstore = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, ...op(0x0b), 0, ...uleb(offset)];
const vstore16 = (addr: Code, v: Code): Code => [...addr, ...v, ...op(0x0b), 4, 0];
const vzero = (): Code => [...op(0x0c), ...new Array(16).fill(0)];

/**
 * update(mode, n, w, g, m, v, p, out): one optimizer step over n float32 values (optim.ts's
 * loops), with the step's doubles at p (UPDATE_CONSTANTS). Writes the non-finite check of the
 * updated w to out (f64x2: both lanes 0 when every new weight is finite, else NaN in one).
 */
const updateKernel = func(["mode", "n", "w", "g", "m", "v", "p", "out"], ["i"], ["W", "GI", "M", "U", "acc"], (L) => {
  const c = (name: (typeof UPDATE_CONSTANTS)[number]): Code => [...get(L.p), ...op(0x0a), 3, ...uleb(at(name))]; // v128.load64_splat
  /** One loop over the tensor: `body` computes the new weight (a double pair) from W and G. */
  const loop = (body: (ld: (b: Code) => Code, st: (b: Code, x: Code) => Code) => Code): Code => pairs(L, get(L.n), (ld, st) => [
    ...set(L.W, ld(get(L.w))),
    ...set(L.GI, add(ld(get(L.g)), mul(c("wd"), get(L.W)))), // g + λw (λ = 0 adds 0·w, as the loop does)
    ...body(ld, st),
    ...set(L.W, ld(get(L.w))), // the stored float32 weight, for the check
    ...set(L.acc, add(get(L.acc), sub(get(L.W), get(L.W)))),
  ]);
  const step = (u: Code): Code => mul(c("lr"), u);
  const sgdMomentum = (first: boolean, nesterov: boolean) => loop((ld, st) => [
    ...st(get(L.m), first ? get(L.GI) : add(mul(c("mu"), ld(get(L.m))), get(L.GI))),
    ...set(L.M, ld(get(L.m))),
    ...st(get(L.w), sub(get(L.W), step(nesterov ? add(get(L.GI), mul(c("mu"), get(L.M))) : get(L.M)))),
  ]);
  const rmsprop = (momentum: boolean) => loop((ld, st) => [
    ...st(get(L.v), add(mul(c("alpha"), ld(get(L.v))), mul(mul(c("oneMinusAlpha"), get(L.GI)), get(L.GI)))),
    ...set(L.U, div(get(L.GI), add(sqrt(ld(get(L.v))), c("eps")))),
    ...(momentum ? [...st(get(L.m), add(mul(c("mu"), ld(get(L.m))), get(L.U))), ...set(L.U, ld(get(L.m)))] : []),
    ...st(get(L.w), sub(get(L.W), step(get(L.U)))),
  ]);
  const loops: Code[] = [
    loop((_ld, st) => st(get(L.w), sub(get(L.W), step(get(L.GI))))),
    sgdMomentum(true, false),
    sgdMomentum(false, false),
    sgdMomentum(true, true),
    sgdMomentum(false, true),
    loop((ld, st) => [
      ...st(get(L.m), add(mul(c("b1"), ld(get(L.m))), mul(c("oneMinusB1"), get(L.GI)))),
      ...st(get(L.v), add(mul(c("b2"), ld(get(L.v))), mul(mul(c("oneMinusB2"), get(L.GI)), get(L.GI)))),
      ...st(get(L.w), sub(get(L.W), div(mul(c("lrOverC1"), ld(get(L.m))), add(div(sqrt(ld(get(L.v))), c("sc2")), c("eps"))))),
    ]),
    rmsprop(false),
    rmsprop(true),
  ];
  const dispatch = (k: number): Code => k === loops.length - 1 ? loops[k] : ifElse([...get(L.mode), ...i32(k), 0x46 /* i32.eq */], loops[k], dispatch(k + 1));
  return [...set(L.acc, vzero()), ...dispatch(0), ...vstore16(get(L.out), get(L.acc))];
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
const gatherKernel = func(["count", "P", "img", "idx", "out"], ["b", "i", "src", "dst"], ["x", "h"], (L) => {
  const quarter = (half: Code, low: boolean, offset: number): Code =>
    vstore(iadd(get(L.dst), imul(get(L.i), i32(4))), f32div([...half, ...op(low ? 0xa9 : 0xaa), ...op(0xfb)], V255), offset); // i32x4.extend_{low,high}_i16x8_u; f32x4.convert_i32x4_u
  return forLoop(L.b, i32(0), get(L.count), 1, [
    ...set(L.src, iadd(get(L.img), imul([...iadd(get(L.idx), imul(get(L.b), i32(4))), 0x28, 2, 0] /* i32.load */, get(L.P)))),
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
  ]);
});

export const TRAIN_KERNELS: Record<string, FuncDef> = {
  update: updateKernel,
  nonFinite: nonFiniteKernel,
  gather: gatherKernel,
};
