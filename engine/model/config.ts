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
export const SUPPORTED_ARCHITECTURES = [
  "llama",
  "qwen2moe",
  "qwen3moe",
  "olmoe",
  "deepseek2",
] as const;

/** One of the supported architectures. */
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

/** DeepSeek's multi-head latent attention (see `synth/presets.ts` for the shapes). */
export interface LatentAttention {
  /** 0 when queries come from one projection (V2-Lite), else the rank of their compression. */
  readonly qLoraRank: number;
  /** Width of the compressed key-value latent, which is what the KV cache holds. */
  readonly kvLoraRank: number;
  readonly nopeDim: number;
  readonly ropeDim: number;
  readonly valueDim: number;
}

/** How the router turns logits into chosen experts and their weights. */
export interface RouterConfig {
  /** softmax over all experts, or a sigmoid per expert (DeepSeek-V3). */
  readonly gating: "softmax" | "sigmoid";
  /** Whether the chosen experts' weights are renormalised to sum to one. */
  readonly normalize: boolean;
  /** Factor on the chosen experts' weights. */
  readonly scale: number;
  /** Expert groups: top-k is taken inside the best `groupsUsed` groups (1: no groups). */
  readonly groups: number;
  readonly groupsUsed: number;
}

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
  /** Latent attention instead of grouped-query attention (deepseek2). */
  readonly latent: LatentAttention | null;
  /** Leading layers with a dense feed-forward instead of experts (DeepSeek). */
  readonly leadingDenseBlocks: number;
  readonly experts: number;
  readonly expertsUsed: number;
  readonly router: RouterConfig;
  /**
   * Shared experts every token uses: `gated` by a sigmoid of their own router (qwen2moe),
   * `plain` (DeepSeek), or `none`.
   */
  readonly sharedExpert: "none" | "gated" | "plain";
}

type Traits = Pick<ModelConfig, "ropeStyle" | "qkNorm" | "qkvBias" | "sharedExpert"> & {
  readonly normalize: boolean;
};

/** The traits llama.cpp hard-codes per architecture (its `llm_build_*` graphs). */
const TRAITS: Readonly<Record<Architecture, Traits>> = {
  llama: {
    ropeStyle: "normal",
    qkNorm: "none",
    qkvBias: false,
    normalize: true,
    sharedExpert: "none",
  },
  qwen2moe: {
    ropeStyle: "neox",
    qkNorm: "none",
    qkvBias: true,
    normalize: false,
    sharedExpert: "gated",
  },
  qwen3moe: {
    ropeStyle: "neox",
    qkNorm: "per-head",
    qkvBias: false,
    normalize: true,
    sharedExpert: "none",
  },
  olmoe: {
    ropeStyle: "neox",
    qkNorm: "full",
    qkvBias: false,
    normalize: false,
    sharedExpert: "none",
  },
  // deepseek2 reads normalisation from metadata (expert_weights_norm)
  deepseek2: {
    ropeStyle: "normal",
    qkNorm: "none",
    qkvBias: false,
    normalize: false,
    sharedExpert: "plain",
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
  const flag = (name: string, fallback: boolean) => {
    const value = gguf.metadata.get(key(name));
    return value?.type === "bool" ? value.value : fallback;
  };
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
  const traits = TRAITS[arch];
  const ropeDim = gguf.getNumberOr(key("rope.dimension_count"), headDim);
  const latent = arch !== "deepseek2" ? null : {
    qLoraRank: gguf.getNumberOr(key("attention.q_lora_rank"), 0),
    kvLoraRank: gguf.getNumber(key("attention.kv_lora_rank")),
    nopeDim: gguf.getNumber(key("attention.key_length_mla")) - ropeDim,
    ropeDim,
    valueDim: gguf.getNumber(key("attention.value_length_mla")),
  };
  // llama_expert_gating_func_type: 1 softmax, 2 sigmoid (0, unset: softmax)
  const gatingId = gguf.getNumberOr(key("expert_gating_func"), 1);
  if (gatingId !== 0 && gatingId !== 1 && gatingId !== 2) {
    throw new GGUFError(gguf.path, `expert gating function ${gatingId} is not supported`);
  }
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
    ropeDim,
    ropeBase: gguf.getNumberOr(key("rope.freq_base"), 10000),
    ropeStyle: traits.ropeStyle,
    rmsEpsilon: gguf.getNumber(key("attention.layer_norm_rms_epsilon")),
    qkNorm: traits.qkNorm,
    qkvBias: traits.qkvBias,
    latent,
    leadingDenseBlocks: gguf.getNumberOr(key("leading_dense_block_count"), 0),
    experts,
    expertsUsed: gguf.getNumber(key("expert_used_count")),
    router: {
      gating: gatingId === 2 ? "sigmoid" : "softmax",
      normalize: arch === "deepseek2" ? flag("expert_weights_norm", false) : traits.normalize,
      scale: gguf.getNumberOr(key("expert_weights_scale"), 1) || 1,
      groups: Math.max(1, gguf.getNumberOr(key("expert_group_count"), 1)),
      groupsUsed: gguf.getNumberOr(key("expert_group_used_count"), 1),
    },
    sharedExpert: traits.sharedExpert,
  };
}
