/**
 * Choosing the next token from logits: greedy, or sampled after llama.cpp's chain of
 * repetition penalty → top-k → top-p → min-p → temperature, from a seeded generator so that a
 * seed reproduces a run.
 *
 * @example
 * ```ts
 * import { Sampler } from "./sample.ts";
 * const logits = Float32Array.from([1, 3, 2]);
 * console.log(new Sampler().sample(logits, [])); // 1 (greedy)
 * const sampler = new Sampler({ temperature: 0.8, topK: 2, seed: 42 });
 * console.log([1, 2].includes(sampler.sample(logits, []))); // true
 * ```
 * @module
 */
import { Prng } from "./synth/prng.ts";

/** How to choose tokens. */
export interface SamplerOptions {
  /** 0 (default) picks the most likely token; above 0 samples, flatter as it grows. */
  readonly temperature?: number;
  /** Keep only the k most likely tokens (0: all). */
  readonly topK?: number;
  /** Keep the most likely tokens whose probabilities sum to at least p (1: all). */
  readonly topP?: number;
  /** Drop tokens less likely than minP × the most likely one's probability (0: none). */
  readonly minP?: number;
  /** Divide positive logits (multiply negative ones) of recent tokens by this (1: off). */
  readonly repeatPenalty?: number;
  /** How many recent tokens the penalty looks at. */
  readonly repeatLastN?: number;
  readonly seed?: number;
}

/** A token chooser; stateful only in its random generator. */
export class Sampler {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly minP: number;
  readonly repeatPenalty: number;
  readonly repeatLastN: number;
  readonly #prng: Prng;

  constructor(options: SamplerOptions = {}) {
    this.temperature = options.temperature ?? 0;
    this.topK = options.topK ?? 0;
    this.topP = options.topP ?? 1;
    this.minP = options.minP ?? 0;
    this.repeatPenalty = options.repeatPenalty ?? 1;
    this.repeatLastN = options.repeatLastN ?? 64;
    const check = (ok: boolean, message: string) => {
      if (!ok) throw new RangeError(message);
    };
    check(this.temperature >= 0, `--temp must be ≥ 0, got ${this.temperature}`);
    check(Number.isInteger(this.topK) && this.topK >= 0, `--top-k must be a whole number ≥ 0`);
    check(this.topP > 0 && this.topP <= 1, `--top-p must be in (0, 1], got ${this.topP}`);
    check(this.minP >= 0 && this.minP < 1, `--min-p must be in [0, 1), got ${this.minP}`);
    check(this.repeatPenalty > 0, `--repeat-penalty must be > 0, got ${this.repeatPenalty}`);
    this.#prng = new Prng(options.seed ?? 0);
  }

  /** The next token given the logits and the tokens so far (for the repetition penalty). */
  sample(logits: Float32Array, history: readonly number[]): number {
    // repetition penalty on the recent tokens, as llama.cpp applies it
    let scores = logits;
    if (this.repeatPenalty !== 1 && history.length > 0) {
      scores = logits.slice();
      for (const token of new Set(history.slice(-this.repeatLastN))) {
        const logit = scores[token]!;
        scores[token] = logit > 0 ? logit / this.repeatPenalty : logit * this.repeatPenalty;
      }
    }
    if (this.temperature === 0) return argmax(scores);

    // candidates, most likely first
    let candidates = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b);
    if (this.topK > 0) candidates = candidates.slice(0, this.topK);
    let probabilities = softmax(candidates.map((id) => scores[id]!));
    if (this.topP < 1) {
      let sum = 0;
      let keep = 0;
      while (keep < candidates.length && sum < this.topP) sum += probabilities[keep++]!;
      candidates = candidates.slice(0, keep);
      probabilities = probabilities.slice(0, keep);
    }
    if (this.minP > 0) {
      const threshold = probabilities[0]! * this.minP;
      const keep = Math.max(1, probabilities.filter((p) => p >= threshold).length);
      candidates = candidates.slice(0, keep);
    }

    // temperature, then a draw
    const tempered = softmax(candidates.map((id) => scores[id]! / this.temperature));
    let draw = (this.#prng.nextU32() >>> 0) / 2 ** 32;
    for (const [i, p] of tempered.entries()) {
      draw -= p;
      if (draw < 0) return candidates[i]!;
    }
    return candidates[candidates.length - 1]!;
  }
}

/** Index of the largest value (the lowest index on ties). */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((logit) => Math.exp(logit - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
