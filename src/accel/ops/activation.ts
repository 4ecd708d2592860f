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
import { bitselect, dabs, dadd, ddiv, dge, dmul, dsub, func, get, set, vgt, vzero } from "../asm.ts";
import type { WasmEngine } from "../engine.ts";
import { expInto, F32_SCRATCH, k, pairs, quads, SCRATCH, tanhF32Into } from "../lane-math.ts";
import { WASM_MIN_VALUES, type AccelOps } from "../registry.ts";

/** sigmoid(n, src, dst): dst = σ(src) as activations.ts computes it: 1/(1 + e^−v) for v ≥ 0, e^v/(1 + e^v) below. */
const sigmoidKernel = func("sigmoid", ["n", "src", "dst"], ["i"], ["x", "ex", "w", ...SCRATCH], (L) => pairs(L, get(L.n), (ld, st) => [
  ...set(L.x, ld(get(L.src))),
  ...set(L.w, dsub(k(0), dabs(get(L.x)))), // e^−|v|: the one exponential both forms need
  ...expInto(L, L.w, L.ex),
  ...st(get(L.dst), ddiv(bitselect(dge(get(L.x), k(0)), k(1), get(L.ex)), dadd(k(1), get(L.ex)))), // 1 or e^v, over 1 + e
]));

/** tanh(n, src, dst): dst = math.ts's tanhF32(src), four values per f32x4 (lane-math.ts). */
const tanhKernel = func("tanh", ["n", "src", "dst"], ["i"], ["x", "th", ...F32_SCRATCH], (L) => quads(L, get(L.n), (ld, st) => [
  ...set(L.x, ld(get(L.src))),
  ...tanhF32Into(L, L.x, L.th),
  ...st(get(L.dst), get(L.th)),
]));

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
