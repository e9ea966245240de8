/**
 * Q6_K: super-blocks of 256 values in 16 sub-blocks of 16, each with an 8-bit signed scale,
 * each value a 6-bit quant (low 4 bits in `ql`, high 2 in `qh`); x = d·scale·(q − 32).
 * Per 128-value half, byte l of `ql` holds elements l (low nibble) and l+64 (high nibble),
 * byte l+32 elements l+32 and l+96; byte l of `qh` holds the high bits of all four.
 *
 * ```c
 * typedef struct {
 *   uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; ggml_half d;
 * } block_q6_K; // 210 bytes
 * ```
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { GROUP_MAX_EPS, makeQxQuants, nearestInt } from "./_k_quants.ts";
import { largestMagnitude } from "./_legacy.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q6_K");
const QL = fieldOffset(type, "ql");
const QH = fieldOffset(type, "qh");
const SCALES = fieldOffset(type, "scales");
const D = fieldOffset(type, "d");

const fround = Math.fround;

/** Scratch for one block's encoding (reused: encoding is synchronous). */
const levels = new Int8Array(256);
const scales = new Float32Array(16);

/** Q6_K reference conversions, bit-exact with ggml's `quantize_row_q6_K_ref`. */
export const Q6_K: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    for (let half = 0; half < 2; half++) {
      const ql = at + QL + half * 64;
      const qh = at + QH + half * 32;
      const scales = at + SCALES + half * 8;
      const first = to + half * 128;
      for (let l = 0; l < 32; l++) {
        const high = bytes[qh + l]!;
        // the four quants sharing these bytes, and their sub-blocks' scales (d·scale in f32)
        const scale = (i: number) => fround(d * view.getInt8(scales + (l >> 4) + i));
        out[first + l] = scale(0) * (((bytes[ql + l]! & 0x0f) | ((high & 3) << 4)) - 32);
        out[first + l + 32] = scale(2) *
          (((bytes[ql + l + 32]! & 0x0f) | (((high >> 2) & 3) << 4)) - 32);
        out[first + l + 64] = scale(4) *
          (((bytes[ql + l]! >> 4) | (((high >> 4) & 3) << 4)) - 32);
        out[first + l + 96] = scale(6) *
          (((bytes[ql + l + 32]! >> 4) | (((high >> 6) & 3) << 4)) - 32);
      }
    }
  }),
  quantize: blockEncoder(type, (src, x, view, at) => {
    // each sub-block of 16 its own best scale; the largest in magnitude sets d
    for (let ib = 0; ib < 16; ib++) {
      scales[ib] = makeQxQuants(16, 32, src, x + 16 * ib, levels, 16 * ib);
    }
    const maxScale = largestMagnitude(scales, 0, 16);
    for (let i = 0; i < type.bytesPerBlock; i++) view.setUint8(at + i, 0);
    if (Math.abs(maxScale) < GROUP_MAX_EPS) return; // an all-zero block
    const iscale = fround(-128 / maxScale);
    writeF16(view, at + D, fround(1 / iscale));
    const d = readF16(view, at + D);
    for (let ib = 0; ib < 16; ib++) {
      const q = Math.min(127, nearestInt(fround(iscale * scales[ib]!)));
      view.setInt8(at + SCALES + ib, q);
      const sd = fround(d * q);
      if (!sd) continue;
      for (let i = 0; i < 16; i++) {
        const l = nearestInt(fround(src[x + 16 * ib + i]! / sd));
        levels[16 * ib + i] = Math.max(-32, Math.min(31, l)) + 32;
      }
    }
    for (let half = 0; half < 2; half++) {
      const [j, ql, qh] = [half * 128, at + QL + half * 64, at + QH + half * 32];
      for (let l = 0; l < 32; l++) {
        const [q1, q2, q3, q4] = [0, 32, 64, 96].map((k) => levels[j + l + k]!);
        view.setUint8(ql + l, (q1! & 0x0f) | ((q3! & 0x0f) << 4));
        view.setUint8(ql + l + 32, (q2! & 0x0f) | ((q4! & 0x0f) << 4));
        view.setUint8(
          qh + l,
          (q1! >> 4) | ((q2! >> 4) << 2) | ((q3! >> 4) << 4) | ((q4! >> 4) << 6),
        );
      }
    }
  }),
};
