/**
 * The contract every reader of untrusted input keeps: it returns a valid result or
 * throws ONE InputError whose message is a single non-empty line naming the problem — never
 * another exception. Property tests call their reader through `clean`.
 */
import { InputError } from "../../src/core/errors.ts";

/** RUNS per property: at least 10,000 generated cases each. */
export const RUNS = Number(process.env.GRADLAB_PROP_RUNS ?? 10_000);

/**
 * Run `read`; its value, or null after a clean InputError. Anything else is rethrown, so the
 * property fails with fast-check's counterexample. `prefix`, when given, must start the message.
 */
export function clean<T>(read: () => T, prefix?: string): T | null {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const m = e.message;
    if (m.length === 0 || m.includes("\n")) throw new Error(`InputError message is not one non-empty line: ${JSON.stringify(m)}`);
    if (prefix !== undefined && !m.startsWith(prefix)) throw new Error(`InputError does not start with ${JSON.stringify(prefix)}: ${m}`);
    return null;
  }
}
