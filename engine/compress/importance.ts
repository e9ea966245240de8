/**
 * Expert importance from a routing trace, after Moxin's Collaborative Compression: for each MoE
 * layer and expert, the activation frequency Freq (the share of tokens that routed to it) and the
 * routing score Score (the gate weight it received, averaged over all tokens: 0 where it was not
 * chosen), combined as I = α·Freq + (1−α)·Score. Both lie in [0, 1]; Freq counts how often an
 * expert runs, Score how much its output weighs when it does.
 *
 * @example
 * ```ts ignore
 * import { expertImportance } from "./importance.ts";
 * const layers = expertImportance(await readTrace("calib.jsonl"), 0.5);
 * console.log(layers[0].importance);
 * ```
 * @module
 */
import type { Trace } from "../offload/trace.ts";

/** One MoE layer's figures, indexed by expert. */
export interface LayerImportance {
  readonly layer: number;
  /** Tokens routed through the layer in the trace. */
  readonly tokens: number;
  readonly freq: Float64Array;
  readonly score: Float64Array;
  readonly importance: Float64Array;
}

/** Every MoE layer's importance, from `trace`, with `alpha` weighing frequency against score. */
export function expertImportance(trace: Trace, alpha: number): LayerImportance[] {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  const { experts } = trace.header;
  const layers = new Map<number, { tokens: number; hits: Float64Array; weights: Float64Array }>();
  for (const step of trace.steps) {
    for (const layer of step.layers) {
      let counts = layers.get(layer.layer);
      if (!counts) {
        counts = { tokens: 0, hits: new Float64Array(experts), weights: new Float64Array(experts) };
        layers.set(layer.layer, counts);
      }
      for (const [token, chosen] of layer.experts.entries()) {
        counts.tokens++;
        for (const [rank, expert] of chosen.entries()) {
          counts.hits[expert]!++;
          counts.weights[expert]! += layer.weights[token]![rank]!;
        }
      }
    }
  }
  return [...layers.entries()].sort(([a], [b]) => a - b).map(([layer, counts]) => {
    const freq = counts.hits.map((hits) => hits / counts.tokens);
    const score = counts.weights.map((weight) => weight / counts.tokens);
    const importance = freq.map((f, e) => alpha * f + (1 - alpha) * score[e]!);
    return { layer, tokens: counts.tokens, freq, score, importance };
  });
}

/**
 * The `keep` most important experts of a layer, in ascending index order (ties go to the lower
 * index, so the choice is deterministic).
 */
export function mostImportant(importance: Float64Array, keep: number): number[] {
  return [...importance.keys()]
    .sort((a, b) => importance[b]! - importance[a]! || a - b)
    .slice(0, keep)
    .sort((a, b) => a - b);
}
