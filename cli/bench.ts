/**
 * `moebench bench`: the benchmark suites. `--suite standard` (the default without `--model`) runs
 * the versioned standard on its generated models and gives the headline score; `load`, `cache`,
 * `tokens` and `quality` run one suite, on the spec's models or on the user's `--model`. Every
 * run writes one results file (`--out`, rewritten after each task, so `--resume` continues an
 * interrupted run) and prints its records as a table, CSV or JSON.
 * @module
 */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { openGGUF } from "../engine/gguf/read.ts";
import { readConfig } from "../engine/model/config.ts";
import { inspectModel } from "../engine/model/inspect.ts";
import { decodeBytesOf } from "../profiles/probe/roofline.ts";
import { loadTokenizer } from "../engine/tokenizer/tokenizer.ts";
import type { MachineProfile } from "../profiles/machine.ts";
import { profileMachine } from "../profiles/machine.ts";
import { MachineSchema } from "../profiles/machine_schema.ts";
import { cacheTasks } from "../suites/cache.ts";
import { type Format, formatResults, FORMATS } from "../suites/format.ts";
import { loadTasks } from "../suites/load.ts";
import { qualityTasks } from "../suites/quality.ts";
import type { ResultsFile, SuiteName } from "../suites/results.ts";
import { type RunOutput, type RunPlan, runPlan } from "../suites/run.ts";
import { SPEC_ID, STANDARD } from "../suites/spec.ts";
import { specModels, standardPlan, standardText, standardTextFor } from "../suites/standard.ts";
import { type BenchModel, benchModel, type Task } from "../suites/task.ts";
import { type PromptGen, tokensTasks } from "../suites/tokens.ts";
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

/** A whole number, 0 allowed (a context depth). */
function parseNonNegative(value: string): number {
  return value === "0" ? 0 : parseWholeNumber(value);
}

/** `16,64,256`: prompt lengths. */
function parseLengths(value: string): number[] {
  return value.split(",").map((item) => parseWholeNumber(item.trim()));
}

/** `512,128` (llama-bench's `-pg`): a prompt length and the tokens decoded after it. */
function parsePromptGen(value: string, given: PromptGen[]): PromptGen[] {
  const parts = parseLengths(value);
  if (parts.length !== 2) {
    throw new InvalidArgumentError(`expected PROMPT,GEN such as 512,128, got "${value}"`);
  }
  return [...given, { prompt: parts[0]!, gen: parts[1]! }];
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
    .option(
      "--model <file>",
      "your GGUF model (default: the spec's generated models); repeat it with --suite quality " +
        "to compare several with --reference in one results file",
      (file: string, files: string[]) => [...files, file],
      [] as string[],
    )
    .option("--reference <file>", "quality: the model --model is compared against (KL)")
    .option("--text <file>", "quality: UTF-8 text to score (default: the spec's token sequence)")
    .option(
      "--pp <lengths>",
      "tokens: prompt lengths of the prefill tests",
      parseLengths,
      [...STANDARD.tokens.promptLengths],
    )
    .option("--tg <n>", "tokens: tokens of the decode test", parseWholeNumber)
    .option(
      "--pg <prompt,gen>",
      "tokens: also a prompt then that many tokens decoded, timed together (llama-bench's -pg); " +
        "repeatable",
      parsePromptGen,
      [] as PromptGen[],
    )
    .option(
      "--depth <depths>",
      "tokens: context depths (tokens already in the context) to measure at, e.g. 0,512,2048",
      (value: string) => value.split(",").map((item) => parseNonNegative(item.trim())),
    )
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
      const suite: SuiteName = options.suite ?? (options.model.length ? "tokens" : "standard");
      const quiet = format === "json";
      if (options.resume && !options.out) throw new UsageError("--resume needs --out");
      const plan = await planFor(suite, options, command.getOptionValueSource("pp") === "cli");
      const machine = options.machine
        ? await readMachine(options.machine)
        : await profileHere(plan.models[0]!.path, quiet);
      const results = await runWithProgress(plan, {
        out: options.out ?? null,
        resume: options.resume === true,
        machine,
        quiet,
      });
      if (format === "json") printJson(results);
      else console.log(formatResults(results, format));
      if (options.out && format !== "json") console.error(`results: ${options.out}`);
    });
}

/** What `bench`'s options parse to, config file applied. */
interface BenchOptions extends EngineOptions {
  /** `--model`, in order (several only for the quality suite). */
  readonly model: readonly string[];
  readonly reference?: string;
  readonly text?: string;
  readonly pp: number[];
  readonly tg?: number;
  readonly pg: PromptGen[];
  readonly depth?: number[];
  readonly reps?: number;
  readonly peer?: "llama.cpp";
  readonly config?: string;
}

