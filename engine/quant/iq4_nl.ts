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
import { readF16 } from "./float.ts";
import { blockFormat, type QuantFormat } from "./format.ts";
import { fieldOffset, ggmlType } from "./types.ts";

/** ggml's `kvalues_iq4nl`: the 16 levels of IQ4_NL and IQ4_XS. */
export const IQ4_VALUES: readonly number[] = [
  -127,
  -104,
  -83,
  -65,
  -49,
  -35,
  -22,
  -10,
  1,
  13,
  25,
  38,
  53,
  69,
  89,
  113,
];

const type = ggmlType("IQ4_NL");
const D = fieldOffset(type, "d");
const QS = fieldOffset(type, "qs");

/** IQ4_NL reference dequantization, as ggml's `dequantize_row_iq4_nl`. */
export const IQ4_NL: QuantFormat = blockFormat(type, (bytes, view, at, out, to) => {
  const d = readF16(view, at + D);
  for (let j = 0; j < 16; j++) {
    const packed = bytes[at + QS + j]!;
    out[to + j] = d * IQ4_VALUES[packed & 0x0f]!;
    out[to + 16 + j] = d * IQ4_VALUES[packed >> 4]!;
  }
});
