/**
 * The forward pass on the GPU: the same steps as the reference forward pass
 * (engine/model/reference.ts), with the activations, the weights and the KV cache in GPU
 * buffers and every step a dispatch. The host feeds embeddings and RoPE angles, routes each MoE
 * layer (its router logits come back, as do the guesses' for prefetch) and reads the logits.
 * Numerics follow llama.cpp's CPU backend, as the cpu backend does: activations rounded as ggml's
 * dot products round them, an F16 KV cache.
 *
 * Routed experts are resident (their stacked tensors uploaded) or offloaded: then the expert
 * cache's slots are GPU buffers, filled with `queue.writeBuffer` from the loader's RAM slots.
 *
 * @example
 * ```ts
 * import { GpuModel } from "./model.ts";
 * import { openGpu } from "./device.ts";
 * import { openGGUF } from "../../gguf/read.ts";
 * import { synthesize } from "../../synth/synth.ts";
 * const gpu = await openGpu();
 * if (!("unavailable" in gpu)) {
 *   const out = await Deno.makeTempFile({ suffix: ".gguf" });
 *   await synthesize({ preset: "tiny-mixtral", out, type: "Q8_0" });
 *   using gguf = await openGGUF(out);
 *   const model = await GpuModel.load(gguf, gpu, { maxContext: 16 });
 *   const logits = await model.forward(1, 0);
 *   console.log(logits.length); // 1024
 *   model.close();
 * }
 * ```
 * @module
 */
import type { GGUFFile } from "../../gguf/read.ts";
import { type ModelConfig, readConfig } from "../../model/config.ts";
import type { ExpertRunner, RunExpert } from "../../model/experts.ts";
import { ResidentExperts } from "../../model/experts.ts";
import { GuessMaker } from "../../model/guesses.ts";
import type { LanguageModel } from "../../model/language_model.ts";
import {
  type Matrix,
  type MatrixBackend,
  type MatrixFactory,
  ReferenceMatrix,
} from "../../model/matrix.ts";
import { attentionShape, type RunOptions } from "../../model/reference.ts";
import {
  route,
  RouterScratch,
  type Routing,
  routingPerLayer,
  slotsRoutedTo,
} from "../../model/router.ts";
import {
  type FeedForward,
  type GroupedQueryAttentionWeights,
  type LatentAttentionWeights,
  type LayerWeights,
  loadWeights,
  type MixtureWeights,
  type ModelWeights,
  tensorFormat,
  type WeightSink,
  widestFeedForward,
} from "../../model/weights.ts";
import { ropeRotations } from "../../model/vector_ops.ts";
import {
  OffloadedExperts,
  type OffloadOptions,
  type SlotBackend,
} from "../../offload/offloaded.ts";
import type { Placement } from "../../offload/placement.ts";
import type { PrefetchGuess } from "../../offload/planner.ts";
import { ExpertStore } from "../../offload/store.ts";
import { align, STORAGE, Transients } from "./buffers.ts";
import type { Gpu } from "./device.ts";
import { GpuExpertSlots, type SubmissionClock } from "./expert_slots.ts";
import { HostExperts } from "./host_experts.ts";
import { GpuKernels } from "./kernels.ts";
import { GpuMatMul, GpuMatrix } from "./matrix.ts";
import { GpuOps } from "./ops.ts";
import { KernelProfiler, type KernelTime } from "./timing.ts";

/** Options of a GPU model: the reference forward pass's, and where offloaded experts stage. */
export interface GpuRunOptions
  extends Pick<RunOptions, "maxContext" | "batchSize" | "onRouting" | "guessAhead"> {
  /** Keep routed experts in a cache of GPU slots (needs `staging`). */
  readonly offload?: OffloadOptions;
  /** Host memory for the loader's RAM slots (a cpu backend) when experts are offloaded. */
  readonly staging?: SlotBackend<unknown>;
  /**
   * Hybrid placement: the experts `placement` puts off the GPU stay in `host`'s memory (a cpu
   * backend) and compute there.
   */
  readonly hybrid?: { readonly placement: Placement; readonly host: MatrixBackend };
  /** Time every kernel (each dispatch in a timed pass of its own: slower); see `kernelTimes`. */
  readonly profileKernels?: boolean;
}

type Weights = ModelWeights<GpuMatrix, GPUBuffer>;
type Layer = LayerWeights<GpuMatrix, GPUBuffer>;
type Mixture = MixtureWeights<GpuMatrix, GPUBuffer>;

/** Which logits a batch computes. */
type LogitRows = "all" | "last" | "none";

