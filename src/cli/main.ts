/**
 * The `gradlab` command. Bad input of any kind ends in one line on stderr naming what is wrong
 * and what was expected, and exit code 2; anything else escaping is a bug (exit 1, with stack).
 *
 * Start-up: this file imports only what parsing needs (cac and a few small modules); each
 * command's code (the engine, the data loaders, the report's charts and resvg) is imported
 * inside its action, so `gradlab --version`, `--help` and a mistyped option answer at once.
 */
import { cac, type Command } from "cac";
import { writeSync } from "node:fs";
import { InputError } from "../core/errors.ts";
import { errorLine, isSystemError, OsError } from "../data/os-error.ts";
import { closest } from "../experiment/suggest.ts";
import { VERSION } from "../version.ts";
import { printableLine } from "./printable.ts";

const cli = cac("gradlab");

// `gradlab … | head` closes our stdout early: the run goes on to the end (its folder is what
// matters) and the rest of the output is dropped, instead of crashing on EPIPE. Any other
// failure to write the output (`> /dev/full`, a full disk) is dropped the same way, then named
// in one line on the other stream at exit, with exit code 2 so a script sees it.
let outputFailure: string | null = null;
for (const [name, stream, other] of [["standard output", process.stdout, 2], ["standard error", process.stderr, 1]] as const) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" || outputFailure !== null) return;
    const dropped = "the output from there on was dropped";
    outputFailure = isSystemError(e) ? new OsError(name, e.code, "writing", dropped).message : `${name}: ${e.message}; ${dropped}`;
    process.once("exit", () => {
      try { writeSync(other, `gradlab: ${outputFailure}\n`); } catch { /* nowhere left to say it */ }
      if (!process.exitCode) process.exitCode = 2;
    });
  });
}

/** What `gradlab help <command>` and `gradlab <command> --help` say beyond the options. */
interface CommandHelp { details: string; examples: string[] }

const HELP: Record<string, CommandHelp> = {
  run: {
    details: `Trains the network of a preset (see \`gradlab presets\`) or a config file on MNIST and writes a
run folder: config.json, metrics.jsonl (the gradient reaching every layer and time step at each
recorded step), summary.json (accuracy, loss, the diagnosis), weights.safetensors (PyTorch's
names) and report.html. A suite file runs all its runs, as \`gradlab sweep\` does. Ctrl-C stops
at the next step with a checkpoint; --resume DIR continues from it.`,
    examples: [
      "gradlab run seed",
      "gradlab run seed --epochs 1 --train 5000 --out runs/quick",
      "gradlab run my-config.json --seed 2 --png",
      "gradlab run seed --json --quiet | jq .testAccuracy",
      "gradlab run --resume runs/seed",
    ],
  },
  grads: {
    details: `Computes the gradient of the mean loss over training examples A..B-1 (in file order, no
shuffling, no update) for the given weights, writes it under the weights' names, and prints
{"loss", "examples", "out"} as one JSON line. For comparing gradlab with another framework.`,
    examples: [
      "gradlab grads seed --weights runs/seed/weights.safetensors --examples 0:32 --out g.safetensors",
    ],
  },
  sweep: {
    details: `Runs every run of a suite (or the one config) on worker threads, one run folder each under
--out, then prints a table and writes a comparison report. --shard i/n runs every n-th run from
i; under a batch scheduler it defaults from JOB_COMPLETION_INDEX/JOB_COMPLETIONS (Kubernetes
Indexed Job) or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (SLURM job array, ids counted from
SLURM_ARRAY_TASK_MIN in steps of SLURM_ARRAY_TASK_STEP). --resume keeps finished runs.`,
    examples: [
      "gradlab sweep depth --epochs 1 --train 5000",
      "gradlab sweep rnn-time --shard 0/4 --out runs/rnn-time",
      "gradlab sweep init --json > init.json",
      "gradlab sweep depth --resume --out runs/depth",
    ],
  },
  report: {
    details: "Re-renders report.html, metrics.csv and the charts (PNG) of a run folder from its files.",
    examples: ["gradlab report runs/seed", "gradlab report runs/seed --no-png"],
  },
  compare: {
    details: `Overlays runs in one report with shared axes and prints their table (accuracy, verdict,
first/last layer and time-step gradient ratios). A suite folder stands for the runs inside it.`,
    examples: [
      "gradlab compare runs/depth",
      "gradlab compare runs/seed runs/remedies/relu-he --out runs/seed-vs-relu",
      "gradlab compare runs/depth --json --no-png",
    ],
  },
  presets: {
    details: "Lists the preset experiments (experiments/*.json) with their descriptions and run counts.",
    examples: ["gradlab presets"],
  },
  replicate: {
    details: `Runs a classic paper's experiments as a suite on worker threads, prints the paper's numbers
beside gradlab's (quantity | paper | gradlab | tolerance | holds) and writes DIR/replication.json
and DIR/report.html with the paper's figures re-drawn from the runs. Run it again to carry on
after an interrupt (finished runs are kept). --quick: a reduced scale, under 10 minutes on two
cores. Without a study: the list of studies with their citations.`,
    examples: ["gradlab replicate", "gradlab replicate nielsen-ch5 --quick", "gradlab replicate he2015 --out runs/he2015"],
  },
  help: {
    details: "Shows a command's description, options and examples.",
    examples: ["gradlab help run", "gradlab help sweep"],
  },
};

