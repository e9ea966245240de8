/**
 * Speculative prefetch's guesses (Eliseev & Mazur): the next MoE layers' routers applied to the
 * residual stream as it stands after this layer's attention, each normalised as its own layer
 * will normalise it; their top experts are the guesses. Wrong guesses cost bytes, never
 * results. The backends compute the router logits; this turns them into guesses, in arrays
 * made once (a forward pass allocates nothing).
 *
 * @example
 * ```ts
 * import { GuessMaker } from "./guesses.ts";
 * // layers 0 and 2 are MoE layers of 4 experts; guess one layer ahead, 2 experts
 * const maker = new GuessMaker([true, false, true], { depth: 1, experts: 2 }, 4);
 * console.log(maker.layersAfter(0)); // [2]
 * const guesses = maker.guess(0, () => Float32Array.of(0.1, 3, 0.2, 2), () => null);
 * console.log(guesses[0]); // { layer: 2, experts: [1, 3] }
 * ```
 * @module
 */
import type { PrefetchGuess } from "../offload/planner.ts";
import { sigmoid, topIndices } from "./router.ts";

/** Turns later layers' router logits into prefetch guesses. */
export class GuessMaker {
  readonly #after: readonly (readonly number[])[];
  /** For each number of guessed layers, the first that many of one pool of guesses. */
  readonly #lists: readonly { layer: number; experts: number[] }[][];
  readonly #taken: Uint8Array;

  /**
   * `moeLayers[l]`: whether layer l routes to experts; guesses reach `prefetch.depth` MoE
   * layers ahead, `prefetch.experts` experts each (at most `experts`).
   */
  constructor(
    moeLayers: readonly boolean[],
    prefetch: { readonly depth: number; readonly experts: number },
    experts: number,
  ) {
    this.#after = moeLayers.map((_, l) =>
      moeLayers.flatMap((moe, next) => moe && next > l ? [next] : []).slice(0, prefetch.depth)
    );
    const width = Math.min(prefetch.experts, experts);
    const pool = Array.from({ length: prefetch.depth }, () => ({
      layer: 0,
      experts: new Array<number>(width).fill(0),
    }));
    this.#lists = Array.from({ length: prefetch.depth + 1 }, (_, n) => pool.slice(0, n));
    this.#taken = new Uint8Array(experts);
  }

  /** The MoE layers guessed after layer `l`, nearest first. */
  layersAfter(l: number): readonly number[] {
    return this.#after[l]!;
  }

  /**
   * The guesses after layer `l`: `logitsOf(i, layer)` gives the router logits of
   * `layersAfter(l)[i]` (DeepSeek-V3's layers choose by sigmoid scores plus their
   * `selectionBias`, computed here in place). The result is reused by the next call.
   */
  guess(
    l: number,
    logitsOf: (index: number, layer: number) => Float32Array,
    selectionBias: (layer: number) => Float32Array | null,
  ): readonly PrefetchGuess[] {
    const after = this.#after[l]!;
    const list = this.#lists[after.length]!;
    for (let i = 0; i < after.length; i++) {
      const layer = after[i]!;
      const logits = logitsOf(i, layer);
      const bias = selectionBias(layer);
      if (bias) {
        for (let e = 0; e < logits.length; e++) logits[e] = sigmoid(logits[e]!) + bias[e]!;
      }
      const guess = list[i]!;
      guess.layer = layer;
      topIndices(logits, guess.experts.length, this.#taken, guess.experts, 0);
    }
    return list;
  }
}
