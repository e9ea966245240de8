/**
 * The `tokens` suite: prefill (pp) and decode (tg) speed as llama-bench measures them — a prompt
 * of N tokens evaluated from an empty context, then M tokens decoded one at a time from an empty
 * context — with every repetition kept, and llama.cpp's figures on the same file beside them when
 * asked for.
 *
 * @example
 * ```ts ignore
 * import { benchTokens } from "./tokens.ts";
 * const records = await benchTokens(model, { promptTokens: 128, genTokens: 64, repetitions: 3 });
 * ```
 * @module
 */
import type { LanguageModel } from "../engine/model/language_model.ts";
import { argmax } from "../engine/sample.ts";

/** What to measure. */
export interface TokensOptions {
  readonly promptTokens: number;
  readonly genTokens: number;
  /** Timed repetitions, after one warm-up. */
  readonly repetitions: number;
}

/** One test's figures (`pp128`, `tg64`), llama-bench style. */
export interface TokensRecord {
  /** `pp<N>` or `tg<N>`. */
  readonly test: string;
  readonly tokens: number;
  /** Seconds per repetition. */
  readonly samples: number[];
  /** Tokens per second: mean and standard deviation over the repetitions. */
  readonly tps: number;
  readonly tpsStddev: number;
}

/** The deterministic prompt ids llama-bench-style runs use (ordinary tokens, no BOS). */
export function benchPrompt(length: number, vocabulary: number): number[] {
  return Array.from({ length }, (_, i) => 3 + ((i * 7919) % (vocabulary - 3)));
}

/** Times `model`: pp and tg, each repetition from position 0 (an empty context). */
export async function benchTokens(
  model: LanguageModel,
  options: TokensOptions,
): Promise<TokensRecord[]> {
  const prompt = benchPrompt(options.promptTokens, model.config.vocabSize);
  const pp: number[] = [];
  const tg: number[] = [];
  for (let rep = 0; rep <= options.repetitions; rep++) {
    let start = performance.now();
    await model.prefill(prompt, 0);
    const ppSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    let token = prompt[0]!;
    for (let pos = 0; pos < options.genTokens; pos++) {
      token = argmax(await model.forward(token, pos));
    }
    const tgSeconds = (performance.now() - start) / 1000;
    if (rep > 0) { // the first run warms up
      pp.push(ppSeconds);
      tg.push(tgSeconds);
    }
  }
  return tokensRecords(options, { pp, tg });
}

/** The pp and tg records from seconds per repetition (moebench's, or a peer's). */
export function tokensRecords(
  options: TokensOptions,
  seconds: { readonly pp: number[]; readonly tg: number[] },
): TokensRecord[] {
  return [
    record(`pp${options.promptTokens}`, options.promptTokens, seconds.pp),
    record(`tg${options.genTokens}`, options.genTokens, seconds.tg),
  ];
}

/** A record from seconds per repetition. */
function record(test: string, tokens: number, samples: number[]): TokensRecord {
  const rates = samples.map((seconds) => tokens / seconds);
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const variance = rates.length > 1
    ? rates.reduce((sum, rate) => sum + (rate - mean) ** 2, 0) / (rates.length - 1)
    : 0;
  return { test, tokens, samples, tps: mean, tpsStddev: Math.sqrt(variance) };
}
