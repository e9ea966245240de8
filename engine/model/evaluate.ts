/**
 * Teacher-forced evaluation: feed a token sequence and report, after each token, the most
 * likely next tokens with their raw logits (what `moebench eval` prints and what tests compare
 * with llama.cpp).
 *
 * @example
 * ```ts
 * import { evaluateTokens } from "./evaluate.ts";
 * import { ReferenceModel } from "./reference.ts";
 * import { openGGUF } from "../gguf/read.ts";
 * import { synthesize } from "../synth/synth.ts";
 * const out = await Deno.makeTempFile({ suffix: ".gguf" });
 * await synthesize({ preset: "tiny-olmoe", out, type: "Q8_0" });
 * using gguf = await openGGUF(out);
 * const model = await ReferenceModel.load(gguf, { maxContext: 8 });
 * const top = await evaluateTokens(model, [1, 383, 412], 3);
 * console.log(top.length, top[0]!.length); // 3 3
 * ```
 * @module
 */
import type { LanguageModel } from "./language_model.ts";

/** `[token id, logit]`. */
export type ScoredToken = [number, number];

/** After each input token, the `top` highest logits, best first (ties: lower id first). */
export async function evaluateTokens(
  model: LanguageModel,
  tokens: readonly number[],
  top: number,
): Promise<ScoredToken[][]> {
  const result: ScoredToken[][] = [];
  await model.score(tokens, 0, (_, logits) => result.push(topLogits(logits, top)));
  return result;
}

/** The `count` largest logits with their ids, best first. */
export function topLogits(logits: Float32Array, count: number): ScoredToken[] {
  const best: ScoredToken[] = [];
  for (let id = 0; id < logits.length; id++) {
    const logit = logits[id]!;
    if (best.length === count && logit <= best[count - 1]![1]) continue;
    let at = best.length;
    while (at > 0 && best[at - 1]![1] < logit) at--;
    best.splice(at, 0, [id, logit]);
    if (best.length > count) best.pop();
  }
  return best;
}
