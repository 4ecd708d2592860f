/**
 * The run's progress on a terminal (src/cli/progress.ts), drawn into a fake TTY stream and read
 * back through a small terminal emulator (the escape sequences Node's readline and cli-progress
 * write: CR, LF, ESC[nG, ESC[K, ESC[2K, cursor save/restore). The screen after two epochs must
 * show each epoch's line, no stale bar and no literal `{loss}`; without a terminal the last plain
 * line reads the final step (`step N/N`).
 */
import { describe, expect, it } from "vitest";
import { RunProgress, type StepCount } from "../../src/cli/progress.ts";
import type { StepRecord } from "../../src/instrument/recorder.ts";

/** A terminal screen: lines of text, a cursor, and what the escape sequences do to them. */
class Screen {
  lines: string[] = [""];
  row = 0;
  col = 0;
  private saved: [number, number] = [0, 0];

  write(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c === "\x1b") {
        const m = /^\x1b(?:\[(\??)(\d*)(?:;(\d*))?([A-Za-z])|([78]))/.exec(s.slice(i));
        if (!m) throw new Error(`unknown escape ${JSON.stringify(s.slice(i, i + 8))}`);
        i += m[0].length - 1;
        if (m[5] === "7") this.saved = [this.row, this.col];
        else if (m[5] === "8") [this.row, this.col] = this.saved;
        else if (m[1] === "?") continue; // cursor and line-wrap modes
        else this.csi(m[4], m[2] === "" ? null : Number(m[2]));
        continue;
      }
      if (c === "\r") { this.col = 0; continue; }
      if (c === "\n") { this.row++; this.col = 0; while (this.lines.length <= this.row) this.lines.push(""); continue; }
      const line = this.lines[this.row].padEnd(this.col);
      this.lines[this.row] = line.slice(0, this.col) + c + line.slice(this.col + 1);
      this.col++;
    }
  }

  private csi(cmd: string, n: number | null): void {
    const line = this.lines[this.row];
    switch (cmd) {
      case "G": this.col = (n ?? 1) - 1; break;
      case "K": this.lines[this.row] = n === 2 ? "" : n === 1 ? " ".repeat(this.col) + line.slice(this.col) : line.slice(0, this.col); break;
      case "A": this.row = Math.max(0, this.row - (n ?? 1)); break;
      case "B": this.row += n ?? 1; while (this.lines.length <= this.row) this.lines.push(""); break;
      case "C": this.col += n ?? 1; break;
      case "D": this.col = Math.max(0, this.col - (n ?? 1)); break;
      case "J": this.lines.length = this.row + 1; this.lines[this.row] = line.slice(0, this.col); break;
      default: throw new Error(`unhandled CSI ${cmd}`);
    }
  }

  /** The visible text, trailing blanks and empty last lines removed. */
  text(): string[] {
    const out = this.lines.map((l) => l.trimEnd());
    while (out.length && out[out.length - 1] === "") out.pop();
    return out;
  }
}

/** A writable stream that is a terminal, drawing into `screen`. */
function fakeTty(screen: Screen) {
  return { isTTY: true, columns: 100, rows: 30, write(s: string | Uint8Array) { screen.write(String(s)); return true; }, on() { return this; }, once() { return this; }, removeListener() { return this; } } as unknown as NodeJS.WritableStream & { isTTY: boolean };
}

const record = (step: number, epoch: number, loss: number): StepRecord => ({ step, epoch, loss, accuracy: 0.5, layers: [] });

/** Drive a progress through `epochs` epochs of `perEpoch` steps, recording every `every` steps and the last. */
function drive(p: RunProgress, epochs: number, perEpoch: number, every: number): void {
  const total = epochs * perEpoch;
  for (let s = 0; s < total; s++) {
    const done = s + 1 === total;
    const t: StepCount = { step: s + 1, totalSteps: total, done };
    const rec = s % every === 0 || done ? record(s, Math.floor(s / perEpoch), 2.3 - s / total) : null;
    p.step(t, rec);
    if ((s + 1) % perEpoch === 0) p.epoch(t, `epoch ${(s + 1) / perEpoch}: train loss 1.0000, test accuracy 50.00%`);
  }
  p.stop();
}

describe("RunProgress", () => {
  it("on a terminal: each epoch's line stays, the bar is cleared (no stale bar) and never shows a literal {loss}", () => {
    const screen = new Screen();
    const printed: string[] = [];
    // epoch lines go to stdout, which on a terminal is the same screen
    const p = new RunProgress({ stream: fakeTty(screen), print: (s) => { printed.push(s); screen.write(`${s}\n`); }, every: 10 });
    drive(p, 2, 100, 25);
    const text = screen.text();
    expect(text).toEqual([
      "epoch 1: train loss 1.0000, test accuracy 50.00%",
      "epoch 2: train loss 1.0000, test accuracy 50.00%",
    ]);
    expect(printed).toHaveLength(2);
  });

  it("on a terminal mid-run: the bar after an epoch shows the last loss, not {loss}", async () => {
    const screen = new Screen();
    const raw: string[] = [];
    const tty = fakeTty(screen);
    const stream = { ...tty, write(s: string) { raw.push(String(s)); return tty.write(s); } } as unknown as NodeJS.WritableStream & { isTTY: boolean };
    const p = new RunProgress({ stream, print: (s) => screen.write(`${s}\n`), every: 10 });
    const total = 200;
    for (let s = 0; s < 150; s++) {
      const t = { step: s + 1, totalSteps: total, done: false };
      p.step(t, s % 25 === 0 ? record(s, Math.floor(s / 100), 2 - s / 1000) : null);
      if (s + 1 === 100) p.epoch(t, "epoch 1: train loss 1.0000, test accuracy 50.00%");
    }
    // cli-progress throttles redraws to its frame rate: let one frame pass
    await new Promise((r) => setTimeout(r, 300));
    const text = screen.text();
    expect(text[0]).toBe("epoch 1: train loss 1.0000, test accuracy 50.00%");
    // the bar below it, redrawn at step 150 with the loss of the record at step 125
    expect(text[1]).toMatch(/^training \[.*\] 75% \| step 150\/200 \| loss 1\.8750$/);
    expect(text).toHaveLength(2);
    expect(raw.join("")).not.toContain("{loss}");
    p.stop();
    expect(screen.text()).toEqual([text[0]]);
  });

  it("without a terminal: plain lines every tenth of the run, the last one reading the final step", () => {
    const lines: string[] = [];
    const p = new RunProgress({ stream: { isTTY: false, write: () => true } as unknown as NodeJS.WritableStream, print: (s) => lines.push(s) });
    drive(p, 1, 157, 10);
    const steps = lines.filter((l) => l.startsWith("step"));
    // records at steps 0, 10, …, 150 and 156 are t.step = 1, 11, …, 151, 157 steps done; a line
    // needs ≥ 15.7 steps since the last: 21, 41, …, 141, then the final 157
    expect(steps.map((l) => l.split(" ")[1])).toEqual(["21/157", "41/157", "61/157", "81/157", "101/157", "121/157", "141/157", "157/157"]);
    expect(lines.at(-1)).toBe("epoch 1: train loss 1.0000, test accuracy 50.00%");
  });

  it("quiet: nothing at all", () => {
    const lines: string[] = [];
    const screen = new Screen();
    drive(new RunProgress({ stream: fakeTty(screen), print: (s) => lines.push(s), quiet: true }), 2, 50, 10);
    expect(lines).toEqual([]);
    expect(screen.text()).toEqual([]);
  });
});
