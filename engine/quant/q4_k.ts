/**
 * Q4_K: super-blocks of 256 values in 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit
 * minimum (packed in 12 bytes, see `_k_scales.ts`), each value a 4-bit quant;
 * x = d·scale·q − dmin·min. Each 32-byte group of `qs` holds two sub-blocks: the first in the
 * low nibbles, the second in the high nibbles.
 *
 * ```c
 * typedef struct {
 *   ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qs[128];
 * } block_q4_K; // 144 bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { quantizeScaleMinBlock, type ScaleMinRefiner } from "./_k_quants.ts";
import { pairScales } from "./_k_scales.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q4_K");
const D = fieldOffset(type, "d");
const DMIN = fieldOffset(type, "dmin");
const SCALES = fieldOffset(type, "scales");
const QS = fieldOffset(type, "qs");

/** Scratch for one block's encoding (reused: encoding is synchronous). */
const levels = new Uint8Array(256);

/**
 * Encodes the 256 values at `src[from…]` as the Q4_K block at `at` of `view`: ggml's reference
 * quantizer, its sub-block scales and minimums `refine`d where given (HQQ).
 */
export function encodeQ4KBlock(
  src: Float32Array,
  from: number,
  view: DataView,
  at: number,
  refine?: ScaleMinRefiner,
): void {
  quantizeScaleMinBlock(
    src,
    from,
    view,
    at,
    { d: D, dmin: DMIN, scales: SCALES },
    15,
    { rmin: -1, nstep: 20 },
    levels,
    refine,
  );
  for (let pair = 0; pair < 4; pair++) {
    for (let l = 0; l < 32; l++) {
      const low = levels[64 * pair + l]!;
      view.setUint8(at + QS + 32 * pair + l, low | (levels[64 * pair + l + 32]! << 4));
    }
  }
}

/** Q4_K reference conversions, bit-exact with ggml's `quantize_row_q4_K_ref`. */
export const Q4_K: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    const dmin = readF16(view, at + DMIN);
    for (let pair = 0; pair < 4; pair++) {
      const [d1, m1, d2, m2] = pairScales(bytes, at + SCALES, pair, d, dmin);
      const qs = at + QS + pair * 32;
      for (let l = 0; l < 32; l++) out[to++] = d1 * (bytes[qs + l]! & 0x0f) - m1;
      for (let l = 0; l < 32; l++) out[to++] = d2 * (bytes[qs + l]! >> 4) - m2;
    }
  }),
  quantize: blockEncoder(type, (src, from, view, at) => encodeQ4KBlock(src, from, view, at)),
};
