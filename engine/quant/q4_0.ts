/**
 * Q4_0: blocks of 32 values as one f16 scale `d` and 32 4-bit quants; x = d·(q − 8).
 * Element j sits in the low nibble of `qs[j]`, element j+16 in its high nibble.
 *
 * ```c
 * typedef struct { ggml_half d; uint8_t qs[16]; } block_q4_0; // 18 bytes
 * ```
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { blockFormat, checkBlockSpans, type Quantizer } from "./format.ts";
import { ggmlType } from "./types.ts";
import { largestMagnitude } from "./_legacy.ts";

const type = ggmlType("Q4_0");
const BLOCK = type.blockSize;
const HALF = BLOCK / 2;
const BYTES = type.bytesPerBlock;
const fround = Math.fround;

/** Q4_0 reference conversions, bit-exact with ggml's `quantize_row_q4_0_ref`. */
export const Q4_0: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at);
    for (let j = 0; j < HALF; j++) {
      const packed = bytes[at + 2 + j]!;
      out[to + j] = d * ((packed & 0x0f) - 8);
      out[to + HALF + j] = d * ((packed >> 4) - 8);
    }
  }),
  quantize(src, dst) {
    const blocks = checkBlockSpans(type, src.length, dst.length);
    const view = new DataView(dst.buffer, dst.byteOffset, dst.length);
    for (let b = 0; b < blocks; b++) {
      const x = b * BLOCK;
      // the signed value of largest magnitude maps to -8, so the full 16 levels are used
      const d = fround(largestMagnitude(src, x, BLOCK) / -8);
      const inverse = d ? fround(1 / d) : 0;
      writeF16(view, b * BYTES, d);
      for (let j = 0; j < HALF; j++) {
        const low = Math.min(15, Math.trunc(fround(fround(src[x + j]! * inverse) + 8.5)));
        const high = Math.min(15, Math.trunc(fround(fround(src[x + HALF + j]! * inverse) + 8.5)));
        view.setUint8(b * BYTES + 2 + j, low | (high << 4));
      }
    }
  },
};
