/**
 * "Did you mean …?" for every name a user types: config keys, presets, commands and options.
 * No imports, so the command line can use it before it loads anything else.
 */

/**
 * Edit distance with adjacent transpositions (optimal string alignment): insertions,
 * deletions, substitutions and swaps of two neighbours each cost 1, so "sede" is 1 from "seed".
 * @example editDistance("epoch", "epochs") // 1
 */
export function editDistance(a: string, b: string): number {
  // d[i][j]: distance between a[0, i) and b[0, j); three rows are enough for the transposition
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], before[j - 2] + 1);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length];
}

/**
 * The candidate closest to `word`, when it is close enough to be what was meant: the same up to
 * case and `-`/`_`, or at most one edit per three characters (at least one). Else undefined.
 * @example closest("epoch", ["epochs", "seed"]) // "epochs"
 * @example closest("batch_size", ["batchSize"]) // "batchSize"
 * @example closest("frobnicate", ["units", "name"]) // undefined
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  let best: string | undefined;
  let bestDist = Infinity;
  for (const candidate of candidates) {
    const d = norm(word) === norm(candidate) ? 0 : editDistance(word, candidate);
    if (d < bestDist) { best = candidate; bestDist = d; }
  }
  const close = best !== undefined && bestDist <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  return close ? best : undefined;
}
