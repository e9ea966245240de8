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
import { roundToF16 } from "../quant/activations.ts";
import type { KvCache } from "./kv_cache.ts";
import { type MatrixBackend, referenceBackend } from "./matrix.ts";
import { ropeRotations, type VectorOps } from "./vector_ops.ts";
import { type ModelConfig, readConfig } from "./config.ts";
import { type ExpertRunner, ResidentExperts, type RunExpert, swiglu } from "./experts.ts";
import {
  route,
  RouterScratch,
  type Routing,
  routingPerLayer,
  sigmoid,
  slotsRoutedTo,
} from "./router.ts";
import { GuessMaker } from "./guesses.ts";
import type { LanguageModel } from "./language_model.ts";
import { OffloadedExperts, type OffloadOptions, type SlotBackend } from "../offload/offloaded.ts";
import type { PrefetchGuess } from "../offload/planner.ts";
import {
  backendSink,
  type GroupedQueryAttentionWeights,
  type LatentAttentionWeights,
  loadWeights,
  type MixtureWeights,
  type ModelWeights,
  type Numerics,
  widestFeedForward,
} from "./weights.ts";

/** Options for running a model. */
export interface RunOptions {
  /** Positions the KV cache holds (default: the model's context length, at most 4096). */
  readonly maxContext?: number;
  /** Tokens one batched forward pass takes at most (default 128): prompts go through in batches. */
  readonly batchSize?: number;
  /**
   * `f32` (default): exact f32 activations, the oracle. `ggml`: activations rounded as
   * llama.cpp's CPU backend rounds them (vec_dot types for mat-vecs, an F16 KV cache and F16
   * queries), to compare with llama.cpp logit for logit.
   */
  readonly numerics?: Numerics;
  /** Where the matrices live and how they multiply (default: the plain TypeScript reference). */
  readonly backend?: MatrixBackend;
  /** Keep routed experts out of memory behind an expert cache (the backend must hold slots). */
  readonly offload?: OffloadOptions;
  /** Called after each MoE layer's routing of a batch (traces record it). */
  readonly onRouting?: (event: RoutingEvent) => void;
  /** With resident experts: make prefetch guesses anyway, for `onRouting` to see. */
  readonly guessAhead?: { readonly depth: number; readonly experts: number };
}

/** One MoE layer's routing of a batch. */
export interface RoutingEvent {
  readonly layer: number;
  /** Tokens in the batch, and each one's `expertsUsed` experts and weights, best first. */
  readonly count: number;
  readonly experts: Int32Array;
  readonly weights: Float64Array;
  /** What the forward pass guessed for the next layers (empty without prefetch). */
  readonly guesses: readonly PrefetchGuess[];
}

/** `count` rows of `width` values in one array, with a view of each row made once. */
class Rows {
  readonly data: Float32Array;
  readonly row: readonly Float32Array[];

  constructor(backend: MatrixBackend, count: number, readonly width: number) {
    const data = backend.floats(count * width);
    this.data = data;
    this.row = Array.from({ length: count }, (_, i) => data.subarray(i * width, (i + 1) * width));
  }
}

/**
 * The moving state, allocated once: a batch's activations (one row per token), the router's
 * choices and the KV cache. A forward pass allocates nothing.
 */
class State {
  readonly x: Rows; // (batch, dim) residual stream
  readonly xb: Rows; // (batch, dim) normalised input of a sublayer
  readonly q: Rows; // (batch, heads·headDim) or, latent: (batch, heads·(nope+rope))
  readonly k: Rows; // (batch, keyWidth) the batch's keys
  readonly v: Rows; // (batch, valueWidth) the batch's values
  readonly queries: Rows; // latent: (batch, heads·keyHeadDim) what attention compares with keys
  readonly qCompressed: Rows; // (batch, qLoraRank) latent attention's compressed query
  readonly attended: Rows; // (batch, heads·valueHeadDim) attention output per head
  readonly attention: Rows; // (batch, heads·valueDim) before the output projection
  readonly sublayerOut: Rows; // (batch, dim)
  readonly routerLogits: Rows; // (batch, experts)
  readonly hidden: Float32Array; // (batch · widest feed-forward) gate activations
  readonly hiddenUp: Float32Array; // (batch · widest feed-forward) up activations
  readonly expertIn: Rows; // (batch, dim) the tokens routed to one expert
  readonly expertOut: Rows; // (batch, dim) their outputs
  readonly rankOut: Rows; // (batch · expertsUsed, dim) each token's k-th expert's output
  readonly chosen: Int32Array; // (batch · expertsUsed) each token's experts, best first
  readonly chosenWeights: Float64Array; // (batch · expertsUsed) and their weights
  readonly expertSlots: Int32Array; // (batch) where each gathered token's output goes in rankOut
  readonly needed: Int32Array; // (experts) the distinct experts a layer's batch uses, ascending
  readonly routedTo: Uint8Array; // (experts) whether any token of the batch chose each
  readonly guessIn: Float32Array; // (dim) a later layer's normalised input, guessed
  readonly guessLogits: Float32Array; // (experts) its router's logits
  readonly router: RouterScratch;
  readonly lastRouting: { experts: Int32Array; weights: Float64Array }; // (layers · expertsUsed)
  readonly logits: Rows; // (batch, vocab)
  readonly ropeDim: number; // dimensions RoPE rotates: of each head, or latent attention's RoPE part
  readonly ropeCos: Float64Array; // (batch · ropeDim/2) each row's cos(position·θ_pair)
  readonly ropeSin: Float64Array; // (batch · ropeDim/2)

