// The web app's URL state (src/web/state.ts decodeState) under generated input:
// random hashes, valid hashes with one field mangled, hostile keys and values. decodeState
// never throws: every case ends in a usable state plus one-line problems, the run config it
// yields either validates with the CLI's schema or fails with one clean InputError (the lab
// shows it in place), Object.prototype is never touched, and nothing huge is allocated.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/experiment/config.ts";
import { decodeState, encodeState, defaultState, sideConfig } from "../../src/web/state.ts";
import { clean, RUNS } from "./clean.ts";

const KEYS = ["name", "view", "train", "test", "layers", "loss", "opt", "lr", "momentum", "nesterov", "betas", "alpha", "eps", "wd",
  "clipNorm", "clipValue", "epochs", "batch", "evalBatch", "onNonFinite", "every", "hist", "seed", "ab", "speed",
  "b.lr", "b.layers", "__proto__", "constructor", "b.__proto__", "unknown"];
const VALUE = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("1e999", "-0", "NaN", "Infinity", "9007199254740993", "0x10", "%E0%A4%A", "%", "<script>alert(1)</script>",
    "!((type:dense,units:5))", "!((type:dense,units:1e12))", "!((__proto__:(polluted:1)))", "!((type:residual,layers:!(!(!(!(!(!(!(!(!())))))))))))", "(a:"),
  fc.double().map(String),
  fc.integer().map(String),
);
const PAIR = fc.tuple(fc.constantFrom(...KEYS), VALUE).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
const HASH = fc.oneof(
  { arbitrary: fc.array(PAIR, { maxLength: 6 }).map((ps) => "#" + ps.join("&")), weight: 6 },
  { arbitrary: fc.string({ maxLength: 60 }), weight: 2 },
  { arbitrary: fc.tuple(fc.nat(), VALUE).map(([cut, v]) => { const h = encodeState(defaultState()); const i = cut % h.length; return h.slice(0, i) + v + h.slice(i); }), weight: 2 },
);

describe("decodeState on generated URLs", () => {
  it(`never throws; yields a state whose config validates or fails with one clean line (${RUNS} cases)`, () => {
    fc.assert(fc.property(HASH, (hash) => {
      const { state, problems } = decodeState(hash);
      for (const p of problems) expect(p).not.toMatch(/\n/);
      clean(() => parseConfig(sideConfig(state, "a"), "link"));
      if (state.b) clean(() => parseConfig(sideConfig(state, "b"), "link"));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
    }), { numRuns: RUNS });
  });
});
