/**
 * What each chart must plot, computed straight from the records, independently of
 * src/report/charts.ts (the definitions are the README's: one line per layer,
 * log10 in heatmaps, histogram counts as fractions of the layer's total, …). Tests compare the
 * numbers a report embeds with these.
 */
import type { LayerRecord, StepRecord } from "../../src/instrument/recorder.ts";

export interface Series { name: string; panel?: string; data: (number | string)[][] }

const pos = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;
const weight = (l: LayerRecord) => l.params.weight ?? l.params.weight_ih_l0 ?? Object.values(l.params)[0];

function names(records: StepRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) for (const l of r.layers) if (!out.includes(l.name)) out.push(l.name);
  return out;
}

/** id → series that chart must show, for every chart the README lists for one run. */
export function expectedCharts(records: StepRecord[], epochs?: { epoch: number; testAccuracy: number }[], stepsPerEpoch?: number): Map<string, Series[]> {
  const first = records[0], last = records[records.length - 1];
  const all = names(records);
  const at = (r: StepRecord, n: string) => r.layers.find((l) => l.name === n);
  const out = new Map<string, Series[]>();

  // The depth profile (README, "The charts"): per weighted layer, batch/layer norm left out,
  // input first, ‖δ‖ and the weight's update ratio at the first record and (if later) the last.
  const profile = first.layers.filter((l) => Object.keys(l.params).length > 0 && l.type !== "batchnorm" && l.type !== "layernorm").map((l) => l.name);
  const dp: Series[] = [];
  for (const [key, label, f] of [["delta", "‖δ‖", (l: LayerRecord) => l.deltaNorm], ["update", "‖ΔW‖/‖W‖", (l: LayerRecord) => weight(l)?.updateRatio]] as const) {
    for (const [when, rec] of [["at init", first], ["now", last]] as const) {
      if (when === "now" && last === first) continue;
      dp.push({ name: `${label} ${when} (step ${rec.step})`, panel: key, data: profile.filter((n) => pos(at(rec, n) && f(at(rec, n)!))).map((n) => [n, f(at(rec, n)!)!]) });
    }
  }
  out.set("depth-profile", dp);

  const loss: Series[] = [
    { name: "loss", data: records.map((r) => [r.step, r.loss]) },
    { name: "batch accuracy", data: records.map((r) => [r.step, r.accuracy]) },
  ];
  if (epochs) loss.push({ name: "test accuracy", data: epochs.map((e) => [e.epoch * stepsPerEpoch! - 1, e.testAccuracy]) });
  out.set("loss", loss);

  const perLayer = (f: (l: LayerRecord) => number | null | undefined) => all
    .filter((n) => records.some((r) => { const l = at(r, n); return l !== undefined && f(l) !== undefined && f(l) !== null; }))
    .map((n) => ({ name: n, data: records.filter((r) => pos(at(r, n) && f(at(r, n)!))).map((r) => [r.step, f(at(r, n)!)!]) }));
  out.set("grad-norm", perLayer((l) => weight(l)?.gradNorm));
  out.set("delta-norm", perLayer((l) => l.deltaNorm));

  const heat: (number | string)[][] = [];
  for (const r of records) for (const n of all) { const l = at(r, n); if (l && weight(l) && pos(weight(l).gradNorm)) heat.push([r.step, n, Math.log10(weight(l).gradNorm)]); }
  out.set("grad-heatmap", [{ name: "log10 ‖∂L/∂W‖", data: heat }]);

  const rnn = all.filter((n) => records.some((r) => at(r, n)?.hGradNorm));
  for (const n of rnn) {
    const cells: (number | string)[][] = [];
    for (const r of records) at(r, n)?.hGradNorm?.forEach((h, t) => { if (pos(h)) cells.push([r.step, t + 1, Math.log10(h)]); }); // t = 1…T
    out.set(`time-heatmap-${n}`, [{ name: `${n} log10 ‖∂ℓ/∂h_t‖`, data: cells }]);
  }
  if (rnn.length) {
    const tn: Series[] = [];
    for (const n of rnn) {
      for (const [when, rec] of [["init", first], ["end", last]] as const) {
        const l = at(rec, n)!;
        const line = (v: number[]) => v.map((x, t) => [t + 1, x]).filter((p) => pos(p[1])); // t = 1…T
        tn.push({ name: `${n} ‖∂ℓ/∂h_t‖ ${when} (step ${rec.step})`, panel: when, data: line(l.hGradNorm!) });
        if (l.cGradNorm) tn.push({ name: `${n} ‖∂ℓ/∂c_t‖ ${when} (step ${rec.step})`, panel: when, data: line(l.cGradNorm) });
      }
    }
    out.set("time-norm", tn);
    out.set("pascanu", rnn.map((n) => ({ name: n, data: records.filter((r) => at(r, n)?.pascanu !== undefined).map((r) => [r.step, at(r, n)!.pascanu!]) })));
  }

  for (const kind of ["grad", "act"] as const) {
    const s: Series[] = [];
    for (const [panel, rec] of [["init", first], ["end", last]] as const) {
      for (const l of rec.layers) {
        const c = l.hist?.[kind];
        if (!c || c.length === 0) continue;
        const total = c.reduce((a, b) => a + b, 0);
        // gradients: exact zeros (the weight's `zeros`) first, taken out of the lowest bin
        const z = kind === "grad" ? weight(l)?.zeros : undefined;
        const counts = typeof z === "number" ? [z, c[0] - z, ...c.slice(1)] : c;
        s.push({ name: l.name, panel, data: counts.map((x) => x / total) as unknown as (number | string)[][] });
      }
    }
    out.set(`${kind}-hist`, s);
  }

  const sat: Series[] = [];
  for (const n of all) for (const key of ["saturated", "dead"] as const) {
    const data = records.filter((r) => typeof at(r, n)?.activation?.[key] === "number").map((r) => [r.step, at(r, n)!.activation![key]!]);
    if (data.length) sat.push({ name: `${n} ${key}`, data });
  }
  out.set("saturation", sat);
  return out;
}

/** Histogram series carry [bin label, fraction]; compare their fractions only. */
export function normalise(id: string, series: Series[]): Series[] {
  if (!id.endsWith("-hist")) return series;
  return series.map((s) => ({ ...s, data: s.data.map((d) => d[1]) as unknown as (number | string)[][] }));
}
