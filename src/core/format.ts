/**
 * Number formatting for messages and reports, without Intl: the first `toLocaleString` of a
 * process loads the locale's data (≈ 20 ms here), which a run would pay for one "3,750 steps".
 */

/**
 * An integer with its thousands grouped by commas, as `n.toLocaleString("en-US")` writes it
 * (other numbers as `String(n)` writes them).
 * @example grouped(1234567) // "1,234,567"
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n)) return String(n);
  const digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ",");
  return n < 0 ? `-${digits}` : digits;
}
