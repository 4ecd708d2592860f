/**
 * Scenes 2 to 8 of the story, in order, loaded once scene 1 (scene-1.ts) is on screen. Each has
 * a few sentences in our words, one live figure computed by the engine in a worker, and one
 * thing to do. Sentences that state a number take it from the run the figure shows, so
 * they stay true; the end-to-end test (test/web/story.e2e.test.ts) checks each claim against
 * the published numbers.
 */
import { parseConfig } from "../../experiment/config.ts";
import { deltaProfile } from "../../instrument/diagnosis.ts";
import { profileLayers, weightKeyOf } from "../../instrument/profile.ts";
import type { StepRecord } from "../../instrument/recorder.ts";
import { fill, fmt, h } from "../dom.ts";
import { RunController } from "../lab-run.ts";
import type { Prediction } from "../protocol.ts";
import { walkPoints, WalkView } from "../walk-view.ts";
import { READER, SEED, DEPTHS, SHORT_STEPS, deepConfig, remedyConfigs, REMEDY_DEPTH, sequenceConfigs } from "./configs.ts";
import { CANVAS_UNITS, DrawingError, PEN_RADIUS, SEVEN, strokesToPixels, type Stroke } from "./draw.ts";
import { digitCanvas, logChart, OKABE, probBars, slopeChart, unitRow } from "./figures.ts";
import { SCENE_TITLES, type Scene } from "./scene-kit.ts";
import { times } from "./words.ts";

const button = (text: string, onclick: () => void, attrs: Record<string, string | boolean> = {}) => h("button", { type: "button", onclick, ...attrs }, text);
const p = (text: string) => h("p", { text });
/** ‖δ‖ per profile layer of a record, input → output. */
function deltas(rec: StepRecord): { name: string; delta: number; gain: number | null; update: number | null }[] {
  return profileLayers(rec).map((l) => ({ name: l.name, delta: l.deltaNorm ?? NaN, gain: l.gain, update: l.params[weightKeyOf(l) ?? ""]?.updateRatio ?? null }));
}

// ---------------------------------------------------------------------------------------------
// 2. The seed network reads a digit.

