// The precompiled WebAssembly module (src/accel/module-bytes.ts, written by `npm run accel:bytes`)
// must be exactly what the emitters produce now: the engine compiles those bytes and writes that
// constant table instead of emitting every function at start-up. The expected values are the
// emitters' own output (asm.ts's assemble over engine.ts's MODULE_FUNCS, and the constants that
// emitting them puts in lane-math.ts's CONSTANTS), so any change to a kernel without regenerating
// the file fails here.
import { describe, expect, it } from "vitest";
import { assemble } from "../../src/accel/asm.ts";
import { MODULE_FUNCS, wasmModule } from "../../src/accel/engine.ts";
import { CONSTANTS } from "../../src/accel/lane-math.ts";
import { moduleBytes, moduleConstants } from "../../src/accel/module-bytes.ts";

const STALE = "src/accel/module-bytes.ts is stale: regenerate it with `npm run accel:bytes`";

describe("the precompiled module", () => {
  it("is byte for byte the assembled module, private and shared", () => {
    for (const shared of [false, true]) {
      const want = assemble(MODULE_FUNCS, shared).bytes;
      const got = moduleBytes(shared);
      expect(got.length, STALE).toBe(want.length);
      const first = want.findIndex((b, i) => got[i] !== b);
      expect(first, `${STALE} (first differing byte, ${shared ? "shared" : "private"} variant)`).toBe(-1);
    }
  });

  it("carries the constant table its functions read, bit for bit, in order", () => {
    assemble(MODULE_FUNCS, false); // emitting the bodies fills CONSTANTS
    const table = moduleConstants();
    const stored = Array.from(table);
    expect(stored.length, STALE).toBe(CONSTANTS.length);
    // Object.is tells −0 from 0 and matches NaN; the table must also be the emitters' exact doubles
    expect(stored.every((x, i) => Object.is(x, CONSTANTS[i])), STALE).toBe(true);
    expect(stored.length).toBeGreaterThan(10); // the tanh/sigmoid/update kernels need dozens
  });

  it("is the module the engine compiles (it validates and exports every function by name)", () => {
    const m = wasmModule();
    expect(m).not.toBeNull();
    const names = WebAssembly.Module.exports(m!).map((e) => e.name);
    expect(names).toEqual(MODULE_FUNCS.map((f) => f.name));
  });
});
