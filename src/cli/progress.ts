/**
 * The progress of a run on the terminal: a cli-progress bar when the stream is a terminal, plain
 * periodic lines otherwise. Across epochs the bar is cleared (not left behind as a stale line),
 * the epoch's line is printed where it stood, and a new bar starts with the last loss (never a
 * literal `{loss}`). Steps are counted as done: the last line reads `step 9375/9375`.
 *
 * @example
 * const p = new RunProgress({ stream: process.stderr, print: console.log });
 * p.step(trainer, record); p.epoch(trainer, "epoch 1: …"); p.stop();
 */
import { Presets, SingleBar } from "cli-progress";
import type { StepRecord } from "../instrument/recorder.ts";

/** What the progress reads from the trainer: steps done so far, of how many. */
export interface StepCount { step: number; totalSteps: number; done: boolean }

/** Where the progress goes and how often the bar is redrawn. */
export interface ProgressOptions {
  /** where the bar is drawn (a terminal shows it; anything else gets plain lines) */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** prints one line of output (the epoch results, the plain progress lines) */
  print: (line: string) => void;
  /** no bar, no plain progress lines, no epoch lines */
  quiet?: boolean;
  /** steps between bar redraws (default 50) */
  every?: number;
}

const FORMAT = "training [{bar}] {percentage}% | step {value}/{total} | loss {loss}";

/** The progress of one run: call step() after every training step, epoch() after each epoch, stop() at the end. */
export class RunProgress {
  private bar: SingleBar | null = null;
  private started = false;
  private lastPlain = 0;
  private loss = "–";

  constructor(private readonly opts: ProgressOptions) {}

  private get tty(): boolean { return !!this.opts.stream.isTTY && !this.opts.quiet; }

  private startBar(t: StepCount): void {
    this.bar = new SingleBar({
      format: FORMAT, hideCursor: true, clearOnComplete: true, stream: this.opts.stream as NodeJS.WritableStream, gracefulExit: false,
    }, Presets.shades_classic);
    this.bar.start(t.totalSteps, t.step, { loss: this.loss });
  }

  /** After every step (`rec` when the step was recorded). `allowBar` false keeps the bar from starting (e.g. after Ctrl-C). */
  step(t: StepCount, rec: StepRecord | null, allowBar = true): void {
    if (rec) this.loss = Number.isFinite(rec.loss) ? rec.loss.toFixed(4) : String(rec.loss);
    if (!this.started && this.tty && allowBar) {
      this.started = true;
      this.startBar(t);
    }
    if (this.bar) {
      if (t.step % (this.opts.every ?? 50) === 0 || t.done) this.bar.update(t.step, { loss: this.loss });
    } else if (!this.opts.quiet && rec && (t.step - this.lastPlain >= t.totalSteps / 10 || t.done)) {
      this.lastPlain = t.step;
      this.opts.print(`step ${t.step}/${t.totalSteps}  epoch ${rec.epoch + 1}  loss ${this.loss}`);
    }
  }

  /** At the end of an epoch: the bar is cleared, the line printed, and the bar drawn again below it. */
  epoch(t: StepCount, line: string): void {
    if (this.bar) {
      this.bar.stop();
      this.opts.print(line);
      if (!t.done) this.startBar(t);
      else this.bar = null;
    } else if (!this.opts.quiet) {
      this.opts.print(line);
    }
  }

  /** Clear the bar for good (end of the run, an interrupt, an error). */
  stop(): void {
    if (this.bar) this.bar.stop();
    this.bar = null;
  }
}
