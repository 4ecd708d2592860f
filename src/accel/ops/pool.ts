/**
 * Max pooling, the accelerator's "maxpoolForward" and "maxpoolBackward" operations. Their
 * reference is the loop in pool.ts (which runs where the operation is not registered or
 * declines); the WebAssembly kernels below give the same maxima and the same argmax indices
 * (the first of ties wins), and the backward pass adds in the same order.
 */
import type { FloatArray } from "../../core/tensor.ts";
import {
  bitselect, f32load, f32store, fadd, forLoop, func, get, i32, i32load, i32store, iadd, iadd4, iand, ilane, imul,
  isplat4, ishrS, isub, select, set, shuffle4, vconstI32, vgt, vload, vload32, vstore, vstore32, type Code,
} from "../asm.ts";
import type { WasmEngine } from "../engine.ts";
import type { AccelOps } from "../registry.ts";

/**
 * maxpool(planes, H, W, Ho, Wo, size, stride, x, y, arg): pool.ts's max pooling over
 * [planes, H, W]: y = the window's largest value, scanned row by row with a strict >, so the
 * first of ties wins; arg (int32) = its index in x (in floats from x). One window at a time,
 * branch-free: the comparison is an f32x4 lane mask (V8 compiles scalar f32 max/select to
 * data-dependent branches, which mispredict on real data: ~15 ns a window measured).
 */
const maxpoolKernel = func("maxpool", ["planes", "H", "W", "Ho", "Wo", "size", "stride", "x", "y", "arg"],
  ["pl", "oy", "ox", "ky", "kx", "row", "start", "best", "r", "o", "sb", "wb", "at"], ["max", "v", "m"], (L) => [
    ...set(L.o, i32(0)),
    ...set(L.sb, imul(get(L.stride), i32(4))), // bytes between windows along a row
    ...set(L.wb, imul(get(L.W), i32(4))),      // bytes per input row
    ...forLoop(L.pl, i32(0), get(L.planes), 1,
      forLoop(L.oy, i32(0), get(L.Ho), 1, [
        // row = &x[pl, oy·stride, 0]
        ...set(L.row, iadd(get(L.x), imul(iadd(imul(get(L.pl), get(L.H)), imul(get(L.oy), get(L.stride))), get(L.wb)))),
        ...forLoop(L.ox, i32(0), get(L.Wo), 1, [
          ...set(L.start, iadd(get(L.row), imul(get(L.ox), get(L.sb)))),
          ...set(L.best, get(L.start)),
          ...set(L.max, vload32(get(L.start))),
          ...forLoop(L.ky, i32(0), get(L.size), 1, [
            ...set(L.r, iadd(get(L.start), imul(get(L.ky), get(L.wb)))),
            ...forLoop(L.kx, i32(0), get(L.size), 1, [
              ...set(L.at, iadd(get(L.r), imul(get(L.kx), i32(4)))),
              ...set(L.v, vload32(get(L.at))),
              ...set(L.m, vgt(get(L.v), get(L.max))),
              ...set(L.max, bitselect(get(L.m), get(L.v), get(L.max))),
              ...set(L.best, select(get(L.at), get(L.best), ilane(get(L.m), 0))),
            ]),
          ]),
          ...vstore32(iadd(get(L.y), imul(get(L.o), i32(4))), get(L.max)),
          ...i32store(iadd(get(L.arg), imul(get(L.o), i32(4))), ishrS(isub(get(L.best), get(L.x)), 2) /* (best − x) >> 2 */),
          ...set(L.o, iadd(get(L.o), i32(1))),
        ]),
      ])),
  ]);

/**
 * maxpool2(planes, H, W, Ho, Wo, x, y, arg): the same for 2 × 2 windows with stride 2, four
 * windows per step: two rows of 8 values split into even and odd columns (i8x16.shuffle), then
 * the window's four positions in scan order with lane masks; the last Wo mod 4 windows go
 * through the same steps on lane 0.
 */
