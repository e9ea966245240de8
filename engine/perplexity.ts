/**
 * Perplexity as llama.cpp's `llama-perplexity` computes it, so that figures compare: the text's
 * tokens (with BOS) are cut into chunks of `ctx` tokens, each evaluated from position 0 with its
 * first token replaced by BOS; the negative log-likelihood of each token in the second half of
 * the chunk is averaged, and PPL = e^mean ± the standard error.
 *
 * @example
 * ```ts
 * import { perplexity } from "./perplexity.ts";
 * import { ReferenceModel } from "./model/reference.ts";
 * import { openGGUF } from "./gguf/read.ts";
 * import { synthesize } from "./synth/synth.ts";
 * const out = await Deno.makeTempFile({ suffix: ".gguf" });
 * await synthesize({ preset: "tiny-olmoe", out, type: "Q8_0" });
 * using gguf = await openGGUF(out);
 * const model = await ReferenceModel.load(gguf, { maxContext: 16 });
 * const tokens = Array.from({ length: 40 }, (_, i) => 3 + ((i * 37) % 1000));
 * const result = await perplexity(model, tokens, { ctx: 16, bosId: 1 });
 * console.log(result.chunks.length); // 2
 * ```
 * @module
 */
import type { LanguageModel } from "./model/language_model.ts";

/** How to cut the text. */
export interface PerplexityOptions {
  /** Tokens per chunk (llama.cpp's `-c`). */
  readonly ctx: number;
  /** At most this many chunks (default: all whole chunks). */
  readonly maxChunks?: number;
  /** Replaces each chunk's first token, as llama.cpp does when the model adds BOS. */
  readonly bosId: number | null;
  /** Called after each chunk with the running perplexity. */
  readonly onChunk?: (chunk: number, chunks: number, runningPpl: number) => void;
}

/** The estimate and how it was made. */
export interface PerplexityResult {
  readonly ppl: number;
  /** Standard error of the estimate (llama.cpp's "±"). */
  readonly stderr: number;
  /** Running perplexity after each chunk (llama.cpp's `[1]…,[2]…`). */
  readonly chunks: number[];
  /** Tokens scored. */
  readonly count: number;
}

/**
 * Computes perplexity over `tokens` (already including BOS if the model adds it).
 * @throws {RangeError} when there are fewer than 2·ctx tokens, as llama.cpp requires.
 */
export async function perplexity(
  model: LanguageModel,
  tokens: readonly number[],
  options: PerplexityOptions,
): Promise<PerplexityResult> {
  let nll = 0;
  let nll2 = 0;
  let count = 0;
  const chunks: number[] = [];
  await forEachScored(model, tokens, options, {
    visit(target, logits) {
      const v = -logSoftmaxAt(logits, target);
      nll += v;
      nll2 += v * v;
      count++;
    },
    endChunk(chunk, chunkCount) {
      chunks.push(Math.exp(nll / count));
      options.onChunk?.(chunk + 1, chunkCount, chunks[chunk]!);
    },
  });
  const mean = nll / count;
  const variance = nll2 / count - mean * mean;
  const ppl = Math.exp(mean);
  return { ppl, stderr: variance > 0 ? Math.sqrt(variance / (count - 1)) * ppl : 0, chunks, count };
}

/** What `forEachScored` calls. */
export interface ScoredVisitor {
  /** A scored position: the token that came next, and the logits that predicted it. */
  visit(target: number, logits: Float32Array): void;
  /** After each chunk (0-based), of `chunkCount`. */
  endChunk?(chunk: number, chunkCount: number): void;
}

/**
 * Cuts `tokens` into chunks as llama-perplexity does and shows `visitor` every scored position
 * (the second half of each chunk), in order: the walk perplexity and KL divergence share.
 * @throws {RangeError} when there are fewer than 2·ctx tokens.
 */
export async function forEachScored(
  model: LanguageModel,
  tokens: readonly number[],
  options: Pick<PerplexityOptions, "ctx" | "maxChunks" | "bosId">,
  visitor: ScoredVisitor,
): Promise<void> {
  const { ctx } = options;
  if (tokens.length < 2 * ctx) {
    throw new RangeError(
      `Perplexity with a context of ${ctx} needs at least ${2 * ctx} tokens; the text has ` +
        `${tokens.length}`,
    );
  }
  const available = Math.floor(tokens.length / ctx);
  const chunkCount = Math.min(available, options.maxChunks ?? available);
  const first = Math.floor(ctx / 2);
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const start = chunk * ctx;
    const input = tokens.slice(start, start + ctx - 1);
    if (options.bosId !== null) input[0] = options.bosId;
    await model.score(input, 0, (pos, logits) => {
      if (pos >= first) visitor.visit(tokens[start + pos + 1]!, logits);
    });
    visitor.endChunk?.(chunk, chunkCount);
  }
}

/** log p(token) under softmax(logits). */
function logSoftmaxAt(logits: Float32Array, token: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return logits[token]! - max - Math.log(sum);
}

/** log softmax(logits), every entry: the distribution KL divergence compares. */
export function logSoftmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const logSum = max + Math.log(sum);
  return logits.map((x) => x - logSum);
}
