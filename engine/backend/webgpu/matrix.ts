/**
 * Weight matrices on the GPU, kept in their GGUF blocks, and their mat-muls: round the
 * activations as ggml's CPU dot products do, then one workgroup per row and token.
 *
 * @example
 * ```ts
 * import { openGpu } from "./device.ts";
 * import { GpuKernels } from "./kernels.ts";
 * import { GpuMatrix, multiplyOnce } from "./matrix.ts";
 * import { quantizer } from "../../quant/registry.ts";
 * const gpu = await openGpu();
 * if (!("unavailable" in gpu)) {
 *   const bytes = new Uint8Array(2 * 34);
 *   quantizer("Q8_0").quantize(new Float32Array(64).fill(0.25), bytes);
 *   const m = await GpuMatrix.upload(gpu.device, "Q8_0", 2, 32, bytes.length, (into, at) => {
 *     into.set(bytes.subarray(at, at + into.length));
 *     return Promise.resolve();
 *   });
 *   const kernels = new GpuKernels(gpu.device);
 *   console.log(await multiplyOnce(kernels, m, new Float32Array(32).fill(1), 1)); // [8, 8]
 * }
 * ```
 * @module
 */
import type { TensorReader } from "../../model/matrix.ts";
import { vecDotType } from "../../quant/activations.ts";
import { ggmlType, rowByteSize } from "../../quant/types.ts";
import { align, bindings, readBack, STORAGE, Transients } from "./buffers.ts";
import { type GpuKernels, groupsFor, MAX_GROUPS, WORKGROUP } from "./kernels.ts";

/** Bytes read from the file per upload step: a large tensor never sits whole in host memory. */
const UPLOAD_CHUNK = 64 << 20;

/** A `rows` × `cols` matrix of `type` blocks from byte `firstByte` of a GPU buffer. */
export class GpuMatrix {
  readonly rowBytes: number;

  constructor(
    readonly type: string,
    readonly rows: number,
    readonly cols: number,
    readonly buffer: GPUBuffer,
    readonly firstByte = 0,
  ) {
    this.rowBytes = rowByteSize(ggmlType(type), cols);
  }

  get byteLength(): number {
    return this.rows * this.rowBytes;
  }

  /** The `index`-th of `count` equal slices along the rows (an expert of a stacked tensor). */
  slice(index: number, count: number): GpuMatrix {
    const rows = this.rows / count;
    const first = this.firstByte + index * rows * this.rowBytes;
    return new GpuMatrix(this.type, rows, this.cols, this.buffer, first);
  }

  /**
   * A new storage buffer holding a tensor's `byteLength` bytes, which `read(into, at)` supplies
   * in chunks.
   * @throws {RangeError} when the tensor is larger than the device's largest buffer.
   */
  static async upload(
    device: GPUDevice,
    type: string,
    rows: number,
    cols: number,
    byteLength: number,
    read: TensorReader,
  ): Promise<GpuMatrix> {
    const expected = rows * rowByteSize(ggmlType(type), cols);
    if (byteLength !== expected) {
      throw new RangeError(
        `a ${rows}×${cols} ${type} matrix is ${expected} bytes, not ${byteLength}`,
      );
    }
    // bound as u32 words: round up, the tail stays zero
    const size = align(byteLength, 4);
    if (size > device.limits.maxBufferSize) {
      throw new RangeError(
        `a ${rows}×${cols} ${type} tensor of ${byteLength} bytes is larger than this GPU's ` +
          `largest buffer (${device.limits.maxBufferSize} bytes)`,
      );
    }
    const buffer = device.createBuffer({ size, usage: STORAGE });
    const chunk = new Uint8Array(Math.min(UPLOAD_CHUNK, size));
    for (let at = 0; at < byteLength; at += chunk.length) {
      const length = Math.min(chunk.length, byteLength - at);
      const part = chunk.subarray(0, align(length, 4));
      part.fill(0, length);
      await read(part.subarray(0, length), at);
      device.queue.writeBuffer(buffer, at, part);
    }
    return new GpuMatrix(type, rows, cols, buffer, 0);
  }
}

/** Tokens one mat-mat workgroup takes (TOKENS in matmat.wgsl). */
const MATMAT_TOKENS = 8;

/** A weight type's pipelines: rounding activations, and the product for one token or many. */
interface ProductPipelines {
  readonly rounding: GPUComputePipeline;
  readonly matVec: GPUComputePipeline;
  /** Null where the mat-mat is not used (`batched` false in `GpuMatMul.create`). */
  readonly matMat: GPUComputePipeline | null;
}