/** The GPU buffers of a batch's activations and the KV cache, allocated once. */
class GpuState {
  readonly #all: GPUBuffer[] = [];
  readonly x: GPUBuffer; // (batch, dim) residual stream
  readonly xb: GPUBuffer; // (batch, dim) normalised input of a sublayer
  readonly qRaw: GPUBuffer; // (batch, heads·headDim) projected queries …
  readonly q: GPUBuffer; // … normalised (q/k norms), rotated, rounded: (batch, heads·keyHeadDim)
  readonly kRaw: GPUBuffer; // (batch, keyWidth)
  readonly k: GPUBuffer;
  readonly v: GPUBuffer; // (batch, valueWidth)
  readonly attended: GPUBuffer; // (batch, heads·valueHeadDim)
  // latent attention: the compressed queries, normalised; each head's no-position query part;
  // each head's attended latent up-projected to its value width
  readonly qCompressed: GPUBuffer; // (batch, qLoraRank)
  readonly qNormed: GPUBuffer;
  readonly qNope: GPUBuffer; // (batch · heads, nopeDim)
  readonly attention: GPUBuffer; // (batch, heads·valueDim)
  readonly scores: GPUBuffer; // (batch, heads, maxContext) attention's scratch
  readonly sublayerOut: GPUBuffer; // (batch, dim)
  readonly routerLogits: GPUBuffer; // (batch, experts)
  readonly guessIn: GPUBuffer; // (dim) a later layer's normalised input, guessed
  readonly guessLogits: GPUBuffer; // (depth, experts)
  readonly hidden: GPUBuffer; // (batch, widest feed-forward)
  readonly hiddenUp: GPUBuffer;
  readonly expertIn: GPUBuffer; // (batch, dim) the tokens routed to one expert
  readonly expertOut: GPUBuffer; // (batch, dim)
  readonly rankOut: GPUBuffer; // (batch · expertsUsed, dim) each token's k-th expert's output
  readonly gateLogits: GPUBuffer; // (batch) the shared expert's gate
  readonly logits: GPUBuffer; // (batch, vocab)
  readonly ropeCos: GPUBuffer; // (batch, ropeDim/2)
  readonly ropeSin: GPUBuffer;
  readonly keys: GPUBuffer[]; // per layer (maxContext, kvHeads·headDim), f16-rounded f32
  readonly values: GPUBuffer[];
  /** Where results come back: router and guess logits, or logits. */
  readonly readback: GPUBuffer;

