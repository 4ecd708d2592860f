/**
 * The lab's page: it holds the state (state.ts, mirrored in the URL hash), validates each
 * configuration with the CLI's own schema, hands valid ones to a training worker per side
 * (lab-run.ts), and redraws the headline (the depth profile), the diagram, the charts and the
 * panels at most ~10 times a second. Only types come from src/core; the engine runs in the
 * workers.
 */
import { parseConfig, type Config } from "../experiment/config.ts";
import type { StepRecord } from "../instrument/recorder.ts";
import { ChartBoard, headlineCharts, type BoardRun } from "./charts-view.ts";
import { diagramRange, drawDiagram } from "./diagram.ts";
import { download, fill, fmt, h, s } from "./dom.ts";
import { renderEditor } from "./editor.ts";
import { cliFor, hasTimeData, metricsJsonl, metricsToCsv, parseMetricsFile, safeName, timeToCsv, MAX_METRICS_BYTES } from "./io.ts";
import { RunController } from "./lab-run.ts";
import { threadsText } from "./thread-choice.ts";
import { LearnPanel } from "./learn.ts";
import { loadPresets } from "./presets.ts";
import type { ModelInfo, SpeedSetting } from "./protocol.ts";
import { remedy, remedyFor, REMEDIES } from "./remedies.ts";
import {
  decodeState, defaultState, encodeState, field, fieldFromText, getPath, labLimits, rawFromConfig, setPath, sideConfig, SPEEDS, unrepresented,
  type LabState, type RawConfig, type Speed,
} from "./state.ts";
import { WalkView } from "./walk-view.ts";
import { isFirstVisit, markVisited } from "./first-visit.ts";

// A first visit to the bare address lands on the story (first-visit.ts). This is the first
// statement, and the await never resolves, so nothing of the lab starts on the way out.
if (isFirstVisit(location)) {
  markVisited();
  location.replace(new URL("story.html", document.baseURI).href);
  await new Promise<never>(() => {});
}
markVisited();

type Side = "a" | "b";
const $ = (id: string) => document.getElementById(id)!;
const dataUrl = new URL("data/", document.baseURI).href;
const presets = loadPresets();
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

// ---------------------------------------------------------------------------------------------
// State.

let state: LabState;
let problems: string[];
({ state, problems } = decodeState(location.hash));
let editing: Side = state.b ? "b" : "a";
let tab: "charts" | "walk" | "learn" = "charts";
/** a metrics file being viewed instead of the live runs */
let viewer: { name: string; records: StepRecord[] } | null = null;

interface Parsed { config: Config | null; error: string | null }
const parsed: Record<Side, Parsed> = { a: { config: null, error: null }, b: { config: null, error: null } };

function validate(raw: RawConfig): Parsed {
  try {
    const config = parseConfig(raw);
    const limit = labLimits(config);
    return limit ? { config: null, error: limit } : { config, error: null };
  } catch (e) {
    return { config: null, error: e instanceof Error ? e.message : String(e) };
  }
}

const runs: { a: RunController; b: RunController | null } = { a: new RunController("a", dataUrl, onRunChange), b: null };
const activeRuns = (): RunController[] => (runs.b ? [runs.a, runs.b] : [runs.a]);
const runOf = (side: Side): RunController => (side === "b" && runs.b ? runs.b : runs.a);
const speedSetting = (s: Speed): SpeedSetting => (s === "max" ? "max" : Number(s));

/** Apply the state: URL, validation, workers, controls. */
function applyState(): void {
  const hash = encodeState(state);
  if (location.hash.slice(1) !== hash) history.replaceState(null, "", `#${hash}`);
  if (state.b && !runs.b) runs.b = new RunController("b", dataUrl, onRunChange);
  if (!state.b && runs.b) { runs.b.dispose(); runs.b = null; }
  if (!state.b) editing = "a";
  for (const side of ["a", "b"] as const) {
    if (side === "b" && !state.b) continue;
    parsed[side] = validate(sideConfig(state, side));
    const run = runOf(side);
    run.setSpeed(speedSetting(state.ui.speed));
    // A/B trains both runs at once: each counts on its share of the cores for a helper thread.
    run.setCores(Math.max(1, Math.floor((navigator.hardwareConcurrency || 1) / activeRuns().length)));
    run.configure(parsed[side].config, parsed[side].error);
  }
  renderControls();
  renderTop();
  requestRender();
}