  constructor(
    c: ModelConfig,
    weights: ModelWeights,
    backend: MatrixBackend,
    readonly maxContext: number,
    readonly batch: number,
  ) {
    const shape = attentionShape(c);
    const widest = widestFeedForward(weights);
    const mla = c.latent;
    const k = Math.max(c.expertsUsed, 1);
    const rows = (count: number, width: number) => new Rows(backend, count, width);
    this.x = rows(batch, c.dim);
    this.xb = rows(batch, c.dim);
    this.q = rows(batch, mla ? c.heads * (mla.nopeDim + mla.ropeDim) : c.heads * c.headDim);
    this.k = rows(batch, shape.keyWidth);
    this.v = rows(batch, shape.valueWidth);
    this.queries = rows(batch, mla ? c.heads * shape.keyHeadDim : 0);
    this.qCompressed = rows(batch, mla?.qLoraRank ?? 0);
    this.attended = rows(batch, c.heads * shape.valueHeadDim);
    this.attention = rows(batch, c.heads * (mla ? mla.valueDim : c.valueDim));
    this.sublayerOut = rows(batch, c.dim);
    this.routerLogits = rows(batch, c.experts);
    this.hidden = backend.floats(batch * widest);
    this.hiddenUp = backend.floats(batch * widest);
    this.expertIn = rows(batch, c.dim);
    this.expertOut = rows(batch, c.dim);
    this.rankOut = rows(batch * k, c.dim);
    this.chosen = new Int32Array(batch * k);
    this.chosenWeights = new Float64Array(batch * k);
    this.expertSlots = new Int32Array(batch);
    this.needed = new Int32Array(c.experts);
    this.routedTo = new Uint8Array(c.experts);
    this.guessIn = backend.floats(c.dim);
    this.guessLogits = backend.floats(c.experts);
    this.router = new RouterScratch(c);
    this.lastRouting = {
      experts: new Int32Array(c.layers * k),
      weights: new Float64Array(c.layers * k),
    };
    this.logits = rows(batch, c.vocabSize);
    this.ropeDim = mla ? mla.ropeDim : c.ropeDim;
    this.ropeCos = backend.doubles((batch * this.ropeDim) / 2);
    this.ropeSin = backend.doubles((batch * this.ropeDim) / 2);
  }
}

/**
 * What attention compares and mixes. Grouped-query attention: kvHeads keys and values per
 * position. Latent attention (absorbed, as llama.cpp runs it): one key per position, the
 * normalised latent followed by its RoPE part, and the latent itself as the value.
 */
