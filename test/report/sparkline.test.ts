/** sparkline: eight levels on a log scale (expected strings worked out by hand from the levels). */
import { describe, expect, it } from "vitest";
import { sparkline } from "../../src/report/sparkline.ts";

describe("sparkline", () => {
  it("maps decades evenly onto ▁…█ (log scale)", () => {
    // log10 = 0, 1, 2, 3 → fractions 0, 1/3, 2/3, 1 → levels ⌊8f⌋ = 0, 2, 5, 7 (clamped)
    expect(sparkline([1, 10, 100, 1000])).toBe("▁▃▆█");
    expect(sparkline([1e-8, 1e-4, 1])).toBe("▁▅█");
  });

  it("leaves a gap for zero, negative and non-finite values; constant series sit mid-height", () => {
    expect(sparkline([1e-6, 0, 1e-3], 3)).toBe("▁ █");
    expect(sparkline([-1, Number.NaN, Number.POSITIVE_INFINITY])).toBe("   ");
    expect(sparkline([0.5, 0.5, 0.5])).toBe("▄▄▄");
    expect(sparkline([])).toBe("");
  });

  it("buckets long series into `width` characters by geometric mean", () => {
    const values = Array.from({ length: 120 }, (_, i) => 10 ** (-i / 10)); // 1 … 1e-11.9, falling
    const s = sparkline(values, 12);
    expect([...s]).toHaveLength(12);
    expect(s[0]).toBe("█");
    expect(s[11]).toBe("▁");
    expect(sparkline(values)).toBe(s); // width defaults to 12
    // buckets [1, 100], [1, 10], [100, 100]: mean log10 1, 0.5, 2 → fractions 1/3, 0, 1 → ▃▁█
    expect(sparkline([1, 100, 1, 10, 100, 100], 3)).toBe("▃▁█");
  });
});
