/**
 * Q3_K: super-blocks of 256 values in 16 sub-blocks of 16, each with a 6-bit signed scale
 * (packed in 12 bytes), each value a 3-bit quant: two low bits in `qs` (packed as Q2_K) and the
 * third in `hmask`, where a cleared bit means "subtract 4"; x = d·(scale − 32)·q.
 *
 * ```c
 * typedef struct {
 *   uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; ggml_half d;
 * } block_q3_K; // 110 bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockFormat, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q3_K");
const HMASK = fieldOffset(type, "hmask");
const QS = fieldOffset(type, "qs");
const SCALES = fieldOffset(type, "scales");
const D = fieldOffset(type, "d");

/** The 16 six-bit scales of a Q3_K block (before subtracting 32). */
function unpackScales(src: Uint8Array, at: number, out: Int32Array): void {
  // bytes 0–7 hold the low 4 bits of scales 0–15 (two per byte), bytes 8–11 the high 2 bits
  for (let j = 0; j < 16; j++) {
    const low = (src[at + (j & 7)]! >> (4 * (j >> 3))) & 0x0f;
    const high = (src[at + 8 + (j & 3)]! >> (2 * (j >> 2))) & 3;
    out[j] = low | (high << 4);
  }
}

/** Q3_K reference dequantization, as ggml's `dequantize_row_q3_K`. */
export const Q3_K: QuantFormat = blockFormat(type, (bytes, view, at, out, to) => {
  const d = readF16(view, at + D);
  const scales = new Int32Array(16);
  unpackScales(bytes, at + SCALES, scales);
  let sub = 0;
  let mask = 1;
  for (let half = 0; half < 2; half++) {
    const qs = at + QS + half * 32;
    for (let shift = 0; shift < 8; shift += 2) {
      for (const offset of [0, 16]) {
        const dl = d * (scales[sub++]! - 32);
        for (let l = 0; l < 16; l++) {
          const low = (bytes[qs + offset + l]! >> shift) & 3;
          out[to++] = dl * (low - ((bytes[at + HMASK + offset + l]! & mask) ? 0 : 4));
        }
      }
      mask <<= 1;
    }
  }
});