const scene2: Scene = {
  title: SCENE_TITLES[1],
  mount(ctx) {
    const reader = ctx.reader;
    let input: { kind: "test"; index: number } | { kind: "drawn"; pixels: Float32Array; strokes: number } = { kind: "test", index: 0 };
    let strokes: Stroke[] = [];
    let current: Stroke | null = null;
    let alive = true;
    const status = h("p", { class: "live", "aria-live": "polite" });
    const message = h("p", { class: "error", role: "alert" });
    const pad = h("canvas", { width: CANVAS_UNITS, height: CANVAS_UNITS, class: "draw-pad", "data-key": "draw-pad", "aria-label": "drawing box: draw one digit with the mouse, a pen or a finger" });
    const paint = () => {
      const c = pad.getContext("2d");
      if (!c) return;
      c.fillStyle = "#fff"; c.fillRect(0, 0, CANVAS_UNITS, CANVAS_UNITS);
      c.strokeStyle = "#111"; c.lineWidth = 2 * PEN_RADIUS; c.lineCap = "round"; c.lineJoin = "round";
      for (const s of strokes) {
        c.beginPath();
        s.forEach((pt, k) => (k ? c.lineTo(pt.x, pt.y) : c.moveTo(pt.x, pt.y)));
        if (s.length === 1) c.lineTo(s[0].x + 0.01, s[0].y);
        c.stroke();
      }
    };
    const at = (e: PointerEvent) => { const r = pad.getBoundingClientRect(); return { x: ((e.clientX - r.left) / r.width) * CANVAS_UNITS, y: ((e.clientY - r.top) / r.height) * CANVAS_UNITS }; };
    pad.addEventListener("pointerdown", (e) => { e.preventDefault(); pad.setPointerCapture(e.pointerId); current = [at(e)]; strokes.push(current); paint(); });
    pad.addEventListener("pointermove", (e) => { if (!current) return; current.push(at(e)); paint(); });
    const end = () => { if (!current) return; current = null; readDrawing(); };
    pad.addEventListener("pointerup", end);
    pad.addEventListener("pointercancel", end);

    let seq = 0;
    let shown: Prediction | null = null;
    const show = async () => {
      const mine = ++seq;
      if (reader.status !== "ready") { status.textContent = reader.status === "error" ? `The network cannot be trained: ${reader.error}` : "Loading 1,000 digits and building the network…"; return; }
      try {
        const pr = await reader.predict(input.kind === "test" ? { testIndex: input.index } : { pixels: input.pixels });
        if (!alive || mine !== seq) return;
        shown = pr;
        render(pr);
      } catch (e) { if (alive) message.textContent = (e as Error).message; }
    };
    const readDrawing = () => {
      try {
        input = { kind: "drawn", pixels: strokesToPixels(strokes), strokes: strokes.length };
        message.textContent = "";
        void show();
      } catch (e) {
        if (!(e instanceof DrawingError)) throw e;
        message.textContent = `Nothing to read: ${e.message}.`;
        shown = null;
        fill(ctx.figure, h("p", { class: "fig-empty", text: "No guess: the network reads only what is drawn." }));
        ctx.caption.textContent = "No drawing to read.";
        ctx.publish({ source: "drawn", error: e.message }, true);
      }
    };
    const accuracy = () => reader.epochs.length ? reader.epochs[reader.epochs.length - 1].testAccuracy : null;
    const trainingText = () => {
      const acc = accuracy();
      return reader.done
        ? `Trained: ${reader.step} steps, ${acc === null ? "" : `${Math.round(100 * acc)}% of the 500 test digits right`}.`
        : `Training in the background: step ${reader.step} of ${reader.totalSteps || "…"}${acc === null ? "" : `, ${Math.round(100 * acc)}% of the 500 test digits right so far`}.`;
    };
    const render = (pr: Prediction) => {
      let best = 0;
      for (let c = 1; c < pr.probs.length; c++) if (pr.probs[c] > pr.probs[best]) best = c;
      const what = pr.label === null ? "your drawing" : `test digit ${input.kind === "test" ? input.index + 1 : ""} (a ${pr.label})`;
      const said = `The network at step ${pr.step} reads ${what} as a ${best}, ${Math.round(100 * pr.probs[best])}% sure. Outputs: ${Array.from(pr.probs, (v, c) => `${c}: ${Math.round(100 * v)}%`).join(", ")}.`;
      const hidden = pr.layers.slice(0, -1);
      fill(ctx.figure, h("div", { class: "forward" },
        h("div", { class: "fw-col" }, digitCanvas(pr.image, `the input: ${what}, 28×28 pixels`), h("span", { class: "fw-label", text: "784 pixels" })),
        h("div", { class: "fw-arrow", "aria-hidden": "true", text: "→" }),
        h("div", { class: "fw-col" }, ...hidden.map((l) => unitRow(l.name, l.values)), h("span", { class: "fw-label", text: "hidden sigmoid units" })),
        h("div", { class: "fw-arrow", "aria-hidden": "true", text: "→" }),
        h("div", { class: "fw-col fw-out" }, probBars(pr.probs, said), h("span", { class: "fw-label", text: "ten outputs (softmax)" }))));
      ctx.caption.textContent = said;
      status.textContent = trainingText();
      const mass = Array.from(pr.image).reduce((a, b) => a + b, 0);
      ctx.publish({ source: input.kind, testIndex: input.kind === "test" ? input.index : null, strokes: input.kind === "drawn" ? input.strokes : null, label: pr.label, probs: Array.from(pr.probs), predicted: best, step: pr.step, done: reader.done, accuracy: accuracy(), pixels: Array.from(pr.image), inkMass: mass }, true);
    };
    let lastRefresh = 0;
    ctx.onReader((what) => {
      if (what === "status" && reader.status === "ready" && !shown) void show();
      if (what === "progress") {
        status.textContent = trainingText();
        const now = performance.now();
        if (reader.done || now - lastRefresh > 500) { lastRefresh = now; void show(); }
      }
    });
    fill(ctx.text,
      p("This is the network of the rest of the story, the seed network: 784 pixels in, two hidden layers of five sigmoid units, ten outputs, one per digit. Each unit adds up its weighted inputs and squashes the sum into (0, 1); the ten outputs become probabilities (softmax)."),
      p("It trains in the background while you read: 20 passes over 1,000 MNIST digits, by Adam with a learning rate of 0.02, from seeded random weights. Watch its guesses change while it learns."),
      status);
    fill(ctx.act,
      h("span", { class: "muted", text: "Show it a digit from MNIST's test set:" }),
      button("Next test digit", () => { input = { kind: "test", index: input.kind === "test" ? (input.index + 1) % 500 : 0 }; message.textContent = ""; void show(); }, { class: "primary", "data-key": "next-digit" }),
      h("p", { class: "muted pad-title", text: "or draw one in the box (mouse, pen or finger):" }),
      h("div", { class: "pad-wrap" }, pad,
        h("div", { class: "pad-buttons" },
          button("Read my drawing", readDrawing, { "data-key": "read-drawing" }),
          button("Clear", () => { strokes = []; paint(); message.textContent = ""; }, { "data-key": "clear-drawing" }),
          button("Draw a 7 for me", () => { strokes = SEVEN.map((s) => s.map((pt) => ({ ...pt }))); paint(); readDrawing(); }, { "data-key": "sample-seven" }))),
      message);
    paint();
    fill(ctx.figure, h("p", { class: "fig-empty", text: "Waiting for the network…" }));
    void show();
    return () => { alive = false; };
  },
};

