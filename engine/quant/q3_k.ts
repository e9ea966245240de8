/**
 * Q3_K: super-blocks of 256 values in 16 sub-blocks of 16, each with a 6-bit signed scale
 * (packed in 12 bytes), each value a 3-bit quant: two low bits in `qs` (packed as Q2_K) and the
 * third in `hmask`, where a cleared bit means "subtract 4"; x = d·(scale − 32)·q.
 *
 * ```c
 * typedef struct {
 *   uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; ggml_half d;
 * } block_q3_K; // 110 bytes
 * ```
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { blockEncoder, blockFormat, type Quantizer } from "./format.ts";
import { makeQ3Quants, nearestInt, writeTwoBits } from "./_k_quants.ts";
import { largestMagnitude } from "./_legacy.ts";
import { fieldOffset, ggmlType } from "./types.ts";

const type = ggmlType("Q3_K");
const HMASK = fieldOffset(type, "hmask");
const QS = fieldOffset(type, "qs");
const SCALES = fieldOffset(type, "scales");
const D = fieldOffset(type, "d");
const fround = Math.fround;

/** The 16 six-bit scales of a Q3_K block (before subtracting 32). */
function unpackScales(src: Uint8Array, at: number, out: Int32Array): void {
  // bytes 0–7 hold the low 4 bits of scales 0–15 (two per byte), bytes 8–11 the high 2 bits
  for (let j = 0; j < 16; j++) {
    const low = (src[at + (j & 7)]! >> (4 * (j >> 3))) & 0x0f;
    const high = (src[at + 8 + (j & 3)]! >> (2 * (j >> 2))) & 3;
    out[j] = low | (high << 4);
  }
}

/** Scratch for one block's encoding (reused: encoding is synchronous). */
const levels = new Int8Array(256);
const scales = new Float32Array(16);

/** Q3_K reference conversions, bit-exact with ggml's `quantize_row_q3_K_ref`. */
export const Q3_K: Quantizer = {
  ...blockFormat(type, (bytes, view, at, out, to) => {
    const d = readF16(view, at + D);
    const scales = new Int32Array(16);
    unpackScales(bytes, at + SCALES, scales);
    let sub = 0;
    let mask = 1;
    for (let half = 0; half < 2; half++) {
      const qs = at + QS + half * 32;
      for (let shift = 0; shift < 8; shift += 2) {
        for (const offset of [0, 16]) {
          const dl = d * (scales[sub++]! - 32);
          for (let l = 0; l < 16; l++) {
            const low = (bytes[qs + offset + l]! >> shift) & 3;
            out[to++] = dl * (low - ((bytes[at + HMASK + offset + l]! & mask) ? 0 : 4));
          }
        }
        mask <<= 1;
      }
    }
  }),
  quantize: blockEncoder(type, (src, x, view, at) => {
    for (let j = 0; j < 16; j++) scales[j] = makeQ3Quants(16, 4, src, x + 16 * j, levels, 16 * j);
    const maxScale = largestMagnitude(scales, 0, 16);
    // the 6-bit signed scales, packed as `unpackScales` reads them
    const packed = new Uint8Array(12);
    if (maxScale) {
      const iscale = fround(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        const l = Math.max(-32, Math.min(31, nearestInt(fround(iscale * scales[j]!)))) + 32;
        packed[j & 7] = packed[j & 7]! | ((l & 0x0f) << (4 * (j >> 3)));
        packed[8 + (j & 3)] = packed[8 + (j & 3)]! | ((l >> 4) << (2 * (j >> 2)));
      }
      writeF16(view, at + D, fround(1 / iscale));
    } else {
      writeF16(view, at + D, 0);
    }
    for (let i = 0; i < 12; i++) view.setUint8(at + SCALES + i, packed[i]!);
    const d = readF16(view, at + D);
    const unpacked = new Int32Array(16);
    unpackScales(packed, 0, unpacked);
    for (let j = 0; j < 16; j++) {
      const sd = fround(d * (unpacked[j]! - 32));
      if (!sd) continue;
      for (let i = 0; i < 16; i++) {
        const l = nearestInt(fround(src[x + 16 * j + i]! / sd));
        levels[16 * j + i] = Math.max(-4, Math.min(3, l)) + 4;
      }
    }
    // the third bit: of the first 32 values in bit 0 of hmask[0…31], the next 32 in bit 1, …
    for (let i = 0; i < 32; i++) view.setUint8(at + HMASK + i, 0);
    for (let j = 0; j < 256; j++) {
      if (levels[j]! > 3) {
        view.setUint8(
          at + HMASK + (j & 31),
          view.getUint8(at + HMASK + (j & 31)) | (1 << (j >> 5)),
        );
        levels[j] = levels[j]! - 4;
      }
    }
    writeTwoBits(view, at + QS, levels);
  }),
};
