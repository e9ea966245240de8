/**
 * A model's hyperparameters and architecture traits, read from GGUF metadata the way
 * llama.cpp reads them, so that one forward pass serves every supported architecture.
 *
 * @example
 * ```ts
 * import { readConfig } from "./config.ts";
 * import { openGGUF } from "../gguf/read.ts";
 * import { synthesize } from "../synth/synth.ts";
 * const out = await Deno.makeTempFile({ suffix: ".gguf" });
 * await synthesize({ preset: "tiny-qwen3moe", out });
 * using gguf = await openGGUF(out);
 * console.log(readConfig(gguf).qkNorm); // per-head
 * ```
 * @module
 */
import type { GGUFFile } from "../gguf/read.ts";
import { GGUFError } from "../gguf/errors.ts";

/** Architectures the engine runs. */
export const SUPPORTED_ARCHITECTURES = ["llama", "qwen2moe", "qwen3moe", "olmoe"] as const;

/** One of the supported architectures. */
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

/** Everything the forward pass needs to know about the model's shape and semantics. */
export interface ModelConfig {
  readonly architecture: Architecture;
  readonly vocabSize: number;
  readonly contextLength: number;
  /** Width of the residual stream. */
  readonly dim: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  /** Per-head width of queries and keys. */
  readonly headDim: number;
  /** Per-head width of values. */
  readonly valueDim: number;
  /** Leading dimensions of each head that RoPE rotates. */
  readonly ropeDim: number;
  readonly ropeBase: number;
  /**
   * How RoPE pairs dimensions: `normal` rotates (2i, 2i+1) as the original LLaMA code does,
   * `neox` rotates (i, i + ropeDim/2) as GPT-NeoX does.
   */
  readonly ropeStyle: "normal" | "neox";
  readonly rmsEpsilon: number;
  /** RMSNorm on queries and keys: per head (qwen3moe), over all heads (olmoe), or none. */
  readonly qkNorm: "none" | "per-head" | "full";
  /** Whether q, k and v projections have biases (qwen2moe). */
  readonly qkvBias: boolean;
  readonly experts: number;
  readonly expertsUsed: number;
  /** Whether the chosen experts' softmax weights are renormalised to sum to one. */
  readonly normalizeExpertWeights: boolean;
  /** Whether a shared expert, gated by a sigmoid of its own router (qwen2moe), runs for all tokens. */
  readonly sharedExpert: boolean;
}

/** The traits llama.cpp hard-codes per architecture (its `llm_build_*` graphs). */
const TRAITS: Readonly<
  Record<
    Architecture,
    Pick<
      ModelConfig,
      "ropeStyle" | "qkNorm" | "qkvBias" | "normalizeExpertWeights" | "sharedExpert"
    >
  >
> = {
  llama: {
    ropeStyle: "normal",
    qkNorm: "none",
    qkvBias: false,
    normalizeExpertWeights: true,
    sharedExpert: false,
  },
  qwen2moe: {
    ropeStyle: "neox",
    qkNorm: "none",
    qkvBias: true,
    normalizeExpertWeights: false,
    sharedExpert: true,
  },
  qwen3moe: {
    ropeStyle: "neox",
    qkNorm: "per-head",
    qkvBias: false,
    normalizeExpertWeights: true,
    sharedExpert: false,
  },
  olmoe: {
    ropeStyle: "neox",
    qkNorm: "full",
    qkvBias: false,
    normalizeExpertWeights: false,
    sharedExpert: false,
  },
};

/**
 * Reads the configuration of a supported MoE model.
 * @throws {GGUFError} naming the architecture when it is not supported, or the missing key.
 */
export function readConfig(gguf: GGUFFile): ModelConfig {
  const architecture = gguf.architecture;
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(architecture)) {
    throw new GGUFError(
      gguf.path,
      `architecture "${architecture}" is not supported (supported: ` +
        `${SUPPORTED_ARCHITECTURES.join(", ")})`,
    );
  }
  const arch = architecture as Architecture;
  const key = (name: string) => `${arch}.${name}`;
  const dim = gguf.getNumber(key("embedding_length"));
  const heads = gguf.getNumber(key("attention.head_count"));
  const headDim = gguf.getNumberOr(key("attention.key_length"), dim / heads);
  const experts = gguf.getNumberOr(key("expert_count"), 0);
  if (experts === 0) {
    throw new GGUFError(
      gguf.path,
      `"${gguf.architecture}" model has no experts (dense models are not supported)`,
    );
  }
  const vocabSize = gguf.has(key("vocab_size"))
    ? gguf.getNumber(key("vocab_size"))
    : gguf.tensor("token_embd.weight").shape[1]!;
  return {
    architecture: arch,
    vocabSize,
    contextLength: gguf.getNumber(key("context_length")),
    dim,
    layers: gguf.getNumber(key("block_count")),
    heads,
    kvHeads: gguf.getNumberOr(key("attention.head_count_kv"), heads),
    headDim,
    valueDim: gguf.getNumberOr(key("attention.value_length"), headDim),
    ropeDim: gguf.getNumberOr(key("rope.dimension_count"), headDim),
    ropeBase: gguf.getNumberOr(key("rope.freq_base"), 10000),
    rmsEpsilon: gguf.getNumber(key("attention.layer_norm_rms_epsilon")),
    experts,
    expertsUsed: gguf.getNumber(key("expert_used_count")),
    ...TRAITS[arch],
  };
}