// ---------------------------------------------------------------------------------------------
// 3. The loss and one backward pass, multiplication by multiplication.

const scene3: Scene = {
  title: SCENE_TITLES[2],
  mount(ctx) {
    let view: WalkView | null = null;
    const run = ctx.worker((r, what) => {
      if (what === "status" && r.status === "ready" && !r.lastWalk) r.walk();
      if (what === "walk" && r.lastWalk && view) {
        view.show(r.lastWalk);
        const pts = walkPoints(r.lastWalk);
        const first = pts[0].value, last = pts[pts.length - 1].value;
        const dense1 = pts.find((x) => x.label.includes("f′(z) of dense1"));
        const total = last / first;
        fill(ctx.text,
          p(`The loss ℓ = −log(probability of the right digit) is ${fmt(r.lastWalk.loss)} on this batch of ${r.lastWalk.batch} digits: the untrained network guesses. Its gradient starts at the output, ∂ℓ/∂logits, and travels back to the input.`),
          p(`At every layer it is multiplied twice: elementwise by the activation's slope f′(z), which gives δ, the error at that layer, and then by the transposed weights Wᵀ. Step through it: by the time it reaches dense1 it is ${times((dense1?.value ?? NaN) / first)} than at the output, and ${times(total)} at the pixels.`));
        ctx.caption.textContent = `Sizes (mean per-example norm) along the backward pass: ${pts.map((x) => `${x.label} ${fmt(x.value)}`).join("; ")}.`;
        ctx.publish({ loss: r.lastWalk.loss, points: pts.map((x) => ({ label: x.label, value: x.value, factor: x.factor })), dense1Ratio: (dense1?.value ?? NaN) / first, total }, true);
      }
    });
    view = new WalkView(ctx.figure, () => run.walk(), () => (run.status === "ready" ? null : "Building the network…"));
    fill(ctx.text, p("Loading…"));
    fill(ctx.act, h("p", { class: "muted", text: "Use “next ▶” (or → while the figure has focus) to follow the error one multiplication at a time; “Walk the next batch” takes another 32 digits." }));
    run.configure(parseConfig(SEED), null);
    return () => {};
  },
};

// ---------------------------------------------------------------------------------------------
// 4. Why it shrinks.

