/**
 * Model shapes for synthetic models: tiny ones for tests, and the shapes of real MoE models
 * (from their published configs) that `--scale` and `--layers` shrink to fit a machine.
 * @module
 */

/** Architectures `synth` can generate, named as llama.cpp's `general.architecture`. */
export type SynthArchitecture = "llama" | "qwen2moe" | "qwen3moe" | "olmoe" | "deepseek2";

/** DeepSeek's multi-head latent attention: keys and values pass through a low-rank latent. */
export interface MlaShape {
  /** Rank of the query compression, 0 for a plain query projection (V2-Lite). */
  readonly qLoraRank: number;
  /** Width of the compressed key-value latent (what the KV cache stores). */
  readonly kvLoraRank: number;
  /** Per-head key width without position information. */
  readonly nopeHeadDim: number;
  /** Per-head key width that gets RoPE (shared by all heads). */
  readonly ropeHeadDim: number;
  readonly valueHeadDim: number;
}

/** Routing beyond softmax top-k (DeepSeek-V3). */
export interface RouterShape {
  /** How router logits become weights: softmax (over all experts) or per-expert sigmoid. */
  readonly gating: "softmax" | "sigmoid";
  /** Expert groups; top-k is taken inside the best `groupsUsed` groups (1 = no groups). */
  readonly groups: number;
  readonly groupsUsed: number;
  /** Factor applied to the chosen experts' weights. */
  readonly weightsScale: number;
  /** Whether the chosen weights are renormalised to sum to one. */
  readonly normalize: boolean;
}

/** Hyperparameters of a MoE transformer, enough to lay out every tensor. */
export interface ModelShape {
  readonly architecture: SynthArchitecture;
  readonly vocabSize: number;
  readonly contextLength: number;
  /** Width of the residual stream (n_embd). */
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly headCount: number;
  readonly headCountKV: number;
  /** Per-head width of queries, keys and values. */
  readonly headDim: number;
  readonly expertCount: number;
  /** Experts each token is routed to (top-k). */
  readonly expertUsedCount: number;
  /** Hidden width of each routed expert. */
  readonly expertFeedForwardLength: number;
  /**
   * Shared experts that every token uses, each as wide as a routed expert: DeepSeek's count, or
   * for qwen2moe the width of its one shared expert in routed-expert widths. 0 for none.
   */
  readonly sharedExpertCount: number;
  /** Leading layers with a dense feed-forward instead of experts (DeepSeek), and its width. */
  readonly leadingDenseBlocks: number;
  readonly denseFeedForwardLength: number;
  readonly ropeFreqBase: number;
  readonly rmsEpsilon: number;
  /** Multi-head latent attention, for deepseek2. */
  readonly mla?: MlaShape;
  /** Router options beyond softmax top-k, for deepseek2. */
  readonly router?: RouterShape;
}

/** A named shape and where it comes from. */
export interface Preset {
  readonly name: string;
  readonly description: string;
  readonly shape: ModelShape;
}

const tinyBase = {
  vocabSize: 1024,
  contextLength: 2048,
  embeddingLength: 256,
  blockCount: 4,
  headCount: 8,
  headCountKV: 4,
  headDim: 32,
  expertCount: 8,
  expertUsedCount: 2,
  expertFeedForwardLength: 256,
  sharedExpertCount: 0,
  leadingDenseBlocks: 0,
  denseFeedForwardLength: 0,
  ropeFreqBase: 10000,
  rmsEpsilon: 1e-5,
} as const;

