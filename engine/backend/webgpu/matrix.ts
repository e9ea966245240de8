/**
 * A weight matrix in a GPU storage buffer, kept in its GGUF blocks, and its mat-vec: round the
 * activations as ggml's CPU dot products do, then one workgroup per row and token.
 *
 * @example
 * ```ts
 * import { openGpu } from "./device.ts";
 * import { GpuKernels } from "./kernels.ts";
 * import { GpuMatrix } from "./matrix.ts";
 * import { quantizer } from "../../quant/registry.ts";
 * const gpu = await openGpu();
 * if (!("unavailable" in gpu)) {
 *   const bytes = new Uint8Array(2 * 34);
 *   quantizer("Q8_0").quantize(new Float32Array(64).fill(0.25), bytes);
 *   const m = await GpuMatrix.upload(new GpuKernels(gpu.device), "Q8_0", 2, 32, bytes);
 *   console.log(await m.matMul(new Float32Array(32).fill(1), 1)); // [8, 8]
 * }
 * ```
 * @module
 */
import { ggmlType, rowByteSize } from "../../quant/types.ts";
import { align, bindings, readBack, STORAGE, uniform } from "./buffers.ts";
import { type GpuKernels, groupsFor, WORKGROUP } from "./kernels.ts";

/** A `rows` × `cols` matrix of `type` blocks on the GPU. */
export class GpuMatrix {
  readonly rowBytes: number;

  private constructor(
    readonly kernels: GpuKernels,
    readonly type: string,
    readonly rows: number,
    readonly cols: number,
    readonly weights: GPUBuffer,
    readonly matVecPipeline: GPUComputePipeline,
    readonly roundingPipeline: GPUComputePipeline,
  ) {
    this.rowBytes = rowByteSize(ggmlType(type), cols);
  }

  /** Uploads `bytes` (`rows` rows of `type` blocks) into a new storage buffer. */
  static async upload(
    kernels: GpuKernels,
    type: string,
    rows: number,
    cols: number,
    bytes: Uint8Array<ArrayBuffer>,
  ): Promise<GpuMatrix> {
    const expected = rows * rowByteSize(ggmlType(type), cols);
    if (bytes.length !== expected) {
      throw new RangeError(
        `a ${rows}×${cols} ${type} matrix is ${expected} bytes, got ${bytes.length}`,
      );
    }
    const device = kernels.device;
    // buffers are bound as u32 words: round up, the tail stays zero
    const weights = device.createBuffer({ size: align(bytes.length, 4), usage: STORAGE });
    device.queue.writeBuffer(weights, 0, bytes, 0, bytes.length & ~3);
    if (bytes.length & 3) {
      const tail = new Uint8Array(4);
      tail.set(bytes.subarray(bytes.length & ~3));
      device.queue.writeBuffer(weights, bytes.length & ~3, tail);
    }
    const [matVec, rounding] = await Promise.all([kernels.matVec(type), kernels.rounding(type)]);
    return new GpuMatrix(kernels, type, rows, cols, weights, matVec, rounding);
  }

  /**
   * `count` mat-vecs: `x` holds `count` rows of `cols` values; returns `count` rows of `rows`.
   * Reads the result back (a sync point): for tests and one-off use.
   */
  async matMul(x: Float32Array<ArrayBuffer>, count: number): Promise<Float32Array> {
    const device = this.kernels.device;
    const activations = new GpuActivations(device, x, count * this.cols);
    const output = device.createBuffer({ size: count * this.rows * 4, usage: STORAGE });
    const shape = uniform(device, [this.rows, this.cols, this.rowBytes, 0]);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    activations.round(pass, this.roundingPipeline);
    pass.setPipeline(this.matVecPipeline);
    pass.setBindGroup(
      0,
      bindings(device, this.matVecPipeline, [
        this.weights,
        activations.rounded,
        activations.sumErrors,
        output,
        shape,
      ]),
    );
    pass.dispatchWorkgroups(...groupsFor(this.rows), count);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const result = new Float32Array(await readBack(device, output));
    activations.destroy();
    output.destroy();
    shape.destroy();
    return result;
  }

  destroy(): void {
    this.weights.destroy();
  }
}

/**
 * Rounds `x` on the GPU as ggml's CPU dot products would for weights of `weightType`, and reads
 * the rounded values and (Q8_1) the block sums' errors back: what the mat-vecs see.
 */
export async function roundOnGpu(
  kernels: GpuKernels,
  weightType: string,
  x: Float32Array<ArrayBuffer>,
): Promise<{ rounded: Float32Array; sumErrors: Float32Array }> {
  const device = kernels.device;
  const activations = new GpuActivations(device, x, x.length);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  activations.round(pass, await kernels.rounding(weightType));
  pass.end();
  device.queue.submit([encoder.finish()]);
  const rounded = new Float32Array(await readBack(device, activations.rounded));
  const sumErrors = new Float32Array(await readBack(device, activations.sumErrors));
  activations.destroy();
  return { rounded, sumErrors: sumErrors.subarray(0, Math.floor(x.length / 32)) };
}

/** Activations on the GPU: as given, as rounded for a weight type, and the Q8_1 sums' errors. */
class GpuActivations {
  readonly input: GPUBuffer;
  readonly rounded: GPUBuffer;
  readonly sumErrors: GPUBuffer;
  readonly #length: GPUBuffer;

  constructor(readonly device: GPUDevice, x: Float32Array<ArrayBuffer>, readonly values: number) {
    this.input = device.createBuffer({ size: values * 4, usage: STORAGE });
    device.queue.writeBuffer(this.input, 0, x, 0, values);
    this.rounded = device.createBuffer({ size: values * 4, usage: STORAGE });
    this.sumErrors = device.createBuffer({ size: Math.ceil(values / 32) * 4, usage: STORAGE });
    this.#length = uniform(device, [values]);
  }

  /** Records the rounding (one invocation per block, at most `values` of them). */
  round(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline): void {
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      bindings(this.device, pipeline, [this.input, this.rounded, this.sumErrors, this.#length]),
    );
    pass.dispatchWorkgroups(...groupsFor(Math.ceil(this.values / WORKGROUP)));
  }

  destroy(): void {
    for (const buffer of [this.input, this.rounded, this.sumErrors, this.#length]) buffer.destroy();
  }
}
