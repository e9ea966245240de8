/**
 * The KV cache and the attention that reads it: every layer's keys and values by position, and
 * causal softmax attention of a batch's queries over them. A backend may keep the cache in its
 * own memory and attend with its own kernels; `ReferenceKvCache` is the plain TypeScript one the
 * others are tested against.
 *
 * @example
 * ```ts
 * import { ReferenceKvCache } from "./kv_cache.ts";
 * const shape = { heads: 2, kvHeads: 1, keyHeadDim: 4, valueHeadDim: 4, scale: 0.5 };
 * const cache = new ReferenceKvCache(shape, 1, 8, false);
 * cache.store(0, 0, 1, new Float32Array([1, 0, 0, 0]), new Float32Array([1, 2, 3, 4]));
 * const out = new Float32Array(8);
 * cache.attend(0, 0, 1, new Float32Array(8).fill(1), out);
 * console.log(out); // both heads see the one value: [1, 2, 3, 4, 1, 2, 3, 4]
 * ```
 * @module
 */

import { roundToF16 } from "../quant/activations.ts";

/**
 * What attention compares and mixes: `heads` query heads of `keyHeadDim`, sharing `kvHeads`
 * key-value heads (keys of `keyHeadDim`, values of `valueHeadDim`), scores scaled by `scale`.
 */
export interface AttentionShape {
  readonly heads: number;
  readonly kvHeads: number;
  readonly keyHeadDim: number;
  readonly valueHeadDim: number;
  readonly scale: number;
}

/** Keys and values of every layer and position, and attention over them. */
export interface KvCache {
  /** Bytes the cache holds. */
  readonly bytes: number;
  /**
   * Stores `count` positions' keys and values (rows of kvHeads·keyHeadDim and kvHeads·valueHeadDim
   * values) of `layer` at positions `pos`, `pos + 1`, ….
   */
  store(layer: number, pos: number, count: number, keys: Float32Array, values: Float32Array): void;
  /**
   * Causal attention for `count` tokens at positions `pos`, `pos + 1`, …: each query head
   * (`queries`: rows of heads·keyHeadDim) takes the softmax of its scaled scores against the
   * keys of positions 0 … its own and the weighted sum of their values, into `out` (rows of
   * heads·valueHeadDim). Positions up to the last token's must be stored.
   */
  attend(layer: number, pos: number, count: number, queries: Float32Array, out: Float32Array): void;
}

/**
 * The cache in f32 arrays, attention in plain loops. `roundProbabilities`: round each softmax
 * probability to f16 before it weights the values, as llama.cpp does with its F16 cache.
 */
export class ReferenceKvCache implements KvCache {
  readonly #keys: Float32Array[];
  readonly #values: Float32Array[];
  readonly #scores: Float32Array;
  readonly #keyWidth: number;
  readonly #valueWidth: number;

  constructor(
    readonly shape: AttentionShape,
    layers: number,
    maxContext: number,
    readonly roundProbabilities: boolean,
  ) {
    this.#keyWidth = shape.kvHeads * shape.keyHeadDim;
    this.#valueWidth = shape.kvHeads * shape.valueHeadDim;
    this.#keys = Array.from(
      { length: layers },
      () => new Float32Array(maxContext * this.#keyWidth),
    );
    this.#values = Array.from(
      { length: layers },
      () => new Float32Array(maxContext * this.#valueWidth),
    );
    this.#scores = new Float32Array(maxContext);
  }

  get bytes(): number {
    return [...this.#keys, ...this.#values].reduce((sum, cache) => sum + cache.byteLength, 0);
  }

  store(layer: number, pos: number, count: number, keys: Float32Array, values: Float32Array): void {
    for (let i = 0; i < count * this.#keyWidth; i++) {
      this.#keys[layer]![pos * this.#keyWidth + i] = keys[i]!;
    }
    for (let i = 0; i < count * this.#valueWidth; i++) {
      this.#values[layer]![pos * this.#valueWidth + i] = values[i]!;
    }
  }

  attend(
    layer: number,
    pos: number,
    count: number,
    queries: Float32Array,
    out: Float32Array,
  ): void {
    const { heads, kvHeads, keyHeadDim, valueHeadDim, scale } = this.shape;
    const groupSize = heads / kvHeads; // query heads per key-value head
    const keys = this.#keys[layer]!;
    const values = this.#values[layer]!;
    const scores = this.#scores;
    for (let i = 0; i < count; i++) {
      const last = pos + i;
      for (let h = 0; h < heads; h++) {
        const kvHead = Math.floor(h / groupSize);
        const query = (i * heads + h) * keyHeadDim;
        for (let t = 0; t <= last; t++) {
          const key = t * this.#keyWidth + kvHead * keyHeadDim;
          let sum = 0;
          for (let d = 0; d < keyHeadDim; d++) sum += queries[query + d]! * keys[key + d]!;
          scores[t] = sum * scale;
        }
        softmax(scores, last + 1);
        if (this.roundProbabilities) roundToF16(scores, last + 1);
        const head = (i * heads + h) * valueHeadDim;
        out.fill(0, head, head + valueHeadDim);
        for (let t = 0; t <= last; t++) {
          const value = t * this.#valueWidth + kvHead * valueHeadDim;
          const p = scores[t]!;
          for (let d = 0; d < valueHeadDim; d++) {
            out[head + d] = out[head + d]! + p * values[value + d]!;
          }
        }
      }
    }
  }
}

/** Softmax of the first `length` values, in place. */
export function softmax(x: Float32Array, length: number): void {
  let max = -Infinity;
  for (let i = 0; i < length; i++) max = Math.max(max, x[i]!);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    x[i] = Math.exp(x[i]! - max);
    sum += x[i]!;
  }
  for (let i = 0; i < length; i++) x[i] = x[i]! / sum;
}
