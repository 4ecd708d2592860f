// Scale-out without wrappers: `gradlab sweep` takes its shard from a batch scheduler's variables.
// Expected shards by hand from the schedulers' documented semantics: a Kubernetes Indexed Job
// numbers its pods 0 … completions − 1 in JOB_COMPLETION_INDEX (JOB_COMPLETIONS is set by the
// manifest); a SLURM array task has SLURM_ARRAY_TASK_ID from SLURM_ARRAY_TASK_MIN in steps of
// SLURM_ARRAY_TASK_STEP, SLURM_ARRAY_TASK_COUNT of them (`--array=3-4` → ids 3, 4 → shards 0, 1).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { shardFromEnv } from "../../src/cli/scheduler.ts";
import { tempDir } from "../helpers/cli.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "gradlab.js");
const TIMEOUT = 600_000; // three small sweeps through the CLI; slow on a shared machine

describe("shardFromEnv", () => {
  it("Kubernetes: JOB_COMPLETION_INDEX of JOB_COMPLETIONS", () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: "0", JOB_COMPLETIONS: "1" })).toEqual({ shard: [0, 1], from: "JOB_COMPLETION_INDEX/JOB_COMPLETIONS" });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: "7", JOB_COMPLETIONS: "8" })!.shard).toEqual([7, 8]);
  });

  it("SLURM: the id counted from SLURM_ARRAY_TASK_MIN in steps of SLURM_ARRAY_TASK_STEP", () => {
    const slurm = (id: number, count: number, extra: Record<string, string> = {}) =>
      shardFromEnv({ SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_COUNT: String(count), ...extra })!.shard;
    expect(slurm(0, 4)).toEqual([0, 4]);                                         // --array=0-3, no MIN given: 0
    expect(slurm(3, 4, { SLURM_ARRAY_TASK_MIN: "0", SLURM_ARRAY_TASK_MAX: "3" })).toEqual([3, 4]);
    expect(slurm(1, 8, { SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_MAX: "8" })).toEqual([0, 8]); // --array=1-8
    expect(slurm(8, 8, { SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_MAX: "8" })).toEqual([7, 8]);
    expect(slurm(25, 4, { SLURM_ARRAY_TASK_MIN: "5", SLURM_ARRAY_TASK_MAX: "35", SLURM_ARRAY_TASK_STEP: "10" })).toEqual([2, 4]); // --array=5-35:10
  });

  it("none set: no shard; Kubernetes' variables win over SLURM's", () => {
    expect(shardFromEnv({})).toBeUndefined();
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: "1", JOB_COMPLETIONS: "3", SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "2" })!.shard).toEqual([1, 3]);
  });

  it.each([
    [{ JOB_COMPLETION_INDEX: "2" }, "JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS is not; set JOB_COMPLETIONS to the Job's spec.completions in the container's env, or give --shard i/n"],
    [{ JOB_COMPLETION_INDEX: "2", JOB_COMPLETIONS: "2" }, "JOB_COMPLETION_INDEX: expected a whole number from 0 to 1 (JOB_COMPLETIONS is 2); got 2"],
    [{ JOB_COMPLETION_INDEX: "x", JOB_COMPLETIONS: "2" }, `JOB_COMPLETION_INDEX: expected a whole number from 0 to 1 (JOB_COMPLETIONS is 2); got "x"`],
    [{ JOB_COMPLETION_INDEX: "0", JOB_COMPLETIONS: "0" }, `JOB_COMPLETIONS: expected the number of completions, a whole number ≥ 1; got "0"`],
    [{ JOB_COMPLETION_INDEX: "-1", JOB_COMPLETIONS: "2" }, `JOB_COMPLETION_INDEX: expected a whole number from 0 to 1 (JOB_COMPLETIONS is 2); got "-1"`],
    [{ SLURM_ARRAY_TASK_ID: "1" }, "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; run under sbatch --array, or give --shard i/n"],
    [{ SLURM_ARRAY_TASK_ID: "9", SLURM_ARRAY_TASK_COUNT: "8", SLURM_ARRAY_TASK_MIN: "1" }, "SLURM_ARRAY_TASK_ID: expected one of the 8 ids from 1 in steps of 1; got 9"],
    [{ SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "8", SLURM_ARRAY_TASK_MIN: "1" }, "SLURM_ARRAY_TASK_ID: expected one of the 8 ids from 1 in steps of 1; got 0"],
    [{ SLURM_ARRAY_TASK_ID: "6", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "5", SLURM_ARRAY_TASK_STEP: "10" }, "SLURM_ARRAY_TASK_ID: expected one of the 4 ids from 5 in steps of 10; got 6"],
    // --array=1,2,7: three ids, not evenly spaced
    [{ SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "3", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_MAX: "7" }, "SLURM_ARRAY_TASK_COUNT: 3 tasks from 1 to 7 in steps of 1 is not an evenly spaced range; use sbatch --array=A-B[:S], or give --shard i/n"],
  ])("refuses %j in one line", (env, message) => {
    expect(() => shardFromEnv(env)).toThrow(new InputError(message));
  });
});