  constructor(
    device: GPUDevice,
    c: ModelConfig,
    widest: number,
    guessDepth: number,
    readonly maxContext: number,
    readonly batch: number,
    hybrid: boolean,
  ) {
    const floats = (length: number) => {
      const buffer = device.createBuffer({
        size: align(Math.max(length, 4) * 4, 16),
        usage: STORAGE,
      });
      this.#all.push(buffer);
      return buffer;
    };
    const shape = attentionShape(c);
    const mla = c.latent;
    const k = Math.max(c.expertsUsed, 1);
    this.x = floats(batch * c.dim);
    this.xb = floats(batch * c.dim);
    this.qRaw = floats(batch * c.heads * (mla ? mla.nopeDim + mla.ropeDim : c.headDim));
    this.q = floats(batch * c.heads * shape.keyHeadDim);
    this.kRaw = floats(batch * shape.keyWidth);
    this.k = floats(batch * shape.keyWidth);
    this.v = floats(batch * shape.valueWidth);
    this.attended = floats(batch * c.heads * shape.valueHeadDim);
    this.qCompressed = floats(batch * (mla?.qLoraRank ?? 0));
    this.qNormed = floats(batch * (mla?.qLoraRank ?? 0));
    this.qNope = floats(batch * c.heads * (mla?.nopeDim ?? 0));
    this.attention = floats(batch * c.heads * (mla?.valueDim ?? 0));
    this.scores = floats(batch * c.heads * maxContext);
    this.sublayerOut = floats(batch * c.dim);
    this.routerLogits = floats(batch * c.experts);
    this.guessIn = floats(c.dim);
    this.guessLogits = floats(guessDepth * c.experts);
    this.hidden = floats(batch * widest);
    this.hiddenUp = floats(batch * widest);
    this.expertIn = floats(batch * c.dim);
    this.expertOut = floats(batch * c.dim);
    this.rankOut = floats(batch * k * c.dim);
    this.gateLogits = floats(batch);
    this.logits = floats(batch * c.vocabSize);
    this.ropeCos = floats((batch * ropeDimOf(c)) / 2);
    this.ropeSin = floats((batch * ropeDimOf(c)) / 2);
    this.keys = Array.from({ length: c.layers }, () => floats(maxContext * shape.keyWidth));
    this.values = Array.from({ length: c.layers }, () => floats(maxContext * shape.valueWidth));
    // router and guess logits, and with hybrid placement the CPU experts' input
    const routingValues = (batch + guessDepth) * c.experts + (hybrid ? batch * c.dim : 0);
    const readbackValues = Math.max(batch * c.vocabSize, routingValues);
    this.readback = device.createBuffer({
      size: align(readbackValues * 4, 16),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#all.push(this.readback);
  }

  /** Bytes of the KV cache. */
  get kvCacheBytes(): number {
    return [...this.keys, ...this.values].reduce((sum, buffer) => sum + buffer.size, 0);
  }

  destroy(): void {
    for (const buffer of this.#all) buffer.destroy();
  }
}

/** Host-side routing state, allocated once. */
class HostState {
  readonly chosen: Int32Array; // (batch · expertsUsed)
  readonly chosenWeights: Float64Array;
  readonly needed: Int32Array; // (experts)
  readonly neededOnCpu: Int32Array; // (experts) with hybrid placement
  readonly expertSlots: Int32Array; // (batch) the routing slots of the expert computing now
  readonly routedTo: Uint8Array; // (experts)
  readonly router: RouterScratch;
  readonly lastRouting: { experts: Int32Array; weights: Float64Array };
  readonly embeddings: Float32Array<ArrayBuffer>; // (batch, dim)
  readonly ropeCos: Float32Array<ArrayBuffer>; // (batch, ropeDim/2)
  readonly ropeSin: Float32Array<ArrayBuffer>;
  readonly logits: Float32Array; // (batch, vocab)

  constructor(c: ModelConfig, batch: number) {
    const k = Math.max(c.expertsUsed, 1);
    this.chosen = new Int32Array(batch * k);
    this.chosenWeights = new Float64Array(batch * k);
    this.needed = new Int32Array(c.experts);
    this.neededOnCpu = new Int32Array(c.experts);
    this.expertSlots = new Int32Array(batch);
    this.routedTo = new Uint8Array(c.experts);
    this.router = new RouterScratch(c);
    this.lastRouting = {
      experts: new Int32Array(c.layers * k),
      weights: new Float64Array(c.layers * k),
    };
    this.embeddings = new Float32Array(batch * c.dim);
    this.ropeCos = new Float32Array((batch * ropeDimOf(c)) / 2);
    this.ropeSin = new Float32Array((batch * ropeDimOf(c)) / 2);
    this.logits = new Float32Array(batch * c.vocabSize);
  }
}

/**
 * The command encoder and compute pass being recorded. Work is submitted in order: before a
 * readback, at the end of a batch, and before an expert slot in use by recorded work is
 * overwritten (a `writeBuffer` runs before every command buffer submitted after it). With a
 * profiler, `pass` times each dispatch in a pass of its own.
 */
class Recorder implements SubmissionClock {
  #encoder: GPUCommandEncoder;
  readonly #current: { pass: GPUComputePassEncoder };
  readonly #profiled: GPUComputePassEncoder | null;
  serial = 0;

  constructor(readonly device: GPUDevice, readonly profiler: KernelProfiler | null) {
    this.#encoder = device.createCommandEncoder();
    this.#current = { pass: this.#encoder.beginComputePass() };
    this.#profiled = profiler &&
      profiler.wrap(() => this.#encoder, this.#current, () => this.submit());
  }

  /** Where dispatches are recorded (until the next submission). */
  get pass(): GPUComputePassEncoder {
    return this.#profiled ?? this.#current.pass;
  }

  /** Ends the pass and submits it, with `copies` recorded after it; begins the next pass. */
  submit(copies?: (encoder: GPUCommandEncoder) => void): void {
    this.#current.pass.end();
    copies?.(this.#encoder);
    if (this.profiler) this.profiler.submit(this.#encoder);
    else this.device.queue.submit([this.#encoder.finish()]);
    this.serial++;
    this.#encoder = this.device.createCommandEncoder();
    this.#current.pass = this.#encoder.beginComputePass();
  }
}

/** A model run on the GPU (see the module documentation). */
export class GpuModel implements LanguageModel {
  readonly #device: GPUDevice;
  readonly #gpu: GpuState;
  readonly #host: HostState;
  readonly #ops: GpuOps;
  readonly #matMul: GpuMatMul;
  readonly #recorder: Recorder;
  readonly #embedding: ReferenceMatrix;
  readonly #sharedGates: (GpuMatrix | null)[];
  readonly #experts: ExpertRunner<GpuMatrix>;
  readonly #slots: GpuExpertSlots | null;
  readonly #hostExperts: HostExperts | null;
  readonly #guesses: GuessMaker | null;
  readonly #onRouting: RunOptions["onRouting"];
  readonly #oneToken = new Int32Array(1);
  /** The layer and batch size computing now (for `#runExpert`). */
  #layer = 0;
  #count = 0;

  private constructor(
    readonly config: ModelConfig,
    readonly weights: Weights,
    parts: {
      device: GPUDevice;
      gpu: GpuState;
      ops: GpuOps;
      matMul: GpuMatMul;
      embedding: ReferenceMatrix;
      experts: ExpertRunner<GpuMatrix>;
      slots: GpuExpertSlots | null;
      hostExperts: HostExperts | null;
      profiler: KernelProfiler | null;
      onRouting: RunOptions["onRouting"];
    },
  ) {
    this.#device = parts.device;
    this.#gpu = parts.gpu;
    this.#host = new HostState(config, parts.gpu.batch);
    this.#ops = parts.ops;
    this.#matMul = parts.matMul;
    this.#recorder = new Recorder(parts.device, parts.profiler);
    this.#embedding = parts.embedding;
    this.#experts = parts.experts;
    this.#slots = parts.slots;
    this.#hostExperts = parts.hostExperts;
    this.#onRouting = parts.onRouting;
    this.#guesses = parts.experts.prefetch &&
      new GuessMaker(
        weights.layers.map(({ ffn }) => ffn.kind === "mixture"),
        parts.experts.prefetch,
        config.experts,
      );
    // qwen2moe's shared expert gate: a (1, dim) F32 matrix over the gate vector's buffer
    this.#sharedGates = weights.layers.map(({ ffn }) =>
      ffn.kind === "mixture" && ffn.sharedGate
        ? new GpuMatrix("F32", 1, config.dim, ffn.sharedGate)
        : null
    );
  }

  /**
   * Uploads the weights of `gguf` to `gpu` and sets up the activations and KV cache.
   * @throws {RangeError} for a tensor larger than the device's largest buffer, offloading
   *   without staging memory, or offloading with hybrid placement.
   */
  static async load(gguf: GGUFFile, gpu: Gpu, options: GpuRunOptions = {}): Promise<GpuModel> {
    const config = readConfig(gguf);
    const device = gpu.device;
    const { offload, hybrid } = options;
    if (offload && !options.staging) {
      throw new RangeError("offloading experts on the GPU needs host staging memory");
    }
    if (offload && hybrid) {
      throw new RangeError("hybrid placement and an expert cache cannot be combined yet");
    }
    const transients = new Transients(device);
    const upload: MatrixFactory<GpuMatrix> = (format, rows, cols, byteLength, read) =>
      GpuMatrix.upload(device, format.type.name, rows, cols, byteLength, read);
    const sink: WeightSink<GpuMatrix, GPUBuffer> = {
      matrix: upload,
      vector(values) {
        const buffer = device.createBuffer({ size: align(values.byteLength, 16), usage: STORAGE });
        device.queue.writeBuffer(buffer, 0, new Float32Array(values));
        return buffer;
      },
    };
    const weights = await loadWeights(gguf, config, "ggml", sink, !offload && !hybrid);
    const embeddingInfo = gguf.tensor("token_embd.weight");
    const embedding = new ReferenceMatrix(
      tensorFormat(gguf, embeddingInfo),
      config.vocabSize,
      config.dim,
      await gguf.readTensor(embeddingInfo),
    );

    const maxContext = options.maxContext ?? Math.min(config.contextLength, 4096);
    const batch = Math.max(1, Math.min(options.batchSize ?? 128, maxContext));
    const widest = widestFeedForward(weights);
    const slots = offload ? new GpuExpertSlots(device, options.staging!) : null;
    let experts: ExpertRunner<GpuMatrix>;
    let hostExperts: HostExperts | null = null;
    if (offload) {
      experts = await OffloadedExperts.create(gguf, config, slots!, offload);
    } else if (hybrid) {
      const placed = await placeExperts(gguf, config, hybrid.placement, upload, hybrid.host);
      experts = new ResidentExperts(placed.gpu, options.guessAhead ?? null);
      hostExperts = new HostExperts(config, placed.cpu, hybrid.host, widest, batch, {
        gpu_bytes: hybrid.placement.gpuBytes,
        cpu_bytes: hybrid.placement.cpuBytes,
        expected_gpu_share: hybrid.placement.gpuShare,
      });
    } else {
      experts = new ResidentExperts(
        weights.layers.map(({ ffn }) => ffn.kind === "mixture" ? ffn.experts : null),
        options.guessAhead ?? null,
      );
    }

    const guessDepth = experts.prefetch?.depth ?? 0;
    const state = new GpuState(device, config, widest, guessDepth, maxContext, batch, !!hybrid);
    // the widest input of any mat-mul, per token
    const mla = config.latent;
    const widestInput = Math.max(
      config.dim,
      widest,
      config.heads * (mla ? Math.max(mla.valueDim, mla.nopeDim, mla.kvLoraRank) : config.valueDim),
      mla?.qLoraRank ?? 0,
    );
    // every tensor's type, and F32 for the shared expert gate
    const types = new Set([...gguf.tensors.map((info) => info.typeName), "F32"]);
    const kernels = new GpuKernels(device);
    const [ops, matMul] = await Promise.all([
      GpuOps.create(device, transients),
      GpuMatMul.create(kernels, types, batch * widestInput, transients),
    ]);
    return new GpuModel(config, weights, {
      device,
      gpu: state,
      ops,
      matMul,
      embedding,
      experts,
      slots,
      hostExperts,
      profiler: options.profileKernels ? new KernelProfiler(gpu) : null,
      onRouting: options.onRouting,
    });
  }

  get maxContext(): number {
    return this.#gpu.maxContext;
  }

  get batchSize(): number {
    return this.#gpu.batch;
  }

  /** Bytes of the KV cache on the GPU. */
  get kvCacheBytes(): number {
    return this.#gpu.kvCacheBytes;
  }

  get offload(): OffloadedExperts<GpuMatrix> | null {
    return this.#experts instanceof OffloadedExperts ? this.#experts : null;
  }

  /** Each kernel's GPU time so far, with `profileKernels` (null without). */
  async kernelTimes(): Promise<KernelTime[] | null> {
    return await this.#recorder.profiler?.times() ?? null;
  }

  /** Hybrid placement's counters (null: every expert on the GPU). */
  get hybrid(): HostExperts | null {
    return this.#hostExperts;
  }

  get routing(): Routing[] {
    const layers = this.weights.layers;
    const isMoe = (l: number) => layers[l]!.ffn.kind === "mixture";
    return routingPerLayer(layers.length, isMoe, this.config.expertsUsed, this.#host.lastRouting);
  }

  close(): void {
    this.offload?.close();
    this.#gpu.destroy();
    this.#slots?.destroy();
    this.#matMul.destroy();
    this.#recorder.profiler?.destroy();
  }

  async forward(token: number, pos: number, computeLogits = true): Promise<Float32Array> {
    this.#oneToken[0] = token;
    await this.#forwardBatch(this.#oneToken, 0, 1, pos, computeLogits ? "last" : "none");
    return this.#host.logits.subarray(0, this.config.vocabSize);
  }

  async prefill(
    tokens: ArrayLike<number>,
    pos: number,
    computeLogits = true,
  ): Promise<Float32Array> {
    const batch = this.#gpu.batch;
    for (let from = 0; from < tokens.length; from += batch) {
      const count = Math.min(batch, tokens.length - from);
      const last = from + count === tokens.length;
      await this.#forwardBatch(
        tokens,
        from,
        count,
        pos + from,
        last && computeLogits ? "last" : "none",
      );
    }
    return this.#host.logits.subarray(0, this.config.vocabSize);
  }

  async score(
    tokens: ArrayLike<number>,
    pos: number,
    visit: (index: number, logits: Float32Array) => void,
  ): Promise<void> {
    const batch = this.#gpu.batch;
    const vocab = this.config.vocabSize;
    for (let from = 0; from < tokens.length; from += batch) {
      const count = Math.min(batch, tokens.length - from);
      await this.#forwardBatch(tokens, from, count, pos + from, "all");
      for (let i = 0; i < count; i++) {
        visit(from + i, this.#host.logits.subarray(i * vocab, (i + 1) * vocab));
      }
    }
  }

  /** One batch: `tokens[from … from + count)` at positions `pos …` (see the reference's). */
  async #forwardBatch(
    tokens: ArrayLike<number>,
    from: number,
    count: number,
    pos: number,
    logits: LogitRows,
  ): Promise<void> {
    const c = this.config;
    const g = this.#gpu;
    const h = this.#host;
    if (!(pos >= 0 && pos + count <= g.maxContext)) {
      const last = pos + count - 1;
      throw new RangeError(`Position ${last} is outside the context of ${g.maxContext} tokens`);
    }

    // token embeddings and RoPE angles, from the host
    for (let i = 0; i < count; i++) {
      const token = tokens[from + i]!;
      if (!(token >= 0 && token < c.vocabSize)) {
        throw new RangeError(`Token id ${token} is outside the vocabulary (0–${c.vocabSize - 1})`);
      }
      this.#embedding.decodeRow(token, h.embeddings.subarray(i * c.dim, (i + 1) * c.dim));
    }
    const ropeDim = ropeDimOf(c);
    const half = ropeDim / 2;
    ropeRotations(h.ropeCos, h.ropeSin, count, pos, c.ropeBase, ropeDim);
    const queue = this.#device.queue;
    queue.writeBuffer(g.x, 0, h.embeddings, 0, count * c.dim);
    queue.writeBuffer(g.ropeCos, 0, h.ropeCos, 0, count * half);
    queue.writeBuffer(g.ropeSin, 0, h.ropeSin, 0, count * half);

    try {
      for (let l = 0; l < c.layers; l++) {
        const layer = this.weights.layers[l]!;
        this.#attention(layer, l, count, pos);
        this.#ops.rmsNorm(
          this.#recorder.pass,
          g.xb,
          g.x,
          layer.ffnNorm,
          count,
          c.dim,
          c.rmsEpsilon,
        );
        if (layer.ffn.kind === "dense") {
          this.#swiglu(layer.ffn.dense, g.xb, count, g.sublayerOut);
        } else {
          await this.#mixture(layer.ffn, l, count);
        }
        this.#ops.add(this.#recorder.pass, g.x, g.sublayerOut, count * c.dim);
      }
      this.#experts.endStep();
      await this.#logits(count, logits);
    } finally {
      this.#ops.release();
    }
  }

  /** The attention sublayer of `layer` and its residual. */
  #attention(layer: Layer, l: number, count: number, pos: number): void {
    const c = this.config;
    const g = this.#gpu;
    const ops = this.#ops;
    const pass = this.#recorder.pass;
    const shape = attentionShape(c);
    ops.rmsNorm(pass, g.xb, g.x, layer.attnNorm, count, c.dim, c.rmsEpsilon);
    const a = layer.attention;
    const { q, k } = a.kind === "grouped" ? this.#groupedQkv(a, count) : this.#latentQkv(a, count);

    // llama.cpp keeps keys and values in an F16 cache and rounds queries to match
    ops.roundF16(pass, q, count * c.heads * shape.keyHeadDim);
    ops.roundF16(pass, k, count * shape.keyWidth);
    ops.roundF16(pass, g.v, count * shape.valueWidth);
    const moves = Array.from({ length: 2 * count }, (_, j) => j % 2 ? pos + (j >> 1) : j >> 1);
    ops.copyRows(pass, g.keys[l]!, k, shape.keyWidth, moves);
    ops.copyRows(pass, g.values[l]!, g.v, shape.valueWidth, moves);
    ops.attend(
      pass,
      { out: g.attended, queries: q, keys: g.keys[l]!, values: g.values[l]!, scores: g.scores },
      shape,
      pos,
      count,
      g.maxContext,
      true,
    );

    // latent attention: each head's attended latent up-projected to its value width
    let attention = g.attended;
    if (a.kind === "latent") {
      const mla = c.latent!;
      this.#matMul.record(
        pass,
        a.wvB[0]!,
        g.attended,
        g.attention,
        count,
        0,
        c.heads * mla.valueDim,
        {
          count: c.heads,
          outStride: mla.valueDim,
        },
      );
      attention = g.attention;
    }
    this.#matMul.record(pass, a.wo, attention, g.sublayerOut, count);
    ops.add(pass, g.x, g.sublayerOut, count * c.dim);
  }

  /** Grouped-query attention's queries and keys (and values into `v`): biases, norms, RoPE. */
  #groupedQkv(a: GroupedQueryAttentionWeights<GpuMatrix, GPUBuffer>, count: number) {
    const c = this.config;
    const g = this.#gpu;
    const ops = this.#ops;
    const pass = this.#recorder.pass;
    const qWidth = c.heads * c.headDim;
    const kWidth = c.kvHeads * c.headDim;
    const vWidth = c.kvHeads * c.valueDim;
    this.#matMul.record(pass, a.wq, g.xb, g.qRaw, count);
    this.#matMul.record(pass, a.wk, g.xb, g.kRaw, count);
    this.#matMul.record(pass, a.wv, g.xb, g.v, count);
    if (a.bq) ops.add(pass, g.qRaw, a.bq, count * qWidth, qWidth);
    if (a.bk) ops.add(pass, g.kRaw, a.bk, count * kWidth, kWidth);
    if (a.bv) ops.add(pass, g.v, a.bv, count * vWidth, vWidth);

    // q/k rmsnorm (a norm writes another buffer): per head (qwen3moe) or over all heads (olmoe)
    const q = c.qkNorm === "none" ? g.qRaw : g.q;
    const k = c.qkNorm === "none" ? g.kRaw : g.k;
    if (c.qkNorm === "per-head") {
      ops.rmsNorm(pass, q, g.qRaw, a.qNorm!, count * c.heads, c.headDim, c.rmsEpsilon);
      ops.rmsNorm(pass, k, g.kRaw, a.kNorm!, count * c.kvHeads, c.headDim, c.rmsEpsilon);
    } else if (c.qkNorm === "full") {
      ops.rmsNorm(pass, q, g.qRaw, a.qNorm!, count, qWidth, c.rmsEpsilon);
      ops.rmsNorm(pass, k, g.kRaw, a.kNorm!, count, kWidth, c.rmsEpsilon);
    }
    const rope = { rows: count, offset: 0, half: c.ropeDim / 2, style: c.ropeStyle };
    ops.rope(pass, q, g.ropeCos, g.ropeSin, {
      ...rope,
      width: qWidth,
      segments: c.heads,
      stride: c.headDim,
    });
    ops.rope(pass, k, g.ropeCos, g.ropeSin, {
      ...rope,
      width: kWidth,
      segments: c.kvHeads,
      stride: c.headDim,
    });
    return { q, k };
  }

  /**
   * Latent attention, absorbed (see the reference's): the key is the normalised latent plus a
   * shared RoPE part, the value the latent; each head's query is its no-position part mapped
   * into the latent by `wkB` (all heads in one dispatch), plus its RoPE part.
   */
  #latentQkv(a: LatentAttentionWeights<GpuMatrix, GPUBuffer>, count: number) {
    const c = this.config;
    const mla = c.latent!;
    const g = this.#gpu;
    const ops = this.#ops;
    const pass = this.#recorder.pass;
    const qHead = mla.nopeDim + mla.ropeDim;
    const keyHead = mla.kvLoraRank + mla.ropeDim;
    const rope = { rows: count, offset: mla.kvLoraRank, half: mla.ropeDim / 2, style: c.ropeStyle };

    // queries, directly or through the compressed rank
    if (a.wq) {
      this.#matMul.record(pass, a.wq, g.xb, g.qRaw, count);
    } else {
      this.#matMul.record(pass, a.wqA!, g.xb, g.qCompressed, count);
      ops.rmsNorm(pass, g.qNormed, g.qCompressed, a.qANorm!, count, mla.qLoraRank, c.rmsEpsilon);
      this.#matMul.record(pass, a.wqB!, g.qNormed, g.qRaw, count);
    }

    // the key: [normalised latent | rotated shared RoPE part]; the value: the latent
    this.#matMul.record(pass, a.wkvA, g.xb, g.kRaw, count);
    ops.rope(pass, g.kRaw, g.ropeCos, g.ropeSin, {
      ...rope,
      width: keyHead,
      segments: 1,
      stride: keyHead,
    });
    ops.rmsNorm(pass, g.k, g.kRaw, a.kvANorm, count, mla.kvLoraRank, c.rmsEpsilon, keyHead);
    const columns = (buffer: GPUBuffer, stride: number, offset: number) => ({
      buffer,
      stride,
      offset,
    });
    ops.copyColumns(
      pass,
      columns(g.k, keyHead, mla.kvLoraRank),
      columns(g.kRaw, keyHead, mla.kvLoraRank),
      count,
      mla.ropeDim,
    );
    ops.copyColumns(
      pass,
      columns(g.v, mla.kvLoraRank, 0),
      columns(g.k, keyHead, 0),
      count,
      mla.kvLoraRank,
    );

    // per head: [wkB · q_nope | rotated q_rope]
    const rows = count * c.heads;
    ops.copyColumns(
      pass,
      columns(g.qNope, mla.nopeDim, 0),
      columns(g.qRaw, qHead, 0),
      rows,
      mla.nopeDim,
    );
    this.#matMul.record(pass, a.wkB[0]!, g.qNope, g.q, count, 0, c.heads * keyHead, {
      count: c.heads,
      outStride: keyHead,
    });
    ops.copyColumns(
      pass,
      columns(g.q, keyHead, mla.kvLoraRank),
      columns(g.qRaw, qHead, mla.nopeDim),
      rows,
      mla.ropeDim,
    );
    ops.rope(pass, g.q, g.ropeCos, g.ropeSin, {
      ...rope,
      width: c.heads * keyHead,
      segments: c.heads,
      stride: keyHead,
    });
    return { q: g.q, k: g.k };
  }

