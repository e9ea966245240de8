/**
 * Q4_1: blocks of 32 values as an f16 scale `d`, an f16 minimum `m` and 32 4-bit quants;
 * x = d·q + m. Element j is in the low nibble of `qs[j]`, element j+16 in its high nibble.
 *
 * ```c
 * typedef struct { ggml_half d; ggml_half m; uint8_t qs[16]; } block_q4_1; // 20 bytes
 * ```
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { valueRange, writeNibbles } from "./_legacy.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q4_1");
const D = fieldOffset(type, "d");
const M = fieldOffset(type, "m");
const QS = fieldOffset(type, "qs");
const fround = Math.fround;

/** Scratch for one block's encoding (reused: encoding is synchronous). */
const quants = new Uint8Array(32);

/** Q4_1 reference conversions, bit-exact with ggml's `quantize_row_q4_1_ref`. */
export const Q4_1: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    const m = readF16(view, at + M);
    for (let j = 0; j < 16; j++) {
      const packed = bytes[at + QS + j]!;
      out[to + j] = (packed & 0x0f) * d + m;
      out[to + 16 + j] = (packed >> 4) * d + m;
    }
  }),
  quantize: blockEncoder(type, (src, x, view, at) => {
    // the range maps onto the 16 levels: min to 0, max to 15
    const { min, max } = valueRange(src, x, 32);
    const d = fround(fround(max - min) / 15);
    const inverse = d ? fround(1 / d) : 0;
    writeF16(view, at + D, d);
    writeF16(view, at + M, min);
    for (let j = 0; j < 32; j++) {
      quants[j] = Math.min(
        15,
        Math.trunc(fround(fround(fround(src[x + j]! - min) * inverse) + 0.5)),
      );
    }
    writeNibbles(view, at + QS, quants);
  }),
};