function update(f: () => void): void {
  f();
  applyState();
}

function editRaw(): RawConfig {
  return editing === "b" && state.b ? state.b : state.a;
}

// ---------------------------------------------------------------------------------------------
// Runs.

let announced = "";
function onRunChange(run: RunController, what: string): void {
  if (what === "walk" && run.side === editing && run.lastWalk) { walkView.show(run.lastWalk); }
  if (what === "status") { renderControls(); announce(); }
  if (what === "progress") { renderControls(); if (run.done) announce(); }
  requestRender();
}

/** Tell screen readers what changed (run state only, never every step). */
function announce(): void {
  const text = activeRuns().map((r) => `${r.side.toUpperCase()}: ${r.status === "error" ? `cannot train: ${r.error}` : r.done ? `finished at step ${r.step}` : r.playing ? "training" : r.status === "ready" ? "paused" : r.status}`).join("; ");
  if (text !== announced) { announced = text; $("live").textContent = text; }
}

function playPause(): void {
  if (viewer) return;
  const any = activeRuns().some((r) => r.playing);
  for (const r of activeRuns()) { if (any) r.pause(); else r.play(); }
  renderControls();
}

function stepAll(): void {
  if (viewer) return;
  for (const r of activeRuns()) { if (r.playing) r.pause(); r.stepOnce(1); }
}

function resetAll(): void {
  if (viewer) return;
  for (const r of activeRuns()) r.reset();
  walkView.walk = null;
  walkView.render();
  renderControls();
}

function requestWalk(): void {
  for (const r of activeRuns()) if (r.playing) r.pause();
  runOf(editing).walk();
}

// ---------------------------------------------------------------------------------------------
// Controls (left column), generated from the state table.

const GROUPS: { title: string; keys: string[] }[] = [
  { title: "Training", keys: ["opt", "lr", "batch", "epochs", "seed"] },
  { title: "Optimizer details", keys: ["momentum", "nesterov", "betas", "alpha", "eps", "wd", "clipNorm", "clipValue"] },
  { title: "Data and loss", keys: ["view", "train", "test", "loss"] },
  { title: "Recording", keys: ["every", "hist", "evalBatch", "onNonFinite"] },
];
/** What each setting does, shown on hover and focus (title) and read by screen readers. */
const HELP: Record<string, string> = {
  opt: "the optimizer: plain SGD, Adam or RMSprop",
  lr: "learning rate: how far each update moves the weights along −∂L/∂W",
  batch: "training examples per step; the loss is their mean",
  epochs: "passes over the training examples",
  seed: "one number for the initial weights and the order of the examples (A and B share it)",
  momentum: "fraction of the previous update added to this one",
  nesterov: "Nesterov's momentum: the gradient is taken a step ahead",
  betas: "Adam's decay rates for the mean and the mean square of the gradient",
  alpha: "RMSprop's decay rate for the mean square of the gradient",
  eps: "added to the denominator so it is never 0",
  wd: "weight decay: shrinks every weight a little at each step",
  clipNorm: "if the whole gradient's norm exceeds this, scale it down to it (empty: off)",
  clipValue: "clip every gradient entry to ± this (empty: off)",
  view: "how an image is fed: flat 784 values, a 1×28×28 image, 28 rows (an RNN's 28 steps) or 784 pixels one at a time",
  train: "training examples used (of MNIST's 60,000)",
  test: "test examples for the accuracy after each epoch (of 10,000)",
  loss: "cross-entropy on softmax, or mean squared error",
  every: "record the statistics every this many steps (the lab also records the first steps densely)",
  hist: "record histograms of gradients and activations",
  evalBatch: "examples per batch when measuring test accuracy",
  onNonFinite: "what happens when a NaN or infinity appears: stop, skip that step, or continue",
};

/** Optimizer fields that apply only to some optimizers. */
const OPT_ONLY: Record<string, string[]> = { momentum: ["sgd", "rmsprop"], nesterov: ["sgd"], betas: ["adam"], alpha: ["rmsprop"], eps: ["adam", "rmsprop"] };
const DEFAULTS = defaultState().a;
const fieldErrors = new Map<string, string>();

