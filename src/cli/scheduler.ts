/**
 * The shard of a sweep a batch scheduler's array task should run, from the variables the
 * scheduler sets, so `gradlab sweep` needs no wrapper script:
 * - Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0 … completions − 1, set by Kubernetes) and
 *   JOB_COMPLETIONS (the Job's spec.completions; Kubernetes does not set it, the manifest does);
 * - SLURM job array: SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT tasks. Ids need not start at
 *   0 (`--array=1-8`) and may step (`--array=0-30:10`): the shard is
 *   (ID − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP, which must be a whole number below the
 *   count; an irregular list (`--array=1,2,7`) cannot be mapped and is refused.
 * Kubernetes' variables win over SLURM's; an explicit --shard wins over both (main.ts).
 */
import { InputError } from "../core/errors.ts";

/** A shard [i, n] and the variables it came from. */
export interface EnvShard { shard: [number, number]; from: string }

/** A variable's whole number ≥ `min`, or an InputError naming the variable. */
function whole(env: NodeJS.ProcessEnv, name: string, min: number, what: string): number {
  const text = env[name]!;
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new InputError(`${name}: expected ${what}; got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/**
 * The shard the scheduler's variables select, or undefined when none is set.
 * @example shardFromEnv({ JOB_COMPLETION_INDEX: "2", JOB_COMPLETIONS: "4" }) // { shard: [2, 4], from: "JOB_COMPLETION_INDEX/JOB_COMPLETIONS" }
 * @example shardFromEnv({ SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "1" }).shard // [2, 4]
 */
export function shardFromEnv(env: NodeJS.ProcessEnv): EnvShard | undefined {
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    if (env.JOB_COMPLETIONS === undefined) {
      throw new InputError("JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS is not; set JOB_COMPLETIONS to the Job's spec.completions in the container's env, or give --shard i/n");
    }
    const n = whole(env, "JOB_COMPLETIONS", 1, "the number of completions, a whole number ≥ 1");
    const i = whole(env, "JOB_COMPLETION_INDEX", 0, `a whole number from 0 to ${n - 1} (JOB_COMPLETIONS is ${n})`);
    if (i >= n) throw new InputError(`JOB_COMPLETION_INDEX: expected a whole number from 0 to ${n - 1} (JOB_COMPLETIONS is ${n}); got ${i}`);
    return { shard: [i, n], from: "JOB_COMPLETION_INDEX/JOB_COMPLETIONS" };
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    if (env.SLURM_ARRAY_TASK_COUNT === undefined) {
      throw new InputError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; run under sbatch --array, or give --shard i/n");
    }
    const n = whole(env, "SLURM_ARRAY_TASK_COUNT", 1, "the number of array tasks, a whole number ≥ 1");
    const id = whole(env, "SLURM_ARRAY_TASK_ID", 0, "the array task id, a whole number");
    const min = env.SLURM_ARRAY_TASK_MIN === undefined ? 0 : whole(env, "SLURM_ARRAY_TASK_MIN", 0, "the smallest array task id, a whole number");
    const step = env.SLURM_ARRAY_TASK_STEP === undefined ? 1 : whole(env, "SLURM_ARRAY_TASK_STEP", 1, "the array's step, a whole number ≥ 1");
    const max = env.SLURM_ARRAY_TASK_MAX === undefined ? undefined : whole(env, "SLURM_ARRAY_TASK_MAX", 0, "the largest array task id, a whole number");
    if (max !== undefined && min + (n - 1) * step !== max) {
      throw new InputError(`SLURM_ARRAY_TASK_COUNT: ${n} tasks from ${min} to ${max} in steps of ${step} is not an evenly spaced range; use sbatch --array=A-B[:S], or give --shard i/n`);
    }
    const i = (id - min) / step;
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new InputError(`SLURM_ARRAY_TASK_ID: expected one of the ${n} ids from ${min} in steps of ${step}; got ${id}`);
    }
    return { shard: [i, n], from: "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT" };
  }
  return undefined;
}
