/**
 * The line protocol every framework worker of the comparison speaks (pytorch.py speaks it too):
 * one JSON command per line on stdin, one JSON reply per line on stdout, in order.
 *   {"cmd": "setup", "net": {…Network}}   → {"ok": true, …}       build the network, load data
 *   {"cmd": "run", "steps": N, …}          → {"seconds": s}        train N steps, timed
 *   {"cmd": "peak"}                        → {"rss", "peak"}       bytes: resident now, high-water mark
 *   {"cmd": "resetPeak"}                   → {"ok": true}          restart the high-water mark (Linux)
 *   {"cmd": "exit"}                        → (the process ends)
 * A failure replies {"error": "…"}; the worker stays usable.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";

export interface Handler {
  setup(msg: Record<string, any>): Promise<Record<string, unknown>> | Record<string, unknown>;
  run(msg: Record<string, any>): Promise<Record<string, unknown>> | Record<string, unknown>;
}

/** Resident set size now and its high-water mark, in bytes, from /proc (0 where there is none). */
export function memory(): { rss: number; peak: number } {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb("VmRSS"), peak: kb("VmHWM") };
  } catch {
    const rss = process.memoryUsage().rss;
    return { rss, peak: Math.max(rss, process.resourceUsage().maxRSS * 1024) };
  }
}

/** Writing 5 to clear_refs restarts VmHWM at the current RSS (Linux ≥ 4.0). */
export function resetPeak(): void {
  try { writeFileSync("/proc/self/clear_refs", "5"); } catch { /* not Linux: the peak stays cumulative */ }
}

/** Serve commands until "exit" or the end of stdin. */
export function serve(handler: Handler): void {
  const reply = (o: unknown) => process.stdout.write(JSON.stringify(o) + "\n");
  const lines = createInterface({ input: process.stdin, terminal: false });
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    queue = queue.then(async () => {
      let msg: Record<string, any>;
      try { msg = JSON.parse(line); } catch { reply({ error: `not JSON: ${line.slice(0, 80)}` }); return; }
      try {
        if (msg.cmd === "exit") process.exit(0);
        else if (msg.cmd === "setup") reply(await handler.setup(msg));
        else if (msg.cmd === "run") reply(await handler.run(msg));
        else if (msg.cmd === "peak") reply(memory());
        else if (msg.cmd === "resetPeak") { resetPeak(); reply({ ok: true }); }
        else reply({ error: `unknown command ${JSON.stringify(msg.cmd)}` });
      } catch (e) {
        reply({ error: (e as Error).message ?? String(e) });
      }
    });
  });
  lines.on("close", () => { void queue.then(() => process.exit(0)); });
}