function presetOf(raw: RawConfig): string {
  const norm = (r: RawConfig) => { const c = clone(r); setPath(c, ["train", "seed"], undefined); return JSON.stringify(validate({ ...c, data: { ...(c.data as object), dataset: "mnist" } }).config); };
  const mine = norm(raw);
  return presets.find((p) => norm(rawFromConfig(p.config)) === mine)?.id ?? "";
}

function control(key: string): HTMLElement | null {
  const f = field(key);
  const raw = f.scope === "shared" ? state.a : editRaw();
  const opt = getPath(editRaw(), ["optimizer", "type"]);
  if (OPT_ONLY[key] && !OPT_ONLY[key].includes(String(opt))) return null;
  const v = getPath(raw, f.path!);
  const optional = getPath(DEFAULTS, f.path!) === undefined;
  const id = `f-${key}`;
  const err = fieldErrors.get(`${editing}:${key}`);
  const apply = (text: string) => {
    const errKey = `${f.scope === "shared" ? "a" : editing}:${key}`;
    if (text.trim() === "" && optional) { fieldErrors.delete(errKey); update(() => setPath(raw, f.path!, undefined)); return; }
    const d = fieldFromText(f, text);
    if ("problem" in d) { fieldErrors.set(errKey, d.problem); renderControls(); return; }
    fieldErrors.delete(errKey);
    update(() => {
      setPath(raw, f.path!, d.value);
      if (key === "opt") for (const [k, types] of Object.entries(OPT_ONLY)) if (!types.includes(String(d.value))) setPath(raw, field(k).path!, undefined);
    });
  };
  let input: HTMLElement;
  if (f.kind === "enum") {
    const sel = h("select", { id, "data-key": id, title: HELP[key] }, ...f.values.map((o) => h("option", { value: o, selected: o === v, text: o })));
    sel.addEventListener("change", () => apply(sel.value));
    input = sel;
  } else if (f.kind === "bool") {
    const on = v === undefined ? key === "hist" : v === true;
    const cb = h("input", { type: "checkbox", id, "data-key": id, checked: on, title: HELP[key] });
    cb.addEventListener("change", () => apply(cb.checked ? "1" : "0"));
    input = cb;
  } else {
    const text = v === undefined ? "" : Array.isArray(v) ? v.join(",") : String(v);
    const isNum = f.kind === "int" || f.kind === "num";
    const inp = h("input", {
      id, "data-key": id, value: text, type: isNum ? "number" : "text", step: f.kind === "int" ? 1 : "any", class: isNum ? "num" : "", title: HELP[key],
      min: isNum ? f.min : undefined, max: isNum ? f.max : undefined, placeholder: optional ? "off" : "", inputmode: isNum ? "decimal" : undefined,
      "aria-invalid": err ? "true" : undefined, "aria-describedby": err ? `${id}-err` : undefined,
    });
    inp.addEventListener("change", () => apply(inp.value));
    input = inp;
  }
  return h("div", { class: `field ${f.kind === "bool" ? "inline" : ""}` },
    h("label", { for: id, title: HELP[key], text: f.label + (f.scope === "shared" && state.b ? " (A and B)" : "") }), input,
    err ? h("span", { class: "error", id: `${id}-err`, text: err }) : null);
}

