/**
 * The commands that read run folders: `gradlab report` re-renders one, `gradlab compare` overlays
 * several (under --json stdout holds the comparison table as one JSON document).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError } from "../../core/errors.ts";
import { checkOutFolder } from "../../experiment/out-path.ts";
import { readSummary } from "../../report/read-run.ts";
import { writeComparison, writeReport } from "../../report/write.ts";
import { output, runRow, runsTable } from "./common.ts";

/** Run folders named on the command line; a suite folder stands for the runs inside it. */
function expandRunDirs(dirs: string[]): string[] {
  if (dirs.length === 0) throw new InputError("compare: expected at least one run folder (or a suite folder)");
  const out: string[] = [];
  for (const d of dirs) {
    if (existsSync(join(d, "summary.json"))) { out.push(d); continue; }
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new InputError(`${d}: no such run folder`);
    const inner = readdirSync(d).map((f) => join(d, f)).filter((f) => existsSync(join(f, "summary.json"))).sort();
    if (inner.length === 0) throw new InputError(`${d}: not a run folder (no summary.json) and holds no run folders`);
    out.push(...inner);
  }
  return out;
}

/** The report command's action. */
export function reportCommand(dir: string, opts: { png?: boolean }): void {
  if (existsSync(dir)) checkOutFolder(dir, "report");  // a missing folder: readRun says there is no such run
  const files = writeReport(dir, { png: opts.png !== false });
  output(false).say(`wrote ${files.length} files; report: ${join(resolve(dir), "report.html")}`);
}

/** The compare command's action: the comparison report, and its table (or JSON document). */
export function compareCommand(dirs: string[], opts: { out?: string; png?: boolean; json?: boolean }): void {
  const out = output(opts.json === true);
  const runDirs = expandRunDirs(dirs);
  const target = opts.out ?? "runs/compare";
  checkOutFolder(target, "--out");
  writeComparison(runDirs, target, { png: opts.png !== false });
  const rows = runDirs.map((d) => runRow(d, readSummary(d)));
  const report = join(resolve(target), "report.html");
  out.say(runsTable(rows));
  out.say(`\ncomparison report: ${report}`);
  out.document({ out: resolve(target), report, runs: rows.map((r, i) => ({ ...r, dir: resolve(runDirs[i]) })) });
}
