/**
 * The accelerator's assembler: expression helpers that return the bytes of WebAssembly code, the
 * function and module builders, and the compiler that names the function and byte of any
 * validation error. Kernels are written in TypeScript with these helpers and assembled at
 * start-up: no toolchain, no .wasm file, the same code in Node and in a browser worker. Every
 * helper is defined here once and spells its instructions through the opcode table
 * (opcodes.ts); an expression helper leaves its value on the stack, a statement helper leaves
 * nothing. Names: i… for i32 scalars, f… for f32 scalars, v… for f32x4 (and untyped v128)
 * vectors, d… for f64x2 vectors.
 * @example
 * const add = func("add", ["a", "b"], [], [], (L) => [...iadd(get(L.a), get(L.b)), ...op.drop]); // drops a + b
 */
import {
  BLOCK_EMPTY, desc, FUNC_TYPE, limits, op, PREAMBLE, section, sleb, uleb, valtype, type Code,
} from "./opcodes.ts";

export { op, uleb, type Code } from "./opcodes.ts";

// --- locals and constants ------------------------------------------------------------------------

const local = (l: number): Code => {
  if (!Number.isInteger(l) || l < 0) throw new Error(`not a local index: ${String(l)}`);
  return uleb(l);
};
/** local.get l */
export const get = (l: number): Code => [...op.local_get, ...local(l)];
/** local.set l = v */
export const set = (l: number, v: Code): Code => [...v, ...op.local_set, ...local(l)];
/** i32.const n */
export const i32 = (n: number): Code => [...op.i32_const, ...sleb(n)];
/** f32.const x */
export const f32 = (x: number): Code => [...op.f32_const, ...new Uint8Array(new Float32Array([x]).buffer)];

// --- i32 scalars ---------------------------------------------------------------------------------

const bin = (o: Code) => (a: Code, b: Code): Code => [...a, ...b, ...o];
export const iadd = bin(op.i32_add), isub = bin(op.i32_sub), imul = bin(op.i32_mul), iand = bin(op.i32_and), ixor = bin(op.i32_xor);
export const ieq = bin(op.i32_eq), ilt = bin(op.i32_lt_s), igt = bin(op.i32_gt_s), ige = bin(op.i32_ge_s);
/** a >> n, unsigned (i32.shr_u) and signed (i32.shr_s) */
export const ishrU = (a: Code, n: number): Code => [...a, ...i32(n), ...op.i32_shr_u];
export const ishrS = (a: Code, n: number): Code => [...a, ...i32(n), ...op.i32_shr_s];
/** cond ? a : b (select; both evaluated) */
export const select = (a: Code, b: Code, cond: Code): Code => [...a, ...b, ...cond, ...op.select];
/** min(a, b) (signed) through the scratch locals tmpA, tmpB */
export const imin = (a: Code, b: Code, tmpA: number, tmpB: number): Code =>
  [...set(tmpA, a), ...set(tmpB, b), ...select(get(tmpA), get(tmpB), ilt(get(tmpA), get(tmpB)))];

// --- scalar memory (natural alignment) -----------------------------------------------------------

const memarg = (align: number, offset: number): Code => [align, ...uleb(offset)];
export const i32load = (addr: Code): Code => [...addr, ...op.i32_load, ...memarg(2, 0)];
export const i32load8u = (addr: Code): Code => [...addr, ...op.i32_load8_u, ...memarg(0, 0)];
export const i32store = (addr: Code, v: Code): Code => [...addr, ...v, ...op.i32_store, ...memarg(2, 0)];
export const i32store8 = (addr: Code, v: Code): Code => [...addr, ...v, ...op.i32_store8, ...memarg(0, 0)];
export const f32load = (addr: Code, offset = 0): Code => [...addr, ...op.f32_load, ...memarg(2, offset)];
export const f32store = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, ...op.f32_store, ...memarg(2, offset)];
export const fadd = bin(op.f32_add), fdiv = bin(op.f32_div);
/** an unsigned i32 as f32 */
export const fFromU32 = (a: Code): Code => [...a, ...op.f32_convert_i32_u];

