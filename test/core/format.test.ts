// grouped(): thousands grouped by commas without Intl. Expected: exactly what
// Number.prototype.toLocaleString("en-US") writes for the same integers (the function replaces it
// so a run does not load the locale's data), over every digit count and sign.
import { describe, expect, it } from "vitest";
import { grouped } from "../../src/core/format.ts";

describe("grouped", () => {
  it("writes integers as toLocaleString(\"en-US\") does, for every length up to 16 digits and both signs", () => {
    const values = [0, 7, 42, 999, 1000, 3750, 60000, 123456, 1234567, 9999999, 10 ** 9, 2 ** 31, Number.MAX_SAFE_INTEGER];
    for (let d = 1; d <= 16; d++) values.push(Number("9".repeat(d)), 10 ** (d - 1));
    for (const v of values.filter(Number.isSafeInteger)) {
      expect(grouped(v), String(v)).toBe(v.toLocaleString("en-US"));
      if (v !== 0) expect(grouped(-v), String(-v)).toBe((-v).toLocaleString("en-US"));
    }
  });

  it("leaves other numbers as String() writes them", () => {
    for (const v of [1.5, 1e21, NaN, Infinity, 2 ** 60]) expect(grouped(v)).toBe(String(v));
  });
});
