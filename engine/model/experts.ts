/**
 * How the forward pass reaches a layer's routed experts: all resident in memory, or behind an
 * expert cache (`engine/offload/`). The forward pass says which experts a layer needs and what it
 * guesses the next layers will need; the runner makes each needed expert's matrices available
 * and calls back to compute it.
 * @module
 */
import type { PrefetchGuess } from "../offload/planner.ts";
import type { Matrix } from "./matrix.ts";
import type { FeedForward } from "./weights.ts";

/**
 * out = down · (silu(gate · x) ⊙ (up · x)) for `count` rows of `x`, through `scratch`'s buffers
 * of `count` × the feed-forward's width (a backend's `floats`, where its kernels work).
 */
export function swiglu(
  ffn: FeedForward,
  x: Float32Array,
  count: number,
  out: Float32Array,
  scratch: { readonly hidden: Float32Array; readonly hiddenUp: Float32Array },
): void {
  const { hidden: gate, hiddenUp: up } = scratch;
  ffn.gate.matMul(x, count, gate);
  ffn.up.matMul(x, count, up);
  const length = count * ffn.up.rows;
  for (let i = 0; i < length; i++) gate[i] = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!;
  ffn.down.matMul(gate, count, out);
}

/** Computes routed expert `expert` of the current layer with its matrices (`M`: a backend's). */
export type RunExpert<M = Matrix> = (expert: number, ffn: FeedForward<M>) => void;

/** Runs a layer's routed experts. */
export interface ExpertRunner<M = Matrix> {
  /**
   * Runs each of `needed[0 … count)` (distinct experts of `layer`, ascending) through `compute`;
   * `guesses`: experts later layers will probably need, to start loading now.
   */
  runLayer(
    layer: number,
    needed: ArrayLike<number>,
    count: number,
    guesses: readonly PrefetchGuess[],
    compute: RunExpert<M>,
  ): void;
  /** How far ahead and how many experts to guess (null: no guessing). */
  readonly prefetch: { readonly depth: number; readonly experts: number } | null;
  /** A token (or batch) is done. */
  endStep(): void;
}

/**
 * Every expert resident: each layer's experts as loaded. `prefetch`: guesses to make anyway
 * (nothing loads; a trace records them).
 */
export class ResidentExperts<M = Matrix> implements ExpertRunner<M> {
  constructor(
    readonly layers: readonly (readonly FeedForward<M>[] | null)[],
    readonly prefetch: { readonly depth: number; readonly experts: number } | null = null,
  ) {}

  runLayer(
    layer: number,
    needed: ArrayLike<number>,
    count: number,
    _: unknown,
    compute: RunExpert<M>,
  ): void {
    const experts = this.layers[layer]!;
    for (let i = 0; i < count; i++) compute(needed[i]!, experts[needed[i]!]!);
  }

  endStep(): void {}
}
