/**
 * The CPU backend: a model's matrices and KV cache placed in one shared WebAssembly memory, and
 * the WASM SIMD kernels (mat-muls, attention) run over a thread pool. Activations are converted once per mat-vec to the
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
import type { QuantFormat } from "../../quant/format.ts";
import { rowByteSize } from "../../quant/types.ts";
import type { Matrix, MatrixBackend, TensorReader } from "../../model/matrix.ts";
import { type AttentionShape, type KvCache, ReferenceKvCache } from "../../model/kv_cache.ts";
import { referenceVectorOps, type VectorOps } from "../../model/vector_ops.ts";
import {
  bestKernelVariant,
  KERNEL_NAMES,
  type KernelVariant,
  TYPE_KERNELS,
  type TypeKernels,
} from "./kernels.ts";
import { copyValues, HeapScratch, type WasmHeap } from "./heap.ts";
import { CpuKvCache } from "./kv_cache.ts";
import { startThreads, type ThreadPool, WORKER_STACK_BYTES } from "./pool.ts";
import type { SlotMemory } from "../../offload/loader.ts";
import type { SlotBackend } from "../../offload/offloaded.ts";

/** Options of the CPU backend. */
export interface CpuBackendOptions {
  /** Threads sharing each mat-vec (default: the machine's logical cores). */
  readonly threads?: number;
  /** Which kernel build runs (default: the best this runtime validates). */
  readonly variant?: KernelVariant;
}

/**
 * Threads the cpu backend computes on by default: every core, but one left to the expert loader
 * when experts are offloaded. Sharing a core, the loader's time slices hold up every mat-vec at
 * the compute threads' barrier (measured: 45 → 75 tok/s on 2 cores).
 */
export function defaultThreads(cores: number, offloading: boolean): number {
  return offloading ? Math.max(1, cores - 1) : cores;
}

/** Matrices in WebAssembly memory, multiplied by the SIMD kernels on `threads` threads. */
export class CpuBackend implements MatrixBackend, SlotBackend {
  readonly #heap: WasmHeap;
  readonly #pool: ThreadPool;
  /** A mat-mul's f32 input, its conversion to the activation blocks, and its f32 output. */
  readonly #input: HeapScratch;
  readonly #activations: HeapScratch;
  readonly #output: HeapScratch;
  /** Rows being interleaved at load, or taken back out of their group. */
  readonly #rows: HeapScratch;
  readonly #bounce = new Uint8Array(4 << 20);
  /** The shared memory's buffers that `floats` and `doubles` made views of. */
  readonly #ownBuffers = new WeakSet<ArrayBufferLike>();
  readonly ops: VectorOps;

  private constructor(heap: WasmHeap, pool: ThreadPool) {
    this.#heap = heap;
    this.#pool = pool;
    const rmsNorm = this.#export("rms_norm");
    const rope = this.#export("rope");
    this.ops = {
      rmsNorm: (out, x, weight, epsilon, at, length) => {
        const to = this.#address(out);
        const from = this.#address(x);
        const by = this.#address(weight);
        if (to < 0 || from < 0 || by < 0) {
          return referenceVectorOps.rmsNorm(out, x, weight, epsilon, at, length);
        }
        rmsNorm(to + 4 * at, from + 4 * at, by, epsilon, length);
      },
      rope: (x, at, cos, sin, from, half, style) => {
        const values = this.#address(x);
        const cosines = this.#address(cos);
        const sines = this.#address(sin);
        if (values < 0 || cosines < 0 || sines < 0) {
          return referenceVectorOps.rope(x, at, cos, sin, from, half, style);
        }
        rope(values + 4 * at, cosines + 8 * from, sines + 8 * from, half, style === "neox" ? 1 : 0);
      },
    };
    this.#input = new HeapScratch(heap);
    this.#activations = new HeapScratch(heap);
    this.#output = new HeapScratch(heap);
    this.#rows = new HeapScratch(heap);
  }

  /** Starts the worker threads. Close the backend (or `await using` it) to stop them. */
  static async create(options: CpuBackendOptions = {}): Promise<CpuBackend> {
    const threads = Math.max(1, options.threads ?? navigator.hardwareConcurrency);
    const { heap, pool } = await startThreads(threads, options.variant ?? bestKernelVariant());
    return new CpuBackend(heap, pool);
  }

