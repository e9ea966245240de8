/**
 * Q4_1: blocks of 32 values as an f16 scale `d`, an f16 minimum `m` and 32 4-bit quants;
 * x = d·q + m. Element j is in the low nibble of `qs[j]`, element j+16 in its high nibble.
 *
 * ```c
 * typedef struct { ggml_half d; ggml_half m; uint8_t qs[16]; } block_q4_1; // 20 bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { checkBlockSpans, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q4_1");
const BLOCK = type.blockSize;
const HALF = BLOCK / 2;
const BYTES = type.bytesPerBlock;
const D = fieldOffset(type, "d");
const M = fieldOffset(type, "m");
const QS = fieldOffset(type, "qs");
const fround = Math.fround;

/** Q4_1 reference dequantization, as ggml's `dequantize_row_q4_1`. */
export const Q4_1: QuantFormat = {
  type,
  dequantize(src, dst) {
    const blocks = checkBlockSpans(type, dst.length, src.length);
    const view = new DataView(src.buffer, src.byteOffset, src.length);
    for (let b = 0; b < blocks; b++) {
      const at = b * BYTES;
      const d = readF16(view, at + D);
      const m = readF16(view, at + M);
      for (let j = 0; j < HALF; j++) {
        const packed = src[at + QS + j]!;
        dst[b * BLOCK + j] = fround((packed & 0x0f) * d) + m;
        dst[b * BLOCK + HALF + j] = fround((packed >> 4) * d) + m;
      }
    }
  },
};
