/**
 * The reference forward pass: plain f32 arithmetic, one token at a time, written to be read top
 * to bottom like llama2.c's `run.c`. It is the oracle the optimized paths are tested against,
 * and is itself checked against llama.cpp.
 *
 * @example
 * ```ts
 * import { ReferenceModel } from "./reference.ts";
 * import { openGGUF } from "../gguf/read.ts";
 * import { synthesize } from "../synth/synth.ts";
 * const out = await Deno.makeTempFile({ suffix: ".gguf" });
 * await synthesize({ preset: "tiny-mixtral", out, type: "Q8_0" });
 * using gguf = await openGGUF(out);
 * const model = await ReferenceModel.load(gguf, { maxContext: 64 });
 * const logits = model.forward(1, 0); // BOS at position 0
 * console.log(logits.length); // 1024
 * ```
 * @module
 */
import type { GGUFFile } from "../gguf/read.ts";
import { roundActivations } from "../quant/activations.ts";
import { topLogits } from "./evaluate.ts";
import type { MatrixBackend } from "./matrix.ts";
import { type ModelConfig, readConfig } from "./config.ts";
import {
  type FeedForward,
  type GroupedQueryAttentionWeights,
  type LatentAttentionWeights,
  loadWeights,
  type ModelWeights,
  type Numerics,
} from "./weights.ts";

/** Options for running a model. */
export interface RunOptions {
  /** Positions the KV cache holds (default: the model's context length, at most 4096). */
  readonly maxContext?: number;
  /**
   * `f32` (default): exact f32 activations, the oracle. `ggml`: activations rounded as
   * llama.cpp's CPU backend rounds them (vec_dot types for mat-vecs, an F16 KV cache and F16
   * queries), to compare with llama.cpp logit for logit.
   */
  readonly numerics?: Numerics;
  /** Where the matrices live and how they multiply (default: the plain TypeScript reference). */
  readonly backend?: MatrixBackend;
}

/** Which experts a token was routed to in one layer, and with what weights. */
export interface Routing {
  readonly experts: readonly number[];
  readonly weights: readonly number[];
}

/** The moving state: activations and the KV cache, allocated once. */
class State {
  readonly x: Float32Array; // (dim) residual stream
  readonly xb: Float32Array; // (dim) normalised input of a sublayer
  readonly q: Float32Array; // (heads·headDim) or, latent: (heads·(nope+rope))
  readonly k: Float32Array; // (keyWidth) this position's key(s)
  readonly v: Float32Array; // (valueWidth) this position's value(s)
  readonly queries: Float32Array; // (heads·keyHeadDim) what attention compares with keys
  readonly qCompressed: Float32Array; // (qLoraRank) latent attention's compressed query
  readonly scores: Float32Array; // (maxContext) attention scores of one head
  readonly attended: Float32Array; // (heads·valueHeadDim) attention output per head
  readonly attention: Float32Array; // (heads·valueDim) before the output projection
  readonly sublayerOut: Float32Array; // (dim)
  readonly routerLogits: Float32Array; // (experts)
  readonly hidden: Float32Array; // (widest feed-forward) gate activations
  readonly hiddenUp: Float32Array; // (widest feed-forward) up activations
  readonly expertOut: Float32Array; // (dim)
  readonly logits: Float32Array; // (vocab)
  readonly keyCache: Float32Array[]; // (layers) × (maxContext, keyWidth)
  readonly valueCache: Float32Array[]; // (layers) × (maxContext, valueWidth)

