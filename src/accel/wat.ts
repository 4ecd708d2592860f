/**
 * A disassembler for the accelerator's modules: it decodes each function body through the opcode
 * table (opcodes.ts) — so an instruction the table lacks cannot be decoded — and writes the
 * module in the WebAssembly text format, one instruction a line, each prefixed by its byte offset
 * within the function's body (the offset a validation error names: asm.ts's locateError).
 * `npm run accel:wat` writes the whole module (scripts/accel-wat.ts).
 * @example
 * watOf(MODULE_FUNCS) // "(module\n  (import \"env\" \"mem\" (memory 1))\n  (func $tile2 …"
 */
import { BLOCK_EMPTY, immediate, op, opByCode, PREFIXES, sleb, uleb, valtype, type Code, type OpName } from "./opcodes.ts";
import { SHARED_MAX_PAGES, type FuncDef } from "./asm.ts";

/** One decoded instruction: where it starts in the body, its name, its immediates, its length in bytes. */
export interface Instr { at: number; name: OpName; imm: number[]; length: number }

/** A decoded body: the local declarations (count, type byte) and the instructions. */
export interface Decoded { locals: { count: number; type: number }[]; instrs: Instr[] }

const TYPE_NAMES: Record<number, string> = { [valtype.i32]: "i32", [valtype.f32]: "f32", [valtype.v128]: "v128" };

/**
 * Decode a function body (local declarations, instructions, final `end`) exactly: every byte
 * belongs to one instruction or immediate, or this throws naming the byte offset.
 */
export function decodeBody(body: ArrayLike<number>): Decoded {
  let p = 0;
  const byte = (): number => {
    if (p >= body.length) throw new Error(`decode: the body ends inside an instruction (byte ${p})`);
    return body[p++];
  };
  const u = (): number => { let r = 0, shift = 0, b; do { b = byte(); r += (b & 127) * 2 ** shift; shift += 7; } while (b & 128); return r; };
  const s = (): number => {
    let r = 0, shift = 0, b;
    do { b = byte(); r |= (b & 127) << shift; shift += 7; } while (b & 128);
    return shift < 32 && b & 64 ? r | (-1 << shift) : r;
  };
  const locals: Decoded["locals"] = [];
  for (let groups = u(); groups > 0; groups--) locals.push({ count: u(), type: byte() });
  const instrs: Instr[] = [];
  while (p < body.length) {
    const at = p;
    const first = byte();
    const prefix = PREFIXES.includes(first) ? first : 0;
    const code = prefix ? u() : first;
    const name = opByCode(prefix, code);
    if (!name) throw new Error(`decode: unknown opcode ${prefix ? `${prefix} ${code}` : code} at byte ${at}`);
    const imm: number[] = [];
    const bytes = (n: number) => { for (let i = 0; i < n; i++) imm.push(byte()); };
    switch (immediate[name]) {
      case "none": break;
      case "block": { const t = byte(); if (t !== BLOCK_EMPTY) throw new Error(`decode: block type ${t} at byte ${at}`); break; }
      case "label": case "func": case "local": imm.push(u()); break;
      case "i32": imm.push(s()); break;
      case "f32": bytes(4); break;
      case "memarg": imm.push(u(), u()); break;
      case "memarg_lane": imm.push(u(), u(), byte()); break;
      case "lane": bytes(1); break;
      case "v128": case "shuffle": bytes(16); break;
      case "memory": bytes(1); break;
      case "memory2": bytes(2); break;
    }
    instrs.push({ at, name, imm, length: p - at });
  }
  const last = instrs[instrs.length - 1];
  if (!last || last.name !== "end") throw new Error("decode: the body does not end with end");
  return { locals, instrs };
}

/** The bytes of decoded instructions, encoded again through the table (the round trip of decodeBody). */
export function encodeInstrs(instrs: readonly Instr[]): Code {
  const out: Code = [];
  for (const { name, imm } of instrs) {
    out.push(...op[name]);
    switch (immediate[name]) {
      case "block": out.push(BLOCK_EMPTY); break;
      case "label": case "func": case "local": out.push(...uleb(imm[0])); break;
      case "i32": out.push(...sleb(imm[0])); break;
      case "memarg": out.push(...uleb(imm[0]), ...uleb(imm[1])); break;
      case "memarg_lane": out.push(...uleb(imm[0]), ...uleb(imm[1]), imm[2]); break;
      default: out.push(...imm);
    }
  }
  return out;
}

/** "f32x4_mul" → "f32x4.mul"; control instructions keep their names ("br_if"). */
const textName = (name: OpName): string => (name.includes("_") && !name.startsWith("br_") ? name.replace("_", ".") : name);

/** One instruction in the text format, with local and function names for indices. */
function instrText(ins: Instr, locals: readonly string[], funcs: readonly string[]): string {
  const { name, imm } = ins;
  const t = textName(name);
  const hex = (bytes: number[]) => bytes.map((b) => `0x${b.toString(16).padStart(2, "0")}`).join(" ");
  switch (immediate[name]) {
    case "label": return `${t} ${imm[0]}`;
    case "func": return `${t} $${funcs[imm[0]] ?? imm[0]}`;
    case "local": return `${t} $${locals[imm[0]] ?? imm[0]}`;
    case "i32": return `${t} ${imm[0]}`;
    case "f32": return `${t} ${new Float32Array(new Uint8Array(imm).buffer)[0]}`;
    case "memarg": return `${t}${imm[1] ? ` offset=${imm[1]}` : ""} align=${2 ** imm[0]}`;
    case "memarg_lane": return `${t}${imm[1] ? ` offset=${imm[1]}` : ""} align=${2 ** imm[0]} ${imm[2]}`;
    case "lane": return `${t} ${imm[0]}`;
    case "v128": return `${t} i8x16 ${hex(imm)}`;
    case "shuffle": return `${t} ${imm.join(" ")}`;
    default: return t;
  }
}

/** A function in the text format: signature, locals, one instruction a line with its body offset. */
export function funcWat(f: FuncDef, funcNames: readonly string[] = [f.name]): string {
  const { locals, instrs } = decodeBody(f.body);
  const lines = [`  (func $${f.name} (export "${f.name}")${f.locals.slice(0, f.params).map((n) => ` (param $${n} i32)`).join("")}`];
  let i = f.params;
  for (const g of locals) for (let k = 0; k < g.count; k++, i++) lines.push(`    (local $${f.locals[i]} ${TYPE_NAMES[g.type] ?? g.type})`);
  let depth = 0;
  for (const ins of instrs.slice(0, -1)) { // the last end closes the function
    if (ins.name === "end" || ins.name === "else") depth--;
    lines.push(`    (;${String(ins.at).padStart(6)};) ${"  ".repeat(Math.max(0, depth))}${instrText(ins, f.locals, funcNames)}`);
    if (ins.name === "block" || ins.name === "loop" || ins.name === "if" || ins.name === "else") depth++;
  }
  lines.push("  )");
  return lines.join("\n");
}

/** A whole module (asm.ts's assemble of these functions) in the text format. */
export function watOf(funcs: readonly FuncDef[], shared = false): string {
  const names = funcs.map((f) => f.name);
  const memory = shared ? `(memory 1 ${SHARED_MAX_PAGES} shared)` : "(memory 1)";
  return [`(module`, `  (import "env" "mem" ${memory})`, ...funcs.map((f) => funcWat(f, names)), `)`, ""].join("\n");
}
