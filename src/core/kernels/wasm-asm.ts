/**
 * A tiny assembler for the few WebAssembly instructions gradlab's kernels use, so the kernels are
 * built from TypeScript source at start-up: no toolchain, no .wasm file, the same code in Node
 * and in a browser worker. Each helper returns the bytes of an expression that leaves its value
 * on the stack (WebAssembly core spec 2.0, §5 "Binary format"; SIMD opcodes from the fixed-width
 * SIMD proposal, bulk memory from the bulk-memory proposal, both in the 2.0 spec).
 * @example
 * const add = func(["a", "b"], [], [], (L) => [...iadd(get(L.a), get(L.b)), 0x1a]); // drops a + b
 */
export type Code = number[];

export const uleb = (n: number): Code => { const o: Code = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
export const sleb = (n: number): Code => {
  const o: Code = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) { o.push(b); return o; }
    o.push(b | 0x80);
  }
};
export const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
export const get = (l: number): Code => [0x20, ...uleb(l)];
export const set = (l: number, v: Code): Code => [...v, 0x21, ...uleb(l)];
export const i32 = (n: number): Code => [0x41, ...sleb(n)];
export const iadd = (a: Code, b: Code): Code => [...a, ...b, 0x6a];
export const isub = (a: Code, b: Code): Code => [...a, ...b, 0x6b];
export const imul = (a: Code, b: Code): Code => [...a, ...b, 0x6c];
export const ige = (a: Code, b: Code): Code => [...a, ...b, 0x4e]; // i32.ge_s
const simd = (op: number): Code => [0xfd, ...uleb(op)];
const memarg = (align: number, offset: number): Code => [align, ...uleb(offset)];
export const f32load = (addr: Code, offset = 0): Code => [...addr, 0x2a, ...memarg(2, offset)];
export const f32store = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, 0x38, ...memarg(2, offset)];
export const fadd = (a: Code, b: Code): Code => [...a, ...b, 0x92];
export const fmul = (a: Code, b: Code): Code => [...a, ...b, 0x94];
export const f32zero = (): Code => [0x43, 0, 0, 0, 0]; // f32.const 0
export const vload = (addr: Code, offset = 0): Code => [...addr, ...simd(0x00), ...memarg(4, offset)];
export const vstore = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, ...simd(0x0b), ...memarg(4, offset)];
export const vsplat = (addr: Code, offset = 0): Code => [...addr, ...simd(0x09), ...memarg(2, offset)]; // v128.load32_splat
export const vzero = (): Code => [...simd(0x0c), ...new Array(16).fill(0)]; // v128.const 0
export const vadd = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xe4)]; // f32x4.add
export const vmul = (a: Code, b: Code): Code => [...a, ...b, ...simd(0xe6)]; // f32x4.mul
export const lane = (v: Code, i: number): Code => [...v, ...simd(0x1f), i]; // f32x4.extract_lane
/** memory.copy(dst, src, n bytes) and memory.fill(dst, 0, n bytes) (bulk memory) */
export const memcopy = (dst: Code, src: Code, n: Code): Code => [...dst, ...src, ...n, 0xfc, 10, 0, 0];
export const memzero = (dst: Code, n: Code): Code => [...dst, ...i32(0), ...n, 0xfc, 11, 0];
/** call function number `index` of the module with the arguments' values (a statement when it returns nothing) */
export const call = (index: number, ...args: Code[]): Code => [...args.flat(), 0x10, ...uleb(index)];
/** if (cond) then else otherwise, as statements */
export const ifElse = (cond: Code, then: Code, otherwise: Code = []): Code =>
  [...cond, 0x04, 0x40, ...then, ...(otherwise.length ? [0x05, ...otherwise] : []), 0x0b];
/** for (l = from; l < to; l += step) body — a block around a loop; br_if 1 leaves, br 0 repeats */
export const forLoop = (l: number, from: Code, to: Code, step: number | Code, body: Code): Code => [
  ...set(l, from),
  0x02, 0x40, 0x03, 0x40,
  ...ige(get(l), to), 0x0d, 1,
  ...body,
  ...set(l, iadd(get(l), typeof step === "number" ? i32(step) : step)), 0x0c, 0,
  0x0b, 0x0b,
];

export interface FuncDef { params: number; code: Code }

/** A function of i32 params with i32, v128 and f32 locals; `body` gets each name's local index. */
export function func(params: string[], ints: string[], vecs: string[], body: (L: Record<string, number>) => Code, f32s: string[] = []): FuncDef {
  const L: Record<string, number> = {};
  [...params, ...ints, ...vecs, ...f32s].forEach((name, i) => {
    if (name in L) throw new Error(`wasm-asm: local "${name}" declared twice`);
    L[name] = i;
  });
  const locals = [3, ...uleb(ints.length), I32, ...uleb(vecs.length), V128, ...uleb(f32s.length), F32];
  const code = [...locals, ...body(L), 0x0b];
  return { params: params.length, code: [...uleb(code.length), ...code] };
}

/** `prefix0 … prefix{n−1}`, for numbered locals. */
export const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Largest memory a shared module declares, in 64 KiB pages (1 GiB; address space only). */
export const SHARED_MAX_PAGES = 16384;

/**
 * A module of i32-only functions that imports its memory as env.mem and exports the functions
 * by name. `shared` declares the memory shared (with a maximum), as worker threads need.
 */
export function moduleBytes(funcs: Record<string, FuncDef>, shared = false): Uint8Array<ArrayBuffer> {
  const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];
  const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
  const str = (s: string): Code => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const list = Object.values(funcs);
  const limits = shared ? [0x03, ...uleb(1), ...uleb(SHARED_MAX_PAGES)] : [0x00, 0x01];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec(list.map((k) => [0x60, ...vec(new Array(k.params).fill([I32])), 0x00]))), // types
    ...section(2, vec([[...str("env"), ...str("mem"), 0x02, ...limits]])), // import memory
    ...section(3, vec(list.map((_, i) => uleb(i)))), // function i has type i
    ...section(7, vec(Object.keys(funcs).map((name, i) => [...str(name), 0x00, ...uleb(i)]))), // exports
    ...section(10, vec(list.map((k) => k.code))),
  ]);
}

/**
 * Compile a module synchronously (fine for these few-kilobyte modules, also in a worker), or
 * null where WebAssembly, its SIMD or bulk-memory instructions are missing, or where a
 * Content-Security-Policy forbids compiling: the caller then runs its TypeScript path.
 */
export function compileModule(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module | null {
  try {
    if (typeof WebAssembly === "undefined" || !WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Module(bytes);
  } catch {
    return null;
  }
}