/** Every preset, tiny ones first. */
export const PRESETS: readonly Preset[] = [
  {
    name: "tiny-mixtral",
    description: "Mixtral layout (llama + 8 experts, top-2), a few MB, for tests",
    shape: { ...tinyBase, architecture: "llama" },
  },
  {
    name: "tiny-qwen2moe",
    description: "Qwen1.5-MoE layout (qkv biases, shared expert with sigmoid gate), for tests",
    shape: {
      ...tinyBase,
      architecture: "qwen2moe",
      headCountKV: 8,
      expertUsedCount: 4,
      sharedExpertCount: 2,
      rmsEpsilon: 1e-6,
    },
  },
  {
    name: "tiny-qwen3moe",
    description: "Qwen3-MoE layout (per-head q/k RMSNorm, 16 experts, top-4), for tests",
    shape: {
      ...tinyBase,
      architecture: "qwen3moe",
      headCount: 4,
      headCountKV: 2,
      headDim: 64,
      expertCount: 16,
      expertUsedCount: 4,
      rmsEpsilon: 1e-6,
      ropeFreqBase: 1000000,
    },
  },
  {
    name: "tiny-olmoe",
    description: "OLMoE layout (full-width q/k RMSNorm, 16 experts, top-4), for tests",
    shape: {
      ...tinyBase,
      architecture: "olmoe",
      headCountKV: 8,
      expertCount: 16,
      expertUsedCount: 4,
    },
  },
  {
    name: "tiny-deepseek2",
    description: "DeepSeek-V2 layout (latent attention, 1 dense layer, 2 shared + 16 experts)",
    shape: {
      ...tinyBase,
      architecture: "deepseek2",
      headCount: 4,
      headCountKV: 1,
      headDim: 192,
      expertCount: 16,
      expertUsedCount: 4,
      sharedExpertCount: 2,
      leadingDenseBlocks: 1,
      denseFeedForwardLength: 512,
      rmsEpsilon: 1e-6,
      mla: { qLoraRank: 0, kvLoraRank: 256, nopeHeadDim: 128, ropeHeadDim: 64, valueHeadDim: 128 },
      router: { gating: "softmax", groups: 1, groupsUsed: 1, weightsScale: 1, normalize: false },
    },
  },
  {
    name: "moe-350m",
    description:
      "benchmark MoE: 8 layers, d 1024, 32 experts of 768, top-4, vocab 8192 (~350 MB in Q4_0)",
    shape: {
      architecture: "llama",
      vocabSize: 8192,
      contextLength: 4096,
      embeddingLength: 1024,
      blockCount: 8,
      headCount: 16,
      headCountKV: 4,
      headDim: 64,
      expertCount: 32,
      expertUsedCount: 4,
      expertFeedForwardLength: 768,
      sharedExpertCount: 0,
      leadingDenseBlocks: 0,
      denseFeedForwardLength: 0,
      ropeFreqBase: 10000,
      rmsEpsilon: 1e-5,
    },
  },
  {
    name: "mixtral-8x7b-shape",
    description: "Mixtral-8x7B: 32 layers, d 4096, 8 experts of 14336, top-2 (46.7B params)",
    shape: {
      architecture: "llama",
      vocabSize: 32000,
      contextLength: 32768,
      embeddingLength: 4096,
      blockCount: 32,
      headCount: 32,
      headCountKV: 8,
      headDim: 128,
      expertCount: 8,
      expertUsedCount: 2,
      expertFeedForwardLength: 14336,
      sharedExpertCount: 0,
      leadingDenseBlocks: 0,
      denseFeedForwardLength: 0,
      ropeFreqBase: 1000000,
      rmsEpsilon: 1e-5,
    },
  },
  {
    name: "olmoe-1b-7b-shape",
    description: "OLMoE-1B-7B: 16 layers, d 2048, 64 experts of 1024, top-8 (6.9B params)",
    shape: {
      architecture: "olmoe",
      vocabSize: 50304,
      contextLength: 4096,
      embeddingLength: 2048,
      blockCount: 16,
      headCount: 16,
      headCountKV: 16,
      headDim: 128,
      expertCount: 64,
      expertUsedCount: 8,
      expertFeedForwardLength: 1024,
      sharedExpertCount: 0,
      leadingDenseBlocks: 0,
      denseFeedForwardLength: 0,
      ropeFreqBase: 10000,
      rmsEpsilon: 1e-5,
    },
  },
  {
    name: "qwen3-30b-a3b-shape",
    description: "Qwen3-30B-A3B: 48 layers, d 2048, 128 experts of 768, top-8 (30.5B params)",
    shape: {
      architecture: "qwen3moe",
      vocabSize: 151936,
      contextLength: 40960,
      embeddingLength: 2048,
      blockCount: 48,
      headCount: 32,
      headCountKV: 4,
      headDim: 128,
      expertCount: 128,
      expertUsedCount: 8,
      expertFeedForwardLength: 768,
      sharedExpertCount: 0,
      leadingDenseBlocks: 0,
      denseFeedForwardLength: 0,
      ropeFreqBase: 1000000,
      rmsEpsilon: 1e-6,
    },
  },
  {
    name: "qwen1.5-moe-a2.7b-shape",
    description: "Qwen1.5-MoE-A2.7B: 24 layers, d 2048, 60 experts of 1408 + shared 5632, top-4",
    shape: {
      architecture: "qwen2moe",
      vocabSize: 151936,
      contextLength: 8192,
      embeddingLength: 2048,
      blockCount: 24,
      headCount: 16,
      headCountKV: 16,
      headDim: 128,
      expertCount: 60,
      expertUsedCount: 4,
      expertFeedForwardLength: 1408,
      sharedExpertCount: 4, // one shared expert of 5632 = 4 × 1408
      leadingDenseBlocks: 0,
      denseFeedForwardLength: 0,
      ropeFreqBase: 1000000,
      rmsEpsilon: 1e-6,
    },
  },
  {
    name: "deepseek-v2-lite-shape",
    description: "DeepSeek-V2-Lite: 27 layers, d 2048, MLA, 64 experts of 1408 + 2 shared, top-6",
    shape: {
      architecture: "deepseek2",
      vocabSize: 102400,
      contextLength: 163840,
      embeddingLength: 2048,
      blockCount: 27,
      headCount: 16,
      headCountKV: 1,
      headDim: 192,
      expertCount: 64,
      expertUsedCount: 6,
      expertFeedForwardLength: 1408,
      sharedExpertCount: 2,
      leadingDenseBlocks: 1,
      denseFeedForwardLength: 10944,
      ropeFreqBase: 10000,
      rmsEpsilon: 1e-6,
      mla: { qLoraRank: 0, kvLoraRank: 512, nopeHeadDim: 128, ropeHeadDim: 64, valueHeadDim: 128 },
      router: { gating: "softmax", groups: 1, groupsUsed: 1, weightsScale: 1, normalize: false },
    },
  },
  {
    name: "deepseek-v3-shape",
    description:
      "DeepSeek-V3: 61 layers, d 7168, MLA, 256 experts of 2048 + 1 shared, top-8 (671B)",
    shape: {
      architecture: "deepseek2",
      vocabSize: 129280,
      contextLength: 163840,
      embeddingLength: 7168,
      blockCount: 61,
      headCount: 128,
      headCountKV: 1,
      headDim: 192,
      expertCount: 256,
      expertUsedCount: 8,
      expertFeedForwardLength: 2048,
      sharedExpertCount: 1,
      leadingDenseBlocks: 3,
      denseFeedForwardLength: 18432,
      ropeFreqBase: 10000,
      rmsEpsilon: 1e-6,
      mla: {
        qLoraRank: 1536,
        kvLoraRank: 512,
        nopeHeadDim: 128,
        ropeHeadDim: 64,
        valueHeadDim: 128,
      },
      router: { gating: "sigmoid", groups: 8, groupsUsed: 4, weightsScale: 2.5, normalize: true },
    },
  },
];

