/**
 * The `tokens` suite: prefill (pp) and decode (tg) speed as llama-bench measures them — a prompt
 * of N tokens evaluated in batches from an empty context, then M tokens decoded one at a time
 * from an empty context — plus the time to first token (the prefill and picking the first
 * token), and where asked llama-bench's `-pg` test (a prompt, then tokens decoded after it, timed
 * together), with every repetition kept and the warm-ups dropped. Tests are named as llama-bench
 * names them (`test_names.ts`).
 *
 * @example
 * ```ts ignore
 * import { timeTokens } from "./tokens.ts";
 * const seconds = await timeTokens(model, {
 *   promptLengths: [16, 64], genTokens: 32, repetitions: 3, warmup: 1,
 * });
 * console.log(seconds.tg); // seconds of each repetition's 32 decode steps
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import type { LanguageModel } from "../engine/model/language_model.ts";
import { openGGUF } from "../engine/gguf/read.ts";
import { readConfig } from "../engine/model/config.ts";
import { inspectModel } from "../engine/model/inspect.ts";
import { benchWithLlamaCpp } from "../peers/llama_cpp/bench.ts";
import { type EngineOptions, loadModel, offloadOptions } from "../cli/engine_options.ts";
import { type BenchModel, describeEngine, type Task, withExpertCache } from "./task.ts";
import { argmax } from "../engine/sample.ts";
import { type RequiredLabels, type TestRecord, testRecord, type Unit } from "./results.ts";
import { summarize } from "./stats.ts";
import { coefficientOfVariation } from "./compare.ts";
import { type EnergyAvailability, type EnergyMeter, openEnergy } from "./energy.ts";
import { type Conditions, ConditionsMonitor, conditionsSummary } from "./conditions.ts";
import { tokensTestName } from "./test_names.ts";

/**
 * Repetitions past the minimum until the results are steady, as the Phoronix Test Suite runs
 * them: until every test's coefficient of variation is at most `cv`, or `maxRepetitions`, or
 * `maxSeconds` of timed work — whichever comes first (and the records say which).
 */
export interface UntilSteady {
  readonly cv: number;
  readonly maxRepetitions: number;
  readonly maxSeconds: number;
}

/** Why the repetitions stopped: a fixed count, steady (CV), or a limit. */
export type RepetitionsStop = "fixed" | "cv" | "max_count" | "max_time";

/** A prompt-then-decode test (llama-bench's `-pg 512,128`). */
export interface PromptGen {
  readonly prompt: number;
  readonly gen: number;
}

/** What to measure. */
export interface TokensOptions {
  /** A pp test (and a time-to-first-token test) at each prompt length. */
  readonly promptLengths: readonly number[];
  readonly genTokens: number;
  /**
   * llama-bench's `-pg` tests: a prompt of `prompt` tokens, then `gen` tokens decoded after it,
   * timed together (`pp512+tg128`, in tok/s of both).
   */
  readonly promptGen?: readonly PromptGen[];
  /** Timed repetitions (the minimum, with `until`), after `warmup` untimed ones. */
  readonly repetitions: number;
  readonly warmup: number;
  readonly until?: UntilSteady;
  /**
   * Tokens already in the context before each test (llama-bench's `-d`): a prompt then extends
   * it, decoding continues after it; the records are named `pp64@d512`, `tg32@d512`.
   */
  readonly depth?: number;
}

/** Seconds of each timed repetition: per prompt length (pp, ttft), and of the decode run. */
export interface TokensSeconds {
  readonly pp: number[][];
  readonly ttft: number[][];
  readonly tg: number[];
  /** Per prompt-then-decode test. */
  readonly pg: number[][];
  /** Joules of each timed decode run, where an energy meter was given. */
  readonly tgJoules: number[];
  /** What else the machine did during each timed repetition (each test's sample). */
  readonly conditions: Conditions[];
  stop: RepetitionsStop;
  /** The tokens the (last) decode run chose, greedily: what the engine computed, in short. */
  tgTokens: number[];
}

/** The longest prompt of `options`' tests (pp and pp+tg; at least 1). */
function longestPrompt(options: Pick<TokensOptions, "promptLengths" | "promptGen">): number {
  return Math.max(...options.promptLengths, ...(options.promptGen ?? []).map((pg) => pg.prompt), 1);
}

