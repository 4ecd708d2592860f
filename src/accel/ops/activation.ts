/**
 * Activations, the accelerator's "activate", "activateBackward", "map" and "mapBackward"
 * operations. Their reference is activations.ts's {forward, backward} pair of each activation
 * (and the recurrent layers' loops that call them); the WebAssembly kernels below reproduce it
 * bit for bit on Float32 data: sigmoid (forward and backward) and tanh's backward in double
 * precision, two values per f64x2 vector (lane-math.ts's exp), tanh's forward in float32
 * arithmetic four values per f32x4 (math.ts's tanhF32), relu on float32 lanes (a select, no
 * rounding involved). Other activations, Float64 data and buffers shorter than WASM_MIN_VALUES
 * take the reference.
 */
import type { Activation } from "../../core/activations.ts";
import type { FloatArray } from "../../core/tensor.ts";
import {
  bitselect, dabs, dadd, ddiv, dge, dmul, dsub, forLoop, func, get, i32, iadd, iand, imul, isub, isub4, set, shl32, vabs, vadd,
  vand, vconstI32, vdiv, vgt, vlt, vload, vload32, vmin, vmul, vor, vstore, vstore32, vsub, vzero, type Code,
} from "../asm.ts";
import type { WasmEngine } from "../engine.ts";
import { TANH_F32 } from "../../core/math.ts";
import { expInto, k, kf, pairs, SCRATCH } from "../lane-math.ts";
import { WASM_MIN_VALUES, type AccelOps } from "../registry.ts";

/** sigmoid(n, src, dst): dst = σ(src) as activations.ts computes it: 1/(1 + e^−v) for v ≥ 0, e^v/(1 + e^v) below. */
const sigmoidKernel = func("sigmoid", ["n", "src", "dst"], ["i"], ["x", "ex", "w", ...SCRATCH], (L) => pairs(L, get(L.n), (ld, st) => [
  ...set(L.x, ld(get(L.src))),
  ...set(L.w, dsub(k(0), dabs(get(L.x)))), // e^−|v|: the one exponential both forms need
  ...expInto(L, L.w, L.ex),
  ...st(get(L.dst), ddiv(bitselect(dge(get(L.x), k(0)), k(1), get(L.ex)), dadd(k(1), get(L.ex)))), // 1 or e^v, over 1 + e
]));

/** the bits of TANH_F32.MAGIC (1.5·2^23) plus 127, and float32's sign bit */
const MAGIC_PLUS_127 = new Int32Array(new Float32Array([TANH_F32.MAGIC]).buffer)[0] + 127;
const SIGN32 = -0x80000000;
/** f32x4 (c, c, c, c), from the constant table */
const c4 = (c: number): Code => kf(c);
/** Horner in float32 lanes: cs[0] + u·(cs[1] + u·(…)), as math.ts's loops (u·p, then + c) */
const horner4 = (u: Code, cs: readonly number[]): Code =>
  cs.slice(0, -1).reduceRight<Code>((p, c) => vadd(vmul(u, p), c4(c)), c4(cs[cs.length - 1]));

/**
 * tanh(n, src, dst): dst = math.ts's tanhF32(src), four values per f32x4: both of its branches
 * are computed and each lane takes its own (|x| < T), then x's sign bit is put back.
 */
const tanhKernel = func("tanh", ["n", "src", "dst"], ["i"], ["x", "a", "u", "p", "y", "kb", "m", "r", "t"], (L) => quads(L, get(L.n), (ld, st) => {
  const C = TANH_F32;
  return [
    ...set(L.x, ld(get(L.src))),
    ...set(L.a, vabs(get(L.x))),
    // |x| < T: x + x·u·P(u), u = x²
    ...set(L.u, vmul(get(L.a), get(L.a))),
    ...set(L.p, vadd(get(L.a), vmul(vmul(get(L.a), get(L.u)), horner4(get(L.u), C.P)))),
    // else (1 − t)/(1 + t), t = e^−y = 2^−n·e^−r, y = min(2|x|, Y_MAX)
    ...set(L.y, vmin(vadd(get(L.a), get(L.a)), c4(C.Y_MAX))),
    ...set(L.kb, vadd(vmul(get(L.y), c4(C.LOG2E)), c4(C.MAGIC))), // MAGIC + n: n in its low mantissa bits
    ...set(L.m, vsub(get(L.kb), c4(C.MAGIC))),
    ...set(L.r, vsub(vsub(get(L.y), vmul(get(L.m), c4(C.LN2_HI))), vmul(get(L.m), c4(C.LN2_LO)))),
    // 2^−n as bits: (127 − n) << 23 = (bits(MAGIC) + 127 − bits(kb)) << 23
    ...set(L.t, vmul(horner4(get(L.r), C.E), shl32(isub4(vconstI32([MAGIC_PLUS_127, MAGIC_PLUS_127, MAGIC_PLUS_127, MAGIC_PLUS_127]), get(L.kb)), 23))),
    ...set(L.t, vdiv(vsub(c4(1), get(L.t)), vadd(c4(1), get(L.t)))),
    ...st(get(L.dst), vor(bitselect(vlt(get(L.a), c4(C.T)), get(L.p), get(L.t)), vand(get(L.x), vconstI32([SIGN32, SIGN32, SIGN32, SIGN32])))),
  ];
}));

