/**
 * Q5_K: Q4_K with a fifth bit per value in `qh`: bit 2·pair of `qh[l]` for the low-nibble
 * sub-block of pair `pair`, bit 2·pair+1 for the high-nibble one; x = d·scale·q − dmin·min.
 *
 * ```c
 * typedef struct {
 *   ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128];
 * } block_q5_K; // 176 bytes
 * ```
 * @module
 */
import { readF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { quantizeScaleMinBlock, type ScaleMinRefiner } from "./_k_quants.ts";
import { pairScales } from "./_k_scales.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q5_K");
const D = fieldOffset(type, "d");
const DMIN = fieldOffset(type, "dmin");
const SCALES = fieldOffset(type, "scales");
const QH = fieldOffset(type, "qh");
const QS = fieldOffset(type, "qs");

/** Scratch for one block's encoding (reused: encoding is synchronous). */
const levels = new Uint8Array(256);

/**
 * Encodes the 256 values at `src[from…]` as the Q5_K block at `at` of `view`: ggml's reference
 * quantizer, its sub-block scales and minimums `refine`d where given (HQQ).
 */
export function encodeQ5KBlock(
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
    31,
    { rmin: -0.5, nstep: 15 },
    levels,
    refine,
  );
  // the fifth bits: pair p's low sub-block in bit 2p of qh[l], its high one in bit 2p+1
  for (let l = 0; l < 32; l++) view.setUint8(at + QH + l, 0);
  for (let pair = 0; pair < 4; pair++) {
    for (let l = 0; l < 32; l++) {
      const [l1, l2] = [levels[64 * pair + l]!, levels[64 * pair + l + 32]!];
      const high = view.getUint8(at + QH + l) | ((l1 >> 4) << (2 * pair)) |
        ((l2 >> 4) << (2 * pair + 1));
      view.setUint8(at + QH + l, high);
      view.setUint8(at + QS + 32 * pair + l, (l1 & 0x0f) | ((l2 & 0x0f) << 4));
    }
  }
}

/** Q5_K reference conversions, bit-exact with ggml's `quantize_row_q5_K_ref`. */
export const Q5_K: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    const dmin = readF16(view, at + DMIN);
    for (let pair = 0; pair < 4; pair++) {
      const [d1, m1, d2, m2] = pairScales(bytes, at + SCALES, pair, d, dmin);
      const lowBit = 1 << (2 * pair);
      const highBit = lowBit << 1;
      const qs = at + QS + pair * 32;
      for (let l = 0; l < 32; l++) {
        out[to++] = d1 * ((bytes[qs + l]! & 0x0f) + (bytes[at + QH + l]! & lowBit ? 16 : 0)) - m1;
      }
      for (let l = 0; l < 32; l++) {
        out[to++] = d2 * ((bytes[qs + l]! >> 4) + (bytes[at + QH + l]! & highBit ? 16 : 0)) - m2;
      }
    }
  }),
  quantize: blockEncoder(type, (src, from, view, at) => encodeQ5KBlock(src, from, view, at)),
};
