/**
 * IQ2_XXS (2.06 bits per weight): super-blocks of 256 values in 8 groups of 32, each group 4
 * points of IQ2XXS_GRID (8 values each, one byte per index), 4 × 7 sign bits (the eighth from
 * parity: KSIGNS) and a 4-bit scale s; x = d·(0.5 + s)/4·point[j]·sign[j].
 *
 * ```c
 * typedef struct { ggml_half d; uint16_t qs[QK_K/8]; } block_iq2_xxs; // 66 bytes
 * // per group: 4 index bytes, then a u32 of 4 × 7 sign bits and the scale in the top 4 bits
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { encodeIq2Xxs } from "./_iq2_quantize.ts";
import { IQ2XXS_GRID, KSIGNS } from "./_iq_grids.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("IQ2_XXS");
const D = fieldOffset(type, "d");
const QS = fieldOffset(type, "qs");
const GRID = IQ2XXS_GRID.values;

const fround = Math.fround;

/**
 * IQ2_XXS reference conversions: dequantization as ggml's `dequantize_row_iq2_xxs`, quantization
 * bit-exact with `quantize_iq2_xxs` given an importance matrix of ones (see `_iq2_quantize.ts`).
 */
export const IQ2_XXS: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    for (let group = 0; group < 8; group++) {
      const indexes = at + QS + 8 * group;
      const signsAndScale = view.getUint32(indexes + 4, true);
      const db = fround(fround(d * (0.5 + (signsAndScale >>> 28))) * 0.25);
      for (let l = 0; l < 4; l++) {
        const point = bytes[indexes + l]! * 8;
        const signs = KSIGNS[(signsAndScale >>> (7 * l)) & 127]!;
        for (let j = 0; j < 8; j++) {
          const value = fround(db * GRID[point + j]!);
          out[to + group * 32 + l * 8 + j] = signs & (1 << j) ? -value : value;
        }
      }
    }
  }),
  quantize: blockEncoder(type, encodeIq2Xxs),
};
