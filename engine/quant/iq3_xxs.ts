/**
 * IQ3_XXS (3.06 bits per weight): super-blocks of 256 values in 8 groups of 32, each group 8
 * points of IQ3XXS_GRID (4 values each, one byte per index), 4 × 7 sign bits (the eighth of each
 * 8 values from parity: KSIGNS) and a 4-bit scale s; x = d·(0.5 + s)/2·point[j]·sign[j].
 *
 * ```c
 * typedef struct { ggml_half d; uint8_t qs[3*QK_K/8]; } block_iq3_xxs; // 98 bytes
 * // qs: 64 index bytes, then per group a u32 of 4 × 7 sign bits and the scale in the top 4 bits
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { encodeIq3Xxs } from "./_iq3_quantize.ts";
import { IQ3XXS_GRID, KSIGNS } from "./_iq_grids.ts";
import { fieldOffset, ggmlType, QK_K } from "./types.ts";

const type = ggmlType("IQ3_XXS");
const D = fieldOffset(type, "d");
const QS = fieldOffset(type, "qs");
const SIGNS_AND_SCALES = QS + QK_K / 4;
const GRID = IQ3XXS_GRID.values;

const fround = Math.fround;

/**
 * IQ3_XXS reference conversions: dequantization as ggml's `dequantize_row_iq3_xxs`, quantization
 * bit-exact with `quantize_iq3_xxs` without an importance matrix.
 */
export const IQ3_XXS: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    for (let group = 0; group < 8; group++) {
      const signsAndScale = view.getUint32(at + SIGNS_AND_SCALES + 4 * group, true);
      const db = fround(fround(d * (0.5 + (signsAndScale >>> 28))) * 0.5);
      for (let l = 0; l < 4; l++) {
        const signs = KSIGNS[(signsAndScale >>> (7 * l)) & 127]!;
        for (let half = 0; half < 2; half++) {
          const point = bytes[at + QS + 8 * group + 2 * l + half]! * 4;
          for (let j = 0; j < 4; j++) {
            const value = fround(db * GRID[point + j]!);
            out[to + group * 32 + l * 8 + half * 4 + j] = signs & (1 << (4 * half + j))
              ? -value
              : value;
          }
        }
      }
    }
  }),
  quantize: blockEncoder(type, encodeIq3Xxs),
};
