/**
 * Synthetic MoE models: presets, shape scaling, and the deterministic GGUF generator.
 * @module
 */
export {
  SYNTH_TYPES,
  SYNTH_VERSION,
  synthesize,
  type SynthOptions,
  type SynthResult,
} from "./synth.ts";
export {
  findPreset,
  type ModelShape,
  type Preset,
  PRESETS,
  scaleShape,
  type ShapeScaling,
  type SynthArchitecture,
} from "./presets.ts";
export { buildVocabulary, type Vocabulary } from "./vocab.ts";
export { Prng } from "./prng.ts";
