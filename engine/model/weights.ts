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
import type { QuantFormat } from "../quant/format.ts";
import type { ModelConfig } from "./config.ts";
import type { Matrix, MatrixBackend, MatrixFactory } from "./matrix.ts";

/**
 * A SwiGLU feed-forward: down(silu(gate·x) ⊙ up·x). `M`: how a backend holds a matrix (the CPU
 * backends' `Matrix`, or a GPU buffer's view); `V`: a decoded vector (norm weights, biases).
 */
export interface FeedForward<M = Matrix> {
  readonly gate: M; // (hidden, dim)
  readonly up: M; // (hidden, dim)
  readonly down: M; // (dim, hidden)
}

/** Grouped-query attention with each architecture's optional biases and q/k norms. */
export interface GroupedQueryAttentionWeights<M = Matrix, V = Float32Array> {
  readonly kind: "grouped";
  readonly wq: M; // (heads·headDim, dim)
  readonly wk: M; // (kvHeads·headDim, dim)
  readonly wv: M; // (kvHeads·valueDim, dim)
  readonly wo: M; // (dim, heads·valueDim)
  readonly bq: V | null; // (heads·headDim), qwen2moe
  readonly bk: V | null;
  readonly bv: V | null;
  readonly qNorm: V | null; // (headDim) per head, or (heads·headDim) over all
  readonly kNorm: V | null;
}

/** DeepSeek's latent attention, with the key-value up-projection split per head for absorption. */
export interface LatentAttentionWeights<M = Matrix, V = Float32Array> {
  readonly kind: "latent";
  /** Queries from one projection (V2-Lite) … */
  readonly wq: M | null; // (heads·(nope+rope), dim)
  /** … or through a compressed rank. */
  readonly wqA: M | null; // (qLoraRank, dim)
  readonly qANorm: V | null; // (qLoraRank)
  readonly wqB: M | null; // (heads·(nope+rope), qLoraRank)
  readonly wkvA: M; // (kvLoraRank + rope, dim)
  readonly kvANorm: V; // (kvLoraRank)
  readonly wkB: readonly M[]; // (heads) × (kvLoraRank, nope): absorbed into the query
  readonly wvB: readonly M[]; // (heads) × (valueDim, kvLoraRank): applied after attention
  readonly wo: M; // (dim, heads·valueDim)
}

/** Routed experts, with shared experts where the model has them. */
export interface MixtureWeights<M = Matrix, V = Float32Array> {
  readonly kind: "mixture";
  readonly router: M; // (experts, dim)
  /** (experts), DeepSeek-V3's exp_probs_b: routing runs on the host, so always in host memory */
  readonly selectionBias: Float32Array | null;
  /** (experts), or null when they are offloaded: an expert cache holds them (engine/offload/) */
  readonly experts: readonly FeedForward<M>[] | null;
  readonly expertHidden: number; // each expert's feed-forward width
  readonly shared: FeedForward<M> | null;
  readonly sharedGate: V | null; // (dim): qwen2moe's sigmoid gate of the shared expert
}

/** One transformer block. */
export interface LayerWeights<M = Matrix, V = Float32Array> {
  readonly attnNorm: V; // (dim)
  readonly attention: GroupedQueryAttentionWeights<M, V> | LatentAttentionWeights<M, V>;
  readonly ffnNorm: V; // (dim)
  readonly ffn: MixtureWeights<M, V> | { readonly kind: "dense"; readonly dense: FeedForward<M> };
}

/** Every weight of the model. */
export interface ModelWeights<M = Matrix, V = Float32Array> {
  readonly tokenEmbedding: M; // (vocab, dim)
  readonly layers: readonly LayerWeights<M, V>[];
  readonly outputNorm: V; // (dim)
  readonly output: M; // (vocab, dim)
}

/** The widest feed-forward of any layer (dense, routed or shared expert): hidden buffers' width. */
export function widestFeedForward(
  weights: ModelWeights<{ readonly rows: number }, unknown>,
): number {
  return Math.max(
    ...weights.layers.flatMap(({ ffn }) =>
      ffn.kind === "dense" ? [ffn.dense.up.rows] : [ffn.expertHidden, ffn.shared?.up.rows ?? 0]
    ),
  );
}

/**
 * Where `loadWeights` puts what it reads: a matrix made from its bytes (`read(into, at)` fills
 * bytes `[at, at + into.length)` of the tensor), a vector from its decoded values.
 */
export interface WeightSink<M extends { slice(index: number, count: number): M }, V> {
  readonly matrix: MatrixFactory<M>;
  vector(values: Float32Array): V;
}