/**
 * The preset with this name.
 * @throws {RangeError} listing the presets when there is none.
 */
export function findPreset(name: string): Preset {
  const preset = PRESETS.find((p) => p.name === name);
  if (!preset) {
    throw new RangeError(
      `Unknown preset "${name}"; presets: ${PRESETS.map((p) => p.name).join(", ")}`,
    );
  }
  return preset;
}

/** How to shrink a shape. */
export interface ShapeScaling {
  /** Factor in (0, 1] applied to the widths (embedding, heads, feed-forward). */
  readonly scale?: number;
  /** Number of layers to keep. */
  readonly layers?: number;
}

/** Widths are kept multiples of this, so that every K-quant (256-element blocks) applies. */
const WIDTH_QUANTUM = 256;

/**
 * Shrinks a shape: widths scale by `scale` (rounded to multiples of 256, head width kept, so
 * attention heads scale too), the expert count and top-k stay as they are, and `layers`
 * replaces the layer count (keeping at least one MoE layer after any leading dense ones).
 * @throws {RangeError} for a scale outside (0, 1] or a layer count below 1.
 */
export function scaleShape(shape: ModelShape, { scale = 1, layers }: ShapeScaling): ModelShape {
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`--scale must be in (0, 1], got ${scale}`);
  if (layers !== undefined && !(Number.isInteger(layers) && layers >= 1)) {
    throw new RangeError(`--layers must be a whole number ≥ 1, got ${layers}`);
  }
  const width = (w: number) =>
    w === 0 ? 0 : Math.max(WIDTH_QUANTUM, Math.round((w * scale) / WIDTH_QUANTUM) * WIDTH_QUANTUM);
  const embeddingLength = scale === 1 ? shape.embeddingLength : width(shape.embeddingLength);
  const ratio = embeddingLength / shape.embeddingLength;
  const headCount = Math.max(1, Math.round(shape.headCount * ratio));
  // grouped-query attention needs the KV head count to divide the head count
  let headCountKV = Math.min(headCount, Math.max(1, Math.round(shape.headCountKV * ratio)));
  while (headCount % headCountKV !== 0) headCountKV--;
  const scaled = (w: number) => (scale === 1 ? w : width(w));
  const blockCount = layers ?? shape.blockCount;
  return {
    ...shape,
    embeddingLength,
    headCount,
    headCountKV,
    blockCount,
    leadingDenseBlocks: Math.min(shape.leadingDenseBlocks, blockCount - 1),
    expertFeedForwardLength: scaled(shape.expertFeedForwardLength),
    denseFeedForwardLength: scaled(shape.denseFeedForwardLength),
    ...(shape.mla
      ? {
        mla: {
          ...shape.mla,
          qLoraRank: scaled(shape.mla.qLoraRank),
          kvLoraRank: scaled(shape.mla.kvLoraRank),
        },
      }
      : {}),
  };
}
