/**
 * The plain float formats F32 and F16 (IEEE half, round-to-nearest-even as ggml's F16C path).
 * @module
 */
import { checkBlockSpans, type QuantFormat } from "./format.ts";
import { ggmlType } from "./types.ts";

/** F32: values stored as little-endian IEEE singles. */
export const F32: QuantFormat = {
  type: ggmlType("F32"),
  quantize(src, dst) {
    checkBlockSpans(this.type, src.length, dst.length);
    new Float32Array(dst.buffer, dst.byteOffset, src.length).set(src);
  },
  dequantize(src, dst) {
    checkBlockSpans(this.type, dst.length, src.length);
    dst.set(viewOrCopy(src, Float32Array, dst.length));
  },
};

/** F16: values stored as little-endian IEEE halves. */
export const F16: QuantFormat = {
  type: ggmlType("F16"),
  quantize(src, dst) {
    checkBlockSpans(this.type, src.length, dst.length);
    new Float16Array(dst.buffer, dst.byteOffset, src.length).set(src);
  },
  dequantize(src, dst) {
    checkBlockSpans(this.type, dst.length, src.length);
    dst.set(viewOrCopy(src, Float16Array, dst.length));
  },
};

/** `bytes`, copied when its offset is not a multiple of `alignment` (typed views need that). */
function aligned(bytes: Uint8Array, alignment: number): Uint8Array<ArrayBuffer> {
  const usable = bytes.byteOffset % alignment === 0 && bytes.buffer instanceof ArrayBuffer;
  return (usable ? bytes : bytes.slice()) as Uint8Array<ArrayBuffer>;
}

function viewOrCopy(
  bytes: Uint8Array,
  arrayClass: Float32ArrayConstructor | Float16ArrayConstructor,
  length: number,
): Float32Array | Float16Array {
  const source = aligned(bytes, arrayClass.BYTES_PER_ELEMENT);
  return new arrayClass(source.buffer, source.byteOffset, length);
}

/** Reads the IEEE half at `bytes[offset]` (little-endian) as a number. */
export function readF16(view: DataView, offset: number): number {
  return view.getFloat16(offset, true);
}

/** Writes `value` rounded to an IEEE half at `bytes[offset]` (little-endian). */
export function writeF16(view: DataView, offset: number, value: number): void {
  view.setFloat16(offset, value, true);
}
