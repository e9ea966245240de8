/**
 * IQ4_XS: super-blocks of 256 values in 8 sub-blocks of 32, each with a 6-bit scale (low four
 * bits in `scales_l`, high two in `scales_h`), and IQ4_NL's non-linear 4-bit levels;
 * x = d·(scale − 32)·IQ4_VALUES[q].
 *
 * ```c
 * typedef struct {
 *   ggml_half d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128];
 * } block_iq4_xs; // 136 bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockFormat, type QuantFormat } from "./format.ts";
import { IQ4_VALUES } from "./iq4_nl.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("IQ4_XS");
const D = fieldOffset(type, "d");
const SCALES_H = fieldOffset(type, "scales_h");
const SCALES_L = fieldOffset(type, "scales_l");
const QS = fieldOffset(type, "qs");

const fround = Math.fround;

/** IQ4_XS reference dequantization, as ggml's `dequantize_row_iq4_xs`. */
export const IQ4_XS: QuantFormat = blockFormat(type, (bytes, view, at, out, to) => {
  const d = readF16(view, at + D);
  const scalesHigh = view.getUint16(at + SCALES_H, true);
  for (let sub = 0; sub < 8; sub++) {
    const low = (bytes[at + SCALES_L + (sub >> 1)]! >> (4 * (sub & 1))) & 0x0f;
    const scale = low | (((scalesHigh >> (2 * sub)) & 3) << 4);
    const dl = fround(d * (scale - 32));
    const qs = at + QS + sub * 16;
    for (let j = 0; j < 16; j++) {
      out[to + sub * 32 + j] = dl * IQ4_VALUES[bytes[qs + j]! & 0x0f]!;
      out[to + sub * 32 + 16 + j] = dl * IQ4_VALUES[bytes[qs + j]! >> 4]!;
    }
  }
});
