/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ from the current source),
 * the tarball installed into an empty folder, and then, with nothing of the checkout in reach:
 * the command (`npx gradlab`), the README's library example (read from README.md, so the README
 * cannot drift from the package), and a TypeScript consumer checked against the installed
 * declarations. Also: what the tarball holds, and that training through the library loads no
 * report code. Expected values come from package.json and the README itself.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packAndInstall, ROOT, type Installed } from "../../scripts/pack-install.ts";
import { gradlab } from "../helpers/cli.ts";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
const tmp = mkdtempSync(join(tmpdir(), "gradlab-pack-"));
let installed: Installed;

beforeAll(() => { installed = packAndInstall(tmp); }, 240_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Run a program in the consumer folder; env PATH as the user's. */
function run(cmd: string, args: string[], opts: { env?: Record<string, string> } = {}) {
  const r = spawnSync(cmd, args, { cwd: installed.dir, encoding: "utf8", timeout: 120_000, env: { ...process.env, ...opts.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The ```ts block of README.md's "## Library" section: the example the README promises works. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## Library\n"));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m || readme.indexOf("\n## Library\n") < 0) throw new Error("README.md: no ```ts example under ## Library");
  return m[1];
}

describe("the packed package", () => {
  it("holds what runs and nothing else: dist (no web bundle), bin, presets, README, LICENSE", () => {
    const files = installed.files;
    for (const f of ["package.json", "README.md", "LICENSE", "bin/gradlab.js", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "dist/cli/gradlab.js", "dist/cli/sweep-worker.boot.js", "dist/cli/helper.boot.js", "experiments/seed.json"]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /^(src|test|bench|scripts|docs)\/|^dist\/web\/|\.ts$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
    // the installed package needs no TypeScript loader
    const installedPkg = JSON.parse(readFileSync(join(installed.packageDir, "package.json"), "utf8"));
    expect(Object.keys(installedPkg.dependencies)).not.toContain("tsx");
    expect(existsSync(join(installed.dir, "node_modules", "tsx"))).toBe(false);
    // nor a chart library: the report draws its SVG itself (src/report/svg.ts); ECharts is the browser lab's, built from the repository
    expect(Object.keys(installedPkg.dependencies)).not.toContain("echarts");
    expect(existsSync(join(installed.dir, "node_modules", "echarts"))).toBe(false);
  });

  it("npx gradlab --version prints package.json's version", () => {
    const r = run("npx", ["--no", "--", "gradlab", "--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`gradlab/${pkg.version} `);
  });

  it("npx gradlab run seed --epochs 1 --train 5000 writes the run folder the source writes, byte for byte", () => {
    const args = ["run", "seed", "--epochs", "1", "--train", "5000", "--no-png"];
    // --threads 2 starts the kernels' helper thread through dist/cli/helper.boot.js; its results are those of one thread
    const r = run("npx", ["--no", "--", "gradlab", ...args, "--out", "runs/seed", "--threads", "2"]);
    expect(r.stderr).not.toMatch(/Error|error:/);
    expect(r.code).toBe(0);
    const packed = join(installed.dir, "runs/seed");
    const summary = JSON.parse(readFileSync(join(packed, "summary.json"), "utf8"));
    expect(summary.status).toBe("complete");
    expect(summary.steps).toBe(Math.ceil(5000 / 32)); // one epoch of 5000 examples in batches of 32 (seed.json)
    expect(existsSync(join(packed, "report.html"))).toBe(true);
    // The same run from the checkout's TypeScript source: the compiled package computes the same bytes.
    const source = join(tmp, "source-run");
    const s = gradlab([...args, "--out", source, "--quiet"]);
    expect(s.code).toBe(0);
    for (const f of ["metrics.jsonl", "weights.safetensors"]) expect(readFileSync(join(packed, f)).equals(readFileSync(join(source, f)))).toBe(true);
  });

  it("npx gradlab sweep runs its runs on worker threads started from dist/cli/sweep-worker.boot.js", () => {
    const r = run("npx", ["--no", "--", "gradlab", "sweep", "seed", "--epochs", "1", "--train", "200", "--test", "100", "--workers", "1", "--out", "runs/sweep", "--quiet"]);
    expect(r.code).toBe(0);
    // a single config as a sweep is a suite of one run, labelled "run"
    expect(JSON.parse(readFileSync(join(installed.dir, "runs/sweep/run/summary.json"), "utf8")).steps).toBe(Math.ceil(200 / 32));
  });

  it("runs the README's library example, which prints step and first-layer ‖δ‖ per record", () => {
    writeFileSync(join(installed.dir, "readme-example.mjs"), readmeExample());
    const r = run(process.execPath, ["readme-example.mjs"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    // seed.json: record every 100 steps, 9375 steps (5 epochs × 1875): steps 0, 100, …, 9300 and the last, 9374
    expect(lines[0]).toMatch(/^0 0\.0\d+$/); // ‖δ‖ of dense1 at initialization is 0.0150 (README's table)
    expect(lines[1]).toMatch(/^100 \d/);
    expect(lines.filter((l) => /^\d+ [\d.e-]+$/.test(l))).toHaveLength(95);
    const [acc, verdict] = lines[lines.length - 1].split(" ");
    expect(Number(acc)).toBeGreaterThan(0.8); // README: 84.5% after 5 epochs, seed 1
    expect(verdict).toBe("vanishing");
  });

  it("trains through the library without loading the report or PNG code", () => {
    // A resolve hook logs every module the process loads.
    writeFileSync(join(installed.dir, "hooks.mjs"), `import { appendFileSync } from "node:fs";
export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(process.env.MODULE_LOG, r.url + "\\n"); return r; }`);
    writeFileSync(join(installed.dir, "log-modules.mjs"), `import { register } from "node:module"; register("./hooks.mjs", import.meta.url);`);
    writeFileSync(join(installed.dir, "train-only.mjs"), `import { parseConfig, train, presets } from "gradlab";
const config = parseConfig({ ...presets.seed, data: { dataset: "mnist", view: "flat", train: 640, test: 100 }, train: { epochs: 1, batchSize: 32, seed: 1 } });
const run = await train(config);
console.log(run.summary.steps);`);
    const log = join(installed.dir, "modules.log");
    const r = run(process.execPath, ["--import", "./log-modules.mjs", "train-only.mjs"], { env: { MODULE_LOG: log } });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("20"); // 640 examples / batch 32
    const loaded = readFileSync(log, "utf8").split("\n");
    expect(loaded.some((u) => u.includes("/node_modules/gradlab/dist/experiment/trainer.js"))).toBe(true); // the log works
    expect(loaded.filter((u) => /\/dist\/report\/|echarts|resvg/.test(u))).toEqual([]);
  });

  it("its declarations type-check a TypeScript consumer, and are not `any`", () => {
    writeFileSync(join(installed.dir, "readme-example.ts"), readmeExample());
    writeFileSync(join(installed.dir, "consumer.ts"), `import { parseConfig, train, presets, createTrainer, decodeSafetensors, diagnose, renderReport, VERSION,
  type Config, type StepRecord, type Summary, type TrainedRun, type LayerSpec } from "gradlab";
const layers: LayerSpec[] = [{ type: "dense", units: 10 }];
const config: Config = parseConfig({ ...(presets.seed as object), model: { layers } });
const onRecord = (r: StepRecord): number | null => r.layers[0].deltaNorm;
const run: TrainedRun = await train(config, { onRecord, signal: AbortSignal.timeout(1000), report: false });
const summary: Summary = run.summary;
const verdict: "healthy" | "vanishing" | "exploding" | "diverged" | "dead" | "stopped" = summary.diagnosis.verdict;
const names: string[] = run.model.params.map((p) => p.name);
const grad: Float32Array | Float64Array = run.model.params[0].grad;
const rec: StepRecord | null = createTrainer(config).trainStep();
const tensors = decodeSafetensors(new Uint8Array(0), "w").tensors;
const html: Promise<string> = renderReport(run);
diagnose(run.first, run.last);
// Each line below is an error only if the declarations carry real types (\`any\` would pass it).
// @ts-expect-error testAccuracy is a number
const wrong: string = summary.testAccuracy;
// @ts-expect-error deltaNorm is number | null
const wrongDelta: string = run.records[0].layers[0].deltaNorm;
// @ts-expect-error the config's optimizer type is a closed union
const wrongOpt: Config["optimizer"]["type"] = "lbfgs";
export { verdict, names, grad, rec, tensors, html, wrong, wrongDelta, wrongOpt, VERSION };
`);
    // A plain Node project: no DOM library, and skipLibCheck as `tsc --init` sets it (README, Library).
    writeFileSync(join(installed.dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true,
        skipLibCheck: true, lib: ["ES2022"], types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")],
      },
      files: ["consumer.ts", "readme-example.ts"],
    }));
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const r = run(process.execPath, [tsc, "-p", "tsconfig.json"]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
