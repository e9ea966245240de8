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
import { type ModelConfig, readConfig } from "./config.ts";
import { type FeedForward, loadWeights, type ModelWeights, type Numerics } from "./weights.ts";

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
  readonly q: Float32Array; // (heads·headDim)
  readonly k: Float32Array; // (kvHeads·headDim)
  readonly v: Float32Array; // (kvHeads·valueDim)
  readonly scores: Float32Array; // (maxContext) attention scores of one head
  readonly attention: Float32Array; // (heads·valueDim) attention output before projection
  readonly sublayerOut: Float32Array; // (dim)
  readonly routerLogits: Float32Array; // (experts)
  readonly hidden: Float32Array; // (largest feed-forward width) gate activations
  readonly hiddenUp: Float32Array; // (largest feed-forward width) up activations
  readonly expertOut: Float32Array; // (dim)
  readonly logits: Float32Array; // (vocab)
  readonly keyCache: Float32Array[]; // (layers) × (maxContext, kvHeads·headDim)
  readonly valueCache: Float32Array[]; // (layers) × (maxContext, kvHeads·valueDim)

  constructor(config: ModelConfig, weights: ModelWeights, readonly maxContext: number) {
    const { dim, heads, kvHeads, headDim, valueDim } = config;
    const widest = Math.max(
      ...weights.layers.flatMap((layer) => [
        layer.experts[0]!.up.rows,
        layer.shared?.up.rows ?? 0,
      ]),
    );
    this.x = new Float32Array(dim);
    this.xb = new Float32Array(dim);
    this.q = new Float32Array(heads * headDim);
    this.k = new Float32Array(kvHeads * headDim);
    this.v = new Float32Array(kvHeads * valueDim);
    this.scores = new Float32Array(maxContext);
    this.attention = new Float32Array(heads * valueDim);
    this.sublayerOut = new Float32Array(dim);
    this.routerLogits = new Float32Array(config.experts);
    this.hidden = new Float32Array(widest);
    this.hiddenUp = new Float32Array(widest);
    this.expertOut = new Float32Array(dim);
    this.logits = new Float32Array(config.vocabSize);
    this.keyCache = weights.layers.map(() => new Float32Array(maxContext * kvHeads * headDim));
    this.valueCache = weights.layers.map(() => new Float32Array(maxContext * kvHeads * valueDim));
  }
}

/** A model run by the reference forward pass. */
export class ReferenceModel {
  readonly #state: State;
  /** The routing of the last `forward` call, per layer (for traces and tests). */
  readonly routing: Routing[] = [];

  private constructor(
    readonly config: ModelConfig,
    readonly weights: ModelWeights,
    maxContext: number,
    readonly numerics: Numerics,
  ) {
    this.#state = new State(config, weights, maxContext);
  }

