/**
 * A one-line chart for the terminal: ▁▂▃▄▅▆▇█ on a LOG scale, because gradient norms span
 * decades. Longer series are cut into `width` buckets, each shown by the geometric mean of its
 * positive values; a bucket with no positive, finite value is a space.
 *
 * @example
 * sparkline([1, 10, 100, 1000])          // "▁▃▆█"
 * sparkline([1e-6, 0, 1e-3], 3)          // "▁ █"
 */
const BARS = "▁▂▃▄▅▆▇█";

export function sparkline(values: readonly number[], width = 12): string {
  const n = values.length;
  if (n === 0 || width < 1) return "";
  const buckets = Math.min(width, n);
  const logs: (number | null)[] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets), hi = Math.floor(((b + 1) * n) / buckets);
    let sum = 0, count = 0;
    for (let i = lo; i < hi; i++) {
      const v = values[i];
      if (Number.isFinite(v) && v > 0) { sum += Math.log10(v); count++; }
    }
    logs.push(count ? sum / count : null);
  }
  const ok = logs.filter((x): x is number => x !== null);
  if (ok.length === 0) return " ".repeat(buckets);
  const min = Math.min(...ok), max = Math.max(...ok);
  return logs.map((x) => {
    if (x === null) return " ";
    if (max === min) return BARS[3];
    return BARS[Math.min(BARS.length - 1, Math.floor(((x - min) / (max - min)) * BARS.length))];
  }).join("");
}