// --- v128 memory ---------------------------------------------------------------------------------

/** v128.load / v128.store of 16 bytes at addr + offset */
export const vload = (addr: Code, offset = 0): Code => [...addr, ...op.v128_load, ...memarg(4, offset)];
export const vstore = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, ...op.v128_store, ...memarg(4, offset)];
/** one float32 (v128.load32_splat) or one double (v128.load64_splat) in every lane */
export const vsplat = (addr: Code, offset = 0): Code => [...addr, ...op.v128_load32_splat, ...memarg(2, offset)];
export const dsplat = (addr: Code, offset = 0): Code => [...addr, ...op.v128_load64_splat, ...memarg(3, offset)];
/** 4 (8) bytes into lane 0, the other lanes 0 (v128.load32_zero, v128.load64_zero) */
export const vload32 = (addr: Code): Code => [...addr, ...op.v128_load32_zero, ...memarg(2, 0)];
export const vload64 = (addr: Code): Code => [...addr, ...op.v128_load64_zero, ...memarg(3, 0)];
/** lane 0's 4 (8) bytes to memory (v128.store32_lane 0, v128.store64_lane 0) */
export const vstore32 = (addr: Code, v: Code): Code => [...addr, ...v, ...op.v128_store32_lane, ...memarg(2, 0), 0];
export const vstore64 = (addr: Code, v: Code): Code => [...addr, ...v, ...op.v128_store64_lane, ...memarg(3, 0), 0];

// --- v128 values ---------------------------------------------------------------------------------

