/**
 * The CPU backend: a model's matrices placed in one shared WebAssembly memory and multiplied by
 * the WASM SIMD kernels over a thread pool. Activations are converted once per mat-vec to the
 * weight type's activation blocks, as ggml does, so results follow llama.cpp's numerics.
 *
 * @example
 * ```ts
 * import { CpuBackend } from "./backend.ts";
 * import { quantizer } from "../../quant/registry.ts";
 * await using cpu = await CpuBackend.create({ threads: 2 });
 * const values = Float32Array.from({ length: 64 }, (_, i) => i / 64);
 * const bytes = new Uint8Array(68);
 * quantizer("Q8_0").quantize(values, bytes);
 * const m = await cpu.matrix(quantizer("Q8_0"), 2, 32, 68, (into, at) => {
 *   into.set(bytes.subarray(at, at + into.length));
 *   return Promise.resolve();
 * });
 * const out = new Float32Array(2);
 * m.matVec(new Float32Array(32).fill(1), out);
 * ```
 * @module
 */
import { vecDotType } from "../../quant/activations.ts";
import type { QuantFormat } from "../../quant/format.ts";
import { rowByteSize } from "../../quant/types.ts";
import type { Matrix, MatrixBackend, TensorReader } from "../../model/matrix.ts";
import { CONVERT_KERNELS, KERNEL_NAMES, MATVEC_KERNELS } from "./kernels.ts";
import type { WasmHeap } from "./heap.ts";
import { startThreads, type ThreadPool } from "./pool.ts";

/** Options of the CPU backend. */
export interface CpuBackendOptions {
  /** Threads sharing each mat-vec (default: the machine's logical cores). */
  readonly threads?: number;
}

/** Scratch space every mat-vec shares: its f32 input, converted activations and output. */
interface Scratch {
  capacity: number;
  input: number;
  activations: number;
  output: number;
  inputView: Float32Array;
  outputView: Float32Array;
}

/** Matrices in WebAssembly memory, multiplied by the SIMD kernels on `threads` threads. */
export class CpuBackend implements MatrixBackend {
  readonly #heap: WasmHeap;
  readonly #pool: ThreadPool;
  readonly #scratch: Scratch;
  readonly #bounce = new Uint8Array(4 << 20);

  private constructor(heap: WasmHeap, pool: ThreadPool) {
    this.#heap = heap;
    this.#pool = pool;
    this.#scratch = {
      capacity: 0,
      input: 0,
      activations: 0,
      output: 0,
      inputView: new Float32Array(0),
      outputView: new Float32Array(0),
    };
  }

  /** Starts the worker threads. Close the backend (or `await using` it) to stop them. */
  static async create(options: CpuBackendOptions = {}): Promise<CpuBackend> {
    const threads = Math.max(1, options.threads ?? navigator.hardwareConcurrency);
    const { heap, pool } = await startThreads(threads);
    return new CpuBackend(heap, pool);
  }

  /** Threads each mat-vec runs on. */
  get threads(): number {
    return this.#pool.threads;
  }

  async matrix(
    format: QuantFormat,
    rows: number,
    cols: number,
    byteLength: number,
    read: TensorReader,
  ): Promise<Matrix> {
    const kernel = MATVEC_KERNELS[format.type.name];
    if (kernel === undefined) throw new RangeError(`no CPU kernel for ${format.type.name}`);
    this.#reserveScratch(Math.max(rows, cols));
    const address = this.#heap.alloc(byteLength);
    // file reads into shared memory go through a temporary copy of the whole target; a small
    // bounce buffer keeps the peak at the model's size
    const target = this.#heap.bytes(address, byteLength);
    for (let at = 0; at < byteLength; at += this.#bounce.length) {
      const chunk = this.#bounce.subarray(0, Math.min(this.#bounce.length, byteLength - at));
      await read(chunk, at);
      target.set(chunk, at);
    }
    return new CpuMatrix(this, format, rows, cols, address);
  }

  /** `out = W·x` for the matrix at `address`. */
  matVec(matrix: CpuMatrix, x: Float32Array, out: Float32Array): void {
    const scratch = this.#scratch;
    scratch.inputView.set(x);
    let input = scratch.input;
    if (matrix.convert !== null) {
      matrix.convert(scratch.input, scratch.activations, x.length);
      input = scratch.activations;
    }
    this.#pool.matVec(
      matrix.kernel,
      matrix.address,
      matrix.rowBytes,
      matrix.rows,
      matrix.cols,
      input,
      scratch.output,
    );
    const result = scratch.outputView;
    for (let r = 0; r < matrix.rows; r++) out[r] = result[r]!;
  }

  /** Decodes row `index` of the matrix at `address` with the format's reference decoder. */
  decodeRow(matrix: CpuMatrix, index: number, out: Float32Array): void {
    const start = matrix.address + index * matrix.rowBytes;
    matrix.format.dequantize(this.#heap.bytes(start, matrix.rowBytes), out);
  }

  /** Makes the scratch buffers hold vectors of `length` values. */
  #reserveScratch(length: number): void {
    const scratch = this.#scratch;
    if (length <= scratch.capacity) return;
    // an f32 input, its widest conversion (F16: 2 bytes per value; Q8_K: 292 per 256) and the output
    scratch.input = this.#heap.alloc(4 * length);
    scratch.activations = this.#heap.alloc(4 * length);
    scratch.output = this.#heap.alloc(4 * length);
    scratch.capacity = length;
    scratch.inputView = this.#heap.f32(scratch.input, length);
    scratch.outputView = this.#heap.f32(scratch.output, length);
  }

  /** The activation converter `format`'s kernel needs (null: f32 activations as they are). */
  converter(format: QuantFormat): ((x: number, y: number, n: number) => void) | null {
    const type = vecDotType(format.type.name);
    return type === "F32" ? null : this.#pool.kernels.exports[CONVERT_KERNELS[type]]!;
  }

  close(): void {
    this.#pool.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** A matrix in the CPU backend's memory. */
class CpuMatrix implements Matrix {
  readonly rowBytes: number;
  readonly kernel: number;
  /** Converts an f32 activation row to this format's activation blocks (null: none needed). */
  readonly convert: ((x: number, y: number, n: number) => void) | null;

  constructor(
    readonly backend: CpuBackend,
    readonly format: QuantFormat,
    readonly rows: number,
    readonly cols: number,
    readonly address: number,
  ) {
    this.rowBytes = rowByteSize(format.type, cols);
    this.kernel = KERNEL_NAMES.indexOf(MATVEC_KERNELS[format.type.name]!);
    this.convert = backend.converter(format);
  }

  matVec(x: Float32Array, out: Float32Array): void {
    this.backend.matVec(this, x, out);
  }

  decodeRow(index: number, out: Float32Array): void {
    this.backend.decodeRow(this, index, out);
  }

  slice(index: number, count: number): CpuMatrix {
    const rows = this.rows / count;
    const address = this.address + index * rows * this.rowBytes;
    return new CpuMatrix(this.backend, this.format, rows, this.cols, address);
  }
}