let controlsKey = "";
/** Rebuild the left column when anything it shows changed (else only the status lines). */
function renderControls(): void {
  const el = $("settings-body");
  const raw = editRaw();
  const run = runOf(editing);
  const p = parsed[editing];
  const playing = activeRuns().some((r) => r.playing);
  const allDone = activeRuns().every((r) => r.done);
  const canTrain = !viewer && activeRuns().some((r) => r.canTrain);
  const key = JSON.stringify([state, editing, [...fieldErrors], run.status, run.error, run.model?.params, playing, allDone, canTrain, !!viewer, presets.length]);
  if (key === controlsKey && el.childElementCount) return; // the status lines are redrawn at ≤ 10 Hz
  controlsKey = key;
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
  // The run box.
  const speed = h("select", { id: "speed", "data-key": "speed", "aria-label": "training speed", title: "steps per second: slow enough to follow at 10, or as fast as the engine goes" },
    ...SPEEDS.map((sp) => h("option", { value: sp, selected: sp === state.ui.speed, text: sp === "max" ? "as fast as possible" : `${sp} steps/s` })));
  speed.addEventListener("change", () => update(() => { state.ui.speed = speed.value as Speed; }));
  const runBox = h("section", { class: "box run-box", "aria-label": "training" },
    h("div", { class: "buttons" },
      h("button", { type: "button", class: "primary big", id: "play", "data-key": "play", disabled: !canTrain && !playing, "aria-keyshortcuts": "Space", title: "train, or pause (Space)", onclick: playPause }, playing ? "❚❚ Pause" : allDone ? "✓ Done" : "▶ Play"),
      h("button", { type: "button", id: "step", "data-key": "step", disabled: !canTrain, "aria-keyshortcuts": "S", title: "one training step (S)", onclick: stepAll }, "Step"),
      h("button", { type: "button", id: "reset", "data-key": "reset", disabled: !!viewer, "aria-keyshortcuts": "R", title: "a new network from the seed (R)", onclick: resetAll }, "Reset")),
    h("label", { class: "ctl" }, h("span", { text: "speed" }), speed),
    h("div", { id: "status", class: "status" }));
  // Which side is edited.
  const sideTabs = state.b ? h("div", { class: "segmented", role: "group", "aria-label": "configuration being edited" },
    ...(["a", "b"] as const).map((sd) => h("button", { type: "button", "data-key": `edit-${sd}`, "aria-pressed": editing === sd ? "true" : "false", class: `side-${sd}`, onclick: () => { editing = sd; renderControls(); requestRender(); walkView.walk = null; walkView.render(); } }, `Edit ${sd.toUpperCase()}`))) : null;
  // Presets.
  const current = presetOf(raw);
  const groups = [...new Set(presets.map((x) => x.group))];
  const presetSel = h("select", { id: "preset", "data-key": "preset", title: "a network and its settings from the CLI's experiments" },
    h("option", { value: "", selected: current === "", text: "(custom)" }),
    ...groups.map((g) => {
      const og = document.createElement("optgroup");
      og.label = g;
      og.append(...presets.filter((x) => x.group === g).map((x) => h("option", { value: x.id, selected: x.id === current, text: x.label })));
      return og;
    }));
  presetSel.addEventListener("change", () => {
    const pr = presets.find((x) => x.id === presetSel.value);
    if (!pr) return;
    const lost = unrepresented(pr.config);
    if (lost.length) showBanner([`Preset ${pr.id}: the lab cannot hold ${lost.join(", ")}; they are left at their defaults.`]);
    update(() => { const r = rawFromConfig(pr.config); if (editing === "b" && state.b) state.b = r; else state.a = r; });
  });
  const desc = presets.find((x) => x.id === current)?.description;
  const nameInp = h("input", { id: "f-name", "data-key": "f-name", value: String(getPath(raw, ["name"]) ?? ""), maxlength: 200, title: "the run's name (the exported files are named after it)" });
  nameInp.addEventListener("change", () => update(() => setPath(raw, ["name"], nameInp.value)));
  const groupsEl = GROUPS.map((g) => {
    const fields = g.keys.map(control).filter((x): x is HTMLElement => x !== null);
    return fields.length ? h("fieldset", { class: "box" }, h("legend", { text: g.title }), ...fields) : null;
  });
  const editor = h("div", { class: "editor", id: "editor" });
  renderEditor(editor, {
    layers: getPath(raw, ["model", "layers"]),
    model: p.config && run.status !== "error" ? run.model : null,
    error: p.error ?? (run.status === "error" ? run.error : null),
    checking: run.status === "checking",
    onChange: (layers) => update(() => setPath(raw, ["model", "layers"], layers)),
  });
  fill($("runbox"), runBox, sideTabs);
  fill(el,
    h("section", { class: "box" },
      h("div", { class: "field" }, h("label", { for: "preset", text: "preset" }), presetSel),
      desc ? h("p", { class: "muted small", text: desc }) : null,
      h("div", { class: "field" }, h("label", { for: "f-name", text: "name" }), nameInp)),
    h("section", { class: "box", "aria-label": "architecture" }, h("h2", { text: `Architecture${state.b ? ` (${editing.toUpperCase()})` : ""}` }), editor),
    ...groupsEl,
    h("p", { class: "muted small keys", text: "Keys: Space play/pause · S step · R reset · W walk backprop · C charts · L learn" }));
  if (focused) $("controls").querySelector<HTMLElement>(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  renderStatus();
}

function renderStatus(): void {
  const el = document.getElementById("status");
  if (!el) return;
  if (viewer) { fill(el, h("p", { text: `Viewing ${viewer.name}: ${viewer.records.length} records.` })); return; }
  fill(el, ...activeRuns().map((r) => {
    const last = r.store.last;
    const test = r.epochs[r.epochs.length - 1];
    const label = runs.b ? `${r.side.toUpperCase()}: ` : "";
    const line = r.status === "error" ? `cannot train — see the message below`
      : r.status === "checking" ? "checking the network…"
      : r.status === "loading" ? `loading ${r.loading ?? "MNIST"}…`
      : `step ${r.step.toLocaleString("en")} / ${r.totalSteps.toLocaleString("en")} · epoch ${Math.min(r.step / Math.max(1, r.stepsPerEpoch), 1e9).toFixed(2)}`;
    const metrics = last ? `loss ${fmt(last.loss)} · batch acc ${fmt(100 * last.accuracy, 3)}%${test ? ` · test acc ${fmt(100 * test.testAccuracy, 3)}% (epoch ${test.epoch})` : ""}` : "";
    const stopped = r.stopped && r.stopped.cause !== "interrupted" ? `${runs.b ? r.side.toUpperCase() : "the run"} diverged at step ${r.stopped.step}: ${r.stopped.reason}` : r.stopped ? `stopped: ${r.stopped.reason}` : null;
    const rate = r.playing && r.samplesPerSecond ? ` · ${fmt(r.samplesPerSecond / 1000, 3)}k samples/s while training` : "";
    const engine = r.status === "ready" && r.threads ? `engine: ${threadsText(r.threads)}${rate}` : "";
    const end = r.done ? (stopped ?? "finished") : "";
    return h("p", { class: `status-line side-${r.side}`, "data-status": r.side }, h("b", { text: label }), line,
      ...[metrics, engine, end].flatMap((text) => (text ? [h("br"), h("span", { text, "data-engine": text === engine ? r.side : null })] : [])));
  }));
}

// ---------------------------------------------------------------------------------------------
// Top bar: A/B, show as CLI, export, open, copy link.

function renderTop(): void {
  const fileInput = h("input", { type: "file", accept: ".jsonl,.json,.csv,.txt", hidden: true, id: "open-file" });
  fileInput.addEventListener("change", () => { const f = fileInput.files?.[0]; if (f) void openFile(f); fileInput.value = ""; });
  const exportButtons = viewer ? [] : activeRuns().map((r) => h("span", { class: "export" },
    h("button", { type: "button", "data-key": `export-jsonl-${r.side}`, onclick: () => void exportRun(r, "jsonl") }, `${runs.b ? `${r.side.toUpperCase()} ` : ""}metrics.jsonl`),
    h("button", { type: "button", "data-key": `export-csv-${r.side}`, onclick: () => void exportRun(r, "csv") }, "CSV")));
  fill($("top-actions"),
    h("button", { type: "button", "data-key": "ab", "aria-pressed": state.b ? "true" : "false", title: "train two configurations side by side from the same seed", onclick: () => update(() => { if (state.b) state.b = null; else { state.b = clone(state.a); editing = "b"; } }) }, state.b ? "A/B: on" : "A/B"),
    h("button", { type: "button", "data-key": "cli", onclick: showCli }, "Show as CLI"),
    exportButtons.length ? h("span", { class: "group", role: "group", "aria-label": "export metrics" }, h("span", { class: "muted small", text: "export:" }), ...exportButtons) : null,
    h("button", { type: "button", "data-key": "open", onclick: () => fileInput.click(), title: "view a CLI run's metrics.jsonl (or metrics.csv)" }, "Open metrics…"), fileInput,
    h("button", { type: "button", "data-key": "copy-link", onclick: () => void copy(location.href, "link") }, "Copy link"));
}

async function copy(text: string, what: string): Promise<void> {
  try { await navigator.clipboard.writeText(text); showBanner([`Copied the ${what}.`], true); } catch { showBanner([`Could not reach the clipboard; select and copy the ${what} by hand.`], true); }
}

function showCli(): void {
  const dlg = $("cli-dialog") as HTMLDialogElement;
  const sides = (state.b ? ["a", "b"] : ["a"]) as Side[];
  fill(dlg,
    h("h2", { id: "cli-title", text: "The same run from the command line" }),
    h("p", { class: "muted", text: "Save the config and run it with the gradlab CLI: it trains the same network from the same seed and writes the same metrics, number for number." }),
    ...sides.map((sd) => {
      const p = parsed[sd];
      if (!p.config) return h("p", { class: "error", text: `${sd.toUpperCase()}: ${p.error}` });
      const c = cliFor(p.config);
      return h("section", { class: "cli" },
        state.b ? h("h3", { text: `Configuration ${sd.toUpperCase()}` }) : null,
        h("pre", { class: "cmd", text: c.command }),
        h("pre", { class: "json", tabindex: 0, text: c.json }),
        h("div", { class: "buttons" },
          h("button", { type: "button", onclick: () => download(c.fileName, c.json, "application/json") }, `Download ${c.fileName}`),
          h("button", { type: "button", onclick: () => void copy(c.json, "config") }, "Copy config"),
          h("button", { type: "button", onclick: () => void copy(c.command, "command") }, "Copy command")));
    }),
    h("form", { method: "dialog" }, h("button", { class: "primary", autofocus: true }, "Close")));
  dlg.showModal();
}

async function exportRun(r: RunController, kind: "jsonl" | "csv"): Promise<void> {
  const { records, thinned } = await r.allRecords();
  if (!records.length) { showBanner(["Nothing recorded yet: train first."], true); return; }
  const base = safeName(r.config?.name ?? "lab");
  if (kind === "jsonl") download(`${base}-metrics.jsonl`, metricsJsonl(records), "application/x-ndjson");
  else {
    download(`${base}-metrics.csv`, metricsToCsv(records), "text/csv");
    if (hasTimeData(records)) download(`${base}-time.csv`, timeToCsv(records), "text/csv");
  }
  if (thinned) showBanner(["This run recorded more than 50,000 steps; the export holds every other one of the older records."], true);
}

async function openFile(file: File): Promise<void> {
  try {
    if (file.size > MAX_METRICS_BYTES) throw new Error(`${file.name}: larger than ${MAX_METRICS_BYTES / 2 ** 20} MB`);
    const records = parseMetricsFile(await file.text(), file.name);
    for (const r of activeRuns()) if (r.playing) r.pause();
    viewer = { name: file.name, records };
    board.clear();
    headline.clear();
    showBanner([]);
    renderTop();
    renderControls();
    requestRender();
  } catch (e) {
    showBanner([(e as Error).message]);
  }
}

function closeViewer(): void {
  viewer = null;
  board.clear();
  headline.clear();
  showBanner([]);
  renderTop();
  renderControls();
  requestRender();
}

function showBanner(lines: string[], transient = false): void {
  const el = $("banner");
  const items: (HTMLElement | null)[] = lines.map((l) => h("p", { text: l }));
  if (viewer) items.unshift(h("p", {}, `Viewing ${viewer.name} (${viewer.records.length} records). `, h("button", { type: "button", onclick: closeViewer }, "Back to the lab")));
  if (!items.length) { el.hidden = true; el.replaceChildren(); return; }
  fill(el, ...items, viewer ? null : h("button", { type: "button", class: "close", "aria-label": "dismiss", onclick: () => showBanner([]) }, "✕"));
  el.hidden = false;
  if (transient) setTimeout(() => { if (el.contains(items[items.length - 1])) showBanner([]); }, 4000);
}

// ---------------------------------------------------------------------------------------------
// Tabs and panels.

const headline = new ChartBoard($("headline"), headlineCharts, false);
const board = new ChartBoard($("panel-charts"));
const walkView = new WalkView($("panel-walk"), requestWalk, () => {
  const r = runOf(editing);
  if (viewer) return "Not available while viewing a file.";
  if (r.status === "error") return "The network cannot be built; fix the architecture first.";
  if (r.status !== "ready") return "Waiting for the network and MNIST to load…";
  return null;
});
const learn = new LearnPanel($("panel-learn"), (id, mode) => {
  const rem = remedy(id);
  update(() => {
    if (mode === "ab") { state.b = rem.apply(clone(state.a)); const n = getPath(state.b, ["name"]); setPath(state.b, ["name"], `${String(n ?? "lab")}+${id}`); editing = "b"; }
    else if (editing === "b" && state.b) state.b = rem.apply(state.b);
    else state.a = rem.apply(state.a);
  });
  // The depth profile and the diagrams at the top of the page show the effect; the page goes
  // up to them (opening the charts tab would make the reader wait for a dozen charts to draw).
  showBanner([`Applied: ${rem.title}${mode === "ab" ? " to B; press Play to train A and B side by side, and compare their depth profiles and diagrams above" : ""}.`], true);
  $("main").scrollIntoView({ block: "start" });
});

function selectTab(t: typeof tab): void {
  tab = t;
  for (const name of ["charts", "walk", "learn"] as const) {
    $(`panel-${name}`).hidden = name !== t;
    $(`tab-${name}`).setAttribute("aria-selected", name === t ? "true" : "false");
    $(`tab-${name}`).tabIndex = name === t ? 0 : -1;
  }
  requestRender();
}

function buildTabs(): void {
  const names = { charts: "Live charts", walk: "Step-through backprop", learn: "Learn" } as const;
  const order = Object.keys(names) as (keyof typeof names)[];
  fill($("tabs"), ...order.map((n) => h("button", {
    type: "button", role: "tab", id: `tab-${n}`, "aria-controls": `panel-${n}`, "aria-selected": n === tab ? "true" : "false",
    onclick: () => selectTab(n),
    onkeydown: ((e: KeyboardEvent) => {
      const i = order.indexOf(n);
      const j = e.key === "ArrowRight" ? (i + 1) % order.length : e.key === "ArrowLeft" ? (i + order.length - 1) % order.length : -1;
      if (j >= 0) { e.preventDefault(); selectTab(order[j]); $(`tab-${order[j]}`).focus(); }
    }) as EventListener,
  }, names[n])));
}

// ---------------------------------------------------------------------------------------------
// Drawing, at most ~10 times a second.

const RENDER_MS = 100;
let renderTimer: ReturnType<typeof setTimeout> | null = null;
let lastRender = 0;
let renders = 0;

function requestRender(): void {
  if (renderTimer !== null) return;
  renderTimer = setTimeout(() => { renderTimer = null; lastRender = performance.now(); renderNow(); }, Math.max(0, lastRender + RENDER_MS - performance.now()));
}

/** A model description for a viewed file: its layers as recorded. */
function modelFromRecords(records: StepRecord[]): ModelInfo {
  const first = records[0];
  return {
    layers: (first?.layers ?? []).map((l, i) => ({ name: l.name, type: l.type, depth: 0, path: `model.layers[${i}]`, inShape: [], outShape: [], params: Object.keys(l.params).length, activation: null, recurrent: !!l.hGradNorm })),
    params: 0, inShape: [784], classes: 10,
  };
}

function boardRuns(): BoardRun[] {
  if (viewer) return [{ label: viewer.name, records: viewer.records }];
  return activeRuns().map((r) => ({
    label: `${runs.b ? `${r.side.toUpperCase()}: ` : ""}${r.config?.name ?? "(invalid)"}`,
    records: r.chartRecords, epochs: r.epochs, stepsPerEpoch: r.stepsPerEpoch || undefined,
  }));
}

function renderNow(): void {
  renders++;
  renderStatus();
  // Diagrams.
  const diagrams = viewer
    ? [{ label: viewer.name, model: modelFromRecords(viewer.records), rec: viewer.records[viewer.records.length - 1], units: [] }]
    : activeRuns().map((r) => ({ label: runs.b ? `${r.side.toUpperCase()}: ${r.config?.name ?? ""}` : r.config?.name ?? "", model: r.status === "error" ? null : r.model, rec: r.latest, units: r.units }));
  // One colour scale for every diagram shown, so A and B compare by colour.
  const range = diagramRange(diagrams.map((d) => d.rec));
  const svgs = diagrams.map((d) => {
    const svg = s("svg", { class: "diagram", role: "img", "aria-label": `${d.label}: ${d.rec ? `step ${d.rec.step}; ` : ""}each layer coloured by ‖δ‖, the error reaching it: ${d.rec?.layers.filter((l) => l.deltaNorm !== null).map((l) => `${l.name} ${fmt(l.deltaNorm)}`).join(", ") ?? "not measured yet"}` });
    drawDiagram(svg, d.model, d.rec, d.units, d.label, range);
    return h("div", { class: "diagram-wrap" }, svg);
  });
  fill($("diagrams"), ...svgs);
  const boards = boardRuns();
  if (boards.some((b) => b.records.length)) headline.render(boards);
  if (tab === "charts") board.render(boards);
  if (tab === "learn") {
    const r = runOf(editing);
    const acts: Record<string, string | null> = {};
    for (const l of r.model?.layers ?? []) acts[l.name] = l.activation;
    const firstHidden = r.model?.layers.find((l) => l.activation && l.activation !== "linear")?.activation ?? null;
    const remedyNotes = Object.fromEntries(REMEDIES.map((rem) => [rem.id, { here: remedyFor(rem, editRaw()), ab: remedyFor(rem, state.a) }]));
    learn.update({ curves: r.curves, units: r.units, last: r.latest, activation: firstHidden, layerActivations: acts, remedyNotes });
  }
  if (tab === "walk" && !walkView.walk) walkView.render();
}

// ---------------------------------------------------------------------------------------------
// Keyboard.

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target as HTMLElement;
  if (t.closest("input, select, textarea, [contenteditable], dialog")) return;
  if (t.closest("button") && (e.key === " " || e.key === "Enter")) return;
  const k = e.key.toLowerCase();
  if (k === " ") { e.preventDefault(); playPause(); }
  else if (k === "s") stepAll();
  else if (k === "r") resetAll();
  else if (k === "w") { selectTab("walk"); requestWalk(); }
  else if (k === "c") selectTab("charts");
  else if (k === "l") selectTab("learn");
});