  constructor(c: ModelConfig, weights: ModelWeights, readonly maxContext: number) {
    const shape = attentionShape(c);
    const widest = Math.max(
      ...weights.layers.flatMap(({ ffn }) =>
        ffn.kind === "dense"
          ? [ffn.dense.up.rows]
          : [ffn.experts[0]!.up.rows, ffn.shared?.up.rows ?? 0]
      ),
    );
    const mla = c.latent;
    this.x = new Float32Array(c.dim);
    this.xb = new Float32Array(c.dim);
    this.q = new Float32Array(mla ? c.heads * (mla.nopeDim + mla.ropeDim) : c.heads * c.headDim);
    this.k = new Float32Array(shape.keyWidth);
    this.v = new Float32Array(shape.valueWidth);
    this.queries = new Float32Array(c.heads * shape.keyHeadDim);
    this.qCompressed = new Float32Array(mla?.qLoraRank ?? 0);
    this.scores = new Float32Array(maxContext);
    this.attended = new Float32Array(c.heads * shape.valueHeadDim);
    this.attention = new Float32Array(c.heads * (mla ? mla.valueDim : c.valueDim));
    this.sublayerOut = new Float32Array(c.dim);
    this.routerLogits = new Float32Array(c.experts);
    this.hidden = new Float32Array(widest);
    this.hiddenUp = new Float32Array(widest);
    this.expertOut = new Float32Array(c.dim);
    this.logits = new Float32Array(c.vocabSize);
    this.keyCache = weights.layers.map(() => new Float32Array(maxContext * shape.keyWidth));
    this.valueCache = weights.layers.map(() => new Float32Array(maxContext * shape.valueWidth));
  }
}

/**
 * What attention compares and mixes. Grouped-query attention: kvHeads keys and values per
 * position. Latent attention (absorbed, as llama.cpp runs it): one key per position, the
 * normalised latent followed by its RoPE part, and the latent itself as the value.
 */
function attentionShape(c: ModelConfig) {
  const mla = c.latent;
  if (mla) {
    return {
      kvHeads: 1,
      keyHeadDim: mla.kvLoraRank + mla.ropeDim,
      valueHeadDim: mla.kvLoraRank,
      keyWidth: mla.kvLoraRank + mla.ropeDim,
      valueWidth: mla.kvLoraRank,
      // the scale of the full per-head query·key, before absorption
      scale: 1 / Math.sqrt(mla.nopeDim + mla.ropeDim),
    };
  }
  return {
    kvHeads: c.kvHeads,
    keyHeadDim: c.headDim,
    valueHeadDim: c.valueDim,
    keyWidth: c.kvHeads * c.headDim,
    valueWidth: c.kvHeads * c.valueDim,
    scale: 1 / Math.sqrt(c.headDim),
  };
}

/** A model run by the reference forward pass. */
export class ReferenceModel {
  readonly #state: State;
  readonly #shape: ReturnType<typeof attentionShape>;
  /** The routing of the last `forward` call, per MoE layer (for traces and tests). */
  readonly routing: Routing[] = [];

  private constructor(
    readonly config: ModelConfig,
    readonly weights: ModelWeights,
    maxContext: number,
    readonly numerics: Numerics,
  ) {
    this.#state = new State(config, weights, maxContext);
    this.#shape = attentionShape(config);
  }

  /** Reads the configuration and weights of `gguf`. */
  static async load(gguf: GGUFFile, options: RunOptions = {}): Promise<ReferenceModel> {
    const config = readConfig(gguf);
    const numerics = options.numerics ?? "f32";
    const weights = await loadWeights(gguf, config, numerics, options.backend);
    const maxContext = options.maxContext ?? Math.min(config.contextLength, 4096);
    return new ReferenceModel(config, weights, maxContext, numerics);
  }

  /** Positions the KV cache holds. */
  get maxContext(): number {
    return this.#state.maxContext;
  }

  /** Bytes of the KV cache (f32 keys and values for every layer and position). */
  get kvCacheBytes(): number {
    const s = this.#state;
    return [...s.keyCache, ...s.valueCache].reduce((sum, cache) => sum + cache.byteLength, 0);
  }

