/**
 * Q2_K: super-blocks of 256 values in 16 sub-blocks of 16. Each sub-block has a 4-bit scale and
 * a 4-bit minimum (one byte of `scales`), each value a 2-bit quant;
 * x = d·scale·q − dmin·min. Quants are packed four to a byte: byte l of each 32-byte group holds
 * elements l, l+32, l+64, l+96 of its 128-value half in bits 0–1, 2–3, 4–5, 6–7.
 *
 * ```c
 * typedef struct {
 *   uint8_t scales[16]; uint8_t qs[64]; ggml_half d; ggml_half dmin;
 * } block_q2_K; // 84 bytes
 * ```
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import {
  makeQkx2Quants,
  nearestInt,
  refitSuperBlock,
  type ScaleMinRefiner,
  writeTwoBits,
} from "./_k_quants.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q2_K");
const SCALES = fieldOffset(type, "scales");
const QS = fieldOffset(type, "qs");
const D = fieldOffset(type, "d");
const DMIN = fieldOffset(type, "dmin");
const fround = Math.fround;

/** Scratch for one block's encoding (reused: encoding is synchronous). */
const levels = new Uint8Array(256);
const weights = new Float32Array(16);
const scales = new Float32Array(16);
const mins = new Float32Array(16);

/**
 * Encodes the 256 values at `src[x…]` as the Q2_K block at `at` of `view`: ggml's reference
 * quantizer, its sub-block scales and minimums `refine`d where given (HQQ).
 */
export function encodeQ2KBlock(
  src: Float32Array,
  x: number,
  view: DataView,
  at: number,
  refine?: ScaleMinRefiner,
): void {
  // each sub-block of 16 an affine fit (absolute error, weighted by |x|); 4-bit scales and
  // minimums against the largest of each
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 16; j++) {
    for (let l = 0; l < 16; l++) weights[l] = Math.abs(src[x + 16 * j + l]!);
    const fit = makeQkx2Quants(
      16,
      3,
      src,
      x + 16 * j,
      weights,
      levels,
      16 * j,
      -0.5,
      fround(0.1),
      15,
      true,
    );
    scales[j] = fit.scale;
    mins[j] = fit.theMin;
  }
  refine?.subBlocks?.(src, x, scales, mins, 3);
  for (let j = 0; j < 16; j++) {
    if (scales[j]! > maxScale) maxScale = scales[j]!;
    if (mins[j]! > maxMin) maxMin = mins[j]!;
  }
  const packed = new Uint8Array(16);
  if (maxScale > 0) {
    const iscale = fround(15 / maxScale);
    for (let j = 0; j < 16; j++) packed[j] = nearestInt(fround(iscale * scales[j]!)) & 0xff;
    writeF16(view, at + D, fround(maxScale / 15));
  } else {
    writeF16(view, at + D, 0);
  }
  if (maxMin > 0) {
    const iscale = fround(15 / maxMin);
    for (let j = 0; j < 16; j++) {
      packed[j] = (packed[j]! | (nearestInt(fround(iscale * mins[j]!)) << 4)) & 0xff;
    }
    writeF16(view, at + DMIN, fround(maxMin / 15));
  } else {
    writeF16(view, at + DMIN, 0);
  }
  for (let j = 0; j < 16; j++) view.setUint8(at + SCALES + j, packed[j]!);
  const levelsFor = (d: number, dmin: number) => {
    for (let j = 0; j < 16; j++) {
      const sd = fround(d * (packed[j]! & 0x0f));
      if (!sd) continue;
      const dm = fround(dmin * (packed[j]! >> 4));
      for (let i = 0; i < 16; i++) {
        const l = nearestInt(fround(fround(src[x + 16 * j + i]! + dm) / sd));
        levels[16 * j + i] = Math.max(0, Math.min(3, l));
      }
    }
  };
  levelsFor(readF16(view, at + D), readF16(view, at + DMIN));
  const subBlocks = {
    count: 16,
    size: 16,
    codes: (j: number): [number, number] => [packed[j]! & 0x0f, packed[j]! >> 4],
  };
  const layout = { d: D, dmin: DMIN, scales: SCALES };
  for (let pass = 0; pass < (refine?.superBlockPasses ?? 0); pass++) {
    if (!refitSuperBlock(src, x, view, at, layout, subBlocks, levels, levelsFor)) break;
  }
  writeTwoBits(view, at + QS, levels);
}

/** Q2_K reference conversions, bit-exact with ggml's `quantize_row_q2_K_ref`. */
export const Q2_K: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    const dmin = readF16(view, at + DMIN);
    let sub = 0;
    for (let half = 0; half < 2; half++) {
      const qs = at + QS + half * 32;
      for (let shift = 0; shift < 8; shift += 2) {
        for (const offset of [0, 16]) {
          const packed = bytes[at + SCALES + sub++]!;
          const dl = d * (packed & 0x0f);
          const ml = dmin * (packed >> 4);
          for (let l = 0; l < 16; l++) {
            out[to++] = dl * ((bytes[qs + offset + l]! >> shift) & 3) - ml;
          }
        }
      }
    }
  }),
  quantize: blockEncoder(type, (src, from, view, at) => encodeQ2KBlock(src, from, view, at)),
};