window.addEventListener("hashchange", () => {
  if (location.hash.slice(1) === encodeState(state)) return;
  ({ state, problems } = decodeState(location.hash));
  editing = state.b ? "b" : "a";
  showBanner(problems.map((p) => `Link: ${p}`));
  applyState();
});

// ---------------------------------------------------------------------------------------------
// Hooks for the end-to-end test (and for anyone curious in the console).

declare global { interface Window { __gradlab: unknown } }
const chartAt = (key: string) => headline.chart(key) ?? board.chart(key);
window.__gradlab = {
  ready: () => activeRuns().every((r) => r.status === "ready"),
  status: (side: Side = "a") => {
    const r = runOf(side);
    return { status: r.status, error: r.error, step: r.step, totalSteps: r.totalSteps, playing: r.playing, done: r.done, stopped: r.stopped, records: r.store.records.length, epochs: r.epochs, config: r.config, threads: r.threads };
  },
  records: async (side: Side = "a") => (await runOf(side).allRecords()).records,
  epochs: (side: Side = "a") => runOf(side).epochs,
  chartKeys: () => [...headline.keys(), ...board.keys()],
  /** series ECharts draws in a chart, e.g. "grad-norm:a" */
  drawnSeries: (key: string) => chartAt(key)?.drawnSeries() ?? null,
  specSeries: (key: string) => chartAt(key)?.spec?.series.map((x) => x.name) ?? null,
  /** the numbers a chart draws, series by series */
  specData: (key: string) => chartAt(key)?.spec?.series ?? null,
  /** points ECharts draws per series of a chart */
  drawnPoints: (key: string) => chartAt(key)?.drawnPoints() ?? null,
  /** the step each diagram is drawn at (null: not measured yet) */
  diagramSteps: () => activeRuns().map((r) => r.latest?.step ?? null),
  bench: async (raw: unknown, steps: number, warmup: number) => runs.a.bench(parseConfig(raw), steps, warmup),
  problems: () => problems,
  renders: () => renders,
  diagramColumns: () => [...document.querySelectorAll("#diagrams .dg-col")].map((g) => g.getAttribute("data-layer")),
};

// ---------------------------------------------------------------------------------------------

buildTabs();
// On a phone the settings start folded, below the diagram and the charts.
if (matchMedia("(max-width: 700px)").matches) ($("settings") as HTMLDetailsElement).open = false;
selectTab("charts");
showBanner(problems.map((p) => `Link: ${p}`));
applyState();