const scene4: Scene = {
  title: SCENE_TITLES[3],
  mount(ctx) {
    let layer = 0;
    const chooser = h("div", { class: "segmented", role: "group", "aria-label": "layer whose factor is explained" });
    const render = (r: RunController) => {
      const rec = r.latest, curve = r.curves.find((c) => c.name === "sigmoid");
      if (!rec || rec.step !== 0 || !curve || !r.units.length) return;
      const ds = deltas(rec);
      const prof = deltaProfile(rec)!;
      const meanDf = Object.fromEntries(r.units.filter((u) => u.meanDf !== null).map((u) => [u.name, u.meanDf as number]));
      const marks = ds.filter((d) => meanDf[d.name] !== undefined && d.name !== ds[ds.length - 1].name).map((d) => ({ name: d.name, meanDf: meanDf[d.name] }));
      const hidden = ds.slice(0, -1);
      layer = Math.min(layer, hidden.length - 1);
      const pick = hidden[layer];
      fill(chooser, ...hidden.map((d, i) => button(d.name, () => { layer = i; render(r); }, { "aria-pressed": i === layer ? "true" : "false", "data-key": `factor-${d.name}` })));
      const chart = logChart(ds.map((d) => d.name), [{ name: "‖δ‖ at initialization", values: ds.map((d) => d.delta), color: OKABE[0] }], {
        label: `‖δ‖ per layer at initialization: ${ds.map((d) => `${d.name} ${fmt(d.delta)}`).join(", ")}`, yTitle: "‖δ‖ (log)", xTitle: "layer, input → output", width: 420,
      });
      const slope = slopeChart(curve.z, curve.df, curve.maxDf, marks, `The sigmoid's slope σ′(z), at most ${fmt(curve.maxDf)} at z = 0; mean slope per layer: ${marks.map((m) => `${m.name} ${fmt(m.meanDf, 2)}`).join(", ")}`);
      fill(ctx.figure, h("div", { class: "two-figs" }, slope, chart));
      fill(ctx.text,
        p(`The sigmoid σ(z) = 1/(1 + e^−z) squashes any sum into (0, 1). Its slope σ′(z) = σ(z)(1 − σ(z)) is never above ${fmt(curve.maxDf)}, and it is that only at z = 0 (left, sampled by the engine).`),
        p(`Back-propagation multiplies the error by this slope at every sigmoid layer, and by the weights. In the seed network at initialization, the error ‖δ‖ is ${ds.map((d) => `${fmt(d.delta)} at ${d.name}`).join(", ")} (right): each layer passes back about ${fmt(prof.factor, 2)} of what it receives, so dense1 gets ${times(prof.ratio)} than the output layer.`),
        p(`${pick.name}: its units' mean slope is ${fmt(meanDf[pick.name], 2)}, and ‖δ‖ goes from ${fmt(ds[layer + 1].delta)} (${ds[layer + 1].name}) to ${fmt(pick.delta)}: ×${fmt(pick.gain, 2)}, the slope times what the weights Wᵀ pass back.`));
      ctx.caption.textContent = `At initialization: ${ds.map((d) => `‖δ‖ ${d.name} ${fmt(d.delta)}${d.gain !== null ? ` (×${fmt(d.gain, 2)} of the layer above)` : ""}`).join("; ")}; max σ′ ${fmt(curve.maxDf)}.`;
      ctx.publish({ maxDf: curve.maxDf, layers: ds.map((d) => ({ ...d, meanDf: meanDf[d.name] ?? null })), factor: prof.factor, ratio: prof.ratio, step: rec.step }, true);
    };
    const run = ctx.worker((r) => render(r));
    fill(ctx.text, p("Loading…"));
    fill(ctx.act, h("span", { class: "muted", text: "Pick a layer to see its factor: " }), chooser);
    run.configure(parseConfig(SEED), null);
    return () => {};
  },
};

// ---------------------------------------------------------------------------------------------
// 5. Train the seed network live.

