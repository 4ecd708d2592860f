// The assembler's errors (src/accel/asm.ts): a function body that does not validate is reported
// with the function's name and the byte of its body where V8's validator stopped (its message
// ends "@+offset", an offset in the module), and that byte is the one the .wat listing shows at
// that offset; names the emitter did not declare are refused while emitting; the fallback to
// the reference is said once. The offsets below are hand counts of the encodings (spec §5.4).
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  assemble, compileModule, func, get, i32, iadd, locateError, runtimeSupports, set, warnFallback, type FuncDef,
} from "../../src/accel/asm.ts";
import { MODULE_FUNCS } from "../../src/accel/engine.ts";
import { op } from "../../src/accel/opcodes.ts";
import { funcWat } from "../../src/accel/wat.ts";

afterEach(() => { vi.restoreAllMocks(); });

/** Compile and return the error's message ("" when it compiles). */
function compileError(funcs: FuncDef[]): string {
  try { compileModule(funcs); return ""; } catch (e) { return (e as Error).message; }
}

describe("a body that does not validate names its function and byte", () => {
  it("an i32.add with nothing on the stack, in the second function: byte 7 (after 7 bytes of local declarations)", () => {
    const ok = func("ok", ["a"], [], [], (L) => set(L.a, iadd(get(L.a), i32(1))));
    const broken = func("broken", [], [], [], () => [...op.i32_add]);
    const message = compileError([ok, broken]);
    expect(message).toMatch(/^accel: function "broken" does not validate at byte 7 of its body \(module offset \d+\): .*@\+\d+/);
    // the listing shows that instruction at that offset
    expect(funcWat(broken)).toContain("(;     7;) i32.add");
  });

  it("one wrong byte inside a real kernel (copyRows: i32.mul → f32.div at byte 28) is found at its i32 operand", () => {
    const copyRows = MODULE_FUNCS.find((f) => f.name === "copyRows")!;
    expect(copyRows.body[28]).toBe(op.i32_mul[0]); // the listing in wat.test.ts: (; 28;) i32.mul
    const body = [...copyRows.body];
    body[28] = op.f32_div[0];
    const message = compileError([...MODULE_FUNCS.filter((f) => f.name !== "copyRows"), { ...copyRows, body }]);
    // V8 stops at the operand of the wrong type: f32.div's second operand, local.get $ldd at byte 26
    expect(message).toContain(`function "copyRows" does not validate at byte 26 of its body`);
    expect(message).toContain("f32.div");
    expect(funcWat(copyRows)).toContain("(;    26;)     local.get $ldd");
  });

  it("locateError maps a module offset to the function whose body holds it", () => {
    const a = func("a", [], [], [], () => []), b = func("b", [], [], [], () => []);
    const asm = assemble([a, b]);
    const at = asm.bodies[1].start + 7;
    expect(locateError(new Error(`Compiling function #1 failed: something @+${at}`), asm).message).toContain(`function "b" does not validate at byte 7`);
    // an offset outside every body (a section header) still reports the engine's message
    expect(locateError(new Error("bad section @+3"), asm).message).toBe("accel: the module does not compile (bad section @+3)");
  });
});

describe("emitting refuses what was not declared", () => {
  it("an unknown local names the function and the local (when the body is emitted, on first reading)", () => {
    expect(() => func("f", ["a"], [], [], (L) => get(L.b)).body).toThrow(`accel: function "f": no local "b"`);
  });
  it("a local declared twice", () => {
    expect(() => func("g", ["a"], ["a"], [], () => [])).toThrow(`accel: function "g": local "a" declared twice`);
  });
});

describe("the fallback", () => {
  it("this runtime runs the accelerator (WebAssembly SIMD, bulk memory, shared memory)", () => {
    expect(runtimeSupports()).toBe(true);
    expect(runtimeSupports(true)).toBe(true);
  });
  it("is said in one line on stderr, once", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    warnFallback("this runtime cannot compile WebAssembly SIMD");
    warnFallback("this runtime cannot compile WebAssembly SIMD");
    expect(write).toHaveBeenCalledTimes(1);
    const line = String(write.mock.calls[0][0]);
    expect(line).toMatch(/^gradlab: this runtime cannot compile WebAssembly SIMD; the TypeScript reference kernels run instead .*\n$/);
    expect(line.split("\n").length).toBe(2);
  });
});
