/**
 * Q5_1: blocks of 32 values as an f16 scale `d`, an f16 minimum `m` and 32 5-bit quants;
 * x = d·q + m, the fifth bits in `qh` as in Q5_0.
 *
 * ```c
 * typedef struct { ggml_half d; ggml_half m; uint8_t qh[4]; uint8_t qs[16]; } block_q5_1; // 24
 * ```
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { valueRange, writeFiveBits } from "./_legacy.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q5_1");
const D = fieldOffset(type, "d");
const M = fieldOffset(type, "m");
const QH = fieldOffset(type, "qh");
const QS = fieldOffset(type, "qs");
const fround = Math.fround;

/** Scratch for one block's encoding (reused: encoding is synchronous). */
const quants = new Uint8Array(32);

/** Q5_1 reference conversions, bit-exact with ggml's `quantize_row_q5_1_ref`. */
export const Q5_1: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    const m = readF16(view, at + M);
    const high = view.getUint32(at + QH, true);
    for (let j = 0; j < 16; j++) {
      const packed = bytes[at + QS + j]!;
      out[to + j] = ((packed & 0x0f) | (((high >>> j) << 4) & 0x10)) * d + m;
      out[to + 16 + j] = ((packed >> 4) | ((high >>> (j + 12)) & 0x10)) * d + m;
    }
  }),
  quantize: blockEncoder(type, (src, x, view, at) => {
    // as Q4_1: the range maps onto the 32 levels
    const { min, max } = valueRange(src, x, 32);
    const d = fround(fround(max - min) / 31);
    const inverse = d ? fround(1 / d) : 0;
    writeF16(view, at + D, d);
    writeF16(view, at + M, min);
    for (let j = 0; j < 32; j++) {
      // ggml casts to uint8_t without clamping: the largest value lands on 31 (or 31.5 → 31)
      quants[j] = Math.trunc(fround(fround(fround(src[x + j]! - min) * inverse) + 0.5)) & 0xff;
    }
    writeFiveBits(view, at + QS, at + QH, quants);
  }),
};
