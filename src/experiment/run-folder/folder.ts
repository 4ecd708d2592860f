/**
 * What a run folder is, and what gradlab may remove from it. A folder counts as a gradlab run
 * only when it holds run.json, the manifest of the files gradlab wrote into it — or, written by
 * an older gradlab without a manifest, config.json with summary.json or metrics.jsonl (a legacy
 * run: resumable, kept by a sweep's --resume, but never replaced, since which of its files
 * gradlab wrote is unknown). gradlab never removes or overwrites a file of a folder that is not
 * a run; replacing a finished run removes only the files its manifest lists.
 *
 * The states of a run folder:
 *   running      run.lock held by a live process; no summary.json
 *   killed       run.lock of a dead process (or none), checkpoint/ or config.json, no summary.json
 *   interrupted  checkpoint/ and a partial summary.json (status "interrupted") with its report
 *   finished     summary.json (status "complete" or "stopped"); no checkpoint/, no run.lock
 */
import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { InputError } from "../../core/errors.ts";
import { shownPath } from "../../data/os-error.ts";
import { CAPS, readTextChecked } from "../../data/read-file.ts";
import { tempTarget, writeFileAtomic } from "./atomic.ts";
import { CHECKPOINT_DIR, listCheckpoints } from "./checkpoint.ts";
import { LOCK_FILE, STALE_LOCK } from "./lock.ts";

export const MANIFEST_FILE = "run.json";
const FORMAT = "gradlab-run";
const VERSION = 1;

/** run.json: the files (paths relative to the folder) gradlab wrote or is about to write there. */
export interface Manifest { format: typeof FORMAT; version: typeof VERSION; files: string[] }

/** The files a session works in, kept when it resumes: the resolved config, the metrics, the checkpoints (a folder of gradlab's own). */
export const SESSION_FILES = ["config.json", "metrics.jsonl", CHECKPOINT_DIR];
/** What a new run's manifest lists from the start: the session's files and its results. */
export const RUN_FILES = [...SESSION_FILES, "summary.json", "weights.safetensors"];
/** The results older gradlab wrote by these names; a legacy run's resume replaces them, as it did then. */
const LEGACY_RESULTS = ["summary.json", "weights.safetensors", "report.html", "metrics.csv", "time.csv"];

/** What a folder is, as far as a run is concerned. */
export type Folder =
  | { kind: "absent" }
  | { kind: "file" }
  /** nothing in it but (perhaps) a lock: a run killed before it wrote anything */
  | { kind: "empty" }
  /** a run; manifest null for a legacy run */
  | { kind: "run"; manifest: Manifest | null; status: string | null; unfinished: boolean; hasConfig: boolean }
  | { kind: "foreign"; entries: string[] };

/** A path a manifest may list: relative, inside the folder, no `.` or `..` segments. */
function safeEntry(f: unknown): f is string {
  return typeof f === "string" && f !== "" && !f.startsWith("/") && !f.includes("\\") &&
    f.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..");
}

/** Read and validate `dir`/run.json (untrusted: it decides what gets removed). */
export function readManifest(dir: string): Manifest {
  const file = join(dir, MANIFEST_FILE);
  let v: unknown;
  try { v = JSON.parse(readTextChecked(file, { cap: CAPS.small, expected: "expected gradlab's run.json" })); } catch (e) {
    if (e instanceof InputError && !e.message.includes("no such file")) throw e;  // a FIFO, a device, too big
    v = null;
  }
  const o = v as Partial<Manifest> | null;
  if (!o || typeof o !== "object" || o.format !== FORMAT || o.version !== VERSION || !Array.isArray(o.files) || !o.files.every(safeEntry)) {
    throw new InputError(`${file}: expected {"format": "${FORMAT}", "version": ${VERSION}, "files": [paths inside the folder]} (gradlab's manifest of a run folder)`);
  }
  return { format: FORMAT, version: VERSION, files: [...o.files] };
}

/** summary.json's status, "complete" for one from before statuses, null without a readable summary. */
export function readStatus(dir: string): string | null {
  try {
    const s = JSON.parse(readTextChecked(join(dir, "summary.json"), { cap: CAPS.small, expected: "expected the run's summary.json" }));
    return typeof s?.status === "string" ? s.status : "complete";
  } catch { return null; }
}

/** What `dir` is: absent, a file, empty, a (legacy) run, or a folder of other things. */
export function inspectFolder(dir: string): Folder {
  if (!existsSync(dir)) return { kind: "absent" };
  if (!statSync(dir).isDirectory()) return { kind: "file" };
  const entries = readdirSync(dir).filter((f) => f !== LOCK_FILE && !STALE_LOCK.test(f));
  if (entries.length === 0) return { kind: "empty" };
  const has = (f: string) => entries.includes(f);
  const manifest = has(MANIFEST_FILE) ? readManifest(dir) : null;
  const hasConfig = has("config.json");
  if (manifest === null && !(hasConfig && (has("summary.json") || has("metrics.jsonl")))) return { kind: "foreign", entries };
  const status = readStatus(dir);
  const unfinished = listCheckpoints(dir).length > 0 || has(CHECKPOINT_DIR) || (hasConfig && (status === null || status === "interrupted"));
  return { kind: "run", manifest, status, unfinished, hasConfig };
}