const scene5: Scene = {
  title: SCENE_TITLES[4],
  mount(ctx) {
    const play = button("▶ Train", () => { if (run.playing) run.pause(); else run.play(); }, { class: "primary big", "data-key": "train-play" });
    const reset = button("Start again", () => run.reset(), { "data-key": "train-reset" });
    const status = h("span", { class: "live", "aria-live": "polite" });
    let last = 0;
    const render = (r: RunController) => {
      play.textContent = r.playing ? "❚❚ Pause" : r.done ? "✓ Trained" : "▶ Train";
      play.disabled = r.done || r.status !== "ready";
      const recs = r.store.records;
      const init = recs[0] ?? r.latest;
      const now = r.latest;
      if (!init || !now) return;
      const now2 = performance.now();
      if (r.playing && now2 - last < 150) return;
      last = now2;
      const d0 = deltas(init), dn = deltas(now);
      const trainedNow = recs.length ? recs[recs.length - 1] : null;
      const dt = trainedNow ? deltas(trainedNow) : null;
      const series = [
        { name: "‖δ‖ step 0", values: d0.map((d) => d.delta), color: OKABE[0], dashed: true },
        { name: `‖δ‖ step ${now.step}`, values: dn.map((d) => d.delta), color: OKABE[0] },
      ];
      if (recs.length) {
        series.push({ name: "‖ΔW‖/‖W‖ step 0", values: d0.map((d) => d.update ?? NaN), color: OKABE[1], dashed: true });
        if (dt && trainedNow!.step > 0) series.push({ name: `‖ΔW‖/‖W‖ step ${trainedNow!.step}`, values: dt.map((d) => d.update ?? NaN), color: OKABE[1] });
      }
      const names = d0.map((d) => d.name);
      const said = `Step 0: ‖δ‖ ${d0.map((d) => `${d.name} ${fmt(d.delta)}`).join(", ")}${recs.length ? `; update ratio ${d0.map((d) => `${d.name} ${fmt(d.update)}`).join(", ")}` : ""}. Step ${now.step}: ‖δ‖ ${dn.map((d) => `${d.name} ${fmt(d.delta)}`).join(", ")}${dt && trainedNow!.step > 0 ? `; update ratio at step ${trainedNow!.step} ${dt.map((d) => `${d.name} ${fmt(d.update)}`).join(", ")}` : ""}.`;
      fill(ctx.figure, logChart(names, series, { label: said, yTitle: "size (log)", xTitle: "layer, input → output" }));
      ctx.caption.textContent = said;
      const first = d0[0], out = d0[d0.length - 1];
      const firstNow = dn[0], outNow = dn[dn.length - 1];
      const slowestNow = dt && trainedNow!.step > 0 ? dt.reduce((a, b) => ((a.update ?? Infinity) <= (b.update ?? Infinity) ? a : b)) : null;
      fill(ctx.text,
        p("Now the seed network trains, with its own plain gradient descent (learning rate 0.5, batches of 32 digits, 10 passes over the 1,000). The figure is its depth profile: for each layer, input on the left, the error δ reaching it (blue) and how far one step moves its weights, ‖ΔW‖/‖W‖ (orange); dashed at step 0, solid now."),
        p(recs.length
          ? `At step 0, dense1 receives ${times(first.delta / out.delta)} error than ${out.name}, and one step moves its weights by ${fmt(first.update)} of their size against ${out.name}'s ${fmt(out.update)}: the first layer learns slowest. At step ${now.step}, dense1's error is still ${times(firstNow.delta / outNow.delta)} than ${out.name}'s${slowestNow ? `, and the slowest-moving weights are ${slowestNow.name}'s` : ""}.`
          : `At step 0, dense1 receives ${times(first.delta / out.delta)} error than ${out.name}. Press Train to watch it learn.`));
      status.textContent = r.done ? `Done: ${r.step} steps.` : r.playing ? `Training: step ${r.step} of ${r.totalSteps}.` : r.step ? `Paused at step ${r.step}.` : "";
      ctx.publish({
        step0: { deltas: d0.map((d) => d.delta), updates: recs.length ? d0.map((d) => d.update) : null, names },
        now: { step: now.step, deltas: dn.map((d) => d.delta) },
        trained: dt ? { step: trainedNow!.step, updates: dt.map((d) => d.update) } : null,
        done: r.done, steps: r.totalSteps,
      }, init.step === 0);
    };
    const run = ctx.worker((r) => render(r));
    run.setSpeed(80);
    fill(ctx.text, p("Loading…"));
    fill(ctx.act, play, reset, status);
    run.configure(parseConfig(SEED), null);
    return () => {};
  },
};

// ---------------------------------------------------------------------------------------------
// 6. Make it deeper.

interface ShortResult { records: StepRecord[]; finalLoss: number; accuracy: number | null }
async function short(run: RunController, raw: Parameters<typeof parseConfig>[0], steps: number): Promise<ShortResult> {
  const r = await run.shortRun(parseConfig(raw), steps);
  const last = r.records[r.records.length - 1];
  return { records: r.records, finalLoss: last?.loss ?? NaN, accuracy: r.epochs.length ? r.epochs[r.epochs.length - 1].testAccuracy : null };
}

