/**
 * The tensors of a model shape: llama.cpp's names and shapes per architecture, and how each is
 * initialised (fan-in scaled uniform weights keep activations near unit variance through the
 * layers, so logits are well-conditioned and routing is varied; the projections back into the
 * residual stream are smaller, see `BLOCK_OUTPUT_GAIN`).
 * @module
 */
import type { ModelShape } from "./presets.ts";

/** How a tensor's values are drawn. */
export type Init =
  /** uniform with standard deviation `gain / sqrt(fanIn)` */
  | { readonly kind: "fan-in"; readonly fanIn: number; readonly gain: number }
  /** `1 + uniform(±spread)`: RMSNorm weights near one */
  | { readonly kind: "norm"; readonly spread: number }
  /** uniform(±limit): biases and embeddings */
  | { readonly kind: "uniform"; readonly limit: number };

/** One tensor to generate. */
export interface PlannedTensor {
  readonly name: string;
  /** ggml order: `shape[0]` is the row length (the input dimension of a weight matrix). */
  readonly shape: readonly number[];
  readonly init: Init;
  /**
   * Whether the tensor takes the model's quantized type. Norms, biases and routers stay F32,
   * as llama.cpp's own quantizer keeps them.
   */
  readonly quantizable: boolean;
}

/**
 * Gain of the projections that write into the residual stream (attention output, feed-forward
 * down). In trained models each block changes the residual stream only a little, which is why
 * the next layer's router applied to the current hidden state guesses its experts well (the
 * offloading paper's speculative loading: above 80 % recall one layer ahead). At gain 1 every
 * block rewrote the stream: recall one layer ahead was 63 % on moe-350m, and greedy text fell
 * into loops (32 distinct tokens in 64); at 0.5 it is 80 %, and 62 of 64.
 */
const BLOCK_OUTPUT_GAIN = 0.5;

const weight = (name: string, shape: number[], gain = 1): PlannedTensor => ({
  name,
  shape,
  init: { kind: "fan-in", fanIn: shape[0]!, gain },
  quantizable: true,
});
const norm = (name: string, width: number): PlannedTensor => ({
  name,
  shape: [width],
  init: { kind: "norm", spread: 0.1 },
  quantizable: false,
});
const bias = (name: string, width: number): PlannedTensor => ({
  name,
  shape: [width],
  init: { kind: "uniform", limit: 0.1 },
  quantizable: false,
});

/** Every tensor of the model, in the order llama.cpp's converter writes them. */
export function planTensors(shape: ModelShape): PlannedTensor[] {
  const { vocabSize: vocab, embeddingLength: dim } = shape;
  const tensors: PlannedTensor[] = [
    {
      name: "token_embd.weight",
      shape: [dim, vocab],
      // unit-variance embeddings, as the residual stream expects
      init: { kind: "uniform", limit: Math.sqrt(3) },
      quantizable: true,
    },
  ];
  for (let layer = 0; layer < shape.blockCount; layer++) {
    const blk = (name: string) => `blk.${layer}.${name}`;
    tensors.push(norm(blk("attn_norm.weight"), dim));
    tensors.push(...(shape.mla ? latentAttention(shape, blk) : attention(shape, blk)));
    tensors.push(norm(blk("ffn_norm.weight"), dim));
    if (layer < shape.leadingDenseBlocks) {
      const hidden = shape.denseFeedForwardLength;
      tensors.push(
        weight(blk("ffn_gate.weight"), [dim, hidden]),
        weight(blk("ffn_up.weight"), [dim, hidden]),
        weight(blk("ffn_down.weight"), [hidden, dim], BLOCK_OUTPUT_GAIN),
      );
    } else {
      tensors.push(...experts(shape, blk));
    }
  }
  tensors.push(
    norm("output_norm.weight", dim),
    // gain 4: logits with a standard deviation of a few units, so the top tokens are distinct
    weight("output.weight", [dim, vocab], 4),
  );
  return tensors;
}

type LayerName = (name: string) => string;