/** A matrix backend as a weight sink: vectors in its own buffers, where its ops read them. */
export function backendSink(backend: MatrixBackend): WeightSink<Matrix, Float32Array> {
  return {
    matrix: (...args) => backend.matrix(...args),
    vector(values) {
      const out = backend.floats(values.length);
      out.set(values);
      return out;
    },
  };
}

/**
 * How mat-vecs treat activations: `f32` exactly, or `ggml` rounded as ggml's CPU dot products
 * round them (to follow llama.cpp's numbers).
 */
export type Numerics = "f32" | "ggml";

/**
 * The quantized format of a tensor of `gguf`.
 * @throws {GGUFError} naming the tensor when moebench has no kernels for its type.
 */
export function tensorFormat(gguf: GGUFFile, info: TensorInfo): QuantFormat {
  try {
    return quantFormat(info.typeName);
  } catch {
    throw new GGUFError(
      gguf.path,
      `tensor "${info.name}" has type ${info.typeName}, which moebench cannot run`,
    );
  }
}

/**
 * Reads every tensor the forward pass uses into memory (quantized) and checks its shape; with
 * `residentExperts` false, all but the routed experts (their shapes still checked).
 * @throws {GGUFError} naming a missing tensor, a wrong shape or an unsupported type.
 */
export async function loadWeights<M extends { slice(index: number, count: number): M }, V>(
  gguf: GGUFFile,
  config: ModelConfig,
  numerics: Numerics,
  sink: WeightSink<M, V>,
  residentExperts = true,
): Promise<ModelWeights<M, V>> {
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
  const formatOf = (info: TensorInfo) => tensorFormat(gguf, info);
  /** A matrix of `rows` × `cols` (ggml shape [cols, rows, …]). */
  const matrix = (name: string, shape: number[]) => {
    const info = gguf.tensor(name);
    shapeOf(info, shape);
    const rows = shape.slice(1).reduce((a, b) => a * b, 1);
    const activations = numerics === "ggml" ? vecDotType(info.typeName) : null;
    const read = (into: Uint8Array, at: number) =>
      gguf.readBytes(info.offset + at, into.length, into);
    return sink.matrix(formatOf(info), rows, shape[0]!, info.bytes, read, activations);
  };
  /** A vector's values, decoded in host memory. */
  const values = async (name: string, length: number) => {
    const info = gguf.tensor(name);
    shapeOf(info, [length]);
    const decoded = new Float32Array(length);
    formatOf(info).dequantize(await gguf.readTensor(info), decoded);
    return decoded;
  };
  const vector = async (name: string, length: number) => sink.vector(await values(name, length));
  const widthOf = (name: string) => gguf.tensor(name).shape[1]!;
  const feedForward = async (blk: (name: string) => string, suffix: string) => {
    const hidden = widthOf(blk(`ffn_up${suffix}.weight`));
    return {
      gate: await matrix(blk(`ffn_gate${suffix}.weight`), [config.dim, hidden]),
      up: await matrix(blk(`ffn_up${suffix}.weight`), [config.dim, hidden]),
      down: await matrix(blk(`ffn_down${suffix}.weight`), [hidden, config.dim]),
    };
  };

  const { dim, experts, vocabSize } = config;
  const layers: LayerWeights<M, V>[] = [];
  for (let l = 0; l < config.layers; l++) {
    const blk = (name: string) => `blk.${l}.${name}`;
    const attention = config.latent
      ? await latentAttention(config, blk, matrix, vector, gguf)
      : await groupedAttention(config, blk, matrix, vector);
    let ffn: LayerWeights<M, V>["ffn"];
    if (l < config.leadingDenseBlocks) {
      ffn = { kind: "dense", dense: await feedForward(blk, "") };
    } else {
      const hidden = widthOf(blk("ffn_up_exps.weight"));
      const shapes = {
        gate: [dim, hidden, experts],
        up: [dim, hidden, experts],
        down: [hidden, dim, experts],
      };
      for (const [part, shape] of Object.entries(shapes)) {
        const info = gguf.tensor(blk(`ffn_${part}_exps.weight`));
        shapeOf(info, shape);
        formatOf(info);
      }
      const stacked = residentExperts
        ? {
          gate: await matrix(blk("ffn_gate_exps.weight"), shapes.gate),
          up: await matrix(blk("ffn_up_exps.weight"), shapes.up),
          down: await matrix(blk("ffn_down_exps.weight"), shapes.down),
        }
        : null;
      ffn = {
        kind: "mixture",
        router: await matrix(blk("ffn_gate_inp.weight"), [dim, experts]),
        selectionBias: gguf.findTensor(blk("exp_probs_b.bias"))
          ? await values(blk("exp_probs_b.bias"), experts)
          : null,
        experts: stacked && Array.from({ length: experts }, (_, e) => ({
          gate: stacked.gate.slice(e, experts),
          up: stacked.up.slice(e, experts),
          down: stacked.down.slice(e, experts),
        })),
        expertHidden: hidden,
        shared: config.sharedExpert === "none" ? null : await feedForward(blk, "_shexp"),
        sharedGate: config.sharedExpert === "gated"
          ? await vector(blk("ffn_gate_inp_shexp.weight"), dim)
          : null,
      };
    }
    layers.push({
      attnNorm: await vector(blk("attn_norm.weight"), dim),
      attention,
      ffnNorm: await vector(blk("ffn_norm.weight"), dim),
      ffn,
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

type MatrixLoader<M> = (name: string, shape: number[]) => Promise<M>;
type VectorLoader<V> = (name: string, length: number) => Promise<V>;

async function groupedAttention<M, V>(
  c: ModelConfig,
  blk: (name: string) => string,
  matrix: MatrixLoader<M>,
  vector: VectorLoader<V>,
): Promise<GroupedQueryAttentionWeights<M, V>> {
  const qWidth = c.heads * c.headDim;
  const kWidth = c.kvHeads * c.headDim;
  const vWidth = c.kvHeads * c.valueDim;
  const qNormLength = c.qkNorm === "per-head" ? c.headDim : qWidth;
  const kNormLength = c.qkNorm === "per-head" ? c.headDim : kWidth;
  return {
    kind: "grouped",
    wq: await matrix(blk("attn_q.weight"), [c.dim, qWidth]),
    wk: await matrix(blk("attn_k.weight"), [c.dim, kWidth]),
    wv: await matrix(blk("attn_v.weight"), [c.dim, vWidth]),
    wo: await matrix(blk("attn_output.weight"), [c.heads * c.valueDim, c.dim]),
    bq: c.qkvBias ? await vector(blk("attn_q.bias"), qWidth) : null,
    bk: c.qkvBias ? await vector(blk("attn_k.bias"), kWidth) : null,
    bv: c.qkvBias ? await vector(blk("attn_v.bias"), vWidth) : null,
    qNorm: c.qkNorm === "none" ? null : await vector(blk("attn_q_norm.weight"), qNormLength),
    kNorm: c.qkNorm === "none" ? null : await vector(blk("attn_k_norm.weight"), kNormLength),
  };
}

async function latentAttention<M extends { slice(index: number, count: number): M }, V>(
  c: ModelConfig,
  blk: (name: string) => string,
  matrix: MatrixLoader<M>,
  vector: VectorLoader<V>,
  gguf: GGUFFile,
): Promise<LatentAttentionWeights<M, V>> {
  const mla = c.latent!;
  const qWidth = c.heads * (mla.nopeDim + mla.ropeDim);
  const compressed = gguf.findTensor(blk("attn_q_a.weight")) !== undefined;
  const wkB = await matrix(blk("attn_k_b.weight"), [mla.nopeDim, mla.kvLoraRank, c.heads]);
  const wvB = await matrix(blk("attn_v_b.weight"), [mla.kvLoraRank, mla.valueDim, c.heads]);
  return {
    kind: "latent",
    wq: compressed ? null : await matrix(blk("attn_q.weight"), [c.dim, qWidth]),
    wqA: compressed ? await matrix(blk("attn_q_a.weight"), [c.dim, mla.qLoraRank]) : null,
    qANorm: compressed ? await vector(blk("attn_q_a_norm.weight"), mla.qLoraRank) : null,
    wqB: compressed ? await matrix(blk("attn_q_b.weight"), [mla.qLoraRank, qWidth]) : null,
    wkvA: await matrix(blk("attn_kv_a_mqa.weight"), [c.dim, mla.kvLoraRank + mla.ropeDim]),
    kvANorm: await vector(blk("attn_kv_a_norm.weight"), mla.kvLoraRank),
    wkB: Array.from({ length: c.heads }, (_, h) => wkB.slice(h, c.heads)),
    wvB: Array.from({ length: c.heads }, (_, h) => wvB.slice(h, c.heads)),
    wo: await matrix(blk("attn_output.weight"), [c.heads * mla.valueDim, c.dim]),
  };
}