  /**
   * The mixture of experts of layer `l` (see the reference's): router logits (and the next
   * layers' guesses) come back, the host routes, the runner makes each needed expert available
   * and `#runExpert` records it; each token's outputs are summed in rank order, shared experts
   * on top.
   */
  async #mixture(moe: Mixture, l: number, count: number): Promise<void> {
    const c = this.config;
    const g = this.#gpu;
    const h = this.#host;
    const k = c.expertsUsed;
    const recorder = this.#recorder;
    this.#matMul.record(recorder.pass, moe.router, g.xb, g.routerLogits, count);
    const guessed = count === 1 && this.#guesses ? this.#guesses.layersAfter(l) : [];
    guessed.forEach((next, i) => {
      const layer = this.weights.layers[next]!;
      this.#ops.rmsNorm(recorder.pass, g.guessIn, g.x, layer.ffnNorm, 1, c.dim, c.rmsEpsilon);
      const router = (layer.ffn as Mixture).router;
      this.#matMul.record(recorder.pass, router, g.guessIn, g.guessLogits, 1, i * c.experts);
    });
    const routerBytes = count * c.experts * 4;
    const guessBytes = guessed.length * c.experts * 4;
    const inputBytes = this.#hostExperts ? count * c.dim * 4 : 0;
    const returnedBytes = align(routerBytes + guessBytes + inputBytes, 8);
    recorder.submit((encoder) => {
      encoder.copyBufferToBuffer(g.routerLogits, 0, g.readback, 0, routerBytes);
      if (guessBytes) {
        encoder.copyBufferToBuffer(g.guessLogits, 0, g.readback, routerBytes, guessBytes);
      }
      if (inputBytes) {
        encoder.copyBufferToBuffer(g.xb, 0, g.readback, routerBytes + guessBytes, inputBytes);
      }
    });
    await g.readback.mapAsync(GPUMapMode.READ, 0, returnedBytes);
    const returned = new Float32Array(g.readback.getMappedRange(0, returnedBytes).slice(0));
    g.readback.unmap();

