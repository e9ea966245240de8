/**
 * IQ4_NL: blocks of 32 values as an f16 scale `d` and 32 4-bit indices into a fixed non-linear
 * table of 16 levels (denser near zero, where weights are); x = d·IQ4_VALUES[q]. Nibbles are
 * packed as in Q4_0.
 *
 * ```c
 * typedef struct { ggml_half d; uint8_t qs[16]; } block_iq4_nl; // 18 bytes
 * ```
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { IQ4_VALUES, iq4BlockScale, writeIq4Levels } from "./_iq4.ts";
import { fieldOffset, ggmlType } from "./types.ts";

export { IQ4_VALUES } from "./_iq4.ts";

const type = ggmlType("IQ4_NL");
const D = fieldOffset(type, "d");
const QS = fieldOffset(type, "qs");

/**
 * IQ4_NL reference conversions: dequantization as ggml's `dequantize_row_iq4_nl`, quantization
 * bit-exact with `quantize_iq4_nl` without an importance matrix (what llama-quantize runs).
 */
export const IQ4_NL: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    for (let j = 0; j < 16; j++) {
      const packed = bytes[at + QS + j]!;
      out[to + j] = d * IQ4_VALUES[packed & 0x0f]!;
      out[to + 16 + j] = d * IQ4_VALUES[packed >> 4]!;
    }
  }),
  quantize: blockEncoder(type, (src, from, view, at) => {
    const d = iq4BlockScale(src, from);
    writeF16(view, at + D, d);
    writeIq4Levels(src, from, d, view, at + QS);
  }),
};
