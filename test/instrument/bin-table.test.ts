/**
 * The histogram's bin table (stats.ts buildBinTable) fills runs of buckets at once; it must be
 * the table the definition gives bucket by bucket: for each of the 65,536 float32 buckets (top
 * 16 bits), `base` = the number of edges ≤ the bucket's smallest value, `split` = the edge inside
 * the bucket when exactly one is (−1 none, −2 several). The definition below is that sentence,
 * written out as the slow loop the table replaced.
 */
import { describe, expect, it } from "vitest";
import { ACT_HIST_EDGES, buildBinTable, GRAD_HIST_EDGES } from "../../src/instrument/stats.ts";

function definition(edges: readonly number[]): { base: Int8Array; split: Int8Array } {
  const count = (v: number) => edges.filter((e) => e <= v).length;
  const binOf = (v: number) => (Number.isNaN(v) ? edges.length : count(v)); // binOf's search ends past the last edge for NaN
  const base = new Int8Array(65536), split = new Int8Array(65536);
  const f = new Float32Array(2), u = new Uint32Array(f.buffer);
  for (let b = 0; b < 65536; b++) {
    u[0] = b << 16; u[1] = (b << 16) | 0xffff;
    let lo = Math.min(f[0], f[1]), hi = Math.max(f[0], f[1]);
    if (Number.isNaN(f[0]) || Number.isNaN(f[1])) lo = hi = Number.isNaN(f[0]) ? f[1] : f[0];
    const a = binOf(lo), z = binOf(hi);
    base[b] = a;
    split[b] = z === a ? -1 : z === a + 1 ? a : -2;
  }
  return { base, split };
}

describe("buildBinTable", () => {
  const lists: [string, number[]][] = [
    ["the gradient edges", GRAD_HIST_EDGES],
    ["the activation edges", ACT_HIST_EDGES],
    ["edges at zero, at float32 bucket boundaries and between floats", [-2, -0.5, 0, 2 ** -20, 0.1, 1, 1 + 2 ** -8, 3.4e38]],
    ["one edge", [0.25]],
    ["edges in one bucket", [1, 1.001, 1.002, 1.003]],
  ];
  it.each(lists)("equals the bucket-by-bucket definition for %s", (_, edges) => {
    const t = buildBinTable(edges), d = definition(edges);
    expect(Buffer.from(t.base.buffer).equals(Buffer.from(d.base.buffer))).toBe(true);
    expect(Buffer.from(t.split.buffer).equals(Buffer.from(d.split.buffer))).toBe(true);
  });
});