/** The one-line refusal of a folder that is not a run, naming a few of the things in it. */
export function notARun(dir: string, entries: string[], advice: string): InputError {
  return new InputError(`${dir}: is not a gradlab run folder (it holds ${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", …" : ""}); ${advice}`);
}

/**
 * Remove `files` (manifest paths) from `dir`, with writeFileAtomic's temporary files of them;
 * the checkpoint folder entirely, other folders only once empty. Nothing else is touched.
 */
export function removeListed(dir: string, files: readonly string[]): void {
  const listed = new Set(files);
  const parents = new Set<string>();
  for (const f of files) {
    try { rmSync(join(dir, f), { recursive: f === CHECKPOINT_DIR, force: true }); } catch { /* a folder where a file was listed: not ours */ }
    parents.add(dirname(f));
  }
  for (const p of parents) {
    const folder = join(dir, p);
    let names: string[];
    try { names = readdirSync(folder); } catch { continue; }
    for (const n of names) {
      const target = tempTarget(n);
      if (target !== null && listed.has(p === "." ? target : `${p}/${target}`)) rmSync(join(folder, n), { force: true });
    }
    if (p !== ".") try { rmdirSync(folder); } catch { /* not empty: something not ours is in it */ }
  }
}

/** Remove a finished run that is being replaced: the files its manifest lists, and the manifest. */
export function removeRun(dir: string, manifest: Manifest): void {
  removeListed(dir, [...manifest.files, MANIFEST_FILE]);
  for (const n of safeReaddir(dir)) if (STALE_LOCK.test(n)) rmSync(join(dir, n), { force: true });
}

/** The manifest of a run folder in use: it lists a file before gradlab writes it. */
export class ManifestFile {
  private readonly files: string[];
  constructor(readonly dir: string, files: readonly string[]) { this.files = [...files]; }

  get listed(): readonly string[] { return this.files; }

  /** Write run.json as it stands. */
  write(): void {
    const m: Manifest = { format: FORMAT, version: VERSION, files: this.files };
    writeFileAtomic(join(this.dir, MANIFEST_FILE), JSON.stringify(m, null, 2) + "\n");
  }

  /** List more files (absolute paths or paths relative to the folder); rewrites run.json when any is new. */
  add(files: readonly string[]): void {
    const fresh = files
      .map((f) => relative(this.dir, resolve(this.dir, f)).split(sep).join("/"))
      .filter((f) => safeEntry(f) && !this.files.includes(f));
    if (fresh.length === 0) return;
    this.files.push(...fresh);
    this.write();
  }
}

/**
 * Before a resumed session: remove the previous session's (partial) results and the temporary
 * files of its own files; config.json, metrics.jsonl and the checkpoints stay. A legacy run's
 * results are the names older gradlab wrote. Returns the manifest the session goes on with.
 */
export function clearResults(dir: string, manifest: Manifest | null): ManifestFile {
  const listed = manifest ? manifest.files : [...SESSION_FILES, ...LEGACY_RESULTS];
  removeListed(dir, listed.filter((f) => !SESSION_FILES.includes(f)));
  // The session's own files stay; only their temporary files go (and run.json's), and every one in checkpoint/.
  for (const n of safeReaddir(dir)) {
    const t = tempTarget(n);
    if ((t !== null && (SESSION_FILES.includes(t) || t === MANIFEST_FILE)) || STALE_LOCK.test(n)) rmSync(join(dir, n), { force: true });
  }
  for (const n of safeReaddir(join(dir, CHECKPOINT_DIR))) if (tempTarget(n) !== null) rmSync(join(dir, CHECKPOINT_DIR, n), { force: true });
  const m = new ManifestFile(dir, manifest ? manifest.files : RUN_FILES);
  m.write();
  return m;
}

/**
 * After an OS error (a full disk, a read-only folder…) ended the session writing `dir`: leave the
 * folder in a state its manifest describes and say what is left, for the error's one line. The
 * partial results (summary, weights, report) go. With a checkpoint the session's files stay and
 * the run resumes from it; without one, a fresh run's files all go (the folder too, when this
 * run created it) and a resumed run's stay, resumable from step 0. Removing needs no free space.
 * @example settleFailedRun("runs/x", RUN_FILES, { fresh: true, created: true }) // "nothing was kept"
 */
export function settleFailedRun(dir: string, listed: readonly string[], run: { fresh: boolean; created: boolean }): string {
  removeListed(dir, listed.filter((f) => !SESSION_FILES.includes(f)));
  const newest = listCheckpoints(dir)[0];
  const resume = `gradlab run --resume ${shownPath(dir)}`;
  if (newest) return `the run is kept up to its checkpoint at step ${newest.step}; once that is fixed, carry it on with: ${resume}`;
  if (!run.fresh) return `the run stays resumable from step 0: ${resume}`;
  removeListed(dir, [...listed, MANIFEST_FILE]);
  for (const n of safeReaddir(dir)) if (n === LOCK_FILE || STALE_LOCK.test(n)) rmSync(join(dir, n), { force: true });
  if (run.created) try { rmSync(dir, { recursive: true, force: true }); } catch { /* the folder stays, empty */ }
  return "nothing was kept";
}

function safeReaddir(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}
