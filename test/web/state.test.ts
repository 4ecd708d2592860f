// URL state of the lab (src/web/state.ts, src/web/rison.ts): every state survives the hash,
// every CLI preset survives it unchanged, and hostile hashes are refused or neutralised.
// Expected values are the table's own bounds and the presets in experiments/.
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/experiment/config.ts";
import { expandSuite, isSuite } from "../../src/experiment/suite.ts";
import { decodeRison, encodeRison, RISON_MAX_DEPTH } from "../../src/web/rison.ts";
import {
  decodeState, defaultState, encodeState, FIELDS, labLimits, MAX_HASH_LENGTH, rawFromConfig, sideConfig, unrepresented, type LabState,
} from "../../src/web/state.ts";

const EXPERIMENTS = join(import.meta.dirname, "../../experiments");
const roundTrip = (s: LabState) => decodeState(`#${encodeState(s)}`);

/** Every preset the CLI knows, suites expanded, as validated configs. */
function cliPresets(): { id: string; config: ReturnType<typeof parseConfig> }[] {
  const out: { id: string; config: ReturnType<typeof parseConfig> }[] = [];
  for (const f of readdirSync(EXPERIMENTS).filter((x) => x.endsWith(".json")).sort()) {
    const raw = JSON.parse(readFileSync(join(EXPERIMENTS, f), "utf8"));
    if (isSuite(raw)) for (const r of expandSuite(raw, f).runs) out.push({ id: `${f}/${r.label}`, config: r.config });
    else out.push({ id: f, config: parseConfig(raw, f) });
  }
  return out;
}

describe("URL state round trip", () => {
  it("opens on the seed preset and writes every setting, seed included", () => {
    const { description: _, ...seed } = parseConfig(JSON.parse(readFileSync(join(EXPERIMENTS, "seed.json"), "utf8")));
    const s = defaultState();
    expect(parseConfig(sideConfig(s, "a"))).toEqual(seed);
    const hash = encodeState(s);
    expect(hash).toBe(
      "name=seed&view=flat&train=60000&test=10000"
      + "&layers=!((type:dense,units:5,activation:sigmoid,init:standard),(type:dense,units:5,activation:sigmoid,init:standard),(type:dense,units:10,init:standard))"
      + "&loss=cross_entropy&opt=sgd&lr=0.5&epochs=5&batch=32&every=100&seed=1&speed=10",
    );
    expect(roundTrip(s)).toEqual({ state: s, problems: [] });
  });

  it("keeps every CLI preset exactly (suites expanded), so a preset's link reproduces it", () => {
    const presets = cliPresets();
    expect(presets.length).toBeGreaterThanOrEqual(15);
    for (const { id, config } of presets) {
      expect(unrepresented(config), id).toEqual([]);
      const s: LabState = { a: rawFromConfig(config), b: null, ui: { speed: "max" } };
      const back = roundTrip(s);
      expect(back.problems, id).toEqual([]);
      const { description: _, ...expected } = config;
      expect(parseConfig(sideConfig(back.state, "a")), id).toEqual(expected);
    }
  });

  it("round-trips A/B states, optional fields, odd names and nested layers", () => {
    const a = rawFromConfig(parseConfig({
      name: "weird name: 'quotes' & !bangs, ünïcode <b>", data: { view: "image", train: 1234, test: 99 },
      model: { layers: [
        { type: "conv2d", filters: 4, kernel: 3, padding: "same", activation: "relu", init: { type: "normal", std: 0.05 } },
        { type: "maxpool2d", size: 2 }, { type: "flatten" },
        { type: "residual", name: "block-1.a", activation: "relu", layers: [{ type: "dense", units: 784 / 4, activation: "tanh", init: "glorot" }] },
        { type: "dense", units: 10, bias: false },
      ] },
      optimizer: { type: "adam", lr: 1e-3, betas: [0.8, 0.95], eps: 1e-7, clipNorm: 2.5, weightDecay: 0.0001 },
      train: { epochs: 2, batchSize: 17, seed: 2 ** 31 - 1, evalBatchSize: 250 }, record: { every: 7, histograms: false },
    }));
    const b = structuredClone(a);
    (b.optimizer as Record<string, unknown>) = { type: "sgd", lr: 0.01, momentum: 0.9, nesterov: true };
    (b.train as Record<string, unknown>).seed = 99; // B never has its own seed: A's is used
    const s: LabState = { a, b, ui: { speed: "10" } };
    const back = roundTrip(s);
    expect(back.problems).toEqual([]);
    expect(back.state.a).toEqual(a);
    expect(sideConfig(back.state, "b")).toEqual(sideConfig(s, "b"));
    expect((sideConfig(back.state, "b").train as Record<string, unknown>).seed).toBe(2 ** 31 - 1);
    expect(back.state.ui.speed).toBe("10");
    // B writes only what differs from A.
    expect(encodeState(s)).toMatch(/&ab=1&b\.opt=sgd&b\.lr=0\.01&b\.momentum=0\.9&b\.nesterov=1&b\.betas=&b\.eps=&b\.wd=&b\.clipNorm=&speed=10$/);
  });

  it("round-trips arbitrary JSON values through the layer notation", () => {
    const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/).filter((k) => !["__proto__", "constructor", "prototype"].includes(k));
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: "small" }, tie("leaf"), fc.array(tie("tree"), { maxLength: 4 }), fc.dictionary(key, tie("tree"), { maxKeys: 4 })),
      leaf: fc.oneof(fc.constantFrom(null, true, false), fc.string({ unit: "binary" }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
    }));
    fc.assert(fc.property(tree, (v) => {
      const json = JSON.parse(JSON.stringify(v)); // -0 → 0, as JSON
      expect(decodeRison(encodeRison(json))).toEqual(json);
    }), { numRuns: 300 });
  });
});

