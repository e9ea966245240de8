/**
 * The operations between the mat-muls on the GPU (ops.wgsl, attention.wgsl): RMS norm, RoPE,
 * residual and bias adds, SwiGLU's gate, f16 rounding, row moves, the weighted sum of experts
 * and causal attention over a KV cache. Each method records a dispatch into a compute pass; its
 * parameter block lives in `transients` until the owner releases them, once the GPU has run the
 * work.
 *
 * @example
 * ```ts
 * import { openGpu } from "./device.ts";
 * import { GpuOps } from "./ops.ts";
 * const gpu = await openGpu();
 * if (!("unavailable" in gpu)) {
 *   const ops = await GpuOps.create(gpu.device);
 *   // ops.rmsNorm(pass, out, x, weight, rows, width, 1e-5) inside a compute pass
 * }
 * ```
 * @module
 */
import type { AttentionShape } from "../../model/kv_cache.ts";
import type { RopeStyle } from "../../model/vector_ops.ts";
import { bindings, f32Bits, Transients } from "./buffers.ts";
import { compile, groupsFor, layout, QUANT, sources, WORKGROUP } from "./kernels.ts";

const OPS = [
  "rms_norm",
  "rope",
  "add",
  "swiglu",
  "round_f16_in_place",
  "copy_rows",
  "copy_columns",
  "mix_rows",
] as const;
type OpEntry = typeof OPS[number];

/** How RoPE finds its pairs in rows of `width` values: `segments` heads of `stride` values, whose
 * values from `offset` rotate in `half` pairs. */
export interface RopeLayout {
  readonly rows: number;
  readonly width: number;
  readonly segments: number;
  readonly stride: number;
  readonly offset: number;
  readonly half: number;
  readonly style: RopeStyle;
}

/** The GPU's vector operations and attention, with their compiled pipelines. */
export class GpuOps {
  /** Bound where an op reads nothing: a buffer may not be written and read in one dispatch. */
  readonly #unused: GPUBuffer;