export function attentionShape(c: ModelConfig) {
  const mla = c.latent;
  if (mla) {
    return {
      heads: c.heads,
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
    heads: c.heads,
    kvHeads: c.kvHeads,
    keyHeadDim: c.headDim,
    valueHeadDim: c.valueDim,
    keyWidth: c.kvHeads * c.headDim,
    valueWidth: c.kvHeads * c.valueDim,
    scale: 1 / Math.sqrt(c.headDim),
  };
}

/** Which logits a batch computes. */
type LogitRows = "all" | "last" | "none";

/**
 * A model run by the reference forward pass. Tokens go through in batches, layer by layer: each
 * matrix multiplies the whole batch at once (an expert, the tokens routed to it), which is what
 * makes prompt processing fast; one token is a batch of one.
 */
export class ReferenceModel implements LanguageModel {
  readonly #state: State;
  readonly #cache: KvCache;
  readonly #ops: VectorOps;
  readonly #oneToken = new Int32Array(1);
  readonly #experts: ExpertRunner;
  readonly #guesses: GuessMaker | null;
  readonly #onRouting: RunOptions["onRouting"];
  /** The batch size of the layer computing now (for `#runExpert`). */
  #count = 0;

  private constructor(
    readonly config: ModelConfig,
    readonly weights: ModelWeights,
    maxContext: number,
    batchSize: number,
    readonly numerics: Numerics,
    backend: MatrixBackend,
    experts: ExpertRunner,
    onRouting: RunOptions["onRouting"],
  ) {
    this.#state = new State(config, weights, backend, maxContext, batchSize);
    this.#experts = experts;
    this.#guesses = experts.prefetch &&
      new GuessMaker(
        weights.layers.map(({ ffn }) => ffn.kind === "mixture"),
        experts.prefetch,
        config.experts,
      );
    this.#onRouting = onRouting;
    this.#ops = backend.ops;
    // llama.cpp rounds attention's probabilities to f16 to multiply its F16 value cache
    this.#cache = backend.kvCache(
      attentionShape(config),
      config.layers,
      maxContext,
      numerics === "ggml",
    );
  }

  /** Reads the configuration and weights of `gguf`. */
  static async load(gguf: GGUFFile, options: RunOptions = {}): Promise<ReferenceModel> {
    const config = readConfig(gguf);
    const numerics = options.numerics ?? "f32";
    const backend = options.backend ?? referenceBackend;
    const offload = options.offload;
    if (offload && !("expertSlots" in backend)) {
      throw new RangeError("offloading experts needs a backend with expert slots (--backend cpu)");
    }
    const weights = await loadWeights(gguf, config, numerics, backendSink(backend), !offload);
    const experts = offload
      ? await OffloadedExperts.create(gguf, config, backend as SlotBackend & MatrixBackend, offload)
      : new ResidentExperts(
        weights.layers.map(({ ffn }) => ffn.kind === "mixture" ? ffn.experts : null),
        options.guessAhead ?? null,
      );
    const maxContext = options.maxContext ?? Math.min(config.contextLength, 4096);
    const batchSize = Math.max(1, Math.min(options.batchSize ?? 128, maxContext));
    return new ReferenceModel(
      config,
      weights,
      maxContext,
      batchSize,
      numerics,
      backend,
      experts,
      options.onRouting,
    );
  }

  /** The expert cache, when experts are offloaded. */
  get offload(): OffloadedExperts | null {
    return this.#experts instanceof OffloadedExperts ? this.#experts : null;
  }

  /** Every expert computes on the CPU here: no hybrid placement. */
  readonly hybrid = null;

  /** Stops the expert loader, if any. */
  close(): void {
    this.offload?.close();
  }

  /** Positions the KV cache holds. */
  get maxContext(): number {
    return this.#state.maxContext;
  }

  /** Tokens one batched forward pass takes at most. */
  get batchSize(): number {
    return this.#state.batch;
  }

  /** Bytes of the KV cache (f32 keys and values for every layer and position). */
  get kvCacheBytes(): number {
    return this.#cache.bytes;
  }

  /** The routing of the last token fed, per MoE layer (for traces and tests). */
  get routing(): Routing[] {
    const layers = this.weights.layers;
    const isMoe = (l: number) => layers[l]!.ffn.kind === "mixture";
    return routingPerLayer(layers.length, isMoe, this.config.expertsUsed, this.#state.lastRouting);
  }

  /**
   * Feeds `token` at position `pos` and returns the logits for the next token. Positions must
   * come in order from 0 (earlier positions' keys and values are read from the cache). The
   * returned array is reused by the next call. `computeLogits` false skips the output projection
   * (prompt positions whose logits nobody reads) and returns stale logits.
   */
  forward(token: number, pos: number, computeLogits = true): Float32Array {
    this.#oneToken[0] = token;
    this.#forwardBatch(this.#oneToken, 0, 1, pos, computeLogits ? "last" : "none");
    return this.#state.logits.row[0]!;
  }

  /**
   * Feeds `tokens` at positions `pos`, `pos + 1`, … in batches and returns the logits after the
   * last one (reused by the next call). `computeLogits` false skips them.
   */
  prefill(tokens: ArrayLike<number>, pos: number, computeLogits = true): Float32Array {
    const batch = this.#state.batch;
    for (let from = 0; from < tokens.length; from += batch) {
      const count = Math.min(batch, tokens.length - from);
      const last = from + count === tokens.length;
      this.#forwardBatch(tokens, from, count, pos + from, last && computeLogits ? "last" : "none");
    }
    return this.#state.logits.row[0]!;
  }

  /**
   * Teacher forcing: feeds `tokens` at positions `pos`, `pos + 1`, … in batches and calls
   * `visit(i, logits)` with the logits after `tokens[i]` (an array reused after the call).
   */
  score(
    tokens: ArrayLike<number>,
    pos: number,
    visit: (index: number, logits: Float32Array) => void,
  ): void {
    const batch = this.#state.batch;
    for (let from = 0; from < tokens.length; from += batch) {
      const count = Math.min(batch, tokens.length - from);
      this.#forwardBatch(tokens, from, count, pos + from, "all");
      for (let i = 0; i < count; i++) visit(from + i, this.#state.logits.row[i]!);
    }
  }

  /**
   * One batch: `tokens[from … from + count)` at positions `pos …`. Logits land in rows 0 … of
   * the logit rows: every token's (`all`), the last token's (`last`) or none.
   */
  #forwardBatch(
    tokens: ArrayLike<number>,
    from: number,
    count: number,
    pos: number,
    logits: LogitRows,
  ): void {
    const c = this.config;
    const w = this.weights;
    const s = this.#state;
    if (!(pos >= 0 && pos + count <= s.maxContext)) {
      const last = pos + count - 1;
      throw new RangeError(`Position ${last} is outside the context of ${s.maxContext} tokens`);
    }

    // each token's RoPE rotation, shared by every head and layer
    ropeRotations(s.ropeCos, s.ropeSin, count, pos, c.ropeBase, s.ropeDim);

    // token embeddings
    for (let i = 0; i < count; i++) {
      const token = tokens[from + i]!;
      if (!(token >= 0 && token < c.vocabSize)) {
        throw new RangeError(`Token id ${token} is outside the vocabulary (0–${c.vocabSize - 1})`);
      }
      w.tokenEmbedding.decodeRow(token, s.x.row[i]!);
    }

    for (let l = 0; l < c.layers; l++) {
      const layer = w.layers[l]!;

      // attention rmsnorm
      for (let i = 0; i < count; i++) {
        this.#rmsNorm(s.xb.row[i]!, s.x.row[i]!, layer.attnNorm);
      }

      // queries, keys and values of the batch
      if (layer.attention.kind === "grouped") this.#groupedQkv(layer.attention, count);
      else this.#latentQkv(layer.attention, count);

      // llama.cpp keeps keys and values in an F16 cache and rounds queries to match
      const queries = layer.attention.kind === "grouped" ? s.q : s.queries;
      if (this.numerics === "ggml") {
        roundToF16(queries.data, count * queries.width);
        roundToF16(s.k.data, count * s.k.width);
        roundToF16(s.v.data, count * s.v.width);
      }
      this.#cache.store(l, pos, count, s.k.data, s.v.data);

      // causal attention of every query head over positions 0 … its own
      this.#cache.attend(l, pos, count, queries.data, s.attended.data);

      // latent attention: each head's attended latent up-projected to its value width
      let attention = s.attended;
      if (layer.attention.kind === "latent") {
        const mla = c.latent!;
        for (let i = 0; i < count; i++) {
          for (let h = 0; h < c.heads; h++) {
            layer.attention.wvB[h]!.matVec(
              s.attended.row[i]!.subarray(h * mla.kvLoraRank, (h + 1) * mla.kvLoraRank),
              s.attention.row[i]!.subarray(h * mla.valueDim, (h + 1) * mla.valueDim),
            );
          }
        }
        attention = s.attention;
      }

      // output projection and residual
      layer.attention.wo.matMul(attention.data, count, s.sublayerOut.data);
      for (let i = 0; i < count; i++) addInPlace(s.x.row[i]!, s.sublayerOut.row[i]!);

      // ffn rmsnorm
      for (let i = 0; i < count; i++) {
        this.#rmsNorm(s.xb.row[i]!, s.x.row[i]!, layer.ffnNorm);
      }

      if (layer.ffn.kind === "dense") {
        // a dense SwiGLU feed-forward (DeepSeek's leading layers)
        swiglu(layer.ffn.dense, s.xb.data, count, s.sublayerOut.data, this.#state);
      } else {
        this.#mixture(layer.ffn, l, count);
      }

      // residual
      for (let i = 0; i < count; i++) addInPlace(s.x.row[i]!, s.sublayerOut.row[i]!);
    }

    this.#experts.endStep();

    // final rmsnorm and the output projection to logits
    if (logits === "none") return;
    const first = logits === "all" ? 0 : count - 1;
    for (let i = first; i < count; i++) {
      this.#rmsNorm(s.x.row[i]!, s.x.row[i]!, w.outputNorm);
    }
    if (logits === "all") w.output.matMul(s.x.data, count, s.logits.data);
    else w.output.matVec(s.x.row[count - 1]!, s.logits.row[0]!);
  }

  /** RMS norm of `x` (or of its `length` values from `at`) into `out`, by the backend. */
  #rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, at = 0, length = x.length) {
    this.#ops.rmsNorm(out, x, weight, this.config.rmsEpsilon, at, length);
  }

  /** RoPE of the values from `x[at]` by batch row `row`'s rotation, by the backend. */
  #rope(x: Float32Array, at: number, row: number) {
    const s = this.#state;
    const half = s.ropeDim / 2;
    this.#ops.rope(x, at, s.ropeCos, s.ropeSin, row * half, half, this.config.ropeStyle);
  }

  /**
   * The mixture of experts of layer `l` for the batch's normalised inputs: each token's top-k
   * experts and weights from the router, each expert run once over the tokens routed to it, each
   * token's expert outputs summed in rank order (as for a single token), shared experts on top.
   */
  #mixture(moe: MixtureWeights, l: number, count: number): void {
    const c = this.config;
    const s = this.#state;
    const k = c.expertsUsed;
    moe.router.matMul(s.xb.data, count, s.routerLogits.data);
    for (let i = 0; i < count; i++) {
      route(
        s.routerLogits.row[i]!,
        moe.selectionBias,
        c,
        s.router,
        s.chosen,
        s.chosenWeights,
        i * k,
      );
    }
    for (let rank = 0; rank < k; rank++) {
      s.lastRouting.experts[l * k + rank] = s.chosen[(count - 1) * k + rank]!;
      s.lastRouting.weights[l * k + rank] = s.chosenWeights[(count - 1) * k + rank]!;
    }

    // the experts the batch uses, ascending: each runs once, as its bytes become available
    s.routedTo.fill(0);
    for (let slot = 0; slot < count * k; slot++) s.routedTo[s.chosen[slot]!] = 1;
    let needed = 0;
    for (let e = 0; e < c.experts; e++) if (s.routedTo[e]) s.needed[needed++] = e;
    const guesses = count === 1 ? this.#guessNextLayers(l) : NO_GUESSES;
    this.#onRouting?.({ layer: l, count, experts: s.chosen, weights: s.chosenWeights, guesses });
    this.#count = count;
    this.#experts.runLayer(l, s.needed, needed, guesses, this.#runExpert);
    for (let i = 0; i < count; i++) {
      const out = s.sublayerOut.row[i]!;
      out.fill(0);
      for (let rank = 0; rank < k; rank++) {
        addScaled(out, s.rankOut.row[i * k + rank]!, s.chosenWeights[i * k + rank]!);
      }
    }

    // shared experts, for every token (qwen2moe gates them with a sigmoid)
    if (moe.shared) {
      swiglu(moe.shared, s.xb.data, count, s.expertOut.data, this.#state);
      for (let i = 0; i < count; i++) {
        const gate = moe.sharedGate ? sigmoid(dot(moe.sharedGate, s.xb.row[i]!)) : 1;
        addScaled(s.sublayerOut.row[i]!, s.expertOut.row[i]!, gate);
      }
    }
  }

  /** Runs `expert` over the batch's tokens routed to it, each output to its token's rank row. */
  readonly #runExpert: RunExpert = (expert, ffn) => {
    const s = this.#state;
    const k = this.config.expertsUsed;
    const routed = slotsRoutedTo(expert, s.chosen, this.#count * k, s.expertSlots);
    for (let j = 0; j < routed; j++) {
      s.expertIn.row[j]!.set(s.xb.row[Math.floor(s.expertSlots[j]! / k)]!);
    }
    swiglu(ffn, s.expertIn.data, routed, s.expertOut.data, this.#state);
    for (let j = 0; j < routed; j++) s.rankOut.row[s.expertSlots[j]!]!.set(s.expertOut.row[j]!);
  };

  /** Speculative prefetch's guesses for the layers after `l` (see guesses.ts). */
  #guessNextLayers(l: number): readonly PrefetchGuess[] {
    if (this.#guesses === null) return NO_GUESSES;
    const s = this.#state;
    const layers = this.weights.layers;
    return this.#guesses.guess(l, (_, next) => {
      const { ffn, ffnNorm } = layers[next]!;
      this.#rmsNorm(s.guessIn, s.x.row[0]!, ffnNorm);
      (ffn as MixtureWeights).router.matVec(s.guessIn, s.guessLogits);
      return s.guessLogits;
    }, (next) => (layers[next]!.ffn as MixtureWeights).selectionBias);
  }

  /** Grouped-query attention: q, k, v projections, biases, q/k norms, RoPE. */
  #groupedQkv(a: GroupedQueryAttentionWeights, count: number): void {
    const c = this.config;
    const s = this.#state;
    a.wq.matMul(s.xb.data, count, s.q.data);
    a.wk.matMul(s.xb.data, count, s.k.data);
    a.wv.matMul(s.xb.data, count, s.v.data);
    for (let i = 0; i < count; i++) {
      const q = s.q.row[i]!;
      const k = s.k.row[i]!;
      if (a.bq) addInPlace(q, a.bq);
      if (a.bk) addInPlace(k, a.bk);
      if (a.bv) addInPlace(s.v.row[i]!, a.bv);

      // q/k rmsnorm: per head (qwen3moe) or over all heads at once (olmoe)
      if (c.qkNorm === "per-head") {
        for (let h = 0; h < c.heads; h++) {
          this.#rmsNorm(q, q, a.qNorm!, h * c.headDim, c.headDim);
        }
        for (let h = 0; h < c.kvHeads; h++) {
          this.#rmsNorm(k, k, a.kNorm!, h * c.headDim, c.headDim);
        }
      } else if (c.qkNorm === "full") {
        this.#rmsNorm(q, q, a.qNorm!);
        this.#rmsNorm(k, k, a.kNorm!);
      }

      // rope: rotate the first ropeDim dimensions of every q and k head by position
      for (let h = 0; h < c.heads; h++) this.#rope(q, h * c.headDim, i);
      for (let h = 0; h < c.kvHeads; h++) this.#rope(k, h * c.headDim, i);
    }
  }

  /**
   * Latent attention, absorbed: the key is the normalised latent plus a shared RoPE part; each
   * head's query is its no-position part mapped into the latent by `wkB`, plus its RoPE part.
   */
  #latentQkv(a: LatentAttentionWeights, count: number): void {
    const c = this.config;
    const mla = c.latent!;
    const s = this.#state;
    const qHead = mla.nopeDim + mla.ropeDim;
    const keyHead = mla.kvLoraRank + mla.ropeDim;

    // queries, directly or through the compressed rank
    if (a.wq) {
      a.wq.matMul(s.xb.data, count, s.q.data);
    } else {
      a.wqA!.matMul(s.xb.data, count, s.qCompressed.data);
      for (let i = 0; i < count; i++) {
        this.#rmsNorm(s.qCompressed.row[i]!, s.qCompressed.row[i]!, a.qANorm!);
      }
      a.wqB!.matMul(s.qCompressed.data, count, s.q.data);
    }

    // the key: [normalised latent | rotated shared RoPE part]; the value: the latent
    a.wkvA.matMul(s.xb.data, count, s.k.data);
    for (let i = 0; i < count; i++) {
      const k = s.k.row[i]!;
      this.#rmsNorm(k, k, a.kvANorm, 0, mla.kvLoraRank);
      this.#rope(k, mla.kvLoraRank, i);
      s.v.row[i]!.set(k.subarray(0, mla.kvLoraRank));

      // per head: [wkB · q_nope | rotated q_rope]
      const q = s.q.row[i]!;
      const queries = s.queries.row[i]!;
      for (let h = 0; h < c.heads; h++) {
        const query = queries.subarray(h * keyHead, (h + 1) * keyHead);
        a.wkB[h]!.matVec(q.subarray(h * qHead, h * qHead + mla.nopeDim), query);
        query.set(q.subarray(h * qHead + mla.nopeDim, (h + 1) * qHead), mla.kvLoraRank);
        this.#rope(query, mla.kvLoraRank, i);
      }
    }
  }
}

const NO_GUESSES: readonly PrefetchGuess[] = [];

// --- the operations, each as plain as it can be ---

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
