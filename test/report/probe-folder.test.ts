// Run folders recorded by the PyTorch probe (integrations/pytorch/gradlab_probe.py): probe.json
// instead of config.json. The folders are the probe's own output, committed as fixtures by
// test/reference/make_probe_fixtures.py: "odd" is a model of unusual structure (a shared module,
// a frozen layer, a layer without bias, a two-layer GRU, a root parameter) whose probe.json lists
// what could not be measured; "seed" is the 784-5-5-10 sigmoid network.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { readRun } from "../../src/report/read-run.ts";
import { writeComparison, writeReport } from "../../src/report/write.ts";
import { dense, synthRun } from "./synthetic.ts";

const FIXTURES = join(import.meta.dirname, "..", "reference", "probe");

/** A folder holding what the probe wrote for `name` (the seed fixture has no summary: make the one close() writes). */
function probeFolder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `gradlab-probe-${name}-`));
  copyFileSync(join(FIXTURES, `${name}.metrics.jsonl`), join(dir, "metrics.jsonl"));
  copyFileSync(join(FIXTURES, `${name}.probe.json`), join(dir, "probe.json"));
  try { copyFileSync(join(FIXTURES, `${name}.summary.json`), join(dir, "summary.json")); } catch {
    writeFileSync(join(dir, "summary.json"), JSON.stringify({ source: "gradlab-probe", name, steps: 1, finalLoss: 2.3, records: 1, testAccuracy: null }));
  }
  return dir;
}

const text = (html: string) => html.replace(/<svg[\s\S]*?<\/svg>/g, "").replace(/<script[\s\S]*?<\/script>/g, "").replace(/<[^>]+>/g, " ").replace(/&#39;/g, "'").replace(/\s+/g, " ");

describe("report on a probe folder", () => {
  it("renders the depth profile, the verdict and the probe's model and notes, with the modules' qualified names", () => {
    const dir = probeFolder("odd");
    const files = writeReport(dir, { png: false });
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(["report.html", "metrics.csv"]);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain('id="depth-profile"');
    const t = text(html);
    // the layers as named by model.named_modules(), in forward order
    expect(t).toMatch(/encoder\.fc \(dense\).*shared \(dense\).*frozen \(dense\).*gru \(gru\).*head \(dense\)/);
    // what the probe said it could not measure (odd.probe.json's notes)
    expect(t).toContain("frozen.weight is frozen (requires_grad=False): not recorded");
    expect(t).toContain("gru with num_layers=2");
    expect(t).toContain("shared is called 2 times per forward pass");
    // no config: neither a fabricated config nor a command that would not reproduce it
    expect(html).not.toContain('id="config"');
    expect(t).toContain("A PyTorch model (Odd, 21,705 parameters) recorded by gradlab-probe every 2 steps, trained with SGD (lr 0.1).");
    // the verdict comes from the records: δ of encoder.fc is below δ of the output (odd.metrics.jsonl)
    expect(t).toMatch(/Verdict: vanishing gradients/);
  });

  it("compare overlays a probe folder with a gradlab run folder", () => {
    const probe = probeFolder("seed");
    const ours = mkdtempSync(join(tmpdir(), "gradlab-ours-"));
    const synth = synthRun([0, 100].map((step) => ({ step, epoch: 0, loss: 2 - step / 200, accuracy: 0.5, layers: [dense("dense1", 0.1, 0.01, 0.1, { saturated: 0.2 }), dense("dense2", 0.5, 0.1, null, null)] })), "ours");
    writeFileSync(join(ours, "config.json"), JSON.stringify(synth.config));
    writeFileSync(join(ours, "summary.json"), JSON.stringify(synth.summary));
    writeFileSync(join(ours, "metrics.jsonl"), synth.records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(mkdtempSync(join(tmpdir(), "gradlab-cmp-")), "cmp");
    writeComparison([probe, ours], out, { png: false });
    const csv = readFileSync(join(out, "runs.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(3);
    // the probe's run has no test accuracy: an empty cell, not a made-up number
    expect(csv[1].split(",")[1]).toBe("");
    expect(csv[2].split(",")[1]).toBe("0.5");
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("dense1");
  });

  it("a bad probe.json is one line naming the file and the field", () => {
    const dir = probeFolder("odd");
    const probe = JSON.parse(readFileSync(join(dir, "probe.json"), "utf8"));
    probe.model.layers[1].params = { weight: "24x24" };
    writeFileSync(join(dir, "probe.json"), JSON.stringify(probe));
    expect(() => readRun(dir)).toThrow(InputError);
    expect(() => readRun(dir)).toThrow(/probe\.json: model\.layers\[1\]\.params\.weight must be an array of whole numbers \(the tensor's shape\), got "24x24"$/);
  });

  it("a folder with neither config.json nor probe.json is refused as before", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradlab-neither-"));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "metrics.jsonl"), readFileSync(join(FIXTURES, "seed.metrics.jsonl")));
    writeFileSync(join(dir, "summary.json"), "{}");
    expect(() => readRun(dir)).toThrow(/config\.json: no such file \(is this a gradlab run folder\?\)$/);
  });
});