  private constructor(
    readonly device: GPUDevice,
    readonly pipelines: Readonly<Record<OpEntry, GPUComputePipeline>>,
    readonly attention: GPUComputePipeline,
    readonly transients: Transients,
  ) {
    this.#unused = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  }

  /** The ops of `device`, their parameter blocks kept in `transients` (default: their own). */
  static async create(
    device: GPUDevice,
    transients = new Transients(device),
  ): Promise<GpuOps> {
    const opsLayout = layout(device, [
      "storage",
      "read-only-storage",
      "read-only-storage",
      "uniform",
    ]);
    const attentionLayout = layout(device, [
      "storage",
      "read-only-storage",
      "read-only-storage",
      "read-only-storage",
      "storage",
      "uniform",
    ]);
    const helpers = [new URL("round_f16.wgsl", QUANT), new URL("./reduce.wgsl", import.meta.url)];
    const opsCode = await sources([...helpers, new URL("./ops.wgsl", import.meta.url)]);
    const attentionCode = await sources([...helpers, new URL("./attention.wgsl", import.meta.url)]);
    const compiled = await Promise.all(
      OPS.map((entry) => compile(device, entry, opsCode, entry, opsLayout)),
    );
    const attention = await compile(device, "attention", attentionCode, "attend", attentionLayout);
    const pipelines = Object.fromEntries(OPS.map((entry, i) => [entry, compiled[i]!]));
    return new GpuOps(
      device,
      pipelines as Record<OpEntry, GPUComputePipeline>,
      attention,
      transients,
    );
  }

  /**
   * out[row] = x[row] / sqrt(mean(x[row]²) + ε) ⊙ weight, for `rows` rows of `width` values
   * that start `stride` apart in both (the rest of each row is left alone).
   */
  rmsNorm(
    pass: GPUComputePassEncoder,
    out: GPUBuffer,
    x: GPUBuffer,
    weight: GPUBuffer,
    rows: number,
    width: number,
    epsilon: number,
    stride = width,
  ): void {
    const params = [width, rows, f32Bits(epsilon), 0, 0, stride];
    this.#dispatch(pass, "rms_norm", [out, x, weight], params, rows, true);
  }

  /** Rotates `x`'s pairs in place by each row's angles (`cos`, `sin`: `half` per row). */
  rope(
    pass: GPUComputePassEncoder,
    x: GPUBuffer,
    cos: GPUBuffer,
    sin: GPUBuffer,
    at: RopeLayout,
  ): void {
    this.#dispatch(pass, "rope", [x, cos, sin], [
      at.width,
      at.rows,
      0,
      at.half,
      at.segments,
      at.stride,
      at.offset,
      at.style === "neox" ? 1 : 0,
    ], at.rows * at.segments * at.half);
  }

  /** x += y over `length` values, y repeating every `period` (a bias added to each row). */
  add(pass: GPUComputePassEncoder, x: GPUBuffer, y: GPUBuffer, length: number, period = length) {
    this.#dispatch(pass, "add", [x, y, this.#unused], [length], length, false, { period });
  }

  /**
   * Copies rows of `width` values from `source` to `target`: `moves` holds (from, to) row
   * pairs.
   */
  copyRows(
    pass: GPUComputePassEncoder,
    target: GPUBuffer,
    source: GPUBuffer,
    width: number,
    moves: ArrayLike<number>,
  ): void {
    const pairs = this.transients.floats(Float32Array.from(moves));
    const rows = moves.length / 2;
    this.#dispatch(pass, "copy_rows", [target, source, pairs], [width, rows], rows * width);
  }

  /**
   * Copies `width` columns of `rows` rows: from column `source.offset` of `source`'s rows
   * (`source.stride` apart) to column `target.offset` of `target`'s (`target.stride` apart).
   */
  copyColumns(
    pass: GPUComputePassEncoder,
    target: { buffer: GPUBuffer; stride: number; offset: number },
    source: { buffer: GPUBuffer; stride: number; offset: number },
    rows: number,
    width: number,
  ): void {
    const params = [width, rows, 0, 0, 0, target.stride, target.offset];
    this.#dispatch(
      pass,
      "copy_columns",
      [target.buffer, source.buffer, this.#unused],
      params,
      rows * width,
      false,
      {
        sourceStride: source.stride,
        sourceOffset: source.offset,
      },
    );
  }

  /**
   * Row i of `out` = Σ_r weight(i, r) · row (i·ranks + r) of `rows` (ranks in order), for
   * `count` rows of `width`; `weights` holds count·ranks values. `accumulate`: add to `out`;
   * `sigmoid`: weigh by the sigmoid of each weight.
   */
  mixRows(
    pass: GPUComputePassEncoder,
    out: GPUBuffer,
    rows: GPUBuffer,
    weights: GPUBuffer,
    shape: { count: number; width: number; ranks: number },
    mode: { accumulate: boolean; sigmoid: boolean },
  ): void {
    const { count, width, ranks } = shape;
    this.#dispatch(pass, "mix_rows", [out, rows, weights], [width, count], count * width, false, {
      ranks,
      accumulate: mode.accumulate ? 1 : 0,
      sigmoid: mode.sigmoid ? 1 : 0,
    });
  }

  /** gate = silu(gate) ⊙ up over `length` values. */
  swiglu(pass: GPUComputePassEncoder, gate: GPUBuffer, up: GPUBuffer, length: number): void {
    this.#dispatch(pass, "swiglu", [gate, up, this.#unused], [length], length);
  }

  /** x rounded to f16 precision in place, over `length` values. */
  roundF16(pass: GPUComputePassEncoder, x: GPUBuffer, length: number): void {
    this.#dispatch(pass, "round_f16_in_place", [x, this.#unused, this.#unused], [length], length);
  }

  /**
   * Causal attention of `count` tokens at positions `pos …` (queries: rows of heads·keyHeadDim)
   * over the cache's `keys` and `values` of one layer, into `out` (rows of heads·valueHeadDim).
   * `scores`: scratch of count·heads·`context` values.
   */
  attend(
    pass: GPUComputePassEncoder,
    buffers: {
      readonly out: GPUBuffer;
      readonly queries: GPUBuffer;
      readonly keys: GPUBuffer;
      readonly values: GPUBuffer;
      readonly scores: GPUBuffer;
    },
    shape: AttentionShape,
    pos: number,
    count: number,
    context: number,
    roundProbabilities: boolean,
  ): void {
    const params = this.transients.uniform([
      shape.heads,
      shape.kvHeads,
      shape.keyHeadDim,
      shape.valueHeadDim,
      f32Bits(shape.scale),
      pos,
      context,
      roundProbabilities ? 1 : 0,
    ]);
    const { out, queries, keys, values, scores } = buffers;
    pass.setPipeline(this.attention);
    pass.setBindGroup(
      0,
      bindings(this.device, this.attention, [out, queries, keys, values, scores, params]),
    );
    pass.dispatchWorkgroups(shape.heads, count);
  }

  /** Frees the parameter blocks of the work recorded so far (once the GPU has run it). */
  release(): void {
    this.transients.release();
  }

  /**
   * One op over `units`: workgroups of WORKGROUP invocations, or one workgroup per unit
   * (`perGroup`: a row each). `params`: the first words of ops.wgsl's Params; `extra`: the
   * rest.
   */
  #dispatch(
    pass: GPUComputePassEncoder,
    entry: OpEntry,
    buffers: GPUBuffer[],
    params: number[],
    units: number,
    perGroup = false,
    extra: {
      period?: number;
      ranks?: number;
      accumulate?: number;
      sigmoid?: number;
      sourceStride?: number;
      sourceOffset?: number;
    } = {},
  ): void {
    const words = [
      ...params,
      ...new Array(8 - params.length).fill(0),
      extra.period ?? 1,
      extra.ranks ?? 0,
      extra.accumulate ?? 0,
      extra.sigmoid ?? 0,
      extra.sourceStride ?? 0,
      extra.sourceOffset ?? 0,
    ];
    const block = this.transients.uniform(words);
    const pipeline = this.pipelines[entry];
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindings(this.device, pipeline, [...buffers, block]));
    pass.dispatchWorkgroups(...groupsFor(perGroup ? units : Math.ceil(units / WORKGROUP)));
  }
}
