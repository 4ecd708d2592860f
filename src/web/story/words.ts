/**
 * How the story words a number it measured, so a sentence stays true for the run it describes.
 */

/**
 * A ratio as "about N× smaller" (below 1) or "about N× larger", N to two significant digits,
 * in exponent form from 1000 on.
 * @example times(0.016) // "about 63× smaller"
 */
export function times(r: number): string {
  if (!Number.isFinite(r) || r <= 0) return String(r);
  const x = r < 1 ? 1 / r : r;
  const said = x >= 1000 ? x.toExponential(0).replace("e+", "e") : String(Number(x.toPrecision(2)));
  return `about ${said}× ${r < 1 ? "smaller" : "larger"}`;
}
