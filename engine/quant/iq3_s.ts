/**
 * IQ3_S (3.44 bits per weight): super-blocks of 256 values in 64 points of IQ3S_GRID (9-bit
 * indexes: a low byte in `qs`, the high bit in `qh`), 8 explicit sign bits per 8 values, and a
 * 4-bit scale s per 32 values; x = d·(1 + 2s)·point[j]·sign[j].
 *
 * ```c
 * typedef struct {
 *   ggml_half d; uint8_t qs[QK_K/4]; uint8_t qh[QK_K/32]; uint8_t signs[QK_K/8];
 *   uint8_t scales[QK_K/64];
 * } block_iq3_s; // 110 bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { encodeIq3S } from "./_iq3_quantize.ts";
import { IQ3S_GRID } from "./_iq_grids.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("IQ3_S");
const D = fieldOffset(type, "d");
const QS = fieldOffset(type, "qs");
const QH = fieldOffset(type, "qh");
const SIGNS = fieldOffset(type, "signs");
const SCALES = fieldOffset(type, "scales");
const GRID = IQ3S_GRID.values;

const fround = Math.fround;

/**
 * IQ3_S reference conversions: dequantization as ggml's `dequantize_row_iq3_s`, quantization
 * bit-exact with `quantize_iq3_s` without an importance matrix, except after a group of zeros
 * (see `_iq3_quantize.ts`: ggml misplaces the rest of that super-block).
 */
export const IQ3_S: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    for (let group = 0; group < 8; group++) {
      const scale = (bytes[at + SCALES + (group >> 1)]! >> (4 * (group & 1))) & 0x0f;
      const db = fround(d * (1 + 2 * scale));
      const high = bytes[at + QH + group]!;
      for (let l = 0; l < 4; l++) {
        const signs = bytes[at + SIGNS + 4 * group + l]!;
        for (let half = 0; half < 2; half++) {
          const low = bytes[at + QS + 8 * group + 2 * l + half]!;
          const point = (low | ((high << (8 - 2 * l - half)) & 256)) * 4;
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
  quantize: blockEncoder(type, encodeIq3S),
};
