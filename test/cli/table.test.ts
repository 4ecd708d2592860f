/**
 * The terminal's per-layer table (src/cli/table.ts): the depth profile's columns lead, ‖∂L/∂W‖
 * is labelled for what it is, and an exploded gradient shows as non-finite with its NaN/Inf
 * count, never as 0. Numbers are the synthetic records' own (test/report/synthetic.ts).
 */
import { describe, expect, it } from "vitest";
import { layerTable, normCell, sparkTable } from "../../src/cli/table.ts";
import { metricsToCsv, parseCsv } from "../../src/report/csv.ts";
import { fmtNorm } from "../../src/report/html.ts";
import { vectorStats } from "../../src/instrument/stats.ts";
import { cnnRecords, dense } from "../report/synthetic.ts";

describe("layerTable", () => {
  it("leads with ‖δ‖ and the update ratio, then the gain and ‖∂L/∂W‖ (labelled as growing with fan-in)", () => {
    const rec = { step: 0, epoch: 0, loss: 2.3, accuracy: 0.1, layers: [dense("dense1", 0.5, 0.016, 0.11, { saturated: 0 }), dense("dense2", 0.2, 0.95, null, null)] };
    const [header, row1] = layerTable(rec).split("\n").map((l) => l.trim().split(/\s{2,}/));
    expect(header).toEqual(["layer", "‖δ‖", "‖ΔW‖/‖W‖", "gain", "‖∂L/∂W‖ (∝ fan-in)", "saturated", "dead"]);
    // synthetic dense1: δ 0.016, update ratio 0.01, gain 0.11, ‖∂L/∂W‖ 0.5
    expect(row1).toEqual(["dense1 (dense)", "0.0160", "0.0100", "0.110", "0.500", "0%", "–"]);
  });

  it("a gradient with NaN/Inf entries shows as non-finite with the count, never 0", () => {
    const g = vectorStats(Float32Array.of(1e38, Infinity, 0, 2));
    expect(g.norm).toBe(Infinity);
    const l = dense("dense1", 0.5, 0.016, null, null);
    l.params.weight = { ...l.params.weight, gradNorm: g.norm, nonFinite: g.nonFinite };
    const rec = { step: 1, epoch: 0, loss: Number.NaN, accuracy: 0.1, layers: [l] };
    const cells = layerTable(rec).split("\n")[1].trim().split(/\s{2,}/);
    expect(cells[4]).toBe("Infinity (1)");
    expect(normCell({ gradNorm: Number.NaN, nonFinite: 3 })).toBe("NaN (3)");
    // metrics.jsonl stores NaN/Inf as null: the count still says what happened
    expect(normCell({ gradNorm: null, nonFinite: 3 })).toBe("non-finite (3)");
    expect(fmtNorm(null, 3)).toBe("non-finite (3)");
    expect(fmtNorm(0.5, 0)).toBe("0.500");
    // the CSV writes the norm as it is (Infinity), next to the count
    const [header, row] = parseCsv(metricsToCsv([rec]));
    expect(row[header.indexOf("weight_gradNorm")]).toBe("Infinity");
    expect(row[header.indexOf("weight_nonFinite")]).toBe("1");
  });

  it("sparkTable draws ‖δ‖ over training", () => {
    const records = cnnRecords();
    const lines = sparkTable(records).split("\n");
    expect(lines[0]).toMatch(/^layer\s+‖δ‖ over training\s+first\s+last$/);
    // conv1's δ: 2e-4 at step 0, 3e-4 at step 50 (synthetic: ×(1 + step/100))
    expect(lines[1].trim().split(/\s+/).slice(-2)).toEqual(["2.00e-4", "3.00e-4"]);
  });
});
