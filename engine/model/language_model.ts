/**
 * What generation, evaluation, perplexity and the suites need of a model, whichever backend runs
 * its forward pass: the CPU backends' `ReferenceModel` answers at once, the WebGPU backend's
 * `GpuModel` with promises (its results come back from the GPU).
 * @module
 */
import type { OffloadStats } from "../offload/offloaded.ts";
import type { HybridStats } from "../offload/placement.ts";
import type { ModelConfig } from "./config.ts";
import type { Routing } from "./router.ts";

/** A model ready to run: logits for tokens at positions. */
export interface LanguageModel {
  readonly config: ModelConfig;
  /** Positions the KV cache holds. */
  readonly maxContext: number;
  /** Tokens one batched forward pass takes at most. */
  readonly batchSize: number;
  /** Bytes of the KV cache. */
  readonly kvCacheBytes: number;
  /** The routing of the last token fed, per MoE layer. */
  readonly routing: Routing[];
  /** The expert cache's counters, when experts are offloaded. */
  readonly offload: { stats(): OffloadStats } | null;
  /** Hybrid placement's counters, when some experts compute on the CPU and some on the GPU. */
  readonly hybrid: { stats(): HybridStats } | null;
  /**
   * Feeds `token` at position `pos` (positions in order from 0) and returns the logits for the
   * next token, in an array the next call reuses; `computeLogits` false skips them.
   */
  forward(
    token: number,
    pos: number,
    computeLogits?: boolean,
  ): Float32Array | Promise<Float32Array>;
  /** Feeds `tokens` at positions `pos …` in batches; the logits after the last one. */
  prefill(
    tokens: ArrayLike<number>,
    pos: number,
    computeLogits?: boolean,
  ): Float32Array | Promise<Float32Array>;
  /** Teacher forcing: `visit(i, logits)` with the logits after `tokens[i]`. */
  score(
    tokens: ArrayLike<number>,
    pos: number,
    visit: (index: number, logits: Float32Array) => void,
  ): void | Promise<void>;
  /** Releases what the model holds (the expert loader, GPU buffers). */
  close(): void;
}