/** The engine a suite runs with: the backend and threads, and a config file's settings. */
function engineOf(options: BenchOptions): EngineOptions {
  const {
    model: _m,
    reference: _r,
    text: _t,
    pp: _p,
    tg: _g,
    pg: _pg,
    depth: _d,
    reps: _s,
    peer: _e,
    ...engine
  } = options;
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
    const model = options.model[0];
    for (const [given, flag] of [[model, "--model"], [options.config, "--config"]]) {
      if (given !== undefined) {
        throw new UsageError(
          `the standard suite runs its own models and settings: drop ${flag}, or choose ` +
            "--suite load|cache|tokens|quality",
        );
      }
    }
    if (
      ppGiven || options.tg !== undefined || options.pg.length || options.depth ||
      options.reps !== undefined
    ) {
      throw new UsageError(
        "the standard suite's tests are fixed by its spec: drop --pp/--tg/--pg/--depth/--reps",
      );
    }
    return await standardPlan(engine, { peer });
  }
  if (suite !== "quality" && (options.reference || options.text)) {
    throw new UsageError("--reference and --text belong to --suite quality");
  }
  if (suite !== "quality" && options.model.length > 1) {
    throw new UsageError("one --model per run; only --suite quality compares several");
  }
  const own = options.model.length ? await benchModel(options.model[0]!, null) : null;
  const main = own ?? (await specModels([STANDARD.models.main]))[0]!;
  const reps = options.reps ?? STANDARD.tokens.repetitions;
  let models: BenchModel[] = [main];
  let tasks: Task[];
  if (suite === "tokens") {
    tasks = tokensTasks(main, {
      promptLengths: options.pp,
      genTokens: options.tg ?? STANDARD.tokens.genTokens,
      promptGen: options.pg,
      repetitions: reps,
      warmup: 1,
      depths: options.depth ?? [0],
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
      model: options.model.length ? options.model.join(",") : null,
      reference: options.reference ?? null,
      text: options.text ?? null,
      pp: options.pp.join(","),
      tg: options.tg ?? null,
      pg: options.pg.length ? options.pg.map((t) => `${t.prompt},${t.gen}`).join(";") : null,
      depth: options.depth?.join(",") ?? null,
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
  if (!options.model.length) {
    if (options.reference || options.text) {
      throw new UsageError("--reference and --text need --model (the model to measure)");
    }
    const { models } = STANDARD;
    const [reference, ...variants] = await specModels([
      models.qualityReference,
      ...models.qualityVariants,
    ]);
    return { reference: reference!, variants, text: await standardTextFor(reference!) };
  }
  const variants = [];
  for (const file of options.model) variants.push(await benchModel(file, null));
  const reference = options.reference ? await benchModel(options.reference, null) : null;
  // the text is tokenized by the first model's tokenizer: variants of one model share it
  using gguf = await openGGUF(options.model[0]!);
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
  return { reference, variants, text: text.slice(0, ctx * chunks) };
}

/** `--machine FILE`: a machine profile (`moebench profile --out`), validated. */
export function readMachine(file: string): Promise<MachineProfile> {
  return readJsonFile(file, MachineSchema, "moebench machine profile", (m) => new UsageError(m));
}

/**
 * A quick profile of this machine, with the decode roofline of the model at `model` and the disk
 * of its folder measured.
 */
export async function profileHere(model: string, quiet: boolean): Promise<MachineProfile> {
  const folder = model.includes("/") ? model.slice(0, model.lastIndexOf("/")) || "/" : ".";
  using gguf = await openGGUF(model);
  const bytes = decodeBytesOf(inspectModel(gguf));
  const progress = stepProgress("profile", progressEnabled(quiet));
  try {
    return await profileMachine({
      folder,
      quick: true,
      ...(bytes ? { model: { path: model, ...bytes } } : {}),
      onStep: (name, index, count) => {
        progress.step(name);
        progress.update(index, count);
      },
    });
  } finally {
    progress.stop();
  }
}

/** Runs `plan` with a progress bar (and, writing a file, a word on Ctrl-C). */
export async function runWithProgress(
  plan: RunPlan,
  output: Omit<RunOutput, "onTask"> & { readonly quiet: boolean },
): Promise<ResultsFile> {
  const progress = stepProgress("bench", progressEnabled(output.quiet));
  const stopListening = output.out ? sayWhereOnInterrupt(output.out) : () => {};
  try {
    return await runPlan(plan, {
      ...output,
      onTask: (index, count, label) => {
        progress.step(label);
        progress.update(index, count);
      },
    });
  } finally {
    progress.stop();
    stopListening();
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