describe("hostile URLs are refused or neutralised", () => {
  it("keeps a script in the name as plain text, escaped in the hash", () => {
    const name = `<img src=x onerror="alert(1)"><script>alert(2)</script>`;
    const { state, problems } = decodeState(`#name=${encodeURIComponent(name)}`);
    expect(problems).toEqual([]);
    expect(state.a.name).toBe(name); // only ever shown with textContent
    expect(encodeState(state)).not.toMatch(/[<>"]/);
  });

  it("never touches a prototype through __proto__, constructor or prototype keys", () => {
    const { state, problems } = decodeState(
      "#__proto__=1&constructor=2&prototype=3&b.__proto__=4&__proto__.polluted=5&layers=!((__proto__:(polluted:!t),type:dense,units:10))&ab=1&b.layers=!((constructor:1))",
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(state.a)).toBe(Object.prototype);
    expect(Object.hasOwn(state.a, "__proto__")).toBe(false);
    expect(problems.filter((p) => p.includes("unknown setting"))).toHaveLength(5);
    expect(problems.filter((p) => p.includes("is not allowed"))).toHaveLength(2);
    expect(sideConfig(state, "a").model).toEqual(defaultState().a.model); // bad layers: the default
    expect(() => decodeRison("(toString:1,valueOf:2,hasOwnProperty:3)")).not.toThrow();
    expect(Object.getPrototypeOf(decodeRison("(a:1)"))).toBe(Object.prototype);
  });

  it("rejects huge, non-finite, malformed and out-of-range numbers", () => {
    const cases: [string, RegExp][] = [
      ["lr=1e999", /^lr \(learning rate\): expected a number > 0 and ≤ 100; got "1e999"/],
      ["lr=Infinity", /^lr/], ["lr=NaN", /^lr/], ["lr=0x10", /^lr/], ["lr=-1", /^lr/], ["lr=", /^lr/], ["lr=1e-400", /^lr/],
      ["train=99999999999", /^train \(training examples\): expected a whole number ≥ 1 and ≤ 60000/],
      ["seed=1e400", /^seed/], ["seed=2147483648", /^seed/], ["seed=1.5", /^seed/], ["batch=0", /^batch/],
      ["epochs=1e6", /^epochs/], ["view=..%2F..%2Fetc", /^view/], ["speed=%3Cscript%3E", /^speed/], ["betas=0.9", /^betas/], ["ab=yes", /^ab/],
    ];
    for (const [hash, re] of cases) {
      const { state, problems } = decodeState(`#${hash}`);
      expect(problems, hash).toHaveLength(1);
      expect(problems[0], hash).toMatch(re);
      expect(state, hash).toEqual(defaultState());
    }
  });

  it("refuses deep nesting, endless hashes, broken escapes and repeated keys", () => {
    const deep = `${"!(".repeat(RISON_MAX_DEPTH + 5)}1${")".repeat(RISON_MAX_DEPTH + 5)}`;
    expect(decodeState(`#layers=${deep}`).problems[0]).toMatch(/^layers \(layers\): bad layer notation at character \d+: nested deeper than 16 levels/);
    expect(decodeState(`#name=${"x".repeat(MAX_HASH_LENGTH + 1)}`).problems[0]).toMatch(/more than the 30000 allowed/);
    expect(decodeState("#name=%E0%A4%A").problems[0]).toMatch(/malformed %-escape/);
    expect(decodeState("#lr=0.1&lr=0.2").problems).toEqual([`"lr": given twice; the first is used`]);
    expect(decodeState("#lr=0.1&lr=0.2").state.a.optimizer).toEqual({ type: "sgd", lr: 0.1 });
    expect(decodeState("#b.lr=0.1").problems).toEqual(["b.* settings are given without ab=1; ignored"]);
  });

  it("lets absurd layer sizes through the URL only to be refused before anything is built", () => {
    const { state, problems } = decodeState("#layers=!((type:dense,units:1000000000),(type:dense,units:10))");
    expect(problems).toEqual([]);
    const config = parseConfig(sideConfig(state, "a"));
    expect(labLimits(config)).toBe("model.layers[0].units: at most 4096 in the browser lab; got 1000000000");
    const conv = parseConfig({ ...sideConfig(state, "a"), model: { layers: [{ type: "residual", layers: [{ type: "conv2d", filters: 10_000, kernel: 3 }] }] } });
    expect(labLimits(conv)).toBe("model.layers[0].layers[0].filters: at most 512 in the browser lab; got 10000");
    const many = parseConfig({ ...sideConfig(state, "a"), model: { layers: Array.from({ length: 70 }, () => ({ type: "dense", units: 10 })) } });
    expect(labLimits(many)).toBe("model.layers[64]: at most 64 layers in the browser lab");
    expect(labLimits(parseConfig(sideConfig(defaultState(), "a")))).toBeNull();
  });

  it("has a table whose keys are unique and whose run fields all map to a config path", () => {
    const keys = FIELDS.map((f) => f.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const f of FIELDS) expect(f.scope === "ui" || (f.path?.length ?? 0) > 0, f.key).toBe(true);
  });
});
