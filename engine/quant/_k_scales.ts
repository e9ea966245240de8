/**
 * The 6-bit scales and minimums of Q4_K and Q5_K: 8 of each packed in 12 bytes
 * (ggml's `get_scale_min_k4`). Sub-blocks 0–3 keep theirs in the low 6 bits of bytes 0–7;
 * sub-blocks 4–7 take 4 bits from bytes 8–11 and their top 2 bits from bytes 0–7.
 * @module
 */

/** Scale and minimum of sub-block `j` (0–7), from the 12 bytes at `scales[at…]`. */
export function scaleMinK4(scales: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [scales[at + j]! & 63, scales[at + j + 4]! & 63];
  const scale = (scales[at + j + 4]! & 0x0f) | ((scales[at + j - 4]! >> 6) << 4);
  const min = (scales[at + j + 4]! >> 4) | ((scales[at + j]! >> 6) << 4);
  return [scale, min];
}

/**
 * The two sub-blocks of pair `pair` (0–3): `[d·scale, dmin·min]` for the low-nibble sub-block,
 * then for the high-nibble one, as Q4_K and Q5_K decode them.
 */
export function pairScales(
  scales: Uint8Array,
  at: number,
  pair: number,
  d: number,
  dmin: number,
): [number, number, number, number] {
  const [scaleLow, minLow] = scaleMinK4(scales, at, 2 * pair);
  const [scaleHigh, minHigh] = scaleMinK4(scales, at, 2 * pair + 1);
  return [d * scaleLow, dmin * minLow, d * scaleHigh, dmin * minHigh];
}