  /** Reads the configuration and weights of `gguf`. */
  static async load(gguf: GGUFFile, options: RunOptions = {}): Promise<ReferenceModel> {
    const config = readConfig(gguf);
    const numerics = options.numerics ?? "f32";
    const weights = await loadWeights(gguf, config, numerics);
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
   * returned array is reused by the next call.
   */
  forward(token: number, pos: number): Float32Array {
    const c = this.config;
    const w = this.weights;
    const s = this.#state;
    if (!(token >= 0 && token < c.vocabSize)) {
      throw new RangeError(`Token id ${token} is outside the vocabulary (0–${c.vocabSize - 1})`);
    }
    if (!(pos >= 0 && pos < s.maxContext)) {
      throw new RangeError(`Position ${pos} is outside the context of ${s.maxContext} tokens`);
    }
    const groupSize = c.heads / c.kvHeads; // query heads per key-value head
    const kvWidth = c.kvHeads * c.headDim;
    const vWidth = c.kvHeads * c.valueDim;
    this.routing.length = 0;

    // token embedding
    w.tokenEmbedding.decodeRow(token, s.x);

    for (let l = 0; l < c.layers; l++) {
      const layer = w.layers[l]!;

      // attention rmsnorm
      rmsNorm(s.xb, s.x, layer.attnNorm, c.rmsEpsilon);

      // qkv projections (and qwen2moe's biases)
      layer.wq.matVec(s.xb, s.q);
      layer.wk.matVec(s.xb, s.k);
      layer.wv.matVec(s.xb, s.v);
      if (layer.bq) addInPlace(s.q, layer.bq);
      if (layer.bk) addInPlace(s.k, layer.bk);
      if (layer.bv) addInPlace(s.v, layer.bv);

      // q/k rmsnorm: per head (qwen3moe) or over all heads at once (olmoe)
      if (c.qkNorm === "per-head") {
        for (let h = 0; h < c.heads; h++) normHead(s.q, h, c.headDim, layer.qNorm!, c.rmsEpsilon);
        for (let h = 0; h < c.kvHeads; h++) normHead(s.k, h, c.headDim, layer.kNorm!, c.rmsEpsilon);
      } else if (c.qkNorm === "full") {
        rmsNorm(s.q, s.q, layer.qNorm!, c.rmsEpsilon);
        rmsNorm(s.k, s.k, layer.kNorm!, c.rmsEpsilon);
      }

      // rope: rotate the first ropeDim dimensions of every q and k head by position
      for (let h = 0; h < c.heads; h++) rope(s.q, h * c.headDim, pos, c);
      for (let h = 0; h < c.kvHeads; h++) rope(s.k, h * c.headDim, pos, c);

      // llama.cpp keeps keys and values in an F16 cache and rounds queries to match
      if (this.numerics === "ggml") {
        roundActivations("F16", s.q, s.q);
        roundActivations("F16", s.k, s.k);
        roundActivations("F16", s.v, s.v);
      }

      // remember this position's key and value
      s.keyCache[l]!.set(s.k, pos * kvWidth);
      s.valueCache[l]!.set(s.v, pos * vWidth);

      // causal attention of each query head over positions 0..pos of its key-value head
      const scale = 1 / Math.sqrt(c.headDim);
      for (let h = 0; h < c.heads; h++) {
        const kvHead = Math.floor(h / groupSize);
        const query = h * c.headDim;
        for (let t = 0; t <= pos; t++) {
          const key = t * kvWidth + kvHead * c.headDim;
          let dot = 0;
          for (let i = 0; i < c.headDim; i++) dot += s.q[query + i]! * s.keyCache[l]![key + i]!;
          s.scores[t] = dot * scale;
        }
        softmax(s.scores, pos + 1);
        // llama.cpp multiplies V (F16) by the probabilities converted to F16
        if (this.numerics === "ggml") {
          const probabilities = s.scores.subarray(0, pos + 1);
          roundActivations("F16", probabilities, probabilities);
        }
        const out = s.attention.subarray(h * c.valueDim, (h + 1) * c.valueDim);
        out.fill(0);
        for (let t = 0; t <= pos; t++) {
          const value = t * vWidth + kvHead * c.valueDim;
          addScaled(out, s.valueCache[l]!.subarray(value, value + c.valueDim), s.scores[t]!);
        }
      }

      // output projection and residual
      layer.wo.matVec(s.attention, s.sublayerOut);
      addInPlace(s.x, s.sublayerOut);

      // ffn rmsnorm
      rmsNorm(s.xb, s.x, layer.ffnNorm, c.rmsEpsilon);

      // router: softmax over all experts, keep the top-k (renormalised where the model says)
      layer.router.matVec(s.xb, s.routerLogits);
      softmax(s.routerLogits, c.experts);
      const routing = topK(s.routerLogits, c.expertsUsed);
      if (c.normalizeExpertWeights) {
        const sum = Math.max(routing.weights.reduce((a, b) => a + b, 0), 6.103515625e-5);
        routing.weights = routing.weights.map((weight) => weight / sum);
      }
      this.routing.push(routing);

      // experts: the weighted sum of the chosen experts' SwiGLU feed-forwards
      s.sublayerOut.fill(0);
      for (const [i, e] of routing.experts.entries()) {
        swiglu(layer.experts[e]!, s.xb, s.hidden, s.hiddenUp, s.expertOut);
        addScaled(s.sublayerOut, s.expertOut, routing.weights[i]!);
      }

      // shared expert (qwen2moe), gated by sigmoid(gate · x)
      if (layer.shared) {
        swiglu(layer.shared, s.xb, s.hidden, s.hiddenUp, s.expertOut);
        const gate = layer.sharedGate ? sigmoid(dot(layer.sharedGate, s.xb)) : 1;
        addScaled(s.sublayerOut, s.expertOut, gate);
      }

      // residual
      addInPlace(s.x, s.sublayerOut);
    }

    // final rmsnorm and the output projection to logits
    rmsNorm(s.x, s.x, w.outputNorm, c.rmsEpsilon);
    w.output.matVec(s.x, s.logits);
    return s.logits;
  }
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
  const half = c.ropeDim / 2;
  for (let i = 0; i < half; i++) {
    const theta = pos * Math.pow(c.ropeBase, (-2 * i) / c.ropeDim);
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

/** The `k` largest values' indices and values, largest first (ties: lower index first). */
function topK(values: Float32Array, k: number): { experts: number[]; weights: number[] } {
  const order = [...values.keys()].sort((a, b) => values[b]! - values[a]! || a - b).slice(0, k);
  return { experts: order, weights: order.map((i) => values[i]!) };
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
