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
import { readF16, writeF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { IQ4_VALUES, iq4BlockScale, writeIq4Levels } from "./_iq4.ts";
import { nearestInt } from "./_k_quants.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("IQ4_XS");
const D = fieldOffset(type, "d");
const SCALES_H = fieldOffset(type, "scales_h");
const SCALES_L = fieldOffset(type, "scales_l");
const QS = fieldOffset(type, "qs");

const fround = Math.fround;

/** Scratch for one super-block's sub-block scales (encoding is synchronous). */
const scales = new Float32Array(8);

/**
 * IQ4_XS reference conversions: dequantization as ggml's `dequantize_row_iq4_xs`, quantization
 * bit-exact with `quantize_iq4_xs` without an importance matrix (what llama-quantize runs).
 */
export const IQ4_XS: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
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
  }),
  quantize: blockEncoder(type, (src, from, view, at) => {
    // each sub-block's best scale, then all as 6-bit multiples of the super-block's d, which
    // maps the largest in magnitude to −32
    let largest = 0;
    for (let sub = 0; sub < 8; sub++) {
      scales[sub] = iq4BlockScale(src, from + 32 * sub);
      if (Math.abs(scales[sub]!) > Math.abs(largest)) largest = scales[sub]!;
    }
    const d = fround(-largest / 32);
    writeF16(view, at + D, d);
    const inverse = d ? fround(1 / d) : 0;
    let scalesHigh = 0;
    for (let sub = 0; sub < 8; sub++) {
      const level = Math.max(-32, Math.min(31, nearestInt(fround(inverse * scales[sub]!))));
      writeIq4Levels(src, from + 32 * sub, fround(d * level), view, at + QS + 16 * sub);
      const stored = level + 32;
      const low = at + SCALES_L + (sub >> 1);
      view.setUint8(low, (sub & 1 ? view.getUint8(low) : 0) | ((stored & 0x0f) << (4 * (sub & 1))));
      scalesHigh |= (stored >> 4) << (2 * sub);
    }
    view.setUint16(at + SCALES_H, scalesHigh, true);
  }),
};