  /**
   * Feeds `token` at position `pos` and returns the logits for the next token. Positions must
   * come in order from 0 (earlier positions' keys and values are read from the cache). The
   * returned array is reused by the next call. `computeLogits` false skips the output projection
   * (prompt positions whose logits nobody reads) and returns stale logits.
   */
  forward(token: number, pos: number, computeLogits = true): Float32Array {
    const c = this.config;
    const w = this.weights;
    const s = this.#state;
    if (!(token >= 0 && token < c.vocabSize)) {
      throw new RangeError(`Token id ${token} is outside the vocabulary (0–${c.vocabSize - 1})`);
    }
    if (!(pos >= 0 && pos < s.maxContext)) {
      throw new RangeError(`Position ${pos} is outside the context of ${s.maxContext} tokens`);
    }
    this.routing.length = 0;

    // token embedding
    w.tokenEmbedding.decodeRow(token, s.x);

    for (let l = 0; l < c.layers; l++) {
      const layer = w.layers[l]!;

      // attention rmsnorm
      rmsNorm(s.xb, s.x, layer.attnNorm, c.rmsEpsilon);

      // queries, and this position's keys and values
      if (layer.attention.kind === "grouped") this.#groupedQkv(layer.attention, pos);
      else this.#latentQkv(layer.attention, pos);

      // llama.cpp keeps keys and values in an F16 cache and rounds queries to match
      if (this.numerics === "ggml") {
        roundActivations("F16", s.queries, s.queries);
        roundActivations("F16", s.k, s.k);
        roundActivations("F16", s.v, s.v);
      }
      s.keyCache[l]!.set(s.k, pos * this.#shape.keyWidth);
      s.valueCache[l]!.set(s.v, pos * this.#shape.valueWidth);

      // causal attention of every query head over positions 0..pos
      this.#attend(l, pos);

      // latent attention: each head's attended latent up-projected to its value width
      if (layer.attention.kind === "latent") {
        const mla = c.latent!;
        for (let h = 0; h < c.heads; h++) {
          layer.attention.wvB[h]!.matVec(
            s.attended.subarray(h * mla.kvLoraRank, (h + 1) * mla.kvLoraRank),
            s.attention.subarray(h * mla.valueDim, (h + 1) * mla.valueDim),
          );
        }
      } else {
        s.attention.set(s.attended);
      }

      // output projection and residual
      layer.attention.wo.matVec(s.attention, s.sublayerOut);
      addInPlace(s.x, s.sublayerOut);

      // ffn rmsnorm
      rmsNorm(s.xb, s.x, layer.ffnNorm, c.rmsEpsilon);

      if (layer.ffn.kind === "dense") {
        // a dense SwiGLU feed-forward (DeepSeek's leading layers)
        swiglu(layer.ffn.dense, s.xb, s.hidden, s.hiddenUp, s.sublayerOut);
      } else {
        const moe = layer.ffn;
        // router: choose the top-k experts and their weights
        moe.router.matVec(s.xb, s.routerLogits);
        const routing = route(s.routerLogits, moe.selectionBias, c);
        this.routing.push(routing);

        // experts: the weighted sum of the chosen experts' SwiGLU feed-forwards
        s.sublayerOut.fill(0);
        for (const [i, e] of routing.experts.entries()) {
          swiglu(moe.experts[e]!, s.xb, s.hidden, s.hiddenUp, s.expertOut);
          addScaled(s.sublayerOut, s.expertOut, routing.weights[i]!);
        }

        // shared experts, for every token (qwen2moe gates them with a sigmoid)
        if (moe.shared) {
          swiglu(moe.shared, s.xb, s.hidden, s.hiddenUp, s.expertOut);
          const gate = moe.sharedGate ? sigmoid(dot(moe.sharedGate, s.xb)) : 1;
          addScaled(s.sublayerOut, s.expertOut, gate);
        }
      }

      // residual
      addInPlace(s.x, s.sublayerOut);
    }

    // final rmsnorm and the output projection to logits
    if (!computeLogits) return s.logits;
    rmsNorm(s.x, s.x, w.outputNorm, c.rmsEpsilon);
    w.output.matVec(s.x, s.logits);
    return s.logits;
  }

  /** Grouped-query attention: q, k, v projections, biases, q/k norms, RoPE. */
  #groupedQkv(a: GroupedQueryAttentionWeights, pos: number): void {
    const c = this.config;
    const s = this.#state;
    a.wq.matVec(s.xb, s.q);
    a.wk.matVec(s.xb, s.k);
    a.wv.matVec(s.xb, s.v);
    if (a.bq) addInPlace(s.q, a.bq);
    if (a.bk) addInPlace(s.k, a.bk);
    if (a.bv) addInPlace(s.v, a.bv);

    // q/k rmsnorm: per head (qwen3moe) or over all heads at once (olmoe)
    if (c.qkNorm === "per-head") {
      for (let h = 0; h < c.heads; h++) normHead(s.q, h, c.headDim, a.qNorm!, c.rmsEpsilon);
      for (let h = 0; h < c.kvHeads; h++) normHead(s.k, h, c.headDim, a.kNorm!, c.rmsEpsilon);
    } else if (c.qkNorm === "full") {
      rmsNorm(s.q, s.q, a.qNorm!, c.rmsEpsilon);
      rmsNorm(s.k, s.k, a.kNorm!, c.rmsEpsilon);
    }

    // rope: rotate the first ropeDim dimensions of every q and k head by position
    for (let h = 0; h < c.heads; h++) rope(s.q, h * c.headDim, pos, c);
    for (let h = 0; h < c.kvHeads; h++) rope(s.k, h * c.headDim, pos, c);
    s.queries.set(s.q);
  }

  /**
   * Latent attention, absorbed: the key is the normalised latent plus a shared RoPE part; each
   * head's query is its no-position part mapped into the latent by `wkB`, plus its RoPE part.
   */
  #latentQkv(a: LatentAttentionWeights, pos: number): void {
    const c = this.config;
    const mla = c.latent!;
    const s = this.#state;
    const qHead = mla.nopeDim + mla.ropeDim;
    const keyHead = mla.kvLoraRank + mla.ropeDim;

    // queries, directly or through the compressed rank
    if (a.wq) {
      a.wq.matVec(s.xb, s.q);
    } else {
      a.wqA!.matVec(s.xb, s.qCompressed);
      rmsNorm(s.qCompressed, s.qCompressed, a.qANorm!, c.rmsEpsilon);
      a.wqB!.matVec(s.qCompressed, s.q);
    }

    // the key: [normalised latent | rotated shared RoPE part]; the value: the latent
    a.wkvA.matVec(s.xb, s.k);
    const latent = s.k.subarray(0, mla.kvLoraRank);
    rmsNorm(latent, latent, a.kvANorm, c.rmsEpsilon);
    ropeSlice(s.k, mla.kvLoraRank, mla.ropeDim, pos, c);
    s.v.set(latent);

    // per head: [wkB · q_nope | rotated q_rope]
    for (let h = 0; h < c.heads; h++) {
      const query = s.queries.subarray(h * keyHead, (h + 1) * keyHead);
      a.wkB[h]!.matVec(s.q.subarray(h * qHead, h * qHead + mla.nopeDim), query);
      query.set(s.q.subarray(h * qHead + mla.nopeDim, (h + 1) * qHead), mla.kvLoraRank);
      ropeSlice(query, mla.kvLoraRank, mla.ropeDim, pos, c);
    }
  }

