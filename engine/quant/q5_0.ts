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
import { blockFormat, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q5_0");
const D = fieldOffset(type, "d");
const QH = fieldOffset(type, "qh");
const QS = fieldOffset(type, "qs");

/** Q5_0 reference dequantization, as ggml's `dequantize_row_q5_0`. */
export const Q5_0: QuantFormat = blockFormat(type, (bytes, view, at, out, to) => {
  const d = readF16(view, at + D);
  const high = view.getUint32(at + QH, true);
  for (let j = 0; j < 16; j++) {
    const packed = bytes[at + QS + j]!;
    out[to + j] = (((packed & 0x0f) | (((high >>> j) << 4) & 0x10)) - 16) * d;
    out[to + 16 + j] = (((packed >> 4) | ((high >>> (j + 12)) & 0x10)) - 16) * d;
  }
});
