/**
 * Q5_K: Q4_K with a fifth bit per value in `qh`: bit 2·pair of `qh[l]` for the low-nibble
 * sub-block of pair `pair`, bit 2·pair+1 for the high-nibble one; x = d·scale·q − dmin·min.
 *
 * ```c
 * typedef struct {
 *   ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128];
 * } block_q5_K; // 176 bytes
 * ```
 * @module
 */
import { scaleMinK4 } from "./_k_scales.ts";
import { readF16 } from "./float.ts";
import { checkBlockSpans, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q5_K");
const BLOCK = type.blockSize;
const BYTES = type.bytesPerBlock;
const D = fieldOffset(type, "d");
const DMIN = fieldOffset(type, "dmin");
const SCALES = fieldOffset(type, "scales");
const QH = fieldOffset(type, "qh");
const QS = fieldOffset(type, "qs");

/** Q5_K reference dequantization, as ggml's `dequantize_row_q5_K`. */
export const Q5_K: QuantFormat = {
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
        const lowBit = 1 << (2 * pair);
        const highBit = lowBit << 1;
        const qs = at + QS + pair * 32;
        for (let l = 0; l < 32; l++) {
          const q = (src[qs + l]! & 0x0f) + (src[at + QH + l]! & lowBit ? 16 : 0);
          dst[out++] = d1 * q - m1;
        }
        for (let l = 0; l < 32; l++) {
          const q = (src[qs + l]! >> 4) + (src[at + QH + l]! & highBit ? 16 : 0);
          dst[out++] = d2 * q - m2;
        }
      }
    }
  },
};