    for (let i = 0; i < count; i++) {
      const logits = returned.subarray(i * c.experts, (i + 1) * c.experts);
      route(logits, moe.selectionBias, c, h.router, h.chosen, h.chosenWeights, i * k);
    }
    for (let rank = 0; rank < k; rank++) {
      h.lastRouting.experts[l * k + rank] = h.chosen[(count - 1) * k + rank]!;
      h.lastRouting.weights[l * k + rank] = h.chosenWeights[(count - 1) * k + rank]!;
    }
    h.routedTo.fill(0);
    for (let slot = 0; slot < count * k; slot++) h.routedTo[h.chosen[slot]!] = 1;
    // with hybrid placement, the GPU's experts and the CPU's apart
    let needed = 0;
    let neededOnCpu = 0;
    for (let e = 0; e < c.experts; e++) {
      if (!h.routedTo[e]) continue;
      if (this.#hostExperts?.onCpu(l, e)) h.neededOnCpu[neededOnCpu++] = e;
      else h.needed[needed++] = e;
    }
    const guesses: readonly PrefetchGuess[] = guessed.length
      ? this.#guesses!.guess(
        l,
        (i) =>
          returned.subarray(
            count * c.experts + i * c.experts,
            count * c.experts + (i + 1) * c.experts,
          ),
        (next) => (this.weights.layers[next]!.ffn as Mixture).selectionBias,
      )
      : [];
    this.#onRouting?.({ layer: l, count, experts: h.chosen, weights: h.chosenWeights, guesses });
    this.#layer = l;
    this.#count = count;
    this.#experts.runLayer(l, h.needed, needed, guesses, this.#runExpert);
    if (neededOnCpu > 0) {
      // the GPU computes its experts while the CPU computes the rest
      recorder.submit();
      const input = returned.subarray((routerBytes + guessBytes) / 4);
      const write = (rankRow: number, values: Float32Array<ArrayBuffer>) =>
        this.#device.queue.writeBuffer(g.rankOut, rankRow * c.dim * 4, values);
      for (let i = 0; i < neededOnCpu; i++) {
        this.#hostExperts!.run(l, h.neededOnCpu[i]!, h.chosen, count, input, write);
      }
    }
    this.#hostExperts?.countLayer(count * k);