/** sigmoidBackward(n, y, dy, dz): dz = dy·y·(1 − y) (activations.ts, in double, that order). */
const sigmoidBackKernel = func("sigmoidBackward", ["n", "y", "dy", "dz"], ["i"], ["s"], (L) => pairs(L, get(L.n), (ld, st) => [
  ...set(L.s, ld(get(L.y))),
  ...st(get(L.dz), dmul(dmul(ld(get(L.dy)), get(L.s)), dsub(k(1), get(L.s)))),
]));

/** tanhBackward(n, y, dy, dz): dz = dy·(1 − y²). */
const tanhBackKernel = func("tanhBackward", ["n", "y", "dy", "dz"], ["i"], ["t"], (L) => pairs(L, get(L.n), (ld, st) => [
  ...set(L.t, ld(get(L.y))),
  ...st(get(L.dz), dmul(ld(get(L.dy)), dsub(k(1), dmul(get(L.t), get(L.t))))),
]));

// relu works on float32 lanes directly: v > 0 ? v : 0 selects, so no rounding is involved.
/** A loop over n float32 values four at a time, then one at a time (the same body on lane 0). */
function quads(L: Record<string, number>, n: Code, body: (ld: (base: Code) => Code, st: (base: Code, v: Code) => Code) => Code): Code {
  const at = (base: Code) => iadd(base, imul(get(L.i), i32(4)));
  const ld1 = (b: Code): Code => vload32(at(b));
  const st1 = (b: Code, v: Code): Code => vstore32(at(b), v);
  return [
    ...forLoop(L.i, i32(0), isub(n, i32(3)), 4, body((b) => vload(at(b)), (b, v) => vstore(at(b), v))),
    ...set(L.i, iand(n, i32(-4))),
    ...forLoop(L.i, get(L.i), n, 1, body(ld1, st1)),
  ];
}

/** relu(n, z, y): y = z > 0 ? z : 0 */
const reluKernel = func("relu", ["n", "z", "y"], ["i"], ["v"], (L) => quads(L, get(L.n), (ld, st) => [
  ...set(L.v, ld(get(L.z))),
  ...st(get(L.y), bitselect(vgt(get(L.v), vzero()), get(L.v), vzero())),
]));

/** reluBackward(n, z, dy, dz): dz = z > 0 ? dy : 0 */
const reluBackKernel = func("reluBackward", ["n", "z", "dy", "dz"], ["i"], [], (L) => quads(L, get(L.n), (ld, st) => [
  ...st(get(L.dz), bitselect(vgt(ld(get(L.z)), vzero()), ld(get(L.dy)), vzero())),
]));


/** The activations' WebAssembly functions, in the module's order. */
export const ACTIVATION_FUNCS = [sigmoidKernel, tanhKernel, sigmoidBackKernel, tanhBackKernel, reluKernel, reluBackKernel] as const;

/** The activations on engine `e`: sigmoid, tanh and relu of Float32 buffers of ≥ WASM_MIN_VALUES values, else declined. */
export function activationOps(e: WasmEngine): Pick<AccelOps, "activate" | "activateBackward" | "map" | "mapBackward"> {
  const map: AccelOps["map"] = (f, n, z, zOff, y, yOff) => {
    if (n < WASM_MIN_VALUES || !(z instanceof Float32Array) || !(y instanceof Float32Array)) return false;
    if (f === "sigmoid") e.sigmoid(n, z, zOff, y, yOff);
    else e.tanh(n, z, zOff, y, yOff);
    return true;
  };
  return {
    activate(act: Activation, z: FloatArray, y: FloatArray, n: number) {
      if (act.name === "sigmoid" || act.name === "tanh") return map(act.name, n, z, 0, y, 0);
      if (act.name === "relu" && n >= WASM_MIN_VALUES && z instanceof Float32Array && y instanceof Float32Array) { e.relu(n, z, y); return true; }
      return false;
    },
    activateBackward(act, z, y, dy, dz, n) {
      const f = act.name;
      if ((f === "relu" || f === "sigmoid" || f === "tanh") && n >= WASM_MIN_VALUES &&
        z instanceof Float32Array && y instanceof Float32Array && dy instanceof Float32Array && dz instanceof Float32Array) {
        e.activationBackward(f, n, f === "relu" ? z : y, dy, dz);
        return true;
      }
      return false;
    },
    map,
    mapBackward(f, n, zOrY, yOff, dy, dyOff, dz, dzOff) {
      if (n < WASM_MIN_VALUES || !(zOrY instanceof Float32Array && dy instanceof Float32Array && dz instanceof Float32Array)) return false;
      e.activationBackward(f, n, zOrY, dy, dz, yOff, dyOff, dzOff);
      return true;
    },
  };
}
