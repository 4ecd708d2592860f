// Hot loops allocate nothing per step, measured by test/helpers/alloc.ts.
// Before expInto/logInto, the loss alone allocated 5.6 kB per call (a boxed double per exp).
import { describe, expect, it } from "vitest";
import { LOSSES } from "../../src/core/losses.ts";
import { expInto, logInto } from "../../src/core/math.ts";
import { bytesPerCall } from "../helpers/alloc.ts";

describe("no allocation per step", () => {
  const B = 32, C = 10;
  const z = Float32Array.from({ length: B * C }, (_, i) => Math.sin(i) * 3);
  const dz = new Float32Array(B * C);
  const y = Int32Array.from({ length: B }, (_, i) => i % C);
  it("softmax cross-entropy forward + backward of a [32, 10] batch: < 64 bytes a call (the returned number at most)", () => {
    expect(bytesPerCall(() => { LOSSES.cross_entropy.forwardBackward(z, y, B, C, dz); })).toBeLessThan(64);
  });
  it("expInto and logInto over 320 values: < 16 bytes a call", () => {
    const out = new Float64Array(B * C), shift = Float64Array.of(0.5), pos = Float64Array.from(z, Math.abs);
    expect(bytesPerCall(() => { expInto(z, 0, B * C, shift, 0, out, 0); logInto(pos, 0, B * C, out, 0); })).toBeLessThan(16);
  });
});
