/**
 * Weight matrices: the `Matrix` interface the forward pass multiplies with, the backends that
 * place and run them, and the reference implementation, which keeps a matrix in its quantized
 * bytes and decodes one row at a time into a small scratch buffer, so a model costs its file
 * size in memory, not its f32 size.
 *
 * @example
 * ```ts
 * import { ReferenceMatrix } from "./matrix.ts";
 * import { quantizer } from "../quant/registry.ts";
 * const values = Float32Array.from({ length: 64 }, (_, i) => i / 64);
 * const bytes = new Uint8Array(68);
 * quantizer("Q8_0").quantize(values, bytes);
 * const m = new ReferenceMatrix(quantizer("Q8_0"), 2, 32, bytes); // 2 rows of 32
 * const out = new Float32Array(2);
 * m.matVec(new Float32Array(32).fill(1), out);
 * ```
 * @module
 */
import { roundActivations, type VecDotType } from "../quant/activations.ts";
import type { QuantFormat } from "../quant/format.ts";
import { readF16 } from "../quant/float.ts";
import { fieldOffset, rowByteSize } from "../quant/types.ts";
import { type AttentionShape, type KvCache, ReferenceKvCache } from "./kv_cache.ts";
import { referenceVectorOps, type VectorOps } from "./vector_ops.ts";

/** A `rows` × `cols` weight matrix in `format` blocks. */
export interface Matrix {
  readonly format: QuantFormat;
  readonly rows: number;
  readonly cols: number;
  /** `out = W·x`: `x` has `cols` values, `out` gets `rows`. */
  matVec(x: Float32Array, out: Float32Array): void;
  /**
   * `count` mat-vecs at once: `x` holds `count` rows of `cols` values, `out` gets `count` rows
   * of `rows` values. Each row's result equals its own `matVec`, bit for bit.
   */
  matMul(x: Float32Array, count: number, out: Float32Array): void;
  decodeRow(index: number, out: Float32Array): void;
  /**
   * The `index`-th of `count` equal slices along the rows: expert `index` of a stacked
   * `ffn_*_exps` tensor. Shares the bytes.
   */
  slice(index: number, count: number): Matrix;
}

/** Fills `into` with a tensor's bytes from byte `at` of the tensor. */
export type TensorReader = (into: Uint8Array, at: number) => Promise<unknown>;

/**
 * A matrix of `byteLength` bytes, which `read(into, at)` fills in: bytes `[at, at +
 * into.length)` of the tensor. `activationType`: how the mat-vec rounds its input (null: exact
 * f32), where the backend offers the choice. `M`: how the backend holds a matrix.
 */
export type MatrixFactory<M> = (
  format: QuantFormat,
  rows: number,
  cols: number,
  byteLength: number,
  read: TensorReader,
  activationType: VecDotType | null,
) => Promise<M>;

/** Where a model's matrices and KV cache live, and how their mat-muls and attention run. */
export interface MatrixBackend {
  readonly matrix: MatrixFactory<Matrix>;
  /**
   * A KV cache for `layers` layers of `maxContext` positions, attending as `shape` says;
   * `roundProbabilities`: as llama.cpp's F16 cache, softmax probabilities rounded to f16.
   */
  kvCache(
    shape: AttentionShape,
    layers: number,
    maxContext: number,
    roundProbabilities: boolean,
  ): KvCache;
  /**
   * Zeroed buffers of `length` values where this backend's kernels (mat-muls, `ops`) read and
   * write in place: a model's activations and its norm weights.
   */
  floats(length: number): Float32Array;
  doubles(length: number): Float64Array;
  /**
   * RMS norm and RoPE: in the backend's kernels on buffers from `floats` and `doubles`, in the
   * TypeScript reference on others.
   */
  readonly ops: VectorOps;
}

/** Plain TypeScript matrices in JS memory: the reference the fast backends are tested against. */
export const referenceBackend: MatrixBackend = {
  async matrix(format, rows, cols, byteLength, read, activationType) {
    const bytes = new Uint8Array(byteLength);
    await read(bytes, 0);
    return new ReferenceMatrix(format, rows, cols, bytes, activationType);
  },
  kvCache(shape, layers, maxContext, roundProbabilities) {
    return new ReferenceKvCache(shape, layers, maxContext, roundProbabilities);
  },
  floats: (length) => new Float32Array(length),
  doubles: (length) => new Float64Array(length),
  ops: referenceVectorOps,
};

/**
 * A row-major matrix of `rows` × `cols` values stored in `format` blocks, multiplied in plain
 * TypeScript. With an `activationType`, a mat-vec first rounds its input as ggml's dot products
 * do (see `quant/activations.ts`); without one it uses the exact f32 input.
 */
export class ReferenceMatrix implements Matrix {
  /** Bytes of one row. */
  readonly rowBytes: number;
  readonly #scratch: Float32Array;
  readonly #rounded: Float32Array | null;
  /** For Q8_1 activations: the error of each block's stored sum, and where `m` sits in a block. */
  readonly #sumErrors: Float32Array | null;
  readonly #minOffset: number;
  readonly #view: DataView;

  constructor(
    readonly format: QuantFormat,
    readonly rows: number,
    readonly cols: number,
    readonly bytes: Uint8Array,
    readonly activationType: VecDotType | null = null,
  ) {
    this.rowBytes = rowByteSize(format.type, cols);
    if (bytes.length !== rows * this.rowBytes) {
      throw new RangeError(
        `A ${rows}×${cols} ${format.type.name} matrix needs ${rows * this.rowBytes} bytes, ` +
          `got ${bytes.length}`,
      );
    }
    this.#scratch = new Float32Array(cols);
    this.#rounded = activationType ? new Float32Array(cols) : null;
    this.#sumErrors = activationType === "Q8_1" ? new Float32Array(cols / 32) : null;
    this.#minOffset = this.#sumErrors ? fieldOffset(format.type, "m") : 0;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  decodeRow(index: number, out: Float32Array): void {
    const start = index * this.rowBytes;
    this.format.dequantize(this.bytes.subarray(start, start + this.rowBytes), out);
  }

  matVec(x: Float32Array, out: Float32Array): void {
    const row = this.#scratch;
    const sumErrors = this.#sumErrors;
    if (this.#rounded) {
      roundActivations(this.activationType!, x, this.#rounded, sumErrors ?? undefined);
      x = this.#rounded;
    }
    const blockBytes = this.format.type.bytesPerBlock;
    for (let r = 0; r < this.rows; r++) {
      this.decodeRow(r, row);
      let sum = 0;
      for (let c = 0; c < this.cols; c++) sum += row[c]! * x[c]!;
      if (sumErrors) {
        // ggml multiplies each weight block's minimum by the activation block's f16 sum
        for (let b = 0; b < sumErrors.length; b++) {
          const at = r * this.rowBytes + b * blockBytes + this.#minOffset;
          sum += readF16(this.#view, at) * sumErrors[b]!;
        }
      }
      out[r] = sum;
    }
  }

  matMul(x: Float32Array, count: number, out: Float32Array): void {
    for (let t = 0; t < count; t++) {
      const input = x.subarray(t * this.cols, (t + 1) * this.cols);
      this.matVec(input, out.subarray(t * this.rows, (t + 1) * this.rows));
    }
  }

  slice(index: number, count: number): ReferenceMatrix {
    const rows = this.rows / count;
    const start = index * rows * this.rowBytes;
    const bytes = this.bytes.subarray(start, start + rows * this.rowBytes);
    return new ReferenceMatrix(this.format, rows, this.cols, bytes, this.activationType);
  }
}
