/**
 * Q4_K: super-blocks of 256 values in 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit
 * minimum (packed in 12 bytes, see `_k_scales.ts`), each value a 4-bit quant;
 * x = d·scale·q − dmin·min. Each 32-byte group of `qs` holds two sub-blocks: the first in the
 * low nibbles, the second in the high nibbles.
 *
 * ```c
 * typedef struct {
 *   ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qs[128];
 * } block_q4_K; // 144 bytes
 * ```
 * @module
 */
import { scaleMinK4 } from "./_k_scales.ts";
import { readF16 } from "./float.ts";
import { checkBlockSpans, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q4_K");
const BLOCK = type.blockSize;
const BYTES = type.bytesPerBlock;
const D = fieldOffset(type, "d");
const DMIN = fieldOffset(type, "dmin");
const SCALES = fieldOffset(type, "scales");
const QS = fieldOffset(type, "qs");

/** Q4_K reference dequantization, as ggml's `dequantize_row_q4_K`. */
export const Q4_K: QuantFormat = {
  type,
  dequantize(src, dst) {
    const blocks = checkBlockSpans(type, dst.length, src.length);
    const view = new DataView(src.buffer, src.byteOffset, src.length);
    for (let b = 0; b < blocks; b++) {
      const at = b * BYTES;
      const d = readF16(view, at + D);
      const dmin = readF16(view, at + DMIN);
      let out = b * BLOCK;
      for (let pair = 0; pair < 4; pair++) {
        const [scaleLow, minLow] = scaleMinK4(src, at + SCALES, 2 * pair);
        const [scaleHigh, minHigh] = scaleMinK4(src, at + SCALES, 2 * pair + 1);
        const d1 = d * scaleLow, m1 = dmin * minLow;
        const d2 = d * scaleHigh, m2 = dmin * minHigh;
        const qs = at + QS + pair * 32;
        for (let l = 0; l < 32; l++) dst[out++] = d1 * (src[qs + l]! & 0x0f) - m1;
        for (let l = 0; l < 32; l++) dst[out++] = d2 * (src[qs + l]! >> 4) - m2;
      }
    }
  },
};