  /** Threads each mat-vec runs on. */
  get threads(): number {
    return this.#pool.threads;
  }

  /** The kernel build in use. */
  get variant(): KernelVariant {
    return this.#pool.variant;
  }

  async matrix(
    format: QuantFormat,
    rows: number,
    cols: number,
    byteLength: number,
    read: TensorReader,
  ): Promise<Matrix> {
    const kernels = TYPE_KERNELS[format.type.name];
    if (kernels === undefined) throw new RangeError(`no CPU kernel for ${format.type.name}`);
    const address = this.#heap.alloc(byteLength);
    // file reads into shared memory go through a temporary copy of the whole target; a small
    // bounce buffer keeps the peak at the model's size
    const target = this.#heap.bytes(address, byteLength);
    for (let at = 0; at < byteLength; at += this.#bounce.length) {
      const chunk = this.#bounce.subarray(0, Math.min(this.#bounce.length, byteLength - at));
      await read(chunk, at);
      target.set(chunk, at);
    }
    if (kernels.interleave) {
      const rowBytes = rowByteSize(format.type, cols);
      this.#rows.reserve(4 * rowBytes);
      this.#export(kernels.interleave.rows)(address, rows, cols, this.#rows.address);
    }
    return new CpuMatrix(this, format, rows, cols, address);
  }

  /**
   * Expert cache slots in the shared memory, and a stack and scratch for the loader thread's
   * own kernel instance (it interleaves what it loads).
   */
  expertSlots(count: number, slotBytes: number, scratchBytes: number): SlotMemory {
    const stackTop = this.#heap.alloc(WORKER_STACK_BYTES, 16) + WORKER_STACK_BYTES;
    const scratch = this.#heap.alloc(scratchBytes);
    const slotStride = Math.ceil(slotBytes / 64) * 64;
    return {
      memory: this.#heap.memory,
      variant: this.variant,
      stackTop,
      scratch,
      slotBase: this.#heap.alloc(count * slotStride),
      slotStride,
      interleaveOf: (type) => TYPE_KERNELS[type]?.interleave?.rows ?? null,
    };
  }

  /** A matrix over bytes already in the shared memory (an expert slot), prepared as loaded. */
  matrixAt(format: QuantFormat, rows: number, cols: number, address: number): Matrix {
    if (TYPE_KERNELS[format.type.name] === undefined) {
      throw new RangeError(`no CPU kernel for ${format.type.name}`);
    }
    return new CpuMatrix(this, format, rows, cols, address);
  }

  floats(length: number): Float32Array {
    const view = this.#heap.f32(this.#heap.alloc(4 * length), length);
    this.#ownBuffers.add(view.buffer);
    return view;
  }

  doubles(length: number): Float64Array {
    const at = this.#heap.alloc(8 * length); // first: it may grow the memory
    const view = new Float64Array(this.#heap.memory.buffer, at, length);
    this.#ownBuffers.add(view.buffer);
    return view;
  }

  /** Where `view` starts in the shared memory, if `floats` or `doubles` made it (else −1). */
  #address(view: Float32Array | Float64Array): number {
    return this.#ownBuffers.has(view.buffer) ? view.byteOffset : -1;
  }