/** The deterministic prompt ids llama-bench-style runs use (ordinary tokens, no BOS). */
export function benchPrompt(length: number, vocabulary: number): number[] {
  return Array.from({ length }, (_, i) => 3 + ((i * 7919) % (vocabulary - 3)));
}

/** Times `model`: each repetition runs every pp test and the tg test, each from position 0. */
export async function timeTokens(
  model: LanguageModel,
  options: TokensOptions,
  meter?: EnergyMeter,
): Promise<TokensSeconds> {
  const promptGen = options.promptGen ?? [];
  const prompt = benchPrompt(longestPrompt(options), model.config.vocabSize);
  const depth = options.depth ?? 0;
  const context = benchPrompt(depth, model.config.vocabSize);
  /** The context the test starts after, put in place untimed. */
  const fillContext = async () => {
    if (depth > 0) await model.prefill(context, 0);
  };
  const seconds: TokensSeconds = {
    pp: options.promptLengths.map(() => []),
    ttft: options.promptLengths.map(() => []),
    tg: [],
    pg: promptGen.map(() => []),
    tgJoules: [],
    conditions: [],
    stop: "fixed",
    tgTokens: [],
  };
  const monitor = ConditionsMonitor.start();
  let firstTimed = 0;
  for (let rep = 0;; rep++) {
    const timed = rep >= options.warmup;
    if (rep === options.warmup) firstTimed = performance.now();
    for (const [i, length] of options.promptLengths.entries()) {
      await fillContext();
      const start = performance.now();
      const logits = await model.prefill(prompt.slice(0, length), depth);
      const prefilled = performance.now();
      argmax(logits); // the first token: what the user waits for
      const first = performance.now();
      if (timed) {
        seconds.pp[i]!.push((prefilled - start) / 1000);
        seconds.ttft[i]!.push((first - start) / 1000);
      }
    }
    await fillContext();
    const joules = timed && meter ? await meter.joules() : 0;
    const start = performance.now();
    let token = prompt[0]!;
    seconds.tgTokens = [];
    for (let pos = depth; pos < depth + options.genTokens; pos++) {
      token = argmax(await model.forward(token, pos));
      seconds.tgTokens.push(token);
    }
    if (timed) seconds.tg.push((performance.now() - start) / 1000);
    if (timed && meter) seconds.tgJoules.push((await meter.joules()) - joules);
    for (const [i, test] of promptGen.entries()) {
      await fillContext();
      const start = performance.now();
      let token = argmax(await model.prefill(prompt.slice(0, test.prompt), depth));
      for (let pos = depth + test.prompt; pos < depth + test.prompt + test.gen; pos++) {
        token = argmax(await model.forward(token, pos));
      }
      if (timed) seconds.pg[i]!.push((performance.now() - start) / 1000);
    }
    const conditions = monitor.sample();
    if (timed) seconds.conditions.push(conditions);
    const stop = timed
      ? repetitionsStop(
        [...seconds.pp, ...seconds.ttft, seconds.tg, ...seconds.pg],
        rep - options.warmup + 1,
        (performance.now() - firstTimed) / 1000,
        options,
      )
      : null;
    if (stop) {
      seconds.stop = stop;
      break;
    }
  }
  return seconds;
}

/**
 * Whether `count` timed repetitions (taking `elapsed` seconds) of the tests whose samples are
 * `series` are enough, and why; null to go on.
 */
export function repetitionsStop(
  series: readonly (readonly number[])[],
  count: number,
  elapsed: number,
  options: Pick<TokensOptions, "repetitions" | "until">,
): RepetitionsStop | null {
  if (count < options.repetitions) return null;
  const until = options.until;
  if (!until) return "fixed";
  const measured = series.filter((s) => s.length > 0);
  if (measured.every((s) => coefficientOfVariation(s) <= until.cv)) return "cv";
  if (count >= until.maxRepetitions) return "max_count";
  if (elapsed >= until.maxSeconds) return "max_time";
  return null;
}

/**
 * The SHA-256 of the decoded token ids (comma-separated): the standard checks it against the
 * spec's, so that a wrong engine or a corrupted model is flagged rather than ranked.
 */
export function outputHash(tokens: readonly number[]): string {
  return createHash("sha256").update(tokens.join(",")).digest("hex");
}