const scene6: Scene = {
  title: SCENE_TITLES[5],
  mount(ctx) {
    const runner = ctx.worker();
    const cache = new Map<number, ShortResult>();
    const slider = h("input", { type: "range", min: DEPTHS.min, max: DEPTHS.max, value: DEPTHS.start, step: 1, id: "depth", "data-key": "depth", "aria-label": "hidden sigmoid layers" });
    const out = h("output", { for: "depth", class: "big-number", text: String(DEPTHS.start) });
    let alive = true, timer: ReturnType<typeof setTimeout> | null = null, want: number = DEPTHS.start;
    const render = (depth: number, res: ShortResult) => {
      const ds = deltas(res.records[0]);
      const prof = deltaProfile(res.records[0])!;
      const loss0 = res.records[0].loss;
      const stalls = res.finalLoss > 0.9 * loss0;
      const said = `${depth} hidden sigmoid layers at initialization: ‖δ‖ ${ds.map((d) => `${d.name} ${fmt(d.delta)}`).join(", ")}; first to last ${fmt(prof.ratio)}. After ${SHORT_STEPS} steps the loss is ${fmt(res.finalLoss)} (from ${fmt(loss0)}), test accuracy ${res.accuracy === null ? "–" : `${Math.round(100 * res.accuracy)}%`}.`;
      fill(ctx.figure, logChart(ds.map((d) => d.name), [{ name: `‖δ‖ at initialization, ${depth} hidden layers`, values: ds.map((d) => d.delta), color: OKABE[0] }], { label: said, yTitle: "‖δ‖ (log)", xTitle: "layer, input → output" }));
      ctx.caption.textContent = said;
      fill(ctx.text,
        p("Add layers and the error has more sigmoid slopes to pass through on its way back. Each one multiplies it by a fraction, so it falls exponentially with depth, and the first layers, which turn pixels into features, hardly move."),
        p(`With ${depth} hidden layer${depth > 1 ? "s" : ""} of five sigmoid units, dense1 receives ${fmt(prof.ratio)} of the error the output layer gets (${times(prof.ratio)}). After ${SHORT_STEPS} training steps the loss is ${fmt(res.finalLoss)}, from ${fmt(loss0)} at the start (guessing gives ln 10 ≈ 2.30)${stalls ? ": training has stalled" : ""}; it gets ${res.accuracy === null ? "–" : `${Math.round(100 * res.accuracy)}%`} of the test digits right.`));
      ctx.publish({ depth, deltas: ds.map((d) => d.delta), names: ds.map((d) => d.name), ratio: prof.ratio, loss0, finalLoss: res.finalLoss, accuracy: res.accuracy, stalls }, true);
    };
    const go = async (depth: number) => {
      out.textContent = String(depth);
      let res = cache.get(depth);
      if (!res) {
        ctx.publish({ depth }, false);
        ctx.caption.textContent = `Training ${depth} hidden layers…`;
        res = await short(runner, deepConfig(depth), SHORT_STEPS);
        cache.set(depth, res);
      }
      if (alive && depth === want) render(depth, res);
    };
    slider.addEventListener("input", () => {
      want = Number(slider.value);
      out.textContent = String(want);
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void go(want), 250);
    });
    fill(ctx.text, p("Training…"));
    fill(ctx.act, h("label", { class: "slider", for: "depth" }, h("span", { text: "hidden sigmoid layers" }), slider, out), h("p", { class: "muted", text: `Each depth is trained for ${SHORT_STEPS} steps from the same seed.` }));
    void go(want);
    return () => { alive = false; if (timer) clearTimeout(timer); };
  },
};

// ---------------------------------------------------------------------------------------------
// 7. Remedies side by side.

