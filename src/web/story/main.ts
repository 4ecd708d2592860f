/**
 * The story's page (story.html): eight scenes, one at a time, each at its own URL
 * (story.html#1 … #8) so a teacher can link to one. ← → (and PageUp / PageDown, Space) move
 * between scenes unless a control has the focus; `?present` or the Presenter button sets large
 * type for a lecture. Scene 1 needs no worker; as soon as its figure is drawn, scene 2's reader
 * (the seed network) starts training in the background on the story's small MNIST subset
 * (opened at a later scene, the story starts the reader when scene 2 is shown). Scene 1 is all
 * this page loads first; scenes 2–8 (scenes.ts, with the config schema and the worker's page
 * side) load right after its figure is drawn, or at once when the story opens on one of them.
 * Only types come from src/core; the engine runs in workers (lab-run.ts, worker.ts).
 */
import { fill, h } from "../dom.ts";
import { markVisited } from "../first-visit.ts";
import type { RunController } from "../lab-run.ts";
import { scene1 } from "./scene-1.ts";
import { SCENE_TITLES, type Scene, type SceneContext } from "./scene-kit.ts";

markVisited();  // from now on the lab's bare address opens the lab (first-visit.ts)

type Later = typeof import("./scenes.ts");
let later: Promise<Later> | null = null;
/** Scenes 2–8, loaded once. */
const loadLater = (): Promise<Later> => (later ??= import("./scenes.ts"));
const COUNT = SCENE_TITLES.length;

/** when this script started, for the benchmark's breakdown (bench/story-first-figure.ts) */
const scriptStartMs = performance.now();
const $ = (id: string) => document.getElementById(id)!;
/** The story's MNIST subset (vite.config.ts writes it next to the full files). */
const dataUrl = new URL("data/story/", document.baseURI).href;

let index = -1;
/** bumped by every show(), so a scene whose module arrives late is not mounted over a newer one */
let showing = 0;
let cleanup: (() => void) | null = null;
let workers: RunController[] = [];
let readerListeners: ((what: string) => void)[] = [];
let figureData: { scene: number; ready: boolean; data: Record<string, unknown> } = { scene: 0, ready: false, data: {} };
let firstFigureMs: number | null = null;

// Scene 2's reader: started once the first figure is up, kept for the whole visit.
let reader: RunController | null = null;
function startReader(m: Later): RunController {
  reader ??= m.startReader(dataUrl, (what) => { for (const f of readerListeners) f(what); });
  return reader;
}

/** The scene number in the hash ("#3" → 2), or 0 with a note when it names no scene. */
function sceneFromHash(): { i: number; problem: string | null } {
  const raw = location.hash.replace(/^#\/?(story\/)?/, "");
  if (raw === "") return { i: 0, problem: null };
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= COUNT) return { i: n - 1, problem: null };
  return { i: 0, problem: `There is no scene “${raw.slice(0, 40)}”; the story has scenes 1 to ${COUNT}. Here is scene 1.` };
}

function announce(text: string): void { $("live").textContent = text; }

