/**
 * The tensors of a model shape: llama.cpp's names and shapes per architecture, and how each is
 * initialised (fan-in scaled uniform weights keep activations near unit variance through the
 * layers, so logits are well-conditioned and routing is varied).
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
  const {
    architecture,
    vocabSize: vocab,
    embeddingLength: dim,
    headDim,
    expertCount: experts,
  } = shape;
  const qWidth = shape.headCount * headDim;
  const kvWidth = shape.headCountKV * headDim;
  const ffn = shape.expertFeedForwardLength;
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
    tensors.push(
      norm(blk("attn_norm.weight"), dim),
      weight(blk("attn_q.weight"), [dim, qWidth]),
      weight(blk("attn_k.weight"), [dim, kvWidth]),
      weight(blk("attn_v.weight"), [dim, kvWidth]),
    );
    if (architecture === "qwen2moe") {
      tensors.push(
        bias(blk("attn_q.bias"), qWidth),
        bias(blk("attn_k.bias"), kvWidth),
        bias(blk("attn_v.bias"), kvWidth),
      );
    }
    if (architecture === "qwen3moe") {
      tensors.push(
        norm(blk("attn_q_norm.weight"), headDim),
        norm(blk("attn_k_norm.weight"), headDim),
      );
    }
    if (architecture === "olmoe") {
      tensors.push(
        norm(blk("attn_q_norm.weight"), qWidth),
        norm(blk("attn_k_norm.weight"), kvWidth),
      );
    }
    tensors.push(
      weight(blk("attn_output.weight"), [qWidth, dim]),
      norm(blk("ffn_norm.weight"), dim),
      // the router: unit-variance logits give varied, not degenerate, expert choices
      { ...weight(blk("ffn_gate_inp.weight"), [dim, experts]), quantizable: false },
      weight(blk("ffn_gate_exps.weight"), [dim, ffn, experts]),
      weight(blk("ffn_up_exps.weight"), [dim, ffn, experts]),
      weight(blk("ffn_down_exps.weight"), [ffn, dim, experts]),
    );
    if (shape.sharedFeedForwardLength > 0) {
      const shared = shape.sharedFeedForwardLength;
      tensors.push(
        { ...weight(blk("ffn_gate_inp_shexp.weight"), [dim]), quantizable: false },
        weight(blk("ffn_gate_shexp.weight"), [dim, shared]),
        weight(blk("ffn_up_shexp.weight"), [dim, shared]),
        weight(blk("ffn_down_shexp.weight"), [shared, dim]),
      );
    }
  }
  tensors.push(
    norm("output_norm.weight", dim),
    // gain 4: logits with a standard deviation of a few units, so the top tokens are distinct
    weight("output.weight", [dim, vocab], 4),
  );
  return tensors;
}
