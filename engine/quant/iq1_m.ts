/**
 * IQ1_M (1.75 bits per weight): super-blocks of 256 values in 32 points of IQ1S_GRID (11-bit
 * indexes: a low byte in `qs`, three high bits per point in `qh`), each shifted by ±1/8 (a
 * fourth bit per point in `qh`), and a 3-bit scale s per 16 values; x = d·(2s + 1)·(point[j] ±
 * 1/8). The f16 super-block scale d has no field: its 16 bits are the top 4 bits of the four u16
 * words of `scales`, whose low 12 bits hold four 3-bit scales each.
 *
 * ```c
 * typedef struct { uint8_t qs[QK_K/8]; uint8_t qh[QK_K/16]; uint8_t scales[QK_K/32]; }
 *   block_iq1_m; // 56 bytes
 * ```
 * @module
 */
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { encodeIq1M } from "./_iq1_quantize.ts";
import { IQ1S_DELTA, IQ1S_GRID } from "./_iq_grids.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("IQ1_M");
const QS = fieldOffset(type, "qs");
const QH = fieldOffset(type, "qh");
const SCALES = fieldOffset(type, "scales");
const GRID = IQ1S_GRID.values;

const fround = Math.fround;
const half = new Float16Array(1);
const halfBits = new Uint16Array(half.buffer);

/** The super-block scale d of the IQ1_M block at `at`, from the top nibbles of its scales. */
export function iq1mScale(view: DataView, at: number): number {
  const word = (k: number) => view.getUint16(at + SCALES + 2 * k, true);
  halfBits[0] = (word(0) >> 12) | ((word(1) >> 8) & 0x00f0) | ((word(2) >> 4) & 0x0f00) |
    (word(3) & 0xf000);
  return half[0]!;
}

/** Stores `d` (rounded to f16) as the scale of the IQ1_M block at `at`, keeping its 3-bit scales. */
export function writeIq1mScale(view: DataView, at: number, d: number): void {
  half[0] = d;
  const bits = halfBits[0]!;
  for (let k = 0; k < 4; k++) {
    const word = view.getUint16(at + SCALES + 2 * k, true);
    view.setUint16(at + SCALES + 2 * k, (word & 0x0fff) | (((bits >> (4 * k)) & 0xf) << 12), true);
  }
}

/**
 * IQ1_M reference conversions: dequantization as ggml's `dequantize_row_iq1_m`, quantization
 * bit-exact with `quantize_iq1_m` without an importance matrix.
 */
export const IQ1_M: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = iq1mScale(view, at);
    for (let group = 0; group < 8; group++) {
      const scales = view.getUint16(at + SCALES + 2 * (group >> 1), true) >> (6 * (group & 1));
      for (let l = 0; l < 4; l++) {
        const dl = fround(d * (2 * ((scales >> (3 * (l >> 1))) & 7) + 1));
        const high = bytes[at + QH + 2 * group + (l >> 1)]! >> (4 * (l & 1));
        const point = (bytes[at + QS + 4 * group + l]! | ((high & 7) << 8)) * 8;
        const delta = high & 0x08 ? -IQ1S_DELTA : IQ1S_DELTA;
        for (let j = 0; j < 8; j++) {
          out[to + group * 32 + l * 8 + j] = fround(dl * (GRID[point + j]! + delta));
        }
      }
    }
  }),
  quantize: blockEncoder(type, encodeIq1M),
};