/** The real `gradlab` with extra environment variables (and none of the runner's scheduler ones). */
function gradlabEnv(args: string[], env: Record<string, string>, cwd: string) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(JOB_COMPLETION|SLURM_ARRAY)/.test(k)));
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...clean, ...env }, timeout: TIMEOUT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("gradlab sweep under a scheduler", () => {
  const dir = tempDir();
  const suite = {
    name: "tiny", description: "three small runs",
    base: {
      name: "tiny", data: { train: 64, test: 32 },
      model: { layers: [{ type: "dense", units: 4, activation: "$act" }, { type: "dense", units: 10 }] },
      optimizer: { type: "sgd", lr: 0.1 }, train: { epochs: 1, batchSize: 32 }, record: { every: 1 },
    },
    grid: { act: ["sigmoid", "tanh", "relu"] },
  };
  writeFileSync(join(dir, "tiny.json"), JSON.stringify(suite));
  const sweep = (out: string, env: Record<string, string>, extra: string[] = []) => {
    const r = gradlabEnv(["sweep", "tiny.json", "--out", out, "--workers", "1", "--json", ...extra], env, dir);
    expect(r.code, r.stderr).toBe(0);
    return { doc: JSON.parse(r.stdout), stderr: r.stderr };
  };

  it("Kubernetes' and SLURM's variables select the same runs as --shard, with the same bytes; --shard wins", () => {
    // the suite's runs in order: 0 sigmoid, 1 tanh, 2 relu; shard 1/2 is run 1
    const flag = sweep("flag", {}, ["--shard", "1/2"]);
    expect(flag.doc.shard).toEqual([1, 2]);
    expect(flag.doc.runs.map((r: { label: string }) => r.label)).toEqual(["act=tanh"]);

    const k8s = sweep("k8s", { JOB_COMPLETION_INDEX: "1", JOB_COMPLETIONS: "2" });
    expect(k8s.stderr).toContain("gradlab: shard 1/2 from JOB_COMPLETION_INDEX/JOB_COMPLETIONS");
    expect(k8s.doc.runs.map((r: { label: string }) => r.label)).toEqual(["act=tanh"]);

    // sbatch --array=3-4: the second task
    const slurm = sweep("slurm", { SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_COUNT: "2", SLURM_ARRAY_TASK_MIN: "3", SLURM_ARRAY_TASK_MAX: "4" });
    expect(slurm.stderr).toContain("gradlab: shard 1/2 from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT");
    expect(slurm.doc.runs.map((r: { label: string }) => r.label)).toEqual(["act=tanh"]);

    // the same run, seeded alike, trained in each: byte-identical metrics
    const metrics = (root: string) => readFileSync(join(dir, root, "act=tanh", "metrics.jsonl"));
    expect(metrics("k8s").equals(metrics("flag"))).toBe(true);
    expect(metrics("slurm").equals(metrics("flag"))).toBe(true);

    // an explicit --shard wins over the variables
    const both = sweep("both", { JOB_COMPLETION_INDEX: "0", JOB_COMPLETIONS: "2" }, ["--shard", "1/2"]);
    expect(both.stderr).not.toContain("from JOB_COMPLETION_INDEX");
    expect(both.doc.runs.map((r: { label: string }) => r.label)).toEqual(["act=tanh"]);
  }, TIMEOUT);

  it("a bad variable is one line, exit 2, and nothing is written", () => {
    const r = gradlabEnv(["sweep", "tiny.json", "--out", "bad"], { JOB_COMPLETION_INDEX: "2", JOB_COMPLETIONS: "2" }, dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("gradlab: JOB_COMPLETION_INDEX: expected a whole number from 0 to 1 (JOB_COMPLETIONS is 2); got 2\n");
    expect(existsSync(join(dir, "bad"))).toBe(false);
  }, TIMEOUT);
});
