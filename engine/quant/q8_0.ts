/**
 * Q8_0: blocks of 32 values as one f16 scale `d` and 32 signed bytes; x = d·q.
 *
 * ```c
 * typedef struct { ggml_half d; int8_t qs[32]; } block_q8_0; // 34 bytes
 * ```
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { checkBlockSpans, type Quantizer, roundHalfAwayFromZero } from "./format.ts";
import { ggmlType } from "./types.ts";

const type = ggmlType("Q8_0");
const BLOCK = type.blockSize;
const BYTES = type.bytesPerBlock;
const fround = Math.fround;

/** Q8_0 reference conversions, bit-exact with ggml's `quantize_row_q8_0_ref`. */
export const Q8_0: Quantizer = {
  type,
  quantize(src, dst) {
    const blocks = checkBlockSpans(type, src.length, dst.length);
    const view = new DataView(dst.buffer, dst.byteOffset, dst.length);
    const quants = new Int8Array(dst.buffer, dst.byteOffset, dst.length);
    for (let b = 0; b < blocks; b++) {
      const x = b * BLOCK;
      let amax = 0;
      for (let j = 0; j < BLOCK; j++) {
        const magnitude = Math.abs(src[x + j]!);
        if (magnitude > amax) amax = magnitude;
      }
      // f32 arithmetic as in ggml, so that the same inputs give the same bytes
      const d = fround(amax / 127);
      const inverse = d ? fround(1 / d) : 0;
      writeF16(view, b * BYTES, d);
      const qs = b * BYTES + 2;
      for (let j = 0; j < BLOCK; j++) {
        quants[qs + j] = roundHalfAwayFromZero(fround(src[x + j]! * inverse));
      }
    }
  },
  dequantize(src, dst) {
    const blocks = checkBlockSpans(type, dst.length, src.length);
    const view = new DataView(src.buffer, src.byteOffset, src.length);
    for (let b = 0; b < blocks; b++) {
      const d = readF16(view, b * BYTES);
      for (let j = 0; j < BLOCK; j++) {
        dst[b * BLOCK + j] = d * view.getInt8(b * BYTES + 2 + j);
      }
    }
  },
};
