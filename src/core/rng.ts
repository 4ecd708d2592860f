/**
 * The seeded PRNG: xoshiro128** (Blackman & Vigna 2018), seeded through splitmix32. It is the
 * only source of randomness in gradlab, so the same seed gives a bit-identical run. Its whole
 * state is four uint32 words (plus a cached normal), which a checkpoint can save and restore.
 */
import { cos, log, sin } from "./math.ts";

/** splitmix32 step, used to spread a seed over the state words. */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export interface RngState { s: [number, number, number, number]; spare: number | null }

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /**
   * @param seed any safe integer
   * @param stream an independent stream for the same seed (init, shuffling, … each get one,
   *   so changing how many numbers one part draws never shifts another)
   * @example new Rng(1, 0).uniform() // the same number on every machine
   */
  constructor(seed: number, stream = 0) {
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x27d4eb2d) ^ Math.imul(stream + 1, 0x165667b1);
    x = splitmix32(x); this.s0 = x;
    x = splitmix32(x); this.s1 = x;
    x = splitmix32(x); this.s2 = x;
    x = splitmix32(x); this.s3 = x;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uint32. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal by the Box–Muller transform (the second value is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * log(u));
    this.spare = r * sin(2 * Math.PI * v);
    return r * cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (n <= 0 || n > 2 ** 32) throw new RangeError(`Rng.int: n must be in 1..2^32, got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle(a: Int32Array | Uint32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** Copy of the full state, for checkpoints. */
  state(): RngState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spare: this.spare };
  }

  /** Restore a state taken by state(). */
  setState(st: RngState): void {
    [this.s0, this.s1, this.s2, this.s3] = st.s;
    this.spare = st.spare;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
