/**
 * moebench's public library: GGUF files, quantized formats, synthetic models, model summaries,
 * and llama.cpp as a peer.
 *
 * @example
 * ```ts
 * import { inspectModel, openGGUF, synthesize } from "./mod.ts";
 * const out = await Deno.makeTempFile({ suffix: ".gguf" });
 * await synthesize({ preset: "tiny-olmoe", out, type: "Q4_0", seed: 7 });
 * using gguf = await openGGUF(out);
 * console.log(inspectModel(gguf).experts?.count); // 16
 * ```
 * @module
 */
export * from "./engine/gguf/mod.ts";
export * from "./engine/quant/mod.ts";
export * from "./engine/synth/mod.ts";
export * from "./engine/model/mod.ts";
export * from "./engine/tokenizer/mod.ts";
export { Sampler, type SamplerOptions } from "./engine/sample.ts";
export {
  generate,
  type GenerateOptions,
  type GenerateResult,
  type GenerateStats,
} from "./engine/generate.ts";
export { VERSION } from "./version.ts";
export { perplexity, type PerplexityOptions, type PerplexityResult } from "./engine/perplexity.ts";
export { CpuBackend, type CpuBackendOptions } from "./engine/backend/cpu/backend.ts";
export { type Gpu, type GpuInfo, openGpu } from "./engine/backend/webgpu/device.ts";
export { GpuModel, type GpuRunOptions } from "./engine/backend/webgpu/model.ts";
export {
  benchPrompt,
  timeTokens,
  type TokensOptions,
  type TokensSeconds,
} from "./suites/tokens.ts";
