/**
 * The search IQ4_NL and IQ4_XS share (ggml's `quantize_row_iq4_nl_impl` as `quantize_iq4_nl` and
 * `quantize_iq4_xs` call it without an importance matrix: 7 tries each way, values weighted by
 * their square), with ggml's f32 rounding at every step, so that the blocks are ggml's bit for bit.
 * @module
 */
import { GROUP_MAX_EPS } from "./_k_quants.ts";

/** ggml's `kvalues_iq4nl`: the 16 levels of IQ4_NL and IQ4_XS. */
export const IQ4_VALUES: readonly number[] = [
  -127,
  -104,
  -83,
  -65,
  -49,
  -35,
  -22,
  -10,
  1,
  13,
  25,
  38,
  53,
  69,
  89,
  113,
];

const fround = Math.fround;
/** Scales tried on each side of the one that maps the largest magnitude to the lowest level. */
const TRIES = 7;

/** ggml's `best_index_int8`: the level nearest to `x` (the upper one on a tie). */
export function nearestLevel(x: number): number {
  if (x <= IQ4_VALUES[0]!) return 0;
  if (x >= IQ4_VALUES[15]!) return 15;
  let low = 0;
  let high = 15;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (x < IQ4_VALUES[middle]!) high = middle;
    else low = middle;
  }
  return fround(x - IQ4_VALUES[high - 1]!) < fround(IQ4_VALUES[high]! - x) ? high - 1 : high;
}

/**
 * The least-squares scale (values weighted by their square) of the levels that `1/scale`
 * gives the 32 values at `src[from…]`: for the scale that maps the largest magnitude to the
 * lowest level (−127), then for 15 inverse scales (−134 … −120)/max, the best kept. 0 for a
 * block of (near) zeros.
 */
export function iq4BlockScale(src: Float32Array, from: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    const ax = Math.abs(src[from + j]!);
    if (ax > amax) {
      amax = ax;
      max = src[from + j]!;
    }
  }
  if (amax < GROUP_MAX_EPS) return 0;
  const fit = (inverse: number): [number, number] => {
    let sumqx = 0;
    let sumq2 = 0;
    for (let j = 0; j < 32; j++) {
      const x = src[from + j]!;
      const q = IQ4_VALUES[nearestLevel(fround(inverse * x))]!;
      const wq = fround(fround(x * x) * q);
      sumqx = fround(sumqx + fround(wq * x));
      sumq2 = fround(sumq2 + fround(wq * q));
    }
    return [sumqx, sumq2];
  };
  const [sumqx, sumq2] = fit(fround(1 / fround(-max / IQ4_VALUES[0]!)));
  let d = fround(sumqx / sumq2);
  let best = fround(d * sumqx);
  for (let attempt = -TRIES; attempt <= TRIES; attempt++) {
    const [sumqx, sumq2] = fit(fround((attempt + IQ4_VALUES[0]!) / max));
    if (sumq2 > 0 && fround(sumqx * sumqx) > fround(best * sumq2)) {
      d = fround(sumqx / sumq2);
      best = fround(d * sumqx);
    }
  }
  return d;
}

/**
 * Writes the levels of the 32 values at `src[from…]` under scale `d` as nibbles at `qs` (value j
 * in the low nibble of byte j, value 16 + j in its high nibble).
 */
export function writeIq4Levels(
  src: Float32Array,
  from: number,
  d: number,
  view: DataView,
  qs: number,
): void {
  const inverse = d ? fround(1 / d) : 0;
  for (let j = 0; j < 16; j++) {
    const low = nearestLevel(fround(inverse * src[from + j]!));
    const high = nearestLevel(fround(inverse * src[from + 16 + j]!));
    view.setUint8(qs + j, low | (high << 4));
  }
}
