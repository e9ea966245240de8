/**
 * Q8_0: blocks of 32 values as one f16 scale `d` and 32 signed bytes; x = d·q.
 *
 * ```c
 * typedef struct { ggml_half d; int8_t qs[32]; } block_q8_0; // 34 bytes
 * ```
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { blockFormat, checkBlockSpans, type Quantizer, roundHalfAwayFromZero } from "./format.ts";
import { ggmlType } from "./types.ts";

const type = ggmlType("Q8_0");
const BLOCK = type.blockSize;
const BYTES = type.bytesPerBlock;
const fround = Math.fround;

/** Q8_0 reference conversions, bit-exact with ggml's `quantize_row_q8_0_ref`. */
export const Q8_0: Quantizer = {
  ...blockFormat(type, (_bytes, view, at, out, to) => {
    const d = readF16(view, at);
    for (let j = 0; j < BLOCK; j++) out[to + j] = d * view.getInt8(at + 2 + j);
  }),
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
};