/**
 * The share of `expected` that `model` picks greedily when fed `first` and then each expected
 * token in turn from position 0 (teacher forcing): how a backend that sums in another order is
 * checked against the spec's tokens, where one near-tie would send a free greedy decode elsewhere.
 */
export async function outputAgreement(
  model: LanguageModel,
  first: number,
  expected: readonly number[],
): Promise<number> {
  let agreed = 0;
  let token = first;
  for (const [pos, next] of expected.entries()) {
    if (argmax(await model.forward(token, pos)) === next) agreed++;
    token = next;
  }
  return agreed / expected.length;
}

/** The labels every record of one tokens run shares. */
export type TokensLabels = Omit<RequiredLabels, "suite" | "test" | "unit">;

/**
 * What the decode run's energy was: where measured, the meter and the median joules per token and
 * tokens per joule (tok/s per watt) over the repetitions; else why not.
 */
export function energyDetails(
  energy: EnergyAvailability,
  genTokens: number,
  joules: readonly number[],
): TestRecord["details"] {
  const none = { joules_per_token: null, tokens_per_joule: null };
  if ("unavailable" in energy) return { energy: energy.unavailable, ...none };
  if (joules.length === 0) return { energy: "not measured", ...none };
  return {
    energy: energy.meter.source,
    joules_per_token: summarize(joules.map((j) => j / genTokens)).median,
    tokens_per_joule: summarize(joules.map((j) => (j > 0 ? genTokens / j : 0))).median,
  };
}

/**
 * The records of one run (moebench's or a peer's): `pp<N>`, `tg<M>` and `pp<N>+tg<M>` in tok/s,
 * `ttft<N>` in ms (absent where `seconds.ttft` has none, as for a peer that does not sample);
 * `decodeDetails` go to the tg record only (its energy).
 */
export function tokensRecords(
  labels: TokensLabels,
  options: TokensOptions,
  seconds: {
    readonly pp: number[][];
    readonly ttft?: number[][];
    readonly tg: number[];
    readonly pg: number[][];
    /** Each repetition's conditions, where measured: every test's samples share them. */
    readonly conditions?: readonly Conditions[];
  },
  details: TestRecord["details"] = {},
  decodeDetails: TestRecord["details"] = {},
): TestRecord[] {
  const rate = (tokens: number, samples: number[]) => samples.map((s) => tokens / s);
  const depth = options.depth ?? 0;
  const at = depth ? `@d${depth}` : "";
  const record = (test: string, unit: Unit, samples: number[], extra = {}) =>
    testRecord(
      { ...labels, suite: "tokens", test, unit },
      samples,
      { warmup: options.warmup, details: { ...details, ...extra }, conditions: seconds.conditions },
    );
  return [
    ...options.promptLengths.map((length, i) =>
      record(
        tokensTestName({ prompt: length, gen: 0, depth }),
        "tok/s",
        rate(length, seconds.pp[i]!),
      )
    ),
    ...(seconds.ttft ?? []).map((samples, i) =>
      record(`ttft${options.promptLengths[i]}${at}`, "ms", samples.map((s) => s * 1000))
    ),
    record(
      tokensTestName({ prompt: 0, gen: options.genTokens, depth }),
      "tok/s",
      rate(options.genTokens, seconds.tg),
      decodeDetails,
    ),
    ...(options.promptGen ?? []).map(({ prompt, gen }, i) =>
      record(
        tokensTestName({ prompt, gen, depth }),
        "tok/s",
        rate(prompt + gen, seconds.pg[i]!),
      )
    ),
  ];
}

/** Median decode tok/s of `model` over `genTokens` (tuning's and the cache suite's measure). */
export async function decodeRate(
  model: LanguageModel,
  genTokens: number,
  repetitions: number,
): Promise<{ samples: number[]; median: number }> {
  const { tg } = await timeTokens(model, {
    promptLengths: [],
    genTokens,
    repetitions,
    warmup: 1,
  });
  const samples = tg.map((s) => genTokens / s);
  return { samples, median: summarize(samples).median };
}

/** The most tokens any of `plan`'s tests has in its context. */
function longestContext(plan: TokensPlan): number {
  const test = Math.max(
    ...plan.promptLengths,
    plan.genTokens,
    ...(plan.promptGen ?? []).map((pg) => pg.prompt + pg.gen),
  );
  return Math.max(...plan.depths ?? [0]) + test;
}

