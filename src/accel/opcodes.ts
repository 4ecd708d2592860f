/**
 * The WebAssembly binary encoding the accelerator uses, named once: every instruction's opcode
 * bytes and the kind of immediate that follows it (WebAssembly core spec 2.0, §5.4
 * "Instructions"; the SIMD opcodes are the 0xFD-prefixed ones of §5.4.8, bulk memory the
 * 0xFC-prefixed ones of §5.4.6), the value types, the module's section ids, and LEB128 for the
 * immediates. Emitters (asm.ts) write `op.f32x4_mul`, never a number; the disassembler (wat.ts)
 * reads instructions back through the same table, so an opcode missing here can be neither
 * emitted nor decoded. This is the only file of src/accel that spells a byte in hexadecimal
 * (test/accel/opcodes.test.ts checks it).
 * @example
 * [...op.local_get, ...uleb(0), ...op.local_get, ...uleb(1), ...op.i32_add] // a + b
 */

/** Bytes of WebAssembly code. */
export type Code = number[];

/** Unsigned LEB128 (§5.2.2), for indices, sizes and memory offsets. */
export const uleb = (n: number): Code => { const o: Code = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };

/** Signed LEB128 (§5.2.2), for i32.const. */
export const sleb = (n: number): Code => {
  const o: Code = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) { o.push(b); return o; }
    o.push(b | 0x80);
  }
};

/**
 * What follows an opcode:
 *   none;  block: a block type (only the empty 0x40 is emitted);  label: a branch depth (uleb);
 *   func, local: an index (uleb);  i32: a signed LEB128;  f32: 4 bytes little-endian;
 *   memarg: alignment exponent and offset (uleb each);  memarg_lane: a memarg, then a lane byte;
 *   lane: one lane byte;  v128: 16 bytes;  shuffle: 16 lane bytes;  memory: one memory index
 *   byte (0);  memory2: two of them (memory.copy's destination and source).
 */
export type Immediate = "none" | "block" | "label" | "func" | "local" | "i32" | "f32" | "memarg" | "memarg_lane" | "lane" | "v128" | "shuffle" | "memory" | "memory2";

/** An opcode's prefix (0 for the one-byte opcodes), its number, and its immediate. */
interface Entry { readonly prefix: number; readonly code: number; readonly imm: Immediate }
const one = (code: number, imm: Immediate = "none"): Entry => ({ prefix: 0, code, imm });
const simd = (code: number, imm: Immediate = "none"): Entry => ({ prefix: 0xfd, code, imm });
const bulk = (code: number, imm: Immediate): Entry => ({ prefix: 0xfc, code, imm });

