/**
 * What a scene of the story is given and gives back. A scene fills its text, its figure, the
 * figure's caption (the numbers in words: the figure's text alternative) and the one thing to
 * do; it publishes the numbers its figure shows (the end-to-end test checks the text's claims
 * against them) and returns a function that stops everything it started.
 */
import type { RunController } from "../lab-run.ts";

export interface SceneContext {
  /** the scene's sentences, rewritten when live numbers arrive */
  text: HTMLElement;
  /** the one thing to do: buttons, a slider, a canvas */
  act: HTMLElement;
  /** the live figure */
  figure: HTMLElement;
  /** the figure's caption: its numbers, in words */
  caption: HTMLElement;
  /** the figure's numbers, for the test hook and data-figure; `ready` once they are live */
  publish(data: Record<string, unknown>, ready: boolean): void;
  /** a training worker for `config`-driven scenes; disposed when the scene is left */
  worker(onChange?: (run: RunController, what: string) => void): RunController;
  /** scene 2's reader: the seed network training in the background since the story opened */
  reader: RunController;
  /** listen to the reader's changes until the scene is left */
  onReader(f: (what: string) => void): void;
  /** tell screen readers something changed (one short sentence) */
  announce(text: string): void;
}

/** The scenes' titles, in order (the scene list shows them before the later scenes load). */
export const SCENE_TITLES = [
  "A gradient points uphill", "A network reads a digit", "Back-propagation, one multiplication at a time", "Why the error shrinks", "Train it: the first layer learns slowest", "Make it deeper", "Remedies, side by side", "The same question for CNNs and RNNs",
] as const;

export interface Scene {
  /** short title (the page's h2 and the scene list) */
  title: string;
  /** fill the context's elements; returns the clean-up */
  mount(ctx: SceneContext): () => void;
}