  /** Softmax attention of each query head over the cached keys and values 0..pos. */
  #attend(layer: number, pos: number): void {
    const c = this.config;
    const s = this.#state;
    const { kvHeads, keyHeadDim, valueHeadDim, keyWidth, valueWidth, scale } = this.#shape;
    const groupSize = c.heads / kvHeads; // query heads per key-value head
    const keys = s.keyCache[layer]!;
    const values = s.valueCache[layer]!;
    for (let h = 0; h < c.heads; h++) {
      const kvHead = Math.floor(h / groupSize);
      const query = h * keyHeadDim;
      for (let t = 0; t <= pos; t++) {
        const key = t * keyWidth + kvHead * keyHeadDim;
        let sum = 0;
        for (let i = 0; i < keyHeadDim; i++) sum += s.queries[query + i]! * keys[key + i]!;
        s.scores[t] = sum * scale;
      }
      softmax(s.scores, pos + 1);
      // llama.cpp multiplies V (F16) by the probabilities converted to F16
      if (this.numerics === "ggml") {
        const probabilities = s.scores.subarray(0, pos + 1);
        roundActivations("F16", probabilities, probabilities);
      }
      const out = s.attended.subarray(h * valueHeadDim, (h + 1) * valueHeadDim);
      out.fill(0);
      for (let t = 0; t <= pos; t++) {
        const value = t * valueWidth + kvHead * valueHeadDim;
        addScaled(out, values.subarray(value, value + valueHeadDim), s.scores[t]!);
      }
    }
  }
}

/**
 * The router, as llama.cpp's `build_moe_ffn`: gating (softmax or sigmoid), an optional bias
 * that affects only which experts are chosen, expert groups, top-k, then the chosen experts'
 * unbiased weights, renormalised and scaled as the model says.
 */