/** Every instruction the kernels use. Names are the text format's with `_` for the first `.`. */
const TABLE = {
  // control (§5.4.1)
  block: one(0x02, "block"), loop: one(0x03, "block"), if: one(0x04, "block"), else: one(0x05), end: one(0x0b),
  br: one(0x0c, "label"), br_if: one(0x0d, "label"), call: one(0x10, "func"),
  // parametric, variables (§5.4.2, §5.4.3)
  drop: one(0x1a), select: one(0x1b),
  local_get: one(0x20, "local"), local_set: one(0x21, "local"),
  // memory (§5.4.6)
  i32_load: one(0x28, "memarg"), f32_load: one(0x2a, "memarg"), i32_load8_u: one(0x2d, "memarg"),
  i32_store: one(0x36, "memarg"), f32_store: one(0x38, "memarg"), i32_store8: one(0x3a, "memarg"),
  memory_copy: bulk(10, "memory2"), memory_fill: bulk(11, "memory"),
  // numeric (§5.4.7)
  i32_const: one(0x41, "i32"), f32_const: one(0x43, "f32"),
  i32_eq: one(0x46), i32_lt_s: one(0x48), i32_gt_s: one(0x4a), i32_ge_s: one(0x4e),
  i32_add: one(0x6a), i32_sub: one(0x6b), i32_mul: one(0x6c), i32_and: one(0x71), i32_xor: one(0x73),
  i32_shr_s: one(0x75), i32_shr_u: one(0x76),
  f32_add: one(0x92), f32_div: one(0x95), f32_convert_i32_u: one(0xb3),
  // vector (§5.4.8)
  v128_load: simd(0x00, "memarg"), v128_load32_splat: simd(0x09, "memarg"), v128_load64_splat: simd(0x0a, "memarg"),
  v128_store: simd(0x0b, "memarg"), v128_const: simd(0x0c, "v128"), i8x16_shuffle: simd(0x0d, "shuffle"),
  i32x4_splat: simd(0x11), i32x4_extract_lane: simd(0x1b, "lane"), f32x4_extract_lane: simd(0x1f, "lane"),
  f32x4_lt: simd(0x43), f32x4_gt: simd(0x44),
  f64x2_eq: simd(0x47), f64x2_ne: simd(0x48), f64x2_lt: simd(0x49), f64x2_gt: simd(0x4a), f64x2_ge: simd(0x4c),
  v128_and: simd(0x4e), v128_or: simd(0x50), v128_bitselect: simd(0x52), v128_any_true: simd(0x53),
  v128_store32_lane: simd(0x5a, "memarg_lane"), v128_store64_lane: simd(0x5b, "memarg_lane"),
  v128_load32_zero: simd(0x5c, "memarg"), v128_load64_zero: simd(0x5d, "memarg"),
  f32x4_demote_f64x2_zero: simd(0x5e), f64x2_promote_low_f32x4: simd(0x5f),
  f64x2_trunc: simd(0x7a),
  i16x8_extend_low_i8x16_u: simd(0x89), i16x8_extend_high_i8x16_u: simd(0x8a),
  i32x4_extend_low_i16x8_u: simd(0xa9), i32x4_extend_high_i16x8_u: simd(0xaa), i32x4_shl: simd(0xab), i32x4_shr_u: simd(0xad), i32x4_add: simd(0xae), i32x4_sub: simd(0xb1),
  i64x2_shl: simd(0xcb),
  f32x4_abs: simd(0xe0), f32x4_add: simd(0xe4), f32x4_sub: simd(0xe5), f32x4_mul: simd(0xe6), f32x4_div: simd(0xe7), f32x4_min: simd(0xe8),
  f64x2_abs: simd(0xec), f64x2_sqrt: simd(0xef), f64x2_add: simd(0xf0), f64x2_sub: simd(0xf1), f64x2_mul: simd(0xf2), f64x2_div: simd(0xf3),
  f32x4_convert_i32x4_u: simd(0xfb),
} as const satisfies Record<string, Entry>;

/** An instruction's name, e.g. "f32x4_mul". */
export type OpName = keyof typeof TABLE;

const encode = (e: Entry): Code => (e.prefix ? [e.prefix, ...uleb(e.code)] : [e.code]);

/** Each instruction's opcode bytes, by name (immediates are the emitter's: asm.ts). */
export const op: { readonly [K in OpName]: Code } = Object.fromEntries(
  Object.entries(TABLE).map(([name, e]) => [name, encode(e)])) as { [K in OpName]: Code };

/** Each instruction's immediate kind, by name (the disassembler's and the text format's). */
export const immediate: { readonly [K in OpName]: Immediate } = Object.fromEntries(
  Object.entries(TABLE).map(([name, e]) => [name, e.imm])) as { [K in OpName]: Immediate };

/** The prefix bytes: an opcode starting with one of these continues with a LEB128 number. */
export const PREFIXES: readonly number[] = [0xfc, 0xfd];

/** The instruction whose opcode is `prefix` (0 for none) and `code`, or undefined. */
export function opByCode(prefix: number, code: number): OpName | undefined {
  return BY_CODE.get(prefix * 65536 + code);
}
const BY_CODE = new Map<number, OpName>(Object.entries(TABLE).map(([name, e]) => [e.prefix * 65536 + e.code, name as OpName]));

/** Value types (§5.3.1), the empty block type (§5.4.1) and the function type's tag (§5.3.6). */
export const valtype = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;
export const BLOCK_EMPTY = 0x40;
export const FUNC_TYPE = 0x60;

/** The module preamble: "\0asm" and version 1 (§5.5.16). */
export const PREAMBLE: Code = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Section ids (§5.5.2) the accelerator's modules use. */
export const section = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const;

/** Import and export descriptor tags (§5.5.5, §5.5.10): a function, a memory. */
export const desc = { func: 0x00, memory: 0x02 } as const;

/** Memory limits' flags (§5.3.4, threads proposal): minimum only; minimum and maximum, shared. */
export const limits = { min: 0x00, minMaxShared: 0x03 } as const;
