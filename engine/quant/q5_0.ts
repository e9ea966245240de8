/**
 * Q5_0: blocks of 32 values as an f16 scale `d` and 32 5-bit quants; x = d·(q − 16). The low
 * four bits are packed as in Q4_0; bit j of the 32-bit `qh` is the fifth bit of element j.
 *
 * ```c
 * typedef struct { ggml_half d; uint8_t qh[4]; uint8_t qs[16]; } block_q5_0; // 22 bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { checkBlockSpans, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q5_0");
const BLOCK = type.blockSize;
const HALF = BLOCK / 2;
const BYTES = type.bytesPerBlock;
const D = fieldOffset(type, "d");
const QH = fieldOffset(type, "qh");
const QS = fieldOffset(type, "qs");

/** Q5_0 reference dequantization, as ggml's `dequantize_row_q5_0`. */
export const Q5_0: QuantFormat = {
  type,
  dequantize(src, dst) {
    const blocks = checkBlockSpans(type, dst.length, src.length);
    const view = new DataView(src.buffer, src.byteOffset, src.length);
    for (let b = 0; b < blocks; b++) {
      const at = b * BYTES;
      const d = readF16(view, at + D);
      const high = view.getUint32(at + QH, true);
      for (let j = 0; j < HALF; j++) {
        const packed = src[at + QS + j]!;
        const q0 = ((packed & 0x0f) | (((high >>> j) << 4) & 0x10)) - 16;
        const q1 = ((packed >> 4) | ((high >>> (j + 12)) & 0x10)) - 16;
        dst[b * BLOCK + j] = q0 * d;
        dst[b * BLOCK + HALF + j] = q1 * d;
      }
    }
  },
};
