/**
 * Q2_K: super-blocks of 256 values in 16 sub-blocks of 16. Each sub-block has a 4-bit scale and
 * a 4-bit minimum (one byte of `scales`), each value a 2-bit quant;
 * x = d·scale·q − dmin·min. Quants are packed four to a byte: byte l of each 32-byte group holds
 * elements l, l+32, l+64, l+96 of its 128-value half in bits 0–1, 2–3, 4–5, 6–7.
 *
 * ```c
 * typedef struct {
 *   uint8_t scales[16]; uint8_t qs[64]; ggml_half d; ggml_half dmin;
 * } block_q2_K; // 84 bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockFormat, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q2_K");
const SCALES = fieldOffset(type, "scales");
const QS = fieldOffset(type, "qs");
const D = fieldOffset(type, "d");
const DMIN = fieldOffset(type, "dmin");

/** Q2_K reference dequantization, as ggml's `dequantize_row_q2_K`. */
export const Q2_K: QuantFormat = blockFormat(type, (bytes, view, at, out, to) => {
  const d = readF16(view, at + D);
  const dmin = readF16(view, at + DMIN);
  let sub = 0;
  for (let half = 0; half < 2; half++) {
    const qs = at + QS + half * 32;
    for (let shift = 0; shift < 8; shift += 2) {
      for (const offset of [0, 16]) {
        const packed = bytes[at + SCALES + sub++]!;
        const dl = d * (packed & 0x0f);
        const ml = dmin * (packed >> 4);
        for (let l = 0; l < 16; l++) out[to++] = dl * ((bytes[qs + offset + l]! >> shift) & 3) - ml;
      }
    }
  }
});