/**
 * Records mat-muls into compute passes: each rounds its input into shared scratch (room for
 * `maxValues` activations), then runs the weight type's mat-vec over the matrix, in windows of
 * rows where the matrix is larger than one binding may be.
 */
export class GpuMatMul {
  readonly #rounded: GPUBuffer;
  readonly #blocks: GPUBuffer;

  private constructor(
    readonly kernels: GpuKernels,
    readonly transients: Transients,
    readonly maxValues: number,
    readonly maxBindingBytes: number,
    readonly pipelines: ReadonlyMap<string, ProductPipelines>,
  ) {
    const device = kernels.device;
    this.#rounded = device.createBuffer({ size: align(maxValues * 4, 16), usage: STORAGE });
    this.#blocks = device.createBuffer({
      size: align(Math.ceil(maxValues / 32) * 8, 16),
      usage: STORAGE,
    });
  }

  /**
   * Compiles the pipelines of `types`. `maxBindingBytes` (default: the device's limit) is how
   * much of a matrix one dispatch may bind. `batched`: batches of tokens through the mat-mat
   * (matmat.wgsl), not one mat-vec per token. A real GPU gains from reading each weight once per
   * 8 tokens, and so does Mesa's llvmpipe now that the mat-mat reads weights from their binding
   * (scoring 48 tokens of tiny-mixtral Q4_0: 1.47 s batched, 2.52 s not; with the former copy
   * into workgroup memory it lost, 34.7 s against 3.2 s, and fallback adapters were not batched).
   */
  static async create(
    kernels: GpuKernels,
    types: Iterable<string>,
    maxValues: number,
    transients: Transients,
    maxBindingBytes = kernels.device.limits.maxStorageBufferBindingSize,
    batched = true,
  ): Promise<GpuMatMul> {
    const pipelines = new Map<string, ProductPipelines>();
    for (const type of new Set(types)) {
      const [matVec, matMat, rounding] = await Promise.all([
        kernels.matVec(type),
        batched ? kernels.matMat(type) : null,
        kernels.rounding(type),
      ]);
      pipelines.set(type, { matVec, matMat, rounding });
    }
    return new GpuMatMul(kernels, transients, maxValues, maxBindingBytes, pipelines);
  }

  /**
   * out[t·outStride + outFirst + r] = row r of `m` · row t of `x`, for `count` rows of `x`
   * (`m.cols` values each). With `heads`: `m` is the first of a stack of `heads.count` matrices,
   * row t·heads + h of `x` goes through matrix h and lands `heads.outStride` further per head.
   */
  record(
    pass: GPUComputePassEncoder,
    m: GpuMatrix,
    x: GPUBuffer,
    out: GPUBuffer,
    count: number,
    outFirst = 0,
    outStride = m.rows,
    heads = { count: 1, outStride: 0 },
  ): void {
    const device = this.kernels.device;
    const pipelines = this.pipelines.get(m.type);
    if (!pipelines) throw new RangeError(`no mat-vec pipeline prepared for ${m.type}`);
    const values = count * heads.count * m.cols;
    if (values > this.maxValues) {
      throw new RangeError(`${values} activations exceed the scratch of ${this.maxValues}`);
    }

    recordRounding(
      pass,
      pipelines.rounding,
      this.transients,
      x,
      this.#rounded,
      this.#blocks,
      values,
    );

    // whole buffer bound where it fits, else windows of rows at aligned offsets; batches of
    // tokens through the mat-mat, which reads each weight once per MATMAT_TOKENS tokens
    const matMat = count > 1 && heads.count === 1 ? pipelines.matMat : null;
    pass.setPipeline(matMat ?? pipelines.matVec);
    const alignment = device.limits.minStorageBufferOffsetAlignment;
    const whole = m.buffer.size <= this.maxBindingBytes;
    if (heads.count > 1 && (!whole || m.rows > MAX_GROUPS)) {
      throw new RangeError(`a stack of ${heads.count} ${m.type} matrices is too large to bind`);
    }
    const windowRows = whole ? m.rows : Math.floor((this.maxBindingBytes - alignment) / m.rowBytes);
    if (windowRows < 1) throw new RangeError(`a ${m.type} row is larger than one binding`);
    for (let first = 0; first < m.rows; first += windowRows) {
      const rows = Math.min(windowRows, m.rows - first);
      const start = m.firstByte + first * m.rowBytes;
      const offset = whole ? 0 : start - (start % alignment);
      const size = whole ? m.buffer.size : align(start - offset + rows * m.rowBytes, 4);
      const shape = this.transients.uniform([
        rows,
        m.cols,
        m.rowBytes,
        start - offset,
        outStride,
        outFirst + first,
        heads.count,
        heads.outStride,
        count,
      ]);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          layout: pipelines.matVec.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: m.buffer, offset, size } },
            { binding: 1, resource: { buffer: this.#rounded } },
            { binding: 2, resource: { buffer: this.#blocks } },
            { binding: 3, resource: { buffer: out } },
            { binding: 4, resource: { buffer: shape } },
            { binding: 5, resource: { buffer: this.kernels.iqTables } },
          ],
        }),
      );
      const [x, y] = heads.count > 1 ? [rows, heads.count] : groupsFor(rows);
      pass.dispatchWorkgroups(x, y, matMat ? Math.ceil(count / MATMAT_TOKENS) : count);
    }
  }

  destroy(): void {
    this.#rounded.destroy();
    this.#blocks.destroy();
  }
}