    const pass = recorder.pass;
    const weights = this.#ops.transients.floats(
      Float32Array.from(h.chosenWeights.subarray(0, count * k)),
    );
    this.#ops.mixRows(pass, g.sublayerOut, g.rankOut, weights, { count, width: c.dim, ranks: k }, {
      accumulate: false,
      sigmoid: false,
    });

    // shared experts, for every token (qwen2moe gates them with a sigmoid)
    if (moe.shared) {
      this.#swiglu(moe.shared, g.xb, count, g.expertOut);
      const gate = this.#sharedGates[l];
      if (gate) {
        this.#matMul.record(pass, gate, g.xb, g.gateLogits, count);
        this.#ops.mixRows(pass, g.sublayerOut, g.expertOut, g.gateLogits, {
          count,
          width: c.dim,
          ranks: 1,
        }, {
          accumulate: true,
          sigmoid: true,
        });
      } else {
        this.#ops.add(pass, g.sublayerOut, g.expertOut, count * c.dim);
      }
    }
  }

  /** Records `expert` over the batch's tokens routed to it, each output to its rank row. */
  readonly #runExpert: RunExpert<GpuMatrix> = (expert, ffn) => {
    const c = this.config;
    const g = this.#gpu;
    const h = this.#host;
    const k = c.expertsUsed;
    // an offloaded expert's GPU slot is filled from its RAM slot before first use
    this.#slots?.ensure(ffn.gate.buffer, this.#layer * c.experts + expert, this.#recorder);
    // (from, to) row pairs: the tokens into expertIn, their outputs to their rank rows
    const routed = slotsRoutedTo(expert, h.chosen, this.#count * k, h.expertSlots);
    const gather: number[] = [];
    const scatter: number[] = [];
    for (let j = 0; j < routed; j++) {
      const slot = h.expertSlots[j]!;
      gather.push(Math.floor(slot / k), j);
      scatter.push(j, slot);
    }
    const pass = this.#recorder.pass;
    this.#ops.copyRows(pass, g.expertIn, g.xb, c.dim, gather);
    this.#swiglu(ffn, g.expertIn, routed, g.expertOut);
    this.#ops.copyRows(pass, g.rankOut, g.expertOut, c.dim, scatter);
  };

  /** out = down · (silu(gate · x) ⊙ (up · x)) for `count` rows of `x`. */
  #swiglu(ffn: FeedForward<GpuMatrix>, x: GPUBuffer, count: number, out: GPUBuffer): void {
    const g = this.#gpu;
    const pass = this.#recorder.pass;
    this.#matMul.record(pass, ffn.gate, x, g.hidden, count);
    this.#matMul.record(pass, ffn.up, x, g.hiddenUp, count);
    this.#ops.swiglu(pass, g.hidden, g.hiddenUp, count * ffn.up.rows);
    this.#matMul.record(pass, ffn.down, g.hidden, out, count);
  }

  /** The final norm and output projection of every row or the last, read back to the host. */
  async #logits(count: number, which: LogitRows): Promise<void> {
    const c = this.config;
    const g = this.#gpu;
    const recorder = this.#recorder;
    if (which === "none") {
      recorder.submit();
      await this.#device.queue.onSubmittedWorkDone();
      return;
    }
    const pass = recorder.pass;
    const rows = which === "all" ? count : 1;
    if (which === "last") this.#ops.copyRows(pass, g.expertIn, g.x, c.dim, [count - 1, 0]);
    const input = which === "all" ? g.x : g.expertIn;
    this.#ops.rmsNorm(pass, g.xb, input, this.weights.outputNorm, rows, c.dim, c.rmsEpsilon);
    this.#matMul.record(pass, this.weights.output, g.xb, g.logits, rows);
    const bytes = rows * c.vocabSize * 4;
    recorder.submit((encoder) => encoder.copyBufferToBuffer(g.logits, 0, g.readback, 0, bytes));
    await g.readback.mapAsync(GPUMapMode.READ, 0, bytes);
    this.#host.logits.set(new Float32Array(g.readback.getMappedRange(0, bytes)));
    g.readback.unmap();
  }
}