/** Grouped-query attention, with each architecture's biases or q/k norms. */
function attention(shape: ModelShape, blk: LayerName): PlannedTensor[] {
  const dim = shape.embeddingLength;
  const qWidth = shape.headCount * shape.headDim;
  const kvWidth = shape.headCountKV * shape.headDim;
  const tensors = [
    weight(blk("attn_q.weight"), [dim, qWidth]),
    weight(blk("attn_k.weight"), [dim, kvWidth]),
    weight(blk("attn_v.weight"), [dim, kvWidth]),
  ];
  if (shape.architecture === "qwen2moe") {
    tensors.push(
      bias(blk("attn_q.bias"), qWidth),
      bias(blk("attn_k.bias"), kvWidth),
      bias(blk("attn_v.bias"), kvWidth),
    );
  }
  if (shape.architecture === "qwen3moe") {
    tensors.push(
      norm(blk("attn_q_norm.weight"), shape.headDim),
      norm(blk("attn_k_norm.weight"), shape.headDim),
    );
  }
  if (shape.architecture === "olmoe") {
    tensors.push(norm(blk("attn_q_norm.weight"), qWidth), norm(blk("attn_k_norm.weight"), kvWidth));
  }
  tensors.push(weight(blk("attn_output.weight"), [qWidth, dim], BLOCK_OUTPUT_GAIN));
  return tensors;
}

/**
 * DeepSeek's latent attention in llama.cpp's layout: the key-value up-projection stored split
 * into `attn_k_b` (transposed, per head) and `attn_v_b`, so it can be absorbed into q and o.
 */
function latentAttention(shape: ModelShape, blk: LayerName): PlannedTensor[] {
  const mla = shape.mla!;
  const dim = shape.embeddingLength;
  const heads = shape.headCount;
  const qHead = mla.nopeHeadDim + mla.ropeHeadDim;
  const tensors: PlannedTensor[] = [];
  if (mla.qLoraRank > 0) {
    tensors.push(
      norm(blk("attn_q_a_norm.weight"), mla.qLoraRank),
      weight(blk("attn_q_a.weight"), [dim, mla.qLoraRank]),
      weight(blk("attn_q_b.weight"), [mla.qLoraRank, heads * qHead]),
    );
  } else {
    tensors.push(weight(blk("attn_q.weight"), [dim, heads * qHead]));
  }
  tensors.push(
    weight(blk("attn_kv_a_mqa.weight"), [dim, mla.kvLoraRank + mla.ropeHeadDim]),
    norm(blk("attn_kv_a_norm.weight"), mla.kvLoraRank),
    weight(blk("attn_k_b.weight"), [mla.nopeHeadDim, mla.kvLoraRank, heads]),
    weight(blk("attn_v_b.weight"), [mla.kvLoraRank, mla.valueHeadDim, heads]),
    weight(blk("attn_output.weight"), [heads * mla.valueHeadDim, dim], BLOCK_OUTPUT_GAIN),
  );
  return tensors;
}

/** The router, the routed experts, and the shared experts (with qwen2moe's sigmoid gate). */
function experts(shape: ModelShape, blk: LayerName): PlannedTensor[] {
  const dim = shape.embeddingLength;
  const ffn = shape.expertFeedForwardLength;
  const count = shape.expertCount;
  const tensors: PlannedTensor[] = [
    // the router: unit-variance logits give varied, not degenerate, expert choices
    { ...weight(blk("ffn_gate_inp.weight"), [dim, count]), quantizable: false },
  ];
  if (shape.router?.gating === "sigmoid") {
    // DeepSeek-V3's per-expert bias, used only to choose experts (load balancing)
    tensors.push(bias(blk("exp_probs_b.bias"), count));
  }
  tensors.push(
    weight(blk("ffn_gate_exps.weight"), [dim, ffn, count]),
    weight(blk("ffn_up_exps.weight"), [dim, ffn, count]),
    weight(blk("ffn_down_exps.weight"), [ffn, dim, count], BLOCK_OUTPUT_GAIN),
  );
  if (shape.sharedExpertCount > 0) {
    const shared = shape.sharedExpertCount * ffn;
    if (shape.architecture === "qwen2moe") {
      tensors.push({ ...weight(blk("ffn_gate_inp_shexp.weight"), [dim]), quantizable: false });
    }
    tensors.push(
      weight(blk("ffn_gate_shexp.weight"), [dim, shared]),
      weight(blk("ffn_up_shexp.weight"), [dim, shared]),
      weight(blk("ffn_down_shexp.weight"), [shared, dim], BLOCK_OUTPUT_GAIN),
    );
  }
  return tensors;
}