function route(logits: Float32Array, selectionBias: Float32Array | null, c: ModelConfig): Routing {
  const { router } = c;
  const probabilities = Float32Array.from(logits);
  if (router.gating === "softmax") softmax(probabilities, probabilities.length);
  else probabilities.forEach((x, i) => probabilities[i] = sigmoid(x));
  const selection = Float32Array.from(probabilities);
  if (selectionBias) addInPlace(selection, selectionBias);
  if (router.groups > 1) {
    // keep the groups whose two best experts score highest
    const perGroup = c.experts / router.groups;
    const groupScores = Array.from({ length: router.groups }, (_, g) => {
      const best = topLogits(selection.subarray(g * perGroup, (g + 1) * perGroup), 2);
      return best.reduce((sum, [, score]) => sum + score, 0);
    });
    const kept = new Set(
      topLogits(Float32Array.from(groupScores), router.groupsUsed).map(([g]) => g),
    );
    for (let g = 0; g < router.groups; g++) {
      if (!kept.has(g)) selection.fill(-Infinity, g * perGroup, (g + 1) * perGroup);
    }
  }
  const experts = topLogits(selection, c.expertsUsed).map(([e]) => e);
  let weights = experts.map((e) => probabilities[e]!);
  if (router.normalize) {
    const sum = Math.max(weights.reduce((a, b) => a + b, 0), 6.103515625e-5);
    weights = weights.map((weight) => weight / sum);
  }
  return { experts, weights: weights.map((weight) => weight * router.scale) };
}

// --- the operations, each as plain as it can be ---

/** out = x / sqrt(mean(x²) + ε) ⊙ weight (`out` may be `x`). */
function rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, epsilon: number): void {
  let squares = 0;
  for (let i = 0; i < x.length; i++) squares += x[i]! * x[i]!;
  const scale = 1 / Math.sqrt(squares / x.length + epsilon);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * scale * weight[i]!;
}

/** rmsNorm of one head's slice of `x`, in place. */
function normHead(
  x: Float32Array,
  head: number,
  headDim: number,
  weight: Float32Array,
  epsilon: number,
): void {
  const slice = x.subarray(head * headDim, (head + 1) * headDim);
  rmsNorm(slice, slice, weight, epsilon);
}

/** Rotary position embedding of the head starting at `x[at]`, in place. */
function rope(x: Float32Array, at: number, pos: number, c: ModelConfig): void {
  ropeSlice(x, at, c.ropeDim, pos, c);
}

/** RoPE of the `ropeDim` values starting at `x[at]`, paired as the model's style says. */
function ropeSlice(
  x: Float32Array,
  at: number,
  ropeDim: number,
  pos: number,
  c: ModelConfig,
): void {
  const half = ropeDim / 2;
  for (let i = 0; i < half; i++) {
    const theta = pos * Math.pow(c.ropeBase, (-2 * i) / ropeDim);
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    // normal: neighbours (2i, 2i+1); neox: (i, i + ropeDim/2)
    const a = c.ropeStyle === "normal" ? at + 2 * i : at + i;
    const b = c.ropeStyle === "normal" ? a + 1 : a + half;
    const x0 = x[a]!;
    const x1 = x[b]!;
    x[a] = x0 * cos - x1 * sin;
    x[b] = x0 * sin + x1 * cos;
  }
}

/** Softmax of the first `length` values, in place. */
function softmax(x: Float32Array, length: number): void {
  let max = -Infinity;
  for (let i = 0; i < length; i++) max = Math.max(max, x[i]!);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    x[i] = Math.exp(x[i]! - max);
    sum += x[i]!;
  }
  for (let i = 0; i < length; i++) x[i] = x[i]! / sum;
}

/** out = down · (silu(gate · x) ⊙ (up · x)), using `hidden` and `hiddenUp` as scratch. */
function swiglu(
  ffn: FeedForward,
  x: Float32Array,
  hidden: Float32Array,
  hiddenUp: Float32Array,
  out: Float32Array,
): void {
  const width = ffn.up.rows;
  const gate = hidden.subarray(0, width);
  const up = hiddenUp.subarray(0, width);
  ffn.gate.matVec(x, gate);
  ffn.up.matVec(x, up);
  for (let i = 0; i < width; i++) gate[i] = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!;
  ffn.down.matVec(gate, out);
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function addInPlace(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + y[i]!;
}

function addScaled(x: Float32Array, y: Float32Array, scale: number): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + scale * y[i]!;
}