const scene7: Scene = {
  title: SCENE_TITLES[6],
  mount(ctx) {
    const runner = ctx.worker();
    const nets = remedyConfigs();
    const results = new Map<string, ShortResult>();
    const shownIds = new Set(nets.map((n) => n.id));
    let alive = true;
    const render = () => {
      const have = nets.filter((n) => results.has(n.id));
      if (!have.length) return;
      const rows = have.map((n) => {
        const res = results.get(n.id)!;
        const prof = deltaProfile(res.records[0])!;
        const nan = res.records.some((r) => !Number.isFinite(r.loss)) || !Number.isFinite(res.finalLoss);
        return { id: n.id, label: n.label, deltas: deltas(res.records[0]).map((d) => d.delta), ratio: prof.ratio, loss0: res.records[0].loss, finalLoss: res.finalLoss, accuracy: res.accuracy, nan };
      });
      const cats = rows[0].deltas.map((_, i, a) => (i === a.length - 1 ? "output" : `layer ${i + 1}`));
      const visible = rows.filter((r) => shownIds.has(r.id));
      const said = rows.map((r) => `${r.label}: first to last ‖δ‖ ${fmt(r.ratio)}, loss after ${SHORT_STEPS} steps ${fmt(r.finalLoss)}`).join("; ");
      fill(ctx.figure, logChart(cats, visible.map((r) => ({ name: r.label, values: r.deltas, color: OKABE[nets.findIndex((n) => n.id === r.id)] })), { label: `‖δ‖ per layer at initialization. ${said}.`, yTitle: "‖δ‖ (log)", xTitle: "layer, input → output" }));
      ctx.caption.textContent = `${said}.`;
      const plain = rows.find((r) => r.id === "plain");
      const fixes = rows.filter((r) => r.id !== "plain");
      fill(ctx.text,
        p(`The same ${REMEDY_DEPTH}-layer sigmoid network, from the same seed, with each of three remedies. ReLU's slope is exactly 1 where a unit is active, and He's initialization keeps the signal's size; batch normalization keeps every sum z near 0, where the sigmoid is steepest; residual connections add an identity path, y = x + F(x), that the error can take unshrunk.`),
        p(plain ? `Plain, dense1 gets ${fmt(plain.ratio)} of the output layer's error and the loss is ${fmt(plain.finalLoss)} after ${SHORT_STEPS} steps. ${fixes.map((r) => `${r.label}: ${fmt(r.ratio)}, loss ${fmt(r.finalLoss)}`).join("; ")}${fixes.length === 3 ? ". Each profile is flat by comparison, and each network learns." : "…"}` : "Training…"));
      ctx.publish({ runs: rows }, rows.length === nets.length);
    };
    const toggles = nets.map((n, i) => {
      const cb = h("input", { type: "checkbox", checked: true, id: `show-${n.id}`, "data-key": `show-${n.id}` });
      cb.addEventListener("change", () => { if (cb.checked) shownIds.add(n.id); else shownIds.delete(n.id); render(); });
      return h("label", { class: "check", for: `show-${n.id}`, style: `border-color: ${OKABE[i]}` }, cb, ` ${n.label}`);
    });
    fill(ctx.text, p("Training the four networks…"));
    fill(ctx.act, h("span", { class: "muted", text: "Show: " }), ...toggles);
    void (async () => {
      for (const n of nets) {
        const res = await short(runner, n.raw, SHORT_STEPS);
        if (!alive) return;
        results.set(n.id, res);
        render();
      }
    })();
    return () => { alive = false; };
  },
};

// ---------------------------------------------------------------------------------------------
// 8. CNNs and RNNs.

