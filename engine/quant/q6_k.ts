/**
 * Q6_K: super-blocks of 256 values in 16 sub-blocks of 16, each with an 8-bit signed scale,
 * each value a 6-bit quant (low 4 bits in `ql`, high 2 in `qh`); x = d·scale·(q − 32).
 * Per 128-value half, byte l of `ql` holds elements l (low nibble) and l+64 (high nibble),
 * byte l+32 elements l+32 and l+96; byte l of `qh` holds the high bits of all four.
 *
 * ```c
 * typedef struct {
 *   uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; ggml_half d;
 * } block_q6_K; // 210 bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockFormat, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q6_K");
const QL = fieldOffset(type, "ql");
const QH = fieldOffset(type, "qh");
const SCALES = fieldOffset(type, "scales");
const D = fieldOffset(type, "d");

const fround = Math.fround;

/** Q6_K reference dequantization, as ggml's `dequantize_row_q6_K`. */
export const Q6_K: QuantFormat = blockFormat(type, (bytes, view, at, out, to) => {
  const d = readF16(view, at + D);
  for (let half = 0; half < 2; half++) {
    const ql = at + QL + half * 64;
    const qh = at + QH + half * 32;
    const scales = at + SCALES + half * 8;
    const first = to + half * 128;
    for (let l = 0; l < 32; l++) {
      const high = bytes[qh + l]!;
      // the four quants sharing these bytes, and their sub-blocks' scales (d·scale in f32)
      const scale = (i: number) => fround(d * view.getInt8(scales + (l >> 4) + i));
      out[first + l] = scale(0) * (((bytes[ql + l]! & 0x0f) | ((high & 3) << 4)) - 32);
      out[first + l + 32] = scale(2) *
        (((bytes[ql + l + 32]! & 0x0f) | (((high >> 2) & 3) << 4)) - 32);
      out[first + l + 64] = scale(4) * (((bytes[ql + l]! >> 4) | (((high >> 4) & 3) << 4)) - 32);
      out[first + l + 96] = scale(6) *
        (((bytes[ql + l + 32]! >> 4) | (((high >> 6) & 3) << 4)) - 32);
    }
  }
});
