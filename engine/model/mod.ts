/**
 * Models: what a GGUF holds, seen as a transformer with experts.
 * @module
 */
export {
  type ExpertSummary,
  inspectModel,
  type ModelSummary,
  type TensorSummary,
  type TypeShare,
} from "./inspect.ts";
