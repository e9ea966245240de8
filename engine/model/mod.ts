/**
 * Models: a GGUF seen as a MoE transformer (summary, configuration, weights) and the reference
 * forward pass.
 * @module
 */
export {
  type ExpertSummary,
  inspectModel,
  type ModelSummary,
  type TensorSummary,
  type TypeShare,
} from "./inspect.ts";
export {
  type Architecture,
  type ModelConfig,
  readConfig,
  SUPPORTED_ARCHITECTURES,
} from "./config.ts";
export { type Matrix, type MatrixBackend, referenceBackend, ReferenceMatrix } from "./matrix.ts";
export {
  backendSink,
  type FeedForward,
  type LayerWeights,
  loadWeights,
  type ModelWeights,
  type WeightSink,
} from "./weights.ts";
export type { LanguageModel } from "./language_model.ts";
export { ReferenceModel, type RunOptions } from "./reference.ts";
export type { Routing } from "./router.ts";
export { evaluateTokens, type ScoredToken, topLogits } from "./evaluate.ts";
