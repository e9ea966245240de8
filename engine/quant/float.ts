/**
 * The plain float formats F32 and F16 (IEEE half, round-to-nearest-even as ggml's F16C path).
 * @module
 */
import { checkBlockSpans, type QuantFormat, type Quantizer } from "./format.ts";
import { ggmlType } from "./types.ts";

type FloatArrayClass = Float32ArrayConstructor | Float16ArrayConstructor;

/** A float format: values stored little-endian as elements of `arrayClass`. */
function floatFormat(name: "F32" | "F16", arrayClass: FloatArrayClass): Quantizer {
  const type = ggmlType(name);
  return {
    type,
    quantize(src, dst) {
      checkBlockSpans(type, src.length, dst.length);
      const out = aligned(dst, arrayClass.BYTES_PER_ELEMENT);
      new arrayClass(out.buffer, out.byteOffset, src.length).set(src);
      if (out !== dst) dst.set(out);
    },
    dequantize(src, dst) {
      checkBlockSpans(type, dst.length, src.length);
      const bytes = aligned(src, arrayClass.BYTES_PER_ELEMENT);
      dst.set(new arrayClass(bytes.buffer, bytes.byteOffset, dst.length));
    },
  };
}

/** F32: values stored as little-endian IEEE singles. */
export const F32: Quantizer = floatFormat("F32", Float32Array);

/** F16: values stored as little-endian IEEE halves (rounded to nearest even). */
export const F16: Quantizer = floatFormat("F16", Float16Array);

/** `bytes` itself, or a copy when its offset does not suit a typed view of `alignment`. */
function aligned(bytes: Uint8Array, alignment: number): Uint8Array<ArrayBuffer> {
  const usable = bytes.byteOffset % alignment === 0 && bytes.buffer instanceof ArrayBuffer;
  return (usable ? bytes : bytes.slice()) as Uint8Array<ArrayBuffer>;
}

/** Reads the IEEE half at `bytes[offset]` (little-endian) as a number. */
export function readF16(view: DataView, offset: number): number {
  return view.getFloat16(offset, true);
}

/** Writes `value` rounded to an IEEE half at `bytes[offset]` (little-endian). */
export function writeF16(view: DataView, offset: number, value: number): void {
  view.setFloat16(offset, value, true);
}

/** BF16: the top 16 bits of an f32 (bfloat16). Read-only here: models store it, moebench reads it. */
export const BF16: QuantFormat = {
  type: ggmlType("BF16"),
  dequantize(src, dst) {
    checkBlockSpans(this.type, dst.length, src.length);
    const bits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
    for (let i = 0; i < dst.length; i++) bits[i] = (src[2 * i]! | (src[2 * i + 1]! << 8)) << 16;
  },
};
