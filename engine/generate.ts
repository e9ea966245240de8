/**
 * Text generation: prefill the prompt, then choose and feed tokens one at a time, streaming
 * the text (UTF-8 kept whole across byte tokens) and timing both phases.
 *
 * @example
 * ```ts
 * import { generate } from "./generate.ts";
 * import { ReferenceModel } from "./model/reference.ts";
 * import { loadTokenizer } from "./tokenizer/tokenizer.ts";
 * import { Sampler } from "./sample.ts";
 * import { openGGUF } from "./gguf/read.ts";
 * import { synthesize } from "./synth/synth.ts";
 * const out = await Deno.makeTempFile({ suffix: ".gguf" });
 * await synthesize({ preset: "tiny-mixtral", out, type: "Q8_0" });
 * using gguf = await openGGUF(out);
 * const model = await ReferenceModel.load(gguf, { maxContext: 32 });
 * const tokenizer = loadTokenizer(gguf);
 * const prompt = tokenizer.encode("the router");
 * const result = await generate(model, tokenizer, prompt, { maxTokens: 4, sampler: new Sampler() });
 * console.log(result.tokens.length); // 4
 * ```
 * @module
 */
import type { LanguageModel } from "./model/language_model.ts";
import type { Sampler } from "./sample.ts";
import type { Tokenizer } from "./tokenizer/tokenizer.ts";

/** What to generate. */
export interface GenerateOptions {
  readonly maxTokens: number;
  readonly sampler: Sampler;
  /** Stop at the end-of-sequence token (default true). */
  readonly stopAtEos?: boolean;
  /** Called with each new token and the text it completes (possibly empty mid-character). */
  readonly onToken?: (token: number, text: string) => void;
}

/** Timings as `generate --json` reports them. */
export interface GenerateStats {
  readonly prefill_tps: number;
  readonly decode_tps: number;
  readonly ttft_ms: number;
  readonly n_prompt: number;
  readonly n_gen: number;
}

/** The new tokens, their text, and the timings. */
export interface GenerateResult {
  readonly tokens: number[];
  readonly text: string;
  readonly stats: GenerateStats;
}

/**
 * Generates up to `maxTokens` tokens after `prompt` (which must not be empty: start it with BOS).
 * @throws {RangeError} when the prompt and the tokens to generate exceed the model's context.
 */
export async function generate(
  model: LanguageModel,
  tokenizer: Tokenizer,
  prompt: readonly number[],
  options: GenerateOptions,
): Promise<GenerateResult> {
  if (prompt.length === 0) throw new RangeError("The prompt has no tokens");
  if (prompt.length + options.maxTokens > model.maxContext) {
    throw new RangeError(
      `${prompt.length} prompt tokens + ${options.maxTokens} new ones exceed the context of ` +
        `${model.maxContext}`,
    );
  }
  const decoder = new TextDecoder();
  const history = [...prompt];
  const tokens: number[] = [];
  let text = "";

  // prefill: the prompt in batches
  const started = performance.now();
  let logits = await model.prefill(prompt, 0);
  const prefillSeconds = (performance.now() - started) / 1000;

  // decode: choose, stream, feed back
  let firstTokenAt = 0;
  let decodeSeconds = 0;
  let decodeSteps = 0;
  while (tokens.length < options.maxTokens) {
    const token = options.sampler.sample(logits, history);
    if (tokens.length === 0) firstTokenAt = performance.now();
    if ((options.stopAtEos ?? true) && token === tokenizer.eosId) break;
    tokens.push(token);
    history.push(token);
    const piece = decoder.decode(tokenizer.decodeBytes([token]), { stream: true });
    text += piece;
    options.onToken?.(token, piece);
    if (tokens.length === options.maxTokens) break;
    const stepStarted = performance.now();
    logits = await model.forward(token, history.length - 1);
    decodeSeconds += (performance.now() - stepStarted) / 1000;
    decodeSteps++;
  }
  const tail = decoder.decode();
  text += tail;
  if (tail) options.onToken?.(-1, tail);

  return {
    tokens,
    text,
    stats: {
      prefill_tps: prompt.length / prefillSeconds,
      decode_tps: decodeSteps > 0 ? decodeSteps / decodeSeconds : 0,
      ttft_ms: (firstTokenAt || performance.now()) - started,
      n_prompt: prompt.length,
      n_gen: tokens.length,
    },
  };
}
