// The trainer runs the evaluation's path once on one test batch after its first step
// (trainer.ts, primeEvaluation), so that the first epoch's end does not deoptimize the step's
// code. That is only sound if an evaluation leaves no trace: these tests train the same steps
// with and without extra evaluations in between and compare every bit that follows.
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/datasets.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { Trainer } from "../../src/experiment/trainer.ts";

describe("an evaluation changes nothing a later step or evaluation sees", () => {
  const data = loadDataset("mnist", { train: 256, test: 96 });
  const nets: [string, "flat" | "rows", unknown[]][] = [
    // batch norm keeps running statistics (inference reads them, training updates them)
    ["dense + batchnorm + relu", "flat", [{ type: "dense", units: 24, activation: "linear" }, { type: "batchnorm", activation: "relu" }, { type: "dense", units: 10 }]],
    // the recurrent layers keep their sequences' states in buffers the backward pass reads
    ["row LSTM 16 and tanh RNN 12", "rows", [{ type: "lstm", units: 16, returnSequences: true }, { type: "rnn", units: 12 }, { type: "dense", units: 10 }]],
  ];
  for (const [name, view, layers] of nets) {
    it(`${name}: the same losses, records and weights with evaluations after steps 1 and 3`, () => {
      const run = (evaluateAfter: number[]) => {
        const config = parseConfig({
          name: "evaluation", data: { dataset: "mnist", view, train: 256, test: 96 }, model: { layers },
          optimizer: { type: "adam", lr: 0.01 }, train: { epochs: 1, batchSize: 32, seed: 5 }, record: { every: 2 },
        }, "test");
        const t = new Trainer(config, data);
        const records: string[] = [];
        for (let s = 0; s < 8; s++) {
          const r = t.trainStep();
          if (r) records.push(JSON.stringify(r));
          if (evaluateAfter.includes(s)) { t.evaluate("test"); t.evaluate("train"); }
        }
        // the parameters and the buffers (batch norm's running mean and variance)
        const weights = [...t.model.params, ...t.model.buffers].map((p) => `${p.name}: ${Array.from(new Uint8Array(p.value.buffer, p.value.byteOffset, p.value.byteLength)).join(",")}`);
        return { records, weights, final: t.lastEpoch, test: t.evaluate("test") };
      };
      const plain = run([]), evaluated = run([1, 3]);
      expect(plain.records.length).toBe(5); // steps 0, 2, 4, 6 and the last (7)
      expect(evaluated.records).toEqual(plain.records);
      expect(evaluated.weights.filter((w) => w.includes("running_")).length).toBe(name.startsWith("dense") ? 2 : 0); // the buffers are compared
      expect(evaluated.weights).toEqual(plain.weights);
      expect(evaluated.final).toEqual(plain.final); // the epoch's own test evaluation at step 8
      expect(evaluated.test).toEqual(plain.test);
    });
  }
});
