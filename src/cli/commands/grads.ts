/** `gradlab grads`: gradients of the mean loss over training examples A..B-1 for given weights. */
import { dirname, resolve } from "node:path";
import { InputError } from "../../core/errors.ts";
import { readSafetensorsChecked } from "../../data/read-file.ts";
import { makeFolders, writeFileAtomic } from "../../experiment/run-folder/atomic.ts";
import { checkOutFile } from "../../experiment/out-path.ts";
import { computeGradients, encodeGradients, parseRange } from "../../experiment/grads.ts";
import { loadConfig, output } from "./common.ts";

/** The grads command's action: writes the gradients file and prints one JSON line. */
export function gradsCommand(arg: string, opts: { weights?: string; examples: string; out?: string }): void {
  if (!opts.weights) throw new InputError("--weights: required (a .safetensors file with the model's weights)");
  if (!opts.out) throw new InputError("--out: required (the .safetensors file to write the gradients to)");
  checkOutFile(String(opts.out), "--out");
  const { config } = loadConfig(arg, {});
  const range = parseRange(String(opts.examples));
  const bytes = readSafetensorsChecked(opts.weights, "expected a .safetensors file with the model's weights");
  const grads = computeGradients(config, bytes, range, opts.weights);
  const target = resolve(opts.out);
  makeFolders(dirname(target));
  writeFileAtomic(target, encodeGradients(grads));
  output(false).say(JSON.stringify({ loss: grads.loss, examples: grads.examples, out: target }));
}