/**
 * Reads every routed expert into GPU buffers (`upload`) or into `host`'s memory, as `placement`
 * says: per MoE layer, the GPU's experts and the CPU's (undefined where the other has it).
 */
async function placeExperts(
  gguf: GGUFFile,
  config: ModelConfig,
  placement: Placement,
  upload: MatrixFactory<GpuMatrix>,
  host: MatrixBackend,
) {
  const store = ExpertStore.fromGGUF(gguf, config);
  const keep: MatrixFactory<Matrix> = (...args) => host.matrix(...args);
  const gpu: (FeedForward<GpuMatrix>[] | null)[] = [];
  const cpu: ((FeedForward<Matrix> | undefined)[] | null)[] = [];
  for (let l = 0; l < config.layers; l++) {
    const onGpu = placement.onGpu[l];
    if (!store.layers[l] || !onGpu) {
      gpu.push(null);
      cpu.push(null);
      continue;
    }
    const gpuLayer: FeedForward<GpuMatrix>[] = new Array(config.experts);
    const cpuLayer: (FeedForward<Matrix> | undefined)[] = new Array(config.experts);
    for (let e = 0; e < config.experts; e++) {
      if (onGpu[e]) gpuLayer[e] = await store.readExpert(gguf, l, e, upload, "ggml");
      else cpuLayer[e] = await store.readExpert(gguf, l, e, keep, "ggml");
    }
    gpu.push(gpuLayer);
    cpu.push(cpuLayer);
  }
  return { gpu, cpu };
}

/** Dimensions RoPE rotates: of each head, or latent attention's RoPE part. */
function ropeDimOf(c: ModelConfig): number {
  return c.latent ? c.latent.ropeDim : c.ropeDim;
}
