/**
 * `moebench bench`: the benchmark suites. `--suite standard` (the default without `--model`) runs
 * the versioned standard on its generated models and gives the headline score; `load`, `cache`,
 * `tokens` and `quality` run one suite, on the spec's models or on the user's `--model`. Every
 * run writes one results file (`--out`, rewritten after each task, so `--resume` continues an
 * interrupted run) and prints its records as a table, CSV or JSON.
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import { openGGUF } from "../engine/gguf/read.ts";
import { readConfig } from "../engine/model/config.ts";
import { loadTokenizer } from "../engine/tokenizer/tokenizer.ts";
import type { MachineProfile } from "../profiles/machine.ts";
import { profileMachine } from "../profiles/machine.ts";
import { MachineSchema } from "../profiles/machine_schema.ts";
import { cacheTasks } from "../suites/cache.ts";
import { type Format, formatResults, FORMATS } from "../suites/format.ts";
import { loadTasks } from "../suites/load.ts";
import { qualityTasks } from "../suites/quality.ts";
import type { ResultsFile, SuiteName } from "../suites/results.ts";
import { type RunPlan, runPlan } from "../suites/run.ts";
import { SPEC_ID, STANDARD } from "../suites/spec.ts";
import { specModels, standardPlan, standardText } from "../suites/standard.ts";
import { type BenchModel, benchModel, type Task } from "../suites/task.ts";
import { tokensTasks } from "../suites/tokens.ts";
import { cacheDir } from "../util/cache_dir.ts";
import { readJsonFile } from "../util/json_file.ts";
import { progressEnabled, stepProgress } from "../util/progress.ts";
import { parseWholeNumber, printJson, UsageError } from "./common.ts";
import {
  backendOption,
  configOption,
  type EngineOptions,
  threadsOption,
  withEngineConfig,
} from "./engine_options.ts";

/** `16,64,256`: prompt lengths. */
function parseLengths(value: string): number[] {
  return value.split(",").map((item) => parseWholeNumber(item.trim()));
}

/** The `bench` command. */
export function benchCommand() {
  return new Command("bench")
    .description(
      "run the standardized benchmark (default) or one suite: load, cache, tokens, quality",
    )
    .addOption(
      new Option(
        "--suite <name>",
        "suite to run (default: standard, or tokens with --model)",
      ).choices(["standard", "load", "cache", "tokens", "quality"] as const),
    )
    .option("--model <file>", "your GGUF model (default: the spec's generated models)")
    .option("--reference <file>", "quality: the model --model is compared against (KL)")
    .option("--text <file>", "quality: UTF-8 text to score (default: the spec's token sequence)")
    .option(
      "--pp <lengths>",
      "tokens: prompt lengths of the prefill tests",
      parseLengths,
      [...STANDARD.tokens.promptLengths],
    )
    .option("--tg <n>", "tokens: tokens of the decode test", parseWholeNumber)
    .option("--reps <n>", "timed repetitions of each test (after one warm-up)", parseWholeNumber)
    .addOption(new Option("--peer <engine>", "also time this engine on the same files")
      .choices(["llama.cpp"] as const))
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(configOption())
    .option(
      "--machine <file>",
      "this machine's profile (`moebench profile --out`): not re-measured",
    )
    .option("--out <file>", "results file to write (after every task)")
    .option("--resume", "continue the interrupted run in --out")
    .addOption(
      new Option("--format <format>", "what to print").choices(FORMATS).default("md" as Format),
    )
    .option("--json", "print the results as JSON (same as --format json)")
    .action(async (parsed, command) => {
      const options = await withEngineConfig(
        parsed,
        (name) => command.getOptionValueSource(name) === "cli",
      );
      const format: Format = options.json ? "json" : options.format;
      const suite: SuiteName = options.suite ?? (options.model ? "tokens" : "standard");
      const quiet = format === "json";
      const progress = stepProgress("bench", progressEnabled(quiet));
      const plan = await planFor(suite, options, command.getOptionValueSource("pp") === "cli");
      const machine = await machineProfile(options.machine, options.model, quiet);
      if (options.resume && !options.out) throw new UsageError("--resume needs --out");
      const stopListening = options.out ? sayWhereOnInterrupt(options.out) : () => {};
      let results: ResultsFile;
      try {
        results = await runPlan(plan, {
          out: options.out ?? null,
          resume: options.resume === true,
          machine,
          onTask: (index, count, label) => {
            progress.step(label);
            progress.update(index, count);
          },
        });
      } finally {
        progress.stop();
        stopListening();
      }
      if (format === "json") printJson(results);
      else console.log(formatResults(results, format));
      if (options.out && format !== "json") console.error(`results: ${options.out}`);
    });
}

/** What `bench`'s options parse to, config file applied. */
interface BenchOptions extends EngineOptions {
  readonly model?: string;
  readonly reference?: string;
  readonly text?: string;
  readonly pp: number[];
  readonly tg?: number;
  readonly reps?: number;
  readonly peer?: "llama.cpp";
  readonly config?: string;
}

/** The engine a suite runs with: the backend and threads, and a config file's settings. */
function engineOf(options: BenchOptions): EngineOptions {
  const { model: _m, reference: _r, text: _t, pp: _p, tg: _g, reps: _s, peer: _e, ...engine } =
    options;
  return engine;
}