  /**
   * `count` rows of `out = W·x` for `matrix` (see `Matrix.matMul`): in place where `x` and `out`
   * are the backend's own buffers, through copies where not.
   */
  matMul(matrix: CpuMatrix, x: Float32Array, count: number, out: Float32Array): void {
    const values = count * matrix.cols;
    let input = this.#address(x);
    if (input < 0) {
      this.#input.reserve(4 * values);
      copyValues(x, 0, this.#input.view, 0, values);
      input = this.#input.address;
    }
    let inputStride = 4 * matrix.cols;
    if (matrix.convert !== null) {
      // the activation blocks of consecutive rows follow each other: one conversion for all
      this.#activations.reserve(count * matrix.activationRowBytes);
      matrix.convert(input, this.#activations.address, values);
      input = this.#activations.address;
      inputStride = matrix.activationRowBytes;
    }
    const results = count * matrix.rows;
    let output = this.#address(out);
    const inPlace = output >= 0;
    if (!inPlace) {
      this.#output.reserve(4 * results);
      output = this.#output.address;
    }
    this.#pool.matMul(
      matrix.kernel,
      matrix.address,
      matrix.rowBytes,
      matrix.rows,
      matrix.cols,
      input,
      inputStride,
      count,
      output,
      matrix.rows,
    );
    if (!inPlace) copyValues(this.#output.view, 0, out, 0, results);
  }

  kvCache(
    shape: AttentionShape,
    layers: number,
    maxContext: number,
    roundProbabilities: boolean,
  ): KvCache {
    // the attention kernel works in whole vectors of four
    if (shape.keyHeadDim % 4 !== 0 || shape.valueHeadDim % 4 !== 0) {
      return new ReferenceKvCache(shape, layers, maxContext, roundProbabilities);
    }
    return new CpuKvCache(this.#heap, this.#pool, shape, layers, maxContext, roundProbabilities);
  }

  /** Decodes row `index` of `matrix` with the format's reference decoder. */
  decodeRow(matrix: CpuMatrix, index: number, out: Float32Array): void {
    const interleave = matrix.interleave;
    const groupedRows = matrix.rows - matrix.rows % 4;
    let start = matrix.address + index * matrix.rowBytes;
    if (interleave && index < groupedRows) {
      this.#rows.reserve(matrix.rowBytes);
      const group = matrix.address + (index - index % 4) * matrix.rowBytes;
      this.#export(interleave.row)(group, index % 4, matrix.cols, this.#rows.address);
      start = this.#rows.address;
    }
    matrix.format.dequantize(this.#heap.bytes(start, matrix.rowBytes), out);
  }

  /**
   * The activation converter `format`'s kernel needs (null: f32 activations as they are) and the
   * bytes a row of `cols` activations becomes.
   */
  converter(format: QuantFormat, cols: number): {
    convert: ((x: number, y: number, n: number) => void) | null;
    rowBytes: number;
  } {
    const layout = TYPE_KERNELS[format.type.name]!.activations;
    if (layout === null) return { convert: null, rowBytes: 4 * cols };
    const rowBytes = (cols / layout.blockValues) * layout.blockBytes;
    return { convert: this.#export(layout.convert), rowBytes };
  }

  /** A kernel export, called on this thread. */
  #export(name: string): (...args: number[]) => void {
    return this.#pool.kernels.exports[name]!;
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
  /** Converts f32 activations to this format's activation blocks (null: none needed). */
  readonly convert: ((x: number, y: number, n: number) => void) | null;
  /** Bytes of one converted activation row. */
  readonly activationRowBytes: number;
  /** How its rows are interleaved in fours (null: plain rows). */
  readonly interleave: TypeKernels["interleave"];

  constructor(
    readonly backend: CpuBackend,
    readonly format: QuantFormat,
    readonly rows: number,
    readonly cols: number,
    readonly address: number,
  ) {
    this.rowBytes = rowByteSize(format.type, cols);
    const kernels = TYPE_KERNELS[format.type.name]!;
    this.kernel = KERNEL_NAMES.indexOf(kernels.matMul);
    this.interleave = kernels.interleave;
    const { convert, rowBytes } = backend.converter(format, cols);
    this.convert = convert;
    this.activationRowBytes = rowBytes;
  }

  matVec(x: Float32Array, out: Float32Array): void {
    this.backend.matMul(this, x, 1, out);
  }

  matMul(x: Float32Array, count: number, out: Float32Array): void {
    this.backend.matMul(this, x, count, out);
  }

  decodeRow(index: number, out: Float32Array): void {
    this.backend.decodeRow(this, index, out);
  }

  slice(index: number, count: number): CpuMatrix {
    const rows = this.rows / count;
    if (this.interleave && rows % 4 !== 0) {
      // the groups of four rows would straddle the slices
      throw new RangeError(
        `cannot cut ${this.rows} ${this.format.type.name} rows into ${count} slices of ${rows} ` +
          `on the CPU: its rows are interleaved in fours`,
      );
    }
    const address = this.address + index * rows * this.rowBytes;
    return new CpuMatrix(this.backend, this.format, rows, this.cols, address);
  }
}
