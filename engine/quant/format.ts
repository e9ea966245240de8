/**
 * The interface every quantized format implements: its type-table entry plus the plain,
 * obviously-right reference conversions between f32 values and the format's blocks.
 *
 * Fast kernels (CPU and WGSL) live beside each format and are tested against these.
 * @module
 */
import type { GGMLTypeInfo } from "./types.ts";

/** Reference conversions of one ggml type. */
export interface QuantFormat {
  /** The entry of the type table this format implements. */
  readonly type: GGMLTypeInfo;
  /**
   * Decodes `src` (a whole number of blocks) into `dst`, value for value as ggml's
   * `dequantize_row_*` does (same f32 rounding at each step).
   */
  dequantize(src: Uint8Array, dst: Float32Array): void;
  /**
   * Encodes `src` (a whole number of blocks) into `dst` (exactly the matching byte count),
   * bit-for-bit as ggml's reference quantizer does. Formats without a quantizer yet omit it.
   */
  quantize?(src: Float32Array, dst: Uint8Array): void;
}

/** A format that can also encode. */
export interface Quantizer extends QuantFormat {
  quantize(src: Float32Array, dst: Uint8Array): void;
}

/** Checks that `src` and `dst` hold the same number of whole blocks of `type`. */
export function checkBlockSpans(type: GGMLTypeInfo, values: number, bytes: number): number {
  if (values % type.blockSize !== 0) {
    throw new RangeError(`${type.name}: ${values} values is not a whole number of blocks`);
  }
  const blocks = values / type.blockSize;
  if (blocks * type.bytesPerBlock !== bytes) {
    throw new RangeError(
      `${type.name}: ${blocks} blocks need ${blocks * type.bytesPerBlock} bytes, got ${bytes}`,
    );
  }
  return blocks;
}

/**
 * C's `roundf` for f32 values of magnitude below 2^52: halves round away from zero (JavaScript's
 * `Math.round` rounds them up). Adding ±0.5 to an f32 value is exact in a double, so truncation
 * gives the rounded value.
 */
export function roundHalfAwayFromZero(x: number): number {
  return Math.trunc(x < 0 ? x - 0.5 : x + 0.5);
}

/**
 * Decodes the block at `bytes[at…]` (with `view` over the same bytes) into the block's values
 * at `out[to…]`.
 */
export type BlockDecoder = (
  bytes: Uint8Array,
  view: DataView,
  at: number,
  out: Float32Array,
  to: number,
) => void;

/** Encodes the block of values at `src[from…]` into the block at `at` of `view`. */
export type BlockEncoder = (src: Float32Array, from: number, view: DataView, at: number) => void;

/** A format's encoder from its per-block encoder: the loop over blocks, written once. */
export function blockEncoder(
  type: GGMLTypeInfo,
  encodeBlock: BlockEncoder,
): (src: Float32Array, dst: Uint8Array) => void {
  return (src, dst) => {
    const blocks = checkBlockSpans(type, src.length, dst.length);
    const view = new DataView(dst.buffer, dst.byteOffset, dst.length);
    for (let b = 0; b < blocks; b++) {
      encodeBlock(src, b * type.blockSize, view, b * type.bytesPerBlock);
    }
  };
}

/** A format's decoder from its per-block decoder: the loop over blocks is written once, here. */
export function blockFormat(type: GGMLTypeInfo, decodeBlock: BlockDecoder): QuantFormat {
  return {
    type,
    dequantize(src, dst) {
      const blocks = checkBlockSpans(type, dst.length, src.length);
      const view = new DataView(src.buffer, src.byteOffset, src.length);
      for (let b = 0; b < blocks; b++) {
        decodeBlock(src, view, b * type.bytesPerBlock, dst, b * type.blockSize);
      }
    },
  };
}