/** Adds a command's examples to it. */
function withHelp(command: Command): Command {
  for (const e of HELP[command.name]?.examples ?? []) command.example(`  $ ${e}`);
  return command;
}

withHelp(cli
  .command("run [config]", "train a preset or a config file and write a run folder (or continue one with --resume)")
  .option("--out <dir>", "run folder (default: runs/<name>)")
  .option("--resume <dir>", "continue the interrupted run in this folder from its last checkpoint")
  .option("--epochs <n>", "override train.epochs")
  .option("--seed <s>", "override train.seed")
  .option("--train <n>", "override data.train (number of training examples)")
  .option("--test <n>", "override data.test")
  .option("--every <n>", "override record.every")
  .option("--max-memory <size>", "refuse runs estimated to need more (e.g. 2GB; default: half of this machine's memory)")
  .option("--quiet", "print only the summary")
  .option("--json", "print the run's summary.json as one JSON document on stdout; human text goes to stderr")
  .option("--workers <n>", "for suites: parallel runs (default: the number of cores)")
  .option("--threads <n>", "1 or 2: a second thread for the kernels' large products and cell steps (same results). Default: 2 for recurrent layers of ≥ 64 units and dense layers of ≥ 2^20 weights (fan-in × width), else 1")
  .option("--png", "also export every chart as charts/<id>.png, for slides (about a second more; report.html has them as SVG)")
  .action(async (arg, opts) => (await import("./commands/run.ts")).runCommand(arg, opts)));

withHelp(cli
  .command("grads <config>", "gradients of the mean loss over training examples A..B-1 (no shuffling, no update)")
  .option("--weights <file>", "weights (.safetensors, PyTorch names)")
  .option("--examples <A:B>", "half-open range of training examples", { default: "0:32" })
  .option("--out <file>", "where to write the gradients (.safetensors)")
  .action(async (arg, opts) => (await import("./commands/grads.ts")).gradsCommand(arg, opts)));

withHelp(cli
  .command("sweep <file>", "run a suite or sweep grid on worker threads (one run folder each)")
  .option("--out <dir>", "root folder (default: runs/<name>)")
  .option("--workers <n>", "parallel runs (default: the number of cores)")
  .option("--shard <i/n>", "run only every n-th run starting at i (default: from a Kubernetes Indexed Job's or SLURM array's variables)")
  .option("--epochs <n>", "override train.epochs in every run")
  .option("--seed <s>", "override train.seed in every run")
  .option("--train <n>", "override data.train in every run")
  .option("--test <n>", "override data.test in every run")
  .option("--every <n>", "override record.every in every run")
  .option("--quiet", "one line per finished run")
  .option("--json", "print the table as one JSON document on stdout; human text goes to stderr")
  .option("--png", "also export every run's charts as PNG (slower)")
  .option("--resume", "carry on an interrupted sweep in the same --out: keep finished runs, resume the others from their checkpoints")
  .action(async (file, opts) => (await import("./commands/sweep.ts")).sweepCommand(file, opts)));

