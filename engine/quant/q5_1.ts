/**
 * Q5_1: blocks of 32 values as an f16 scale `d`, an f16 minimum `m` and 32 5-bit quants;
 * x = d·q + m, the fifth bits in `qh` as in Q5_0.
 *
 * ```c
 * typedef struct { ggml_half d; ggml_half m; uint8_t qh[4]; uint8_t qs[16]; } block_q5_1; // 24
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockFormat, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q5_1");
const D = fieldOffset(type, "d");
const M = fieldOffset(type, "m");
const QH = fieldOffset(type, "qh");
const QS = fieldOffset(type, "qs");

/** Q5_1 reference dequantization, as ggml's `dequantize_row_q5_1`. */
export const Q5_1: QuantFormat = blockFormat(type, (bytes, view, at, out, to) => {
  const d = readF16(view, at + D);
  const m = readF16(view, at + M);
  const high = view.getUint32(at + QH, true);
  for (let j = 0; j < 16; j++) {
    const packed = bytes[at + QS + j]!;
    out[to + j] = ((packed & 0x0f) | (((high >>> j) << 4) & 0x10)) * d + m;
    out[to + 16 + j] = ((packed >> 4) | ((high >>> (j + 12)) & 0x10)) * d + m;
  }
});