function show(i: number, focus: boolean, problem: string | null = null): void {
  if (i === index) return;
  const mine = ++showing;
  cleanup?.();
  cleanup = null;
  for (const w of workers) w.dispose();
  workers = [];
  readerListeners = [];
  index = i;
  const title = SCENE_TITLES[i];
  if (location.hash !== `#${i + 1}`) history.replaceState(null, "", `${location.search}#${i + 1}`);
  document.title = `${i + 1}. ${title} — gradlab story`;
  $("kicker").textContent = `Scene ${i + 1} of ${COUNT}`;
  $("scene-title").textContent = title;
  $("where").textContent = `${i + 1} / ${COUNT}`;
  ($("prev") as HTMLButtonElement).disabled = i === 0;
  ($("next") as HTMLButtonElement).disabled = i === COUNT - 1;
  for (const [k, li] of [...$("scene-list").children].entries()) {
    const a = li.querySelector("a")!;
    if (k === i) a.setAttribute("aria-current", "step"); else a.removeAttribute("aria-current");
  }
  const fig = $("scene-fig");
  figureData = { scene: i + 1, ready: false, data: {} };
  fig.dataset.ready = "false";
  fill($("scene-text"));
  fill($("scene-act"));
  fill($("scene-figure"), h("p", { class: "fig-empty", text: "The engine is measuring; the figure appears here." }));
  $("scene-caption").textContent = "";
  for (const n of document.querySelectorAll(".scene-note")) n.remove();
  if (problem) $("scene-text").before(h("p", { class: "error scene-note", role: "alert", text: problem }));
  announce(`Scene ${i + 1} of ${COUNT}: ${title}`);
  if (focus) $("scene-title").focus();
  const mount = (scene: Scene, m: Later | null) => {
    if (mine !== showing) return;
    const ctx: SceneContext = {
      text: $("scene-text"), act: $("scene-act"), figure: $("scene-figure"), caption: $("scene-caption"),
      publish: (data, ready) => {
        if (index !== i) return;
        figureData = { scene: i + 1, ready, data };
        fig.dataset.ready = String(ready);
        if (ready && firstFigureMs === null) {
          firstFigureMs = performance.now();
          performance.mark("story-first-figure");
          // The later scenes load now; scene 2's reader trains while scene 1 is read (opened
          // elsewhere, the story starts it when scene 2 asks, so it does not take the CPU from
          // the scene on screen).
          void loadLater().then((lm) => { if (index <= 1) startReader(lm); });
        }
      },
      worker: (onChange) => {
        const w = m!.newRun(dataUrl, (r, what) => { if (index === i) onChange?.(r, what); });
        workers.push(w);
        return w;
      },
      get reader() { return startReader(m!); },
      onReader: (f) => { readerListeners.push(f); },
      announce,
    };
    cleanup = scene.mount(ctx);
  };
  if (i === 0) mount(scene1, null);
  else {
    fill($("scene-text"), h("p", { class: "muted", text: "Loading…" }));
    loadLater().then((m) => { if (mine === showing) { fill($("scene-text")); mount(m.LATER_SCENES[i - 1], m); } })
      .catch((e: unknown) => { if (mine === showing) fill($("scene-text"), h("p", { class: "error", role: "alert", text: `This scene could not load (${(e as Error).message}); reload the page.` })); });
  }
}

function go(delta: number): void {
  const j = Math.max(0, Math.min(COUNT - 1, index + delta));
  if (j !== index) show(j, true);
}

// ---------------------------------------------------------------------------------------------
// Scene list, pager, keys, presenter mode.

fill($("scene-list"), ...SCENE_TITLES.map((title, k) => h("li", {}, h("a", { href: `#${k + 1}`, "data-key": `scene-link-${k + 1}` }, h("span", { class: "num", text: String(k + 1) }), h("span", { class: "name", text: title })))));
$("prev").addEventListener("click", () => go(-1));
$("next").addEventListener("click", () => go(1));

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target as HTMLElement;
  // Controls keep their own keys: text, sliders, selects, the drawing box, the walk's figure.
  if (t.closest("input, select, textarea, [contenteditable], canvas, .walk-body, [role=tabpanel]")) return;
  const onButton = t.closest("button, a, summary") !== null;
  if (e.key === "ArrowRight" || e.key === "PageDown" || (e.key === " " && !onButton && !e.shiftKey)) { e.preventDefault(); go(1); }
  else if (e.key === "ArrowLeft" || e.key === "PageUp" || (e.key === " " && !onButton && e.shiftKey)) { e.preventDefault(); go(-1); }
});

window.addEventListener("hashchange", () => { const { i, problem } = sceneFromHash(); show(i, true, problem); });

function setPresent(on: boolean): void {
  document.body.classList.toggle("present", on);
  $("present").setAttribute("aria-pressed", String(on));
  const url = new URL(location.href);
  if (on) url.searchParams.set("present", ""); else url.searchParams.delete("present");
  history.replaceState(null, "", url.href.replace("present=", "present"));
}
$("present").addEventListener("click", () => setPresent(!document.body.classList.contains("present")));

// ---------------------------------------------------------------------------------------------
// Hooks for the end-to-end test and the benchmark.

declare global { interface Window { __story: unknown } }
window.__story = {
  scene: () => index + 1,
  scenes: () => COUNT,
  /** the numbers the current scene's figure shows; `ready` once they are live */
  figure: () => figureData,
  /** milliseconds from navigation start to the first live figure */
  firstFigureMs: () => firstFigureMs,
  /** milliseconds from navigation start to this script's start */
  scriptStartMs: () => scriptStartMs,
  readerStatus: () => reader ? { status: reader.status, step: reader.step, done: reader.done, totalSteps: reader.totalSteps } : null,
};

// ---------------------------------------------------------------------------------------------

if (new URLSearchParams(location.search).has("present")) setPresent(true);
{
  const { i, problem } = sceneFromHash();
  show(i, false, problem);
}