/** v128.const of 16 bytes */
export const vconst = (bytes: ArrayLike<number>): Code => {
  if (bytes.length !== 16) throw new Error(`v128.const takes 16 bytes, not ${bytes.length}`);
  return [...op.v128_const, ...Array.from(bytes)];
};
export const vzero = (): Code => vconst(new Array(16).fill(0));
/** f32x4 (x, x, x, x) and i32x4 of four values, as constants */
export const vconstF32 = (x: number): Code => vconst(new Uint8Array(new Float32Array([x, x, x, x]).buffer));
export const vconstI32 = (xs: number[]): Code => vconst(new Uint8Array(new Int32Array(xs).buffer));
/** i8x16.shuffle: byte i of the result is byte lanes[i] of a ‖ b (0–15 from a, 16–31 from b) */
export const shuffle = (a: Code, b: Code, lanes: number[]): Code => {
  if (lanes.length !== 16) throw new Error(`i8x16.shuffle takes 16 lanes, not ${lanes.length}`);
  return [...a, ...b, ...op.i8x16_shuffle, ...lanes];
};
/** shuffle of two f32x4 by 32-bit lane numbers (0–3 from a, 4–7 from b) */
export const shuffle4 = (a: Code, b: Code, lanes: number[]): Code => shuffle(a, b, lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
/** the bits of a where mask's are 1, else b's (v128.bitselect) */
export const bitselect = (mask: Code, a: Code, b: Code): Code => [...a, ...b, ...mask, ...op.v128_bitselect];
export const vand = bin(op.v128_and), vor = bin(op.v128_or);
/** 1 when any bit of a is set (v128.any_true → i32) */
export const anyTrue = (a: Code): Code => [...a, ...op.v128_any_true];

// f32x4
export const vadd = bin(op.f32x4_add), vsub = bin(op.f32x4_sub), vmul = bin(op.f32x4_mul), vdiv = bin(op.f32x4_div), vgt = bin(op.f32x4_gt);
export const vlt = bin(op.f32x4_lt);
/** lane-wise minimum (a NaN lane gives NaN) and absolute value */
export const vmin = bin(op.f32x4_min);
export const vabs = (a: Code): Code => [...a, ...op.f32x4_abs];
/** lane i of an f32x4 as f32 */
export const lane = (v: Code, i: number): Code => [...v, ...op.f32x4_extract_lane, i];
/** f32x4 of four unsigned i32 */
export const vFromU32 = (v: Code): Code => [...v, ...op.f32x4_convert_i32x4_u];

// i32x4, i16x8, i64x2
export const iadd4 = bin(op.i32x4_add), isub4 = bin(op.i32x4_sub);
/** each 32-bit lane shifted left (right, unsigned) by n */
export const shl32 = (a: Code, n: number): Code => [...a, ...i32(n), ...op.i32x4_shl];
export const shr32 = (a: Code, n: number): Code => [...a, ...i32(n), ...op.i32x4_shr_u];
export const isplat4 = (a: Code): Code => [...a, ...op.i32x4_splat];
/** lane i of an i32x4 as i32 */
export const ilane = (v: Code, i: number): Code => [...v, ...op.i32x4_extract_lane, i];
/** bytes 0–7 (8–15) of an i8x16 widened to u16 lanes; u16 lanes 0–3 (4–7) widened to u32 */
export const widen8Low = (v: Code): Code => [...v, ...op.i16x8_extend_low_i8x16_u];
export const widen8High = (v: Code): Code => [...v, ...op.i16x8_extend_high_i8x16_u];
export const widen16Low = (v: Code): Code => [...v, ...op.i32x4_extend_low_i16x8_u];
export const widen16High = (v: Code): Code => [...v, ...op.i32x4_extend_high_i16x8_u];
/** each 64-bit lane shifted left by n */
export const shl64 = (a: Code, n: number): Code => [...a, ...i32(n), ...op.i64x2_shl];

// f64x2
export const dadd = bin(op.f64x2_add), dsub = bin(op.f64x2_sub), dmul = bin(op.f64x2_mul), ddiv = bin(op.f64x2_div);
export const dlt = bin(op.f64x2_lt), dgt = bin(op.f64x2_gt), dge = bin(op.f64x2_ge), deq = bin(op.f64x2_eq), dne = bin(op.f64x2_ne);
export const dabs = (a: Code): Code => [...a, ...op.f64x2_abs];
/** correctly rounded, as Math.sqrt */
export const dsqrt = (a: Code): Code => [...a, ...op.f64x2_sqrt];
export const dtrunc = (a: Code): Code => [...a, ...op.f64x2_trunc];
/** f32x4 lanes 0, 1 as f64x2 (f64x2.promote_low_f32x4) */
export const promote = (v: Code): Code => [...v, ...op.f64x2_promote_low_f32x4];
/** f64x2 rounded to f32 into lanes 0, 1 of an f32x4, lanes 2, 3 zero (f32x4.demote_f64x2_zero) */
export const demote = (v: Code): Code => [...v, ...op.f32x4_demote_f64x2_zero];

// --- control and bulk memory ---------------------------------------------------------------------

/** memory.copy(dst, src, n bytes) and memory.fill(dst, 0, n bytes) */
export const memcopy = (dst: Code, src: Code, n: Code): Code => [...dst, ...src, ...n, ...op.memory_copy, 0, 0];
export const memzero = (dst: Code, n: Code): Code => [...dst, ...i32(0), ...n, ...op.memory_fill, 0];
/** call function number `index` of the module with the arguments' values (a statement when it returns nothing) */
export const call = (index: number, ...args: Code[]): Code => [...args.flat(), ...op.call, ...uleb(index)];
/** drop the value on the stack */
export const drop = (v: Code): Code => [...v, ...op.drop];
/** if (cond) then else otherwise, as statements */
export const ifElse = (cond: Code, then: Code, otherwise: Code = []): Code =>
  [...cond, ...op.if, BLOCK_EMPTY, ...then, ...(otherwise.length ? [...op.else, ...otherwise] : []), ...op.end];
/** for (l = from; l < to; l += step) body — a block around a loop; br_if 1 leaves, br 0 repeats */
export const forLoop = (l: number, from: Code, to: Code, step: number | Code, body: Code): Code => [
  ...set(l, from),
  ...op.block, BLOCK_EMPTY, ...op.loop, BLOCK_EMPTY,
  ...ige(get(l), to), ...op.br_if, 1,
  ...body,
  ...set(l, iadd(get(l), typeof step === "number" ? i32(step) : step)), ...op.br, 0,
  ...op.end, ...op.end,
];

// --- functions and modules -----------------------------------------------------------------------

/** One assembled function: its name, its locals' names (parameters first) and types, its body. */
export interface FuncDef {
  readonly name: string;
  readonly params: number;
  /** every local's name by index, parameters first */
  readonly locals: readonly string[];
  /** the local declarations and the instructions, ending with `end` (without the size prefix) */
  readonly body: Code;
}

/**
 * A function of i32 params with i32, v128 and f32 locals; `body` gets each name's local index.
 * A name declared twice throws at once; the body is emitted on first reading of `.body` (a
 * process that runs the precompiled module, module-bytes.ts, never emits it), and a name used
 * but not declared throws then, naming the function and the local.
 */
export function func(name: string, params: string[], ints: string[], vecs: string[], body: (L: Record<string, number>) => Code, f32s: string[] = []): FuncDef {
  const all = [...params, ...ints, ...vecs, ...f32s];
  const index: Record<string, number> = {};
  all.forEach((n, i) => {
    if (n in index) throw new Error(`accel: function "${name}": local "${n}" declared twice`);
    index[n] = i;
  });
  const L = new Proxy(index, {
    get(target, key) {
      if (typeof key === "string" && !(key in target)) throw new Error(`accel: function "${name}": no local "${key}"`);
      return Reflect.get(target, key);
    },
  });
  let built: Code | null = null;
  const emit = (): Code => {
    let code: Code;
    try { code = body(L); } catch (e) {
      throw (e instanceof Error && e.message.startsWith("accel:")) ? e : new Error(`accel: function "${name}": ${(e as Error).message}`);
    }
    const decls = [3, ...uleb(ints.length), valtype.i32, ...uleb(vecs.length), valtype.v128, ...uleb(f32s.length), valtype.f32];
    return [...decls, ...code, ...op.end];
  };
  return { name, params: params.length, locals: all, get body() { return (built ??= emit()); } };
}

/** `prefix0 … prefix{n−1}`, for numbered locals. */
export const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Largest memory a shared module declares, in 64 KiB pages (1 GiB; address space only). */
export const SHARED_MAX_PAGES = 16384;

/** A module's bytes and where each function's body lies in them (byte offsets, end exclusive). */
export interface Assembled { bytes: Uint8Array<ArrayBuffer>; bodies: { name: string; start: number; end: number }[] }

/**
 * A module of i32-parameter functions that imports its memory as env.mem and exports the
 * functions by name, in order (function i is funcs[i]). `shared` declares the memory shared
 * (with a maximum), as worker threads need.
 */
export function assemble(funcs: readonly FuncDef[], shared = false): Assembled {
  const sec = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];
  const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
  const str = (s: string): Code => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const lim = shared ? [limits.minMaxShared, ...uleb(1), ...uleb(SHARED_MAX_PAGES)] : [limits.min, ...uleb(1)];
  const head: Code = [
    ...PREAMBLE,
    ...sec(section.type, vec(funcs.map((f) => [FUNC_TYPE, ...vec(new Array(f.params).fill([valtype.i32])), ...uleb(0)]))),
    ...sec(section.import, vec([[...str("env"), ...str("mem"), desc.memory, ...lim]])),
    ...sec(section.function, vec(funcs.map((_, i) => uleb(i)))), // function i has type i
    ...sec(section.export, vec(funcs.map((f, i) => [...str(f.name), desc.func, ...uleb(i)]))),
  ];
  const sized = funcs.map((f) => [...uleb(f.body.length), ...f.body]);
  const content = vec(sized);
  const codeStart = head.length + 1 + uleb(content.length).length; // the code section's content
  const bodies: Assembled["bodies"] = [];
  let at = codeStart + uleb(funcs.length).length;
  funcs.forEach((f, i) => {
    const start = at + sized[i].length - f.body.length;
    bodies.push({ name: f.name, start, end: start + f.body.length });
    at += sized[i].length;
  });
  return { bytes: new Uint8Array([...head, ...sec(section.code, content)]), bodies };
}

