/**
 * Views into a model's tensors, organised as the transformer uses them. Matrices stay in their
 * quantized bytes; norm weights and biases (small) are decoded to f32.
 * @module
 */
import { GGUFError } from "../gguf/errors.ts";
import type { GGUFFile } from "../gguf/read.ts";
import type { TensorInfo } from "../gguf/types.ts";
import { vecDotType } from "../quant/activations.ts";
import { quantFormat } from "../quant/registry.ts";
import type { ModelConfig } from "./config.ts";
import { Matrix } from "./matrix.ts";

/** One expert's feed-forward: down(silu(gate·x) ⊙ up·x). */
export interface FeedForward {
  readonly gate: Matrix; // (hidden, dim)
  readonly up: Matrix; // (hidden, dim)
  readonly down: Matrix; // (dim, hidden)
}

/** One transformer block. */
export interface LayerWeights {
  readonly attnNorm: Float32Array; // (dim)
  readonly wq: Matrix; // (heads·headDim, dim)
  readonly wk: Matrix; // (kvHeads·headDim, dim)
  readonly wv: Matrix; // (kvHeads·valueDim, dim)
  readonly wo: Matrix; // (dim, heads·valueDim)
  readonly bq: Float32Array | null; // (heads·headDim), qwen2moe
  readonly bk: Float32Array | null;
  readonly bv: Float32Array | null;
  readonly qNorm: Float32Array | null; // (headDim) per head, or (heads·headDim) over all
  readonly kNorm: Float32Array | null;
  readonly ffnNorm: Float32Array; // (dim)
  readonly router: Matrix; // (experts, dim)
  readonly experts: readonly FeedForward[]; // (experts)
  readonly shared: FeedForward | null;
  readonly sharedGate: Float32Array | null; // (dim): the shared expert's sigmoid gate
}

/** Every weight of the model. */
export interface ModelWeights {
  readonly tokenEmbedding: Matrix; // (vocab, dim)
  readonly layers: readonly LayerWeights[];
  readonly outputNorm: Float32Array; // (dim)
  readonly output: Matrix; // (vocab, dim)
}

/**
 * How mat-vecs treat activations: `f32` exactly, or `ggml` rounded as ggml's CPU dot products
 * round them (to follow llama.cpp's numbers).
 */
export type Numerics = "f32" | "ggml";

/**
 * Reads every tensor the forward pass uses into memory (quantized) and checks its shape.
 * @throws {GGUFError} naming a missing tensor, a wrong shape or an unsupported type.
 */
export async function loadWeights(
  gguf: GGUFFile,
  config: ModelConfig,
  numerics: Numerics = "f32",
): Promise<ModelWeights> {
  const shapeOf = (info: TensorInfo, expected: number[]) => {
    const same = info.shape.length === expected.length &&
      info.shape.every((dim, i) => dim === expected[i]);
    if (!same) {
      throw new GGUFError(
        gguf.path,
        `tensor "${info.name}" has shape [${info.shape}], expected [${expected}]`,
      );
    }
  };
  const formatOf = (info: TensorInfo) => {
    try {
      return quantFormat(info.typeName);
    } catch {
      throw new GGUFError(
        gguf.path,
        `tensor "${info.name}" has type ${info.typeName}, which moebench cannot run`,
      );
    }
  };
  /** A matrix of `rows` × `cols` (ggml shape [cols, rows, …]). */
  const matrix = async (name: string, shape: number[]) => {
    const info = gguf.tensor(name);
    shapeOf(info, shape);
    const rows = shape.slice(1).reduce((a, b) => a * b, 1);
    const activations = numerics === "ggml" ? vecDotType(info.typeName) : null;
    return new Matrix(formatOf(info), rows, shape[0]!, await gguf.readTensor(info), activations);
  };
  const vector = async (name: string, length: number) => {
    const info = gguf.tensor(name);
    shapeOf(info, [length]);
    const values = new Float32Array(length);
    formatOf(info).dequantize(await gguf.readTensor(info), values);
    return values;
  };
  const optionalVector = (name: string, length: number) =>
    gguf.findTensor(name) ? vector(name, length) : Promise.resolve(null);

  const { dim, heads, kvHeads, headDim, valueDim, experts, vocabSize } = config;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.layers; l++) {
    const blk = (name: string) => `blk.${l}.${name}`;
    const ffnHidden = gguf.tensor(blk("ffn_up_exps.weight")).shape[1]!;
    const stacked = {
      gate: await matrix(blk("ffn_gate_exps.weight"), [dim, ffnHidden, experts]),
      up: await matrix(blk("ffn_up_exps.weight"), [dim, ffnHidden, experts]),
      down: await matrix(blk("ffn_down_exps.weight"), [ffnHidden, dim, experts]),
    };
    const qkNormLength = config.qkNorm === "per-head" ? headDim : heads * headDim;
    const kNormLength = config.qkNorm === "per-head" ? headDim : kvHeads * headDim;
    let shared: FeedForward | null = null;
    if (config.sharedExpert) {
      const sharedHidden = gguf.tensor(blk("ffn_up_shexp.weight")).shape[1]!;
      shared = {
        gate: await matrix(blk("ffn_gate_shexp.weight"), [dim, sharedHidden]),
        up: await matrix(blk("ffn_up_shexp.weight"), [dim, sharedHidden]),
        down: await matrix(blk("ffn_down_shexp.weight"), [sharedHidden, dim]),
      };
    }
    layers.push({
      attnNorm: await vector(blk("attn_norm.weight"), dim),
      wq: await matrix(blk("attn_q.weight"), [dim, heads * headDim]),
      wk: await matrix(blk("attn_k.weight"), [dim, kvHeads * headDim]),
      wv: await matrix(blk("attn_v.weight"), [dim, kvHeads * valueDim]),
      wo: await matrix(blk("attn_output.weight"), [heads * valueDim, dim]),
      bq: config.qkvBias ? await vector(blk("attn_q.bias"), heads * headDim) : null,
      bk: config.qkvBias ? await vector(blk("attn_k.bias"), kvHeads * headDim) : null,
      bv: config.qkvBias ? await vector(blk("attn_v.bias"), kvHeads * valueDim) : null,
      qNorm: config.qkNorm === "none"
        ? null
        : await vector(blk("attn_q_norm.weight"), qkNormLength),
      kNorm: config.qkNorm === "none" ? null : await vector(blk("attn_k_norm.weight"), kNormLength),
      ffnNorm: await vector(blk("ffn_norm.weight"), dim),
      router: await matrix(blk("ffn_gate_inp.weight"), [dim, experts]),
      experts: Array.from({ length: experts }, (_, e) => ({
        gate: stacked.gate.slice(e, experts),
        up: stacked.up.slice(e, experts),
        down: stacked.down.slice(e, experts),
      })),
      shared,
      sharedGate: config.sharedExpert
        ? await optionalVector(blk("ffn_gate_inp_shexp.weight"), dim)
        : null,
    });
  }
  const tokenEmbedding = await matrix("token_embd.weight", [dim, vocabSize]);
  return {
    tokenEmbedding,
    layers,
    outputNorm: await vector("output_norm.weight", dim),
    // models with tied embeddings have no output.weight
    output: gguf.findTensor("output.weight")
      ? await matrix("output.weight", [dim, vocabSize])
      : tokenEmbedding,
  };
}
