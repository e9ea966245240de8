/**
 * IQ2_S (2.56 bits per weight): super-blocks of 256 values in 32 points of IQ2S_GRID (10-bit
 * indexes: a low byte in `qs`, two high bits per point in `qh`), 8 explicit sign bits per point
 * (the second half of `qs`), and a 4-bit scale s per 16 values; x = d·(0.5 + s)/4·point[j]·sign[j].
 *
 * ```c
 * typedef struct {
 *   ggml_half d; uint8_t qs[QK_K/4]; uint8_t qh[QK_K/32]; uint8_t scales[QK_K/32];
 * } block_iq2_s; // 82 bytes; qs: 32 index bytes, then 32 sign bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { encodeIq2S } from "./_iq2_quantize.ts";
import { IQ2S_GRID } from "./_iq_grids.ts";
import { fieldOffset, ggmlType, QK_K } from "./types.ts";

const type = ggmlType("IQ2_S");
const D = fieldOffset(type, "d");
const QS = fieldOffset(type, "qs");
const SIGNS = QS + QK_K / 8;
const QH = fieldOffset(type, "qh");
const SCALES = fieldOffset(type, "scales");
const GRID = IQ2S_GRID.values;

const fround = Math.fround;

/**
 * IQ2_S reference conversions: dequantization as ggml's `dequantize_row_iq2_s`, quantization
 * bit-exact with `quantize_iq2_s` without an importance matrix.
 */
export const IQ2_S: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    for (let group = 0; group < 8; group++) {
      const scales = bytes[at + SCALES + group]!;
      const high = bytes[at + QH + group]!;
      for (let l = 0; l < 4; l++) {
        const scale = l < 2 ? scales & 0x0f : scales >> 4;
        const dl = fround(fround(d * (0.5 + scale)) * 0.25);
        const point = (bytes[at + QS + 4 * group + l]! | ((high << (8 - 2 * l)) & 0x300)) * 8;
        const signs = bytes[at + SIGNS + 4 * group + l]!;
        for (let j = 0; j < 8; j++) {
          const value = fround(dl * GRID[point + j]!);
          out[to + group * 32 + l * 8 + j] = signs & (1 << j) ? -value : value;
        }
      }
    }
  }),
  quantize: blockEncoder(type, encodeIq2S),
};