/** The tokens suite's runs: the engine as given, and offloaded at `offloadShare` if given. */
export interface TokensPlan extends TokensOptions {
  /** The context depths to measure at (each its own records, `@d<N>` past 0); default [0]. */
  readonly depths?: readonly number[];
  readonly offloadShare: number | null;
  /** Also time llama.cpp on the same file (resident, CPU). */
  readonly peer: boolean;
  /**
   * The tokens the decode test should choose (the standard's): each run records its agreement
   * with them, teacher-forced (`output_agreement` on the tg record at depth 0).
   */
  readonly expectedTokens?: readonly number[];
}

/** The suite's tasks for `model`. */
export function tokensTasks(model: BenchModel, plan: TokensPlan, engine: EngineOptions): Task[] {
  const runs: { name: string; engine: EngineOptions }[] = [
    { name: describeEngine(engine), engine },
  ];
  if (plan.offloadShare !== null && offloadOptions(engine) === undefined) {
    const offloaded = withExpertCache(engine, plan.offloadShare);
    runs.push({ name: describeEngine(offloaded), engine: offloaded });
  }
  const tasks = runs.map(({ name, engine }): Task => {
    const id = `tokens/${model.id}/${engine.backend}/${name.replaceAll(" ", "-")}`;
    return {
      id,
      label: `tokens: ${model.id}, ${engine.backend}, ${name}`,
      run: async () => {
        using gguf = await openGGUF(model.path);
        const depths = plan.depths ?? [0];
        await using loaded = await loadModel(gguf, engine, longestContext(plan));
        await using energy = await openEnergy();
        const meter = "meter" in energy ? energy.meter : undefined;
        const tests: TestRecord[] = [];
        for (const depth of depths) {
          const options = { ...plan, depth };
          const seconds = await timeTokens(loaded.model, options, meter);
          const stats = loaded.model.offload?.stats();
          const labels: TokensLabels = {
            task: id,
            model: model.id,
            type: model.type,
            backend: loaded.backend,
            threads: loaded.threads,
            config: name,
            budget_bytes: stats?.budget_bytes ?? null,
            budget_share: engine.expertBudget && "share" in engine.expertBudget
              ? engine.expertBudget.share
              : null,
            policy: stats?.policy ?? null,
          };
          const details = {
            ...conditionsSummary(seconds.conditions),
            repetitions_stop: seconds.stop,
            active_bytes_per_token: inspectModel(gguf).activeBytesPerToken,
            ...(stats ? { hit_rate: stats.hit_rate, stall_ms: stats.stall_ms } : {}),
          };
          const expected = depth === 0 ? plan.expectedTokens : undefined;
          const decode = {
            ...energyDetails(energy, plan.genTokens, seconds.tgJoules),
            output_sha256: outputHash(seconds.tgTokens),
            ...(expected
              ? {
                output_agreement: await outputAgreement(
                  loaded.model,
                  benchPrompt(1, loaded.model.config.vocabSize)[0]!,
                  expected,
                ),
              }
              : {}),
          };
          tests.push(...tokensRecords(labels, options, seconds, details, decode));
        }
        return { tests, peers: [] };
      },
    };
  });
  if (plan.peer) {
    const id = `tokens/${model.id}/llama.cpp`;
    tasks.push({
      id,
      label: `tokens: ${model.id} in llama.cpp`,
      run: async () => {
        const threads = engine.threads ?? navigator.hardwareConcurrency;
        using gguf = await openGGUF(model.path);
        const vocabulary = readConfig(gguf).vocabSize;
        // llama.cpp's decode feeds the prompt's tokens again, one per step
        const longest = Math.max(longestPrompt(plan), plan.genTokens);
        const labels: TokensLabels = {
          task: id,
          model: model.id,
          type: model.type,
          backend: "llama.cpp cpu",
          threads,
          config: "resident",
        };
        const details = { active_bytes_per_token: inspectModel(gguf).activeBytesPerToken };
        const peers: TestRecord[] = [];
        for (const depth of plan.depths ?? [0]) {
          const options = { ...plan, depth };
          const seconds = await benchWithLlamaCpp(model.path, {
            ...options,
            threads,
            prompt: benchPrompt(longest, vocabulary),
            context: benchPrompt(depth, vocabulary),
          });
          peers.push(...tokensRecords(labels, options, seconds, details));
        }
        return { tests: [], peers };
      },
    });
  }
  return tasks;
}