/** The tasks (and models, options) of `suite` as the options ask. */
async function planFor(
  suite: SuiteName,
  options: BenchOptions,
  ppGiven: boolean,
): Promise<RunPlan> {
  const engine = engineOf(options);
  const peer = options.peer === "llama.cpp";
  if (suite === "standard") {
    for (const [given, flag] of [[options.model, "--model"], [options.config, "--config"]]) {
      if (given !== undefined) {
        throw new UsageError(
          `the standard suite runs its own models and settings: drop ${flag}, or choose ` +
            "--suite load|cache|tokens|quality",
        );
      }
    }
    if (ppGiven || options.tg !== undefined || options.reps !== undefined) {
      throw new UsageError(
        "the standard suite's tests are fixed by its spec: drop --pp/--tg/--reps",
      );
    }
    return await standardPlan(engine, { peer });
  }
  if (suite !== "quality" && (options.reference || options.text)) {
    throw new UsageError("--reference and --text belong to --suite quality");
  }
  const own = options.model ? await benchModel(options.model, null) : null;
  const main = own ?? (await specModels([STANDARD.models.main]))[0]!;
  const reps = options.reps ?? STANDARD.tokens.repetitions;
  let models: BenchModel[] = [main];
  let tasks: Task[];
  if (suite === "tokens") {
    tasks = tokensTasks(main, {
      promptLengths: options.pp,
      genTokens: options.tg ?? STANDARD.tokens.genTokens,
      repetitions: reps,
      warmup: 1,
      offloadShare: own ? null : STANDARD.tokens.offloadShare,
      peer,
    }, engine);
  } else if (suite === "load") {
    tasks = loadTasks(main, STANDARD.load, reps);
  } else if (suite === "cache") {
    tasks = cacheTasks(main, { ...STANDARD.cache, repetitions: reps }, engine);
  } else {
    const quality = await qualityModels(options);
    models = [...(quality.reference ? [quality.reference] : []), ...quality.variants];
    tasks = qualityTasks(quality, quality.text, STANDARD.quality, engine);
  }
  return {
    suite,
    spec: own ? null : SPEC_ID,
    options: {
      model: options.model ?? null,
      reference: options.reference ?? null,
      text: options.text ?? null,
      pp: options.pp.join(","),
      tg: options.tg ?? null,
      reps,
      peer: options.peer ?? null,
    },
    config: {
      backend: engine.backend,
      threads: engine.threads ?? null,
      expert_budget_bytes: engine.expertBudget && "bytes" in engine.expertBudget
        ? engine.expertBudget.bytes
        : null,
      cache_policy: engine.cachePolicy ?? "lru",
      prefetch_depth: engine.prefetch === "off" ? 0 : engine.prefetchDepth ?? 1,
      prefetch_k: engine.prefetchK ?? null,
      expert_tier: engine.expertTier ?? "disk",
    },
    models,
    tasks,
  };
}

/** The quality suite's models and text: the user's, or the spec's. */
async function qualityModels(options: BenchOptions) {
  if (!options.model) {
    if (options.reference || options.text) {
      throw new UsageError("--reference and --text need --model (the model to measure)");
    }
    const { models } = STANDARD;
    const [reference, ...variants] = await specModels([
      models.qualityReference,
      ...models.qualityVariants,
    ]);
    using gguf = await openGGUF(reference!.path);
    return { reference: reference!, variants, text: standardText(readConfig(gguf).vocabSize) };
  }
  const variant = await benchModel(options.model, null);
  const reference = options.reference ? await benchModel(options.reference, null) : null;
  using gguf = await openGGUF(options.model);
  let text: number[];
  if (options.text) {
    const raw = await Deno.readTextFile(options.text).catch((error) => {
      throw new UsageError(`Cannot read text file "${options.text}": ${error.message}`);
    });
    text = loadTokenizer(gguf).encode(raw);
  } else {
    text = standardText(readConfig(gguf).vocabSize);
  }
  const { ctx, chunks } = STANDARD.quality;
  if (text.length < 2 * ctx) {
    throw new UsageError(
      `${options.text}: ${text.length} tokens; the quality suite needs ${2 * ctx}`,
    );
  }
  return { reference, variants: [variant], text: text.slice(0, ctx * chunks) };
}

/** `--machine FILE`, or a quick profile of this machine (disk: where the models are). */
async function machineProfile(
  file: string | undefined,
  model: string | undefined,
  quiet: boolean,
): Promise<MachineProfile> {
  if (file) {
    return await readJsonFile(
      file,
      MachineSchema,
      "moebench machine profile",
      (message) => new UsageError(message),
    );
  }
  const folder = model?.includes("/")
    ? model.slice(0, model.lastIndexOf("/")) || "/"
    : model
    ? "."
    : cacheDir();
  await Deno.mkdir(folder, { recursive: true });
  const progress = stepProgress("profile", progressEnabled(quiet));
  try {
    return await profileMachine({
      folder,
      quick: true,
      onStep: (name, index, count) => {
        progress.step(name);
        progress.update(index, count);
      },
    });
  } finally {
    progress.stop();
  }
}

/** On Ctrl-C: say that `out` holds every finished task and how to continue; returns a remover. */
function sayWhereOnInterrupt(out: string): () => void {
  const listener = () => {
    console.error(
      `\nmoebench: interrupted; ${out} holds every finished task: continue with --resume`,
    );
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", listener);
  return () => Deno.removeSignalListener("SIGINT", listener);
}
