/**
 * `gradlab replicate [study] [--quick] [--out DIR]`: run a classic paper's experiments as a suite
 * on worker threads (resumable: run it again to carry on), print the table quantity | paper |
 * gradlab | tolerance | holds, and write DIR/replication.json and DIR/report.html. Without a
 * study, lists the studies with their citations.
 */
import { resolve } from "node:path";
import { InputError } from "../../core/errors.ts";
import { checkOutFolder } from "../../experiment/out-path.ts";
import { findStudy, replicate, type Replication } from "../../replicate/replication.ts";
import { STUDIES } from "../../replicate/studies/index.ts";
import { SCALES, type Scale } from "../../replicate/study.ts";
import { SWEEP_WORKER_ENTRY } from "../entries.ts";
import { printableLine } from "../printable.ts";
import { commandLine, output, workerCount } from "./common.ts";

/** The options of `gradlab replicate`. */
export interface ReplicateOpts { quick?: boolean; out?: string; workers?: string; budget?: string; quiet?: boolean; json?: boolean }

/** The scale asked for: --budget (tiny, quick, full) or --quick; full by default. */
function scaleOf(opts: ReplicateOpts): Scale {
  if (opts.budget === undefined) return opts.quick ? "quick" : "full";
  const b = String(opts.budget);
  if (!(SCALES as readonly string[]).includes(b)) throw new InputError(`--budget: expected one of ${SCALES.join(", ")}; got ${JSON.stringify(b)}`);
  if (opts.quick && b !== "quick") throw new InputError(`--quick and --budget ${b}: give one of them`);
  return b as Scale;
}

/** The replicate command's action. */
export async function replicateCommand(name: string | undefined, opts: ReplicateOpts): Promise<void> {
  const out = output(opts.json === true);
  if (name === undefined) {
    const w = Math.max(...STUDIES.map((s) => s.name.length));
    out.say(STUDIES.map((s) => `${s.name.padEnd(w)}  ${s.summary}\n${" ".repeat(w)}  ${s.citation}`).join("\n"));
    out.document(STUDIES.map((s) => ({ study: s.name, citation: s.citation, summary: s.summary })));
    return;
  }
  const study = findStudy(name);
  const scale = scaleOf(opts);
  const root = opts.out ?? `runs/replicate/${study.name}${scale === "full" ? "" : `-${scale}`}`;
  checkOutFolder(root, "--out");
  const workers = workerCount(opts.workers);
  const { writeReport } = await import("../../report/write.ts");  // the charts' code, only when runs are written
  out.say(`gradlab: replicate ${study.name} (${scale}) on ${workers} worker(s) → ${resolve(root)}`);
  const rep = await replicate(study, scale, root, {
    workers, command: commandLine(), png: false,
    workerEntry: SWEEP_WORKER_ENTRY,
    finalize: (dir) => writeReport(dir, { png: false }),
    onDone: (r) => { if (!opts.quiet) out.say(`  ${printableLine(r.label)}: ${r.summary ? (r.kept ? "finished before; kept" : "done") : `error: ${printableLine(String(r.error))}`}`); },
  });
  out.say(`\n${replicationBlocks(rep, Math.max(60, Math.min(process.stdout.columns ?? 100, 120)))}\n`);
  out.say(`${rep.rows.filter((r) => r.holds).length} of ${rep.rows.length} rows hold. ${rep.notes}`);
  out.say(`replication: ${resolve(root, "replication.json")}\nreport: ${resolve(root, "report.html")}`);
  out.document(rep);
}

/**
 * The replication's rows for a terminal `width` columns wide: each row a numbered block, its
 * quantity first, then paper, gradlab, tolerance and holds on lines of their own, wrapped at
 * word boundaries (the paper cells run to a sentence; a five-column table was unreadable).
 * @example replicationBlocks(rep, 80).split("\n")[0] // "1. tanh: ‖δ‖ first / last hidden layer at init, …"
 */
export function replicationBlocks(rep: Replication, width: number): string {
  const label = (name: string) => `   ${name.padEnd(10)} `;
  const indent = " ".repeat(label("").length);
  return rep.rows.map((r, i) => {
    const fields: [string, string][] = [
      ["paper", `${r.paper}${r.verified ? "" : " (unverified)"}`],
      ["gradlab", r.gradlab],
      ["tolerance", r.tolerance],
      ["holds", `${r.holds ? "yes" : "NO"} (${r.kind})${r.holds ? "" : `: ${r.reason}`}`],
    ];
    const number = `${i + 1}. `;
    const head = wrap(number, printableLine(r.quantity), width, " ".repeat(number.length));
    return [head, ...fields.map(([k, v]) => wrap(label(k), printableLine(v), width, indent))].join("\n");
  }).join("\n\n");
}

/** `prefix` then `text`, broken at spaces into lines of at most `width` characters, later lines indented. */
function wrap(prefix: string, text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = prefix;
  let empty = true;  // nothing of `text` on this line yet
  for (const word of text.split(" ").filter((w) => w !== "")) {
    if (!empty && [...line].length + 1 + [...word].length > width) {
      lines.push(line);
      line = indent + word;
    } else line = empty ? line + word : `${line} ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}
