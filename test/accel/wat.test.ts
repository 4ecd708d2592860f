// The disassembler (src/accel/wat.ts) over every function of the accelerator's module: each body
// decodes through the opcode table to its last byte, and encoding the decoded instructions again
// gives the same bytes, so the table holds every opcode the emitters use and the encoding round-
// trips. The expected listings are hand derivations from the emitters' code (copyRows in
// ops/gemm.ts) and from the spec's encoding (§5.4). Independently of this suite, the whole dump
// was once assembled with wabt 1.0.39's wat2wasm, which gave the same instruction bytes for all
// 27 functions of that day (docs/accelerator.md); lstmBackward and gruBackward came later.
import { describe, expect, it } from "vitest";
import { PROBE, type FuncDef } from "../../src/accel/asm.ts";
import { MODULE_FUNCS } from "../../src/accel/engine.ts";
import { op } from "../../src/accel/opcodes.ts";
import { decodeBody, encodeInstrs, funcWat, watOf } from "../../src/accel/wat.ts";

/** The local declarations' length at the start of a body (uleb counts of three groups here). */
function declLength(f: FuncDef): number {
  const { instrs } = decodeBody(f.body);
  return instrs[0].at;
}

describe("every function of the module disassembles and re-assembles to its bytes", () => {
  it("the module has the 29 functions the engine calls", () => {
    expect(MODULE_FUNCS.map((f) => f.name)).toEqual(["tile2", "tile1", "product", "pack", "transpose", "copyRows", "dot", "im2col", "col2im", "pad", "unpad",
      "sigmoid", "tanh", "sigmoidBackward", "tanhBackward", "relu", "reluBackward", "lstm", "gru", "lstmBackward", "gruBackward", "maxpool", "maxpool2", "maxpoolBackward",
      "sumRows32", "sumRows64", "nonFinite", "update", "gather"]);
  });

  for (const f of MODULE_FUNCS) {
    it(`${f.name}: decode → encode is the identity on its ${f.body.length} bytes`, () => {
      const { instrs, locals } = decodeBody(f.body);
      const start = declLength(f);
      expect(encodeInstrs(instrs)).toEqual(f.body.slice(start));
      // the instructions tile the body: each starts where the previous ended
      for (let i = 1; i < instrs.length; i++) expect(instrs[i].at).toBe(instrs[i - 1].at + instrs[i - 1].length);
      // the declared locals are the names the emitter gave
      expect(f.params + locals.reduce((s, g) => s + g.count, 0)).toBe(f.locals.length);
    });
  }

  it("every opcode of the table is used (by the module or the runtime probe): no dead entries", () => {
    const used = new Set<string>();
    for (const f of [...MODULE_FUNCS, PROBE]) for (const i of decodeBody(f.body).instrs) used.add(i.name);
    expect(Object.keys(op).filter((n) => !used.has(n))).toEqual([]);
  });
});

describe("the text format", () => {
  it("copyRows reads as the emitter wrote it: for (r = 0; r < R; r++) memory.copy(dst + r·ldd, src + r·lds, n)", () => {
    const f = MODULE_FUNCS.find((g) => g.name === "copyRows")!;
    expect(funcWat(f)).toBe([
      `  (func $copyRows (export "copyRows") (param $R i32) (param $n i32) (param $src i32) (param $lds i32) (param $dst i32) (param $ldd i32)`,
      "    (local $r i32)",
      // 7 bytes of declarations: 3 groups × (count, type)
      "    (;     7;) i32.const 0",
      "    (;     9;) local.set $r",
      "    (;    11;) block",
      "    (;    13;)   loop",
      "    (;    15;)     local.get $r",
      "    (;    17;)     local.get $R",
      "    (;    19;)     i32.ge_s",
      "    (;    20;)     br_if 1",
      "    (;    22;)     local.get $dst",
      "    (;    24;)     local.get $r",
      "    (;    26;)     local.get $ldd",
      "    (;    28;)     i32.mul",
      "    (;    29;)     i32.add",
      "    (;    30;)     local.get $src",
      "    (;    32;)     local.get $r",
      "    (;    34;)     local.get $lds",
      "    (;    36;)     i32.mul",
      "    (;    37;)     i32.add",
      "    (;    38;)     local.get $n",
      "    (;    40;)     memory.copy",
      "    (;    44;)     local.get $r",
      "    (;    46;)     i32.const 1",
      "    (;    48;)     i32.add",
      "    (;    49;)     local.set $r",
      "    (;    51;)     br 0",
      "    (;    53;)   end",
      "    (;    54;) end",
      "  )",
    ].join("\n"));
  });

  it("immediates: memory offsets and alignment, lanes, v128 constants, f32 constants, calls by name", () => {
    const text = watOf(MODULE_FUNCS);
    expect(text.startsWith(`(module\n  (import "env" "mem" (memory 1))\n  (func $tile2 (export "tile2")`)).toBe(true);
    expect(watOf(MODULE_FUNCS, true)).toContain(`(memory 1 16384 shared)`);
    expect(text).toContain("v128.load offset=16 align=16"); // tileR's second vector of a panel
    expect(text).toContain("v128.store32_lane align=4 0");
    expect(text).toContain("f32.const 255"); // gather's scalar tail
    expect(text).toContain("call $tile2"); // product's calls
    expect(text).toContain("i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23"); // pack's 4 × 4 transpose
    expect(text).toMatch(/v128\.const i8x16 (0x00 ){15}0x00/); // vzero
    // one line per instruction (less the function's final end) plus signature, locals and ")"
    const count = MODULE_FUNCS.reduce((s, f) => s + decodeBody(f.body).instrs.length - 1 + f.locals.length - f.params + 2, 0);
    expect(text.split("\n").length).toBe(count + 3 /* (module, import, ) */ + 1 /* trailing newline */);
  });

  it("refuses bytes the table does not know, naming the offset", () => {
    expect(() => decodeBody([0, 0xff, 0x0b])).toThrow("unknown opcode 255 at byte 1");
    expect(() => decodeBody([0, 0x41])).toThrow("ends inside an instruction");
  });
});
