/**
 * Q5_0: blocks of 32 values as an f16 scale `d` and 32 5-bit quants; x = d·(q − 16). The low
 * four bits are packed as in Q4_0; bit j of the 32-bit `qh` is the fifth bit of element j.
 *
 * ```c
 * typedef struct { ggml_half d; uint8_t qh[4]; uint8_t qs[16]; } block_q5_0; // 22 bytes
 * ```
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { largestMagnitude, writeFiveBits } from "./_legacy.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q5_0");
const D = fieldOffset(type, "d");
const QH = fieldOffset(type, "qh");
const QS = fieldOffset(type, "qs");
const fround = Math.fround;

/** Scratch for one block's encoding (reused: encoding is synchronous). */
const quants = new Uint8Array(32);

/** Q5_0 reference conversions, bit-exact with ggml's `quantize_row_q5_0_ref`. */
export const Q5_0: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    const high = view.getUint32(at + QH, true);
    for (let j = 0; j < 16; j++) {
      const packed = bytes[at + QS + j]!;
      out[to + j] = (((packed & 0x0f) | (((high >>> j) << 4) & 0x10)) - 16) * d;
      out[to + 16 + j] = (((packed >> 4) | ((high >>> (j + 12)) & 0x10)) - 16) * d;
    }
  }),
  quantize: blockEncoder(type, (src, x, view, at) => {
    // as Q4_0: the value of largest magnitude maps to -16
    const d = fround(largestMagnitude(src, x, 32) / -16);
    const inverse = d ? fround(1 / d) : 0;
    writeF16(view, at + D, d);
    for (let j = 0; j < 32; j++) {
      quants[j] = Math.min(31, Math.trunc(fround(fround(src[x + j]! * inverse) + 16.5)));
    }
    writeFiveBits(view, at + QS, at + QH, quants);
  }),
};
