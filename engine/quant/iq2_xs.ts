/**
 * IQ2_XS (2.31 bits per weight): super-blocks of 256 values in 32 points of IQ2XS_GRID, each a
 * u16 of a 9-bit point index and 7 sign bits (the eighth from parity: KSIGNS), and a 4-bit
 * scale s per 16 values; x = d·(0.5 + s)/4·point[j]·sign[j].
 *
 * ```c
 * typedef struct {
 *   ggml_half d; uint16_t qs[QK_K/8]; uint8_t scales[QK_K/32];
 * } block_iq2_xs; // 74 bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { encodeIq2Xs } from "./_iq2_quantize.ts";
import { IQ2XS_GRID, KSIGNS } from "./_iq_grids.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("IQ2_XS");
const D = fieldOffset(type, "d");
const QS = fieldOffset(type, "qs");
const SCALES = fieldOffset(type, "scales");
const GRID = IQ2XS_GRID.values;

const fround = Math.fround;

/**
 * IQ2_XS reference conversions: dequantization as ggml's `dequantize_row_iq2_xs`, quantization
 * bit-exact with `quantize_iq2_xs` given an importance matrix of ones (see `_iq2_quantize.ts`).
 */
export const IQ2_XS: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    for (let half = 0; half < 16; half++) {
      const scale = (bytes[at + SCALES + (half >> 1)]! >> (4 * (half & 1))) & 0x0f;
      const db = fround(fround(d * (0.5 + scale)) * 0.25);
      for (let l = 0; l < 2; l++) {
        const q = view.getUint16(at + QS + 2 * (2 * half + l), true);
        const point = (q & 511) * 8;
        const signs = KSIGNS[q >> 9]!;
        for (let j = 0; j < 8; j++) {
          const value = fround(db * GRID[point + j]!);
          out[to + half * 16 + l * 8 + j] = signs & (1 << j) ? -value : value;
        }
      }
    }
  }),
  quantize: blockEncoder(type, encodeIq2Xs),
};