/**
 * `count` mat-vecs of `m` with `x` (rows of `m.cols` values), read back: for tests and one-off
 * use (a sync point).
 */
export async function multiplyOnce(
  kernels: GpuKernels,
  m: GpuMatrix,
  x: Float32Array<ArrayBuffer>,
  count: number,
  maxBindingBytes?: number,
  batched = true,
): Promise<Float32Array> {
  const device = kernels.device;
  const transients = new Transients(device);
  const matMul = await GpuMatMul.create(
    kernels,
    [m.type],
    x.length,
    transients,
    maxBindingBytes,
    batched,
  );
  const input = transients.floats(x);
  const output = device.createBuffer({ size: align(count * m.rows * 4, 16), usage: STORAGE });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  matMul.record(pass, m, input, output, count);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const result = new Float32Array(await readBack(device, output), 0, count * m.rows);
  transients.release();
  matMul.destroy();
  output.destroy();
  return result;
}

/**
 * Rounds `x` on the GPU as ggml's CPU dot products would for weights of `weightType`, and reads
 * back what the mat-vecs see, in the reference's terms (`roundActivations`): the values the
 * rounded blocks stand for (d·q for the Q8 types, in f32) and, for Q8_1, what each block's stored
 * sum adds beyond them.
 */
export async function roundOnGpu(
  kernels: GpuKernels,
  weightType: string,
  x: Float32Array<ArrayBuffer>,
): Promise<{ rounded: Float32Array; sumErrors: Float32Array }> {
  const device = kernels.device;
  const transients = new Transients(device);
  const input = transients.floats(x);
  const rounded = device.createBuffer({ size: x.byteLength, usage: STORAGE });
  const blocks = device.createBuffer({ size: align(x.length / 4, 16), usage: STORAGE });
  const pipeline = await kernels.rounding(weightType);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  recordRounding(pass, pipeline, transients, input, rounded, blocks, x.length);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const values = new Float32Array(await readBack(device, rounded));
  const scaleAndSum = new Float32Array(await readBack(device, blocks));
  transients.release();
  rounded.destroy();
  blocks.destroy();
  const sumErrors = new Float32Array(x.length / 32);
  if (!vecDotType(weightType).startsWith("Q8")) return { rounded: values, sumErrors };
  for (let block = 0; block < sumErrors.length; block++) {
    const [d, storedSum] = [scaleAndSum[2 * block]!, scaleAndSum[2 * block + 1]!];
    let quantSum = 0;
    for (let j = block * 32; j < (block + 1) * 32; j++) {
      quantSum += values[j]!;
      values[j] = Math.fround(d * values[j]!);
    }
    sumErrors[block] = Math.fround(storedSum - Math.fround(d * quantSum));
  }
  return { rounded: values, sumErrors };
}

/** Rounds `values` of `x` into `rounded` and the blocks' scales and sums (activations.wgsl). */
function recordRounding(
  pass: GPUComputePassEncoder,
  pipeline: GPUComputePipeline,
  transients: Transients,
  x: GPUBuffer,
  rounded: GPUBuffer,
  blocks: GPUBuffer,
  values: number,
): void {
  const length = transients.uniform([values]);
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindings(transients.device, pipeline, [x, rounded, blocks, length]));
  pass.dispatchWorkgroups(...groupsFor(Math.ceil(values / WORKGROUP)));
}