const scene8: Scene = {
  title: SCENE_TITLES[7],
  mount(ctx) {
    const runner = ctx.worker();
    const nets = sequenceConfigs();
    const recs = new Map<string, StepRecord>();
    let relative = false;
    let alive = true;
    const render = () => {
      if (recs.size < nets.length) return;
      const cnn = recs.get("cnn")!;
      const cnnDs = deltas(cnn);
      const cnnProf = deltaProfile(cnn)!;
      const seqs = nets.filter((n) => n.id !== "cnn").map((n) => {
        const l = recs.get(n.id)!.layers.find((x) => x.hGradNorm)!;
        const hs = l.hGradNorm!;
        return { id: n.id, label: n.label, h: hs, ratio: hs[0] / hs[hs.length - 1] };
      });
      const T = seqs[0].h.length;
      const t = Array.from({ length: T }, (_, i) => String(i + 1));
      const timeSaid = seqs.map((s) => `${s.label}: ‖∂ℓ/∂h_1‖/‖∂ℓ/∂h_${T}‖ = ${fmt(s.ratio)}`).join("; ");
      const cnnSaid = `CNN: ‖δ‖ ${cnnDs.map((d) => `${d.name} ${fmt(d.delta)}`).join(", ")}`;
      fill(ctx.figure, h("div", { class: "two-figs wide-first" },
        logChart(t, seqs.map((s, k) => ({ name: s.label, values: relative ? s.h.map((v) => v / s.h[T - 1]) : s.h, color: OKABE[k + 1] })), { label: `‖∂ℓ/∂h_t‖ over the ${T} time steps at initialization. ${timeSaid}.`, yTitle: relative ? "‖∂ℓ/∂h_t‖ / ‖∂ℓ/∂h_28‖" : "‖∂ℓ/∂h_t‖ (log)", xTitle: "time step t (image row)", every: 3 }),
        logChart(cnnDs.map((d) => d.name), [{ name: "CNN ‖δ‖", values: cnnDs.map((d) => d.delta), color: OKABE[0] }], { label: `${cnnSaid}.`, yTitle: "‖δ‖ (log)", xTitle: "CNN layer", width: 360 })));
      ctx.caption.textContent = `At initialization. ${timeSaid}. ${cnnSaid}.`;
      const rnn = seqs.find((s) => s.id === "rnn")!, lstm = seqs.find((s) => s.id === "lstm")!, gru = seqs.find((s) => s.id === "gru")!;
      fill(ctx.text,
        p(`A convolutional network is deep in layers only: this small sigmoid CNN has ${cnnDs.length} layers with weights, and its first gets ${fmt(cnnProf.ratio)} of the error its last gets (${times(cnnProf.ratio)}), the same story as the seed network.`),
        p(`A recurrent network reads the digit one row at a time, 28 steps, with the same weights at every step, so the error is multiplied once per step on its way back through time. At initialization the plain tanh RNN's ‖∂ℓ/∂h_1‖ is ${fmt(rnn.ratio)} of ‖∂ℓ/∂h_${T}‖: the first rows hardly matter to its learning. The LSTM, which carries a cell state forward through a learned forget gate, keeps ${fmt(lstm.ratio)}, ${times(lstm.ratio / rnn.ratio).replace("larger", "more")}; the GRU keeps ${fmt(gru.ratio)}.`));
      ctx.publish({ cnn: { names: cnnDs.map((d) => d.name), deltas: cnnDs.map((d) => d.delta), ratio: cnnProf.ratio }, seqs: seqs.map((s) => ({ id: s.id, ratio: s.ratio, h: s.h })) }, true);
    };
    const rel = h("input", { type: "checkbox", id: "relative", "data-key": "relative" });
    rel.addEventListener("change", () => { relative = rel.checked; render(); });
    fill(ctx.text, p("Building a CNN, an RNN, an LSTM and a GRU…"));
    fill(ctx.act, h("label", { class: "check", for: "relative" }, rel, " divide each line by its value at the last step"));
    void (async () => {
      for (const n of nets) {
        const res = await short(runner, n.raw, 1);
        if (!alive) return;
        recs.set(n.id, res.records[0]);
      }
      render();
    })();
    return () => { alive = false; };
  },
};

/** Scenes 2 to 8, in order (scene 1 is scene-1.ts, loaded first). */
export const LATER_SCENES: Scene[] = [scene2, scene3, scene4, scene5, scene6, scene7, scene8];

/** A training worker on the page's side (lab-run.ts), for main.ts, which loads this module lazily. */
export function newRun(dataUrl: string, onChange: (run: RunController, what: string) => void): RunController {
  return new RunController("a", dataUrl, onChange);
}

/** Scene 2's reader: the seed network (configs.ts READER), built and set training at full speed. */
export function startReader(dataUrl: string, onChange: (what: string) => void): RunController {
  const r = new RunController("a", dataUrl, (_r, what) => onChange(what));
  r.setSpeed("max");
  r.configure(parseConfig(READER), null);
  r.play();
  return r;
}
