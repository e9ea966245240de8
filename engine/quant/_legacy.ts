/**
 * What ggml's reference quantizers of the 32-value "legacy" formats share: the value of largest
 * magnitude (Q4_0, Q5_0 map it to the most negative level), the range (Q4_1, Q5_1 map it onto
 * their levels), and the packing of 32 quants into nibbles and, for the 5-bit formats, a 32-bit
 * word of fifth bits (element j in the low nibble of byte j, element j+16 in its high nibble).
 * @module
 */

/** The value of largest magnitude among `count` values from `from` (the first one on ties). */
export function largestMagnitude(src: Float32Array, from: number, count: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < count; j++) {
    const v = src[from + j]!;
    if (amax < Math.abs(v)) {
      amax = Math.abs(v);
      max = v;
    }
  }
  return max;
}

/** The smallest and largest of `count` values from `from` (ggml starts from ±FLT_MAX). */
export function valueRange(
  src: Float32Array,
  from: number,
  count: number,
): { min: number; max: number } {
  let min = 3.4028234663852886e38;
  let max = -3.4028234663852886e38;
  for (let j = 0; j < count; j++) {
    const v = src[from + j]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** Packs 32 quants' low four bits at `qs` (16 bytes). */
export function writeNibbles(view: DataView, qs: number, quants: Uint8Array): void {
  for (let j = 0; j < 16; j++) {
    view.setUint8(qs + j, (quants[j]! & 0x0f) | ((quants[j + 16]! & 0x0f) << 4));
  }
}

/** Packs 32 five-bit quants: low four bits at `qs`, the fifth bits as a little-endian word at `qh`. */
export function writeFiveBits(view: DataView, qs: number, qh: number, quants: Uint8Array): void {
  writeNibbles(view, qs, quants);
  let high = 0;
  for (let j = 0; j < 32; j++) high |= ((quants[j]! >> 4) & 1) << j;
  view.setUint32(qh, high >>> 0, true);
}
