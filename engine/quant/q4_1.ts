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
import { blockFormat, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q4_1");
const D = fieldOffset(type, "d");
const M = fieldOffset(type, "m");
const QS = fieldOffset(type, "qs");

/** Q4_1 reference dequantization, as ggml's `dequantize_row_q4_1`. */
export const Q4_1: QuantFormat = blockFormat(type, (bytes, view, at, out, to) => {
  const d = readF16(view, at + D);
  const m = readF16(view, at + M);
  for (let j = 0; j < 16; j++) {
    const packed = bytes[at + QS + j]!;
    out[to + j] = (packed & 0x0f) * d + m;
    out[to + 16 + j] = (packed >> 4) * d + m;
  }
});