const maxpool2Kernel = func("maxpool2", ["planes", "H", "W", "Ho", "Wo", "x", "y", "arg"],
  ["pl", "oy", "ox", "row", "o", "wb", "w4", "start", "r0"], ["max", "v", "m", "best", "ia"], (L) => {
    const evens = (a: Code, b: Code): Code => shuffle4(a, b, [0, 2, 4, 6]);
    const odds = (a: Code, b: Code): Code => shuffle4(a, b, [1, 3, 5, 7]);
    const steps = (load: (dy: number, dx: number) => Code, index: (dy: number, dx: number) => Code): Code => [
      ...set(L.max, load(0, 0)),
      ...set(L.best, index(0, 0)),
      ...[[0, 1], [1, 0], [1, 1]].flatMap(([dy, dx]) => [
        ...set(L.v, load(dy, dx)),
        ...set(L.m, vgt(get(L.v), get(L.max))),
        ...set(L.max, bitselect(get(L.m), get(L.v), get(L.max))),
        ...set(L.best, bitselect(get(L.m), index(dy, dx), get(L.best))),
      ]),
    ];
    return [
      ...set(L.o, i32(0)),
      ...set(L.wb, imul(get(L.W), i32(4))),
      ...set(L.w4, iand(get(L.Wo), i32(-4))), // Wo & ~3
      ...forLoop(L.pl, i32(0), get(L.planes), 1,
        forLoop(L.oy, i32(0), get(L.Ho), 1, [
          // row = &x[pl, 2·oy, 0]; start (in floats from x) of window ox is (row − x)/4 + 2·ox
          ...set(L.row, iadd(get(L.x), imul(iadd(imul(get(L.pl), get(L.H)), imul(get(L.oy), i32(2))), get(L.wb)))),
          ...forLoop(L.ox, i32(0), get(L.w4), 4, [
            ...set(L.start, iadd(ishrS(isub(get(L.row), get(L.x)), 2), imul(get(L.ox), i32(2)))),
            ...set(L.ia, iadd4(isplat4(get(L.start)), vconstI32([0, 2, 4, 6]))),
            ...set(L.r0, iadd(get(L.row), imul(get(L.ox), i32(8)))),
            ...steps(
              (dy, dx) => (dx === 0 ? evens : odds)(vload(iadd(get(L.r0), imul(i32(dy), get(L.wb)))), vload(iadd(get(L.r0), imul(i32(dy), get(L.wb))), 16)),
              (dy, dx) => iadd4(get(L.ia), isplat4(iadd(imul(i32(dy), get(L.W)), i32(dx))))),
            ...vstore(iadd(get(L.y), imul(get(L.o), i32(4))), get(L.max)),
            ...vstore(iadd(get(L.arg), imul(get(L.o), i32(4))), get(L.best)),
            ...set(L.o, iadd(get(L.o), i32(4))),
          ]),
          ...forLoop(L.ox, get(L.w4), get(L.Wo), 1, [
            ...set(L.start, iadd(ishrS(isub(get(L.row), get(L.x)), 2), imul(get(L.ox), i32(2)))),
            ...set(L.ia, isplat4(get(L.start))),
            ...set(L.r0, iadd(get(L.row), imul(get(L.ox), i32(8)))),
            ...steps(
              (dy, dx) => vload32(iadd(iadd(get(L.r0), imul(i32(dy), get(L.wb))), i32(4 * dx))),
              (dy, dx) => iadd4(get(L.ia), isplat4(iadd(imul(i32(dy), get(L.W)), i32(dx))))),
            ...vstore32(iadd(get(L.y), imul(get(L.o), i32(4))), get(L.max)),
            ...vstore32(iadd(get(L.arg), imul(get(L.o), i32(4))), get(L.best)),
            ...set(L.o, iadd(get(L.o), i32(1))),
          ]),
        ])),
    ];
  });
/** maxpoolBackward(n, arg, dy, dx): dx[arg[o]] += dy[o] for o < n, in order (dx zeroed by the caller). */
const maxpoolBackKernel = func("maxpoolBackward", ["n", "arg", "dy", "dx"], ["o", "at"], [], (L) => [
  ...forLoop(L.o, i32(0), get(L.n), 1, [
    ...set(L.at, iadd(get(L.dx), imul(i32load(iadd(get(L.arg), imul(get(L.o), i32(4)))), i32(4)))),
    ...f32store(get(L.at), fadd(f32load(get(L.at)), f32load(iadd(get(L.dy), imul(get(L.o), i32(4)))))),
  ]),
]);

/** Max pooling's WebAssembly functions, in the module's order. */
export const POOL_FUNCS = [maxpoolKernel, maxpool2Kernel, maxpoolBackKernel] as const;

/** Max pooling on engine `e`, Float32 only (else declined). */
export function poolOps(e: WasmEngine): Pick<AccelOps, "maxpoolForward" | "maxpoolBackward"> {
  return {
    maxpoolForward(planes: number, H: number, W: number, Ho: number, Wo: number, size: number, stride: number, x: FloatArray, y: FloatArray, arg: Int32Array) {
      if (!(x instanceof Float32Array && y instanceof Float32Array)) return false;
      e.maxpool(planes, H, W, Ho, Wo, size, stride, x, y, arg);
      return true;
    },
    maxpoolBackward(n, arg, dy, dx, m) {
      if (!(dy instanceof Float32Array && dx instanceof Float32Array)) return false;
      e.maxpoolBackward(n, arg, dy, dx, m);
      return true;
    },
  };
}