/** The probe of runtimeSupports: a SIMD load and a bulk-memory fill on the imported memory. */
export const PROBE = func("probe", ["a"], [], [], (L) => [...drop(vload(get(L.a))), ...memzero(get(L.a), i32(0))]);

/**
 * Whether this runtime can run the accelerator: WebAssembly with SIMD and bulk memory, allowed
 * to compile (a Content-Security-Policy may forbid it), and — for `shared` — shared memory.
 * Probed once with a one-function module using the features.
 */
export function runtimeSupports(shared = false): boolean {
  const key = shared ? 1 : 0;
  if (supported[key] === undefined) {
    try {
      if (typeof WebAssembly === "undefined" || (shared && typeof SharedArrayBuffer === "undefined")) supported[key] = false;
      else {
        new WebAssembly.Module(assemble([PROBE], shared).bytes);
        supported[key] = true;
      }
    } catch {
      supported[key] = false;
    }
  }
  return supported[key]!;
}
const supported: (boolean | undefined)[] = [];

let warned = false;
/** Say once (one line on stderr in Node, console.warn elsewhere) that the reference path runs. */
export function warnFallback(reason: string): void {
  if (warned) return;
  warned = true;
  const line = `gradlab: ${reason}; the TypeScript reference kernels run instead (slower, same results up to GEMM rounding)`;
  const proc = (globalThis as { process?: { stderr?: { write(s: string): unknown } } }).process;
  if (proc?.stderr) proc.stderr.write(line + "\n");
  else console.warn(line);
}

