/**
 * Writes the accelerator's WebAssembly module in the text format (src/accel/wat.ts): every
 * function with its parameters, locals and one instruction a line, each line prefixed by the
 * instruction's byte offset in the function's body (what a validation error names).
 *
 *   npm run accel:wat                  # to stdout
 *   npm run accel:wat -- FILE          # to FILE (e.g. /tmp/accel.wat)
 *   npm run accel:wat -- FILE --shared # the variant whose memory is shared with a helper thread
 */
import { writeFileSync } from "node:fs";
import { MODULE_FUNCS } from "../src/accel/engine.ts";
import { watOf } from "../src/accel/wat.ts";

const args = process.argv.slice(2);
const shared = args.includes("--shared");
const unknown = args.filter((a) => a.startsWith("--") && a !== "--shared");
if (unknown.length) {
  process.stderr.write(`accel:wat: unknown option ${unknown[0]} (expected: [FILE] [--shared])\n`);
  process.exit(2);
}
const file = args.find((a) => !a.startsWith("--"));
const text = watOf(MODULE_FUNCS, shared);
if (file) {
  writeFileSync(file, text);
  process.stderr.write(`accel:wat: ${MODULE_FUNCS.length} functions, ${text.split("\n").length} lines → ${file}\n`);
} else {
  process.stdout.write(text);
}
