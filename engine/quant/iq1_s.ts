/**
 * IQ1_S (1.56 bits per weight): super-blocks of 256 values in 32 points of IQ1S_GRID (8 values
 * in −1, 0, 1; 11-bit indexes: a low byte in `qs`, three high bits per point in `qh`), and per
 * group of 32 a 3-bit scale s and the sign of a shift of ±1/8 (IQ1S_DELTA), both in the top bits
 * of the group's `qh`; x = d·(2s + 1)·(point[j] ± 1/8).
 *
 * ```c
 * typedef struct { ggml_half d; uint8_t qs[QK_K/8]; uint16_t qh[QK_K/32]; } block_iq1_s; // 50
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { encodeIq1S } from "./_iq1_quantize.ts";
import { IQ1S_DELTA, IQ1S_GRID } from "./_iq_grids.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("IQ1_S");
const D = fieldOffset(type, "d");
const QS = fieldOffset(type, "qs");
const QH = fieldOffset(type, "qh");
const GRID = IQ1S_GRID.values;

export { IQ1S_DELTA } from "./_iq_grids.ts";

const fround = Math.fround;

/**
 * IQ1_S reference conversions: dequantization as ggml's `dequantize_row_iq1_s`, quantization
 * bit-exact with `quantize_iq1_s` given an importance matrix of ones (see `_iq1_quantize.ts`).
 */
export const IQ1_S: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    for (let group = 0; group < 8; group++) {
      const high = view.getUint16(at + QH + 2 * group, true);
      const dl = fround(d * (2 * ((high >> 12) & 7) + 1));
      const delta = high & 0x8000 ? -IQ1S_DELTA : IQ1S_DELTA;
      for (let l = 0; l < 4; l++) {
        const point = (bytes[at + QS + 4 * group + l]! | (((high >> (3 * l)) & 7) << 8)) * 8;
        for (let j = 0; j < 8; j++) {
          out[to + group * 32 + l * 8 + j] = fround(dl * (GRID[point + j]! + delta));
        }
      }
    }
  }),
  quantize: blockEncoder(type, encodeIq1S),
};