/**
 * Compile a module of these functions synchronously (fine for these ~100 KB modules, also in a
 * worker). Null where the runtime cannot run the accelerator (runtimeSupports; said once, for
 * the private module). A module that does not validate is an error in an emitter: it throws,
 * naming the function and the byte of its body the engine rejected. `prebuilt`: these functions'
 * module assembled beforehand (module-bytes.ts, which a test keeps equal to assemble's output);
 * without it they are assembled now.
 */
export function compileModule(funcs: readonly FuncDef[], shared = false, prebuilt: Uint8Array<ArrayBuffer> | null = null): WebAssembly.Module | null {
  if (!runtimeSupports(shared)) {
    if (!shared) warnFallback("this runtime cannot compile WebAssembly SIMD");
    return null;
  }
  try {
    return new WebAssembly.Module(prebuilt ?? assemble(funcs, shared).bytes);
  } catch (e) {
    throw locateError(e, assemble(funcs, shared));
  }
}

/**
 * The compile error `e` (WebAssembly's message ends "@+offset", a byte of the module) as an
 * Error naming the function whose body holds that byte and the offset within the body, which
 * wat.ts's listing of that function shows beside each instruction.
 */
export function locateError(e: unknown, asm: Assembled): Error {
  const message = e instanceof Error ? e.message : String(e);
  const m = /@\+(\d+)/.exec(message);
  const at = m ? Number(m[1]) : -1;
  const f = asm.bodies.find((b) => at >= b.start && at < b.end);
  if (!f) return new Error(`accel: the module does not compile (${message})`);
  return new Error(`accel: function "${f.name}" does not validate at byte ${at - f.start} of its body (module offset ${at}): ${message}`);
}