withHelp(cli
  .command("report <dir>", "re-render report.html, metrics.csv and charts/*.png of a run folder")
  .option("--no-png", "skip the PNG export")
  .action(async (dir, opts) => (await import("./commands/folders.ts")).reportCommand(dir, opts)));

withHelp(cli
  .command("compare [...dirs]", "overlay runs (run folders, or suite folders) in one report with shared axes")
  .option("--out <dir>", "where to write the comparison (default: runs/compare)")
  .option("--json", "print the comparison table as one JSON document on stdout; human text goes to stderr")
  .option("--no-png", "skip the PNG export")
  .action(async (dirs, opts) => (await import("./commands/folders.ts")).compareCommand(dirs, opts)));

withHelp(cli.command("presets", "list the preset experiments")
  .action(async () => (await import("./commands/presets.ts")).presetsCommand()));

withHelp(cli
  .command("replicate [study]", "replicate a classic paper's experiments: its numbers beside gradlab's (no study: list them)")
  .option("--quick", "a reduced scale: each study in under 10 minutes on two cores")
  .option("--out <dir>", "root folder (default: runs/replicate/<study>[-quick])")
  .option("--workers <n>", "parallel runs (default: the number of cores)")
  .option("--budget <scale>", "tiny, quick or full (tiny: a few steps per run, for tests)")
  .option("--quiet", "no line per finished run")
  .option("--json", "print replication.json (or the list) on stdout; human text goes to stderr")
  .action(async (study, opts) => (await import("./commands/replicate.ts")).replicateCommand(study, opts)));

/** The command whose help is being printed by `gradlab help <command>`. */
let helpTarget: Command | undefined;

withHelp(cli.command("help [command]", "show a command's description, options and examples")
  .action((name: string | undefined) => {
    helpTarget = name === undefined ? cli.globalCommand : commandNamed(name);
    helpTarget.outputHelp();
  }));

// A command's help: its description and details right under the usage line. cac shows a
// negated option's implicit default ("--no-png  skip the PNG export (default: true)"), which
// reads as if the option were on by default: that suffix goes.
cli.help((sections) => {
  for (const s of sections) if (s.title === "Options") s.body = s.body.replace(/^(\s+--no-\S+\s.*?) \(default: true\)$/gm, "$1");
  const c = helpTarget ?? cli.matchedCommand;
  if (!c || c === cli.globalCommand || !HELP[c.name]) return sections;
  const usage = sections.findIndex((s) => s.title === "Usage");
  sections.splice(usage + 1, 0, { body: `${c.description[0].toUpperCase()}${c.description.slice(1)}.\n\n${HELP[c.name].details}` });
  return sections;
});
cli.version(VERSION);

/** One line, exit 2: the contract for bad input. */
function fail(message: string): never {
  process.stderr.write(`gradlab: ${printableLine(message)}\n`);
  process.exit(2);
}

/** A command by name, or the unknown-command refusal with the nearest name. */
function commandNamed(name: string): Command {
  const found = cli.commands.find((c) => c.isMatched(name));
  if (found) return found;
  const names = cli.commands.map((c) => c.name);
  const best = closest(name, names);
  throw new InputError(`unknown command ${JSON.stringify(name)}; ${best !== undefined ? `did you mean ${JSON.stringify(best)}?` : `expected one of ${names.join(", ")}`}`);
}

/** What each option that takes a value expects, for the refusal of an empty one. */
const OPTION_VALUES: Record<string, string> = {
  resume: "a run folder", out: "a path", weights: "a .safetensors file", examples: "a range A:B", shard: "i/n",
  epochs: "a number", seed: "a number", train: "a number", test: "a number", every: "a number",
  "max-memory": "a size", workers: "a number", threads: "1 or 2", budget: "tiny, quick or full",
};

