/**
 * Version counters of the weights the engine keeps resident in its memory between calls
 * (engine.ts: a weight is copied in and packed once, then reused by every product that reads it
 * until its version changes). Only arrays that have been touched at least once are kept
 * resident; every other operand is copied in on each call as before.
 *
 * The rule that makes a stale copy impossible: a layer touches its resident weights at the start
 * of every forward pass, so a copy lives for one forward (and the backward that follows it) at
 * most. Whatever writes a weight between passes — the optimizer (TypeScript or WebAssembly), a
 * checkpoint restore, the lab's editor, a user's script — is therefore seen by the next pass
 * without having to say so. Writing a weight in the middle of a pass (between a forward and its
 * backward) is the one misuse left; `checkResident(true)` makes the engine compare every reused
 * copy with the array and throw on a difference (the tests run with it on).
 * @example
 * touch(layer.weightHH.value); // this pass reads the weight afresh
 */

const versions = new WeakMap<Float32Array | Float64Array, number>();
let checking = false;

/** Mark `a` as changed (and as a weight worth keeping resident): every copy of it made before is stale. */
export function touch(a: Float32Array | Float64Array): void {
  versions.set(a, (versions.get(a) ?? 0) + 1);
}

/** The version of `a`: −1 when it was never touched (then nothing keeps it resident). */
export function versionOf(a: Float32Array | Float64Array): number {
  return versions.get(a) ?? -1;
}

/**
 * Verify every reuse of a resident copy against the array (as costly as copying it again):
 * a difference throws, naming the weight's shape. Returns the previous setting.
 */
export function checkResident(on: boolean): boolean {
  const before = checking;
  checking = on;
  return before;
}

/** Whether reuses are verified (checkResident). */
export function checkingResident(): boolean {
  return checking;
}