/**
 * The first option given an empty string (`--resume ''`, `--out=`), as a refusal; the parser
 * would read it as 0 and the message would name a folder called "0".
 */
function emptyOption(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--") return null;
    const m = /^--([\w-]+)(=(.*))?$/.exec(args[i]);
    if (!m || !(m[1] in OPTION_VALUES)) continue;
    if (m[2] !== undefined ? m[3] === "" : args[i + 1] === "") return `--${m[1]}: expected ${OPTION_VALUES[m[1]]}, got an empty string`;
  }
  return null;
}

/**
 * The flags a command accepts (its own and the global ones), as typed (`--max-memory`, `-h`),
 * each with whether it takes a value; a boolean `--x` is also accepted as `--no-x` and the other
 * way round, as the parser does. `shown` lists the long flags as declared, for messages.
 */
function flagsOf(command: Command | undefined): { flags: Map<string, boolean>; shown: string[] } {
  const flags = new Map<string, boolean>();
  const shown: string[] = [];
  for (const o of [...(command?.options ?? []), ...cli.globalCommand.options]) {
    const takesValue = /[<[]/.test(o.rawName);
    for (const part of o.rawName.split(",")) {
      const flag = part.trim().split(/[\s<[]/)[0];
      flags.set(flag, takesValue);
      if (!flag.startsWith("--")) continue;
      shown.push(flag);
      if (!takesValue) flags.set(flag.startsWith("--no-") ? `--${flag.slice(5)}` : `--no-${flag.slice(2)}`, false);
    }
  }
  return { flags, shown };
}

/** The first flag in `args` the command does not take, as a refusal naming the nearest flag. */
function unknownFlag(args: string[], command: Command | undefined): string | null {
  const { flags, shown } = flagsOf(command);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") break;
    const short = /^-[A-Za-z]+$/.test(a) ? [...a.slice(1)].map((c) => `-${c}`) : [];
    const typed = /^--[^=]+/.exec(a)?.[0] ?? short.find((f) => !flags.has(f));
    if (typed === undefined) continue;
    if (flags.has(typed)) {
      // its value follows, unless it is given with = or what follows is a flag (the parser's rule)
      if (flags.get(typed) && !a.includes("=") && !/^-[A-Za-z-]/.test(args[i + 1] ?? "")) i++;
      continue;
    }
    const best = closest(typed.replace(/^-+/, ""), shown.map((f) => f.slice(2)));
    const where = command ? ` for "gradlab ${command.name}"` : "";
    return `unknown option ${typed}${where}; ${best !== undefined ? `did you mean --${best}?` : `expected one of ${shown.join(", ")}`}`;
  }
  return null;
}

try {
  const args = process.argv.slice(2);
  const empty = emptyOption(args);
  if (empty) fail(empty);
  cli.parse(process.argv, { run: false }); // prints the help or the version when asked
  const asked = cli.options.help || (cli.options.version && cli.matchedCommandName === undefined);
  if (!asked) {
    if (!cli.matchedCommand && cli.args.length > 0) commandNamed(String(cli.args[0]));
    const unknown = unknownFlag(args, cli.matchedCommand);
    if (unknown) fail(unknown);
    if (!cli.matchedCommand) cli.outputHelp();
    else await cli.runMatchedCommand();
  }
  // The command is done: exit now instead of letting Node take the heap and the kernels' memory
  // apart on its way out (~40 ms of a seed run). After the pending callbacks, so that a failed
  // write has reported itself (above); output still queued (a pipe is written asynchronously on
  // some systems) is left to the natural exit, which flushes it.
  setImmediate(() => { if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(); });
} catch (e) {
  // Bad input and OS errors (a full disk, a read-only folder: os-error.ts) are one line; a bug keeps its stack.
  const line = errorLine(e);
  if (line !== null) fail(line);
  if (e instanceof Error && e.name === "CACError") fail(e.message);
  throw e;
}
