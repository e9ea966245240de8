/**
 * What ggml's reference K-quant quantizers share: `nearest_int` (round half to even through the
 * 1.5·2²³ trick, in f32) and `make_qx_quants`, the symmetric sub-block quantizer of Q3_K and
 * Q6_K that tries 19 scales around the extreme value's and keeps the one that minimises the
 * x²-weighted squared error. Every operation rounds to f32 as ggml's C does.
 * @module
 */

const fround = Math.fround;

/** ggml's `nearest_int`: `fval` rounded to the nearest integer, ties to even, through f32. */
export function nearestInt(fval: number): number {
  return fround(fround(fval) + 12582912) - 12582912;
}

/**
 * ggml's `make_qx_quants(n, nmax, x, L, rmse_type = 1, NULL)`: levels `L[at…]` in 0…2·nmax−1
 * (the signed level plus nmax) for `n` values from `x[from…]`; returns the sub-block's scale.
 */
export function makeQxQuants(
  n: number,
  nmax: number,
  x: Float32Array,
  from: number,
  L: Int8Array,
  at: number,
): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[from + i]!);
    if (ax > amax) {
      amax = ax;
      max = x[from + i]!;
    }
  }
  if (amax < 1e-30) {
    L.fill(0, at, at + n);
    return 0;
  }
  const level = (iscale: number, i: number) =>
    Math.max(-nmax, Math.min(nmax - 1, nearestInt(fround(iscale * x[from + i]!))));
  /** Σ w·x·l and Σ w·l² with w = x², in f32. */
  const sums = (iscale: number) => {
    let sumlx = 0;
    let suml2 = 0;
    for (let i = 0; i < n; i++) {
      const v = x[from + i]!;
      const l = level(iscale, i);
      const w = fround(v * v);
      sumlx = fround(sumlx + fround(fround(w * v) * l));
      suml2 = fround(suml2 + fround(fround(w * l) * l));
    }
    return [sumlx, suml2] as const;
  };
  const store = (iscale: number) => {
    for (let i = 0; i < n; i++) L[at + i] = level(iscale, i) + nmax;
  };
  let iscale = fround(-nmax / max);
  store(iscale);
  let [sumlx, suml2] = sums(iscale);
  let scale = fround(sumlx / suml2);
  let best = fround(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fround(-fround(nmax + fround(fround(0.1) * is)) / max);
    [sumlx, suml2] = sums(iscale);
    if (suml2 > 0 && fround(sumlx * sumlx) > fround(best * suml2)) {
      store(iscale);
      scale = fround(sumlx / suml2);
      best = fround(scale * sumlx);
    }
  }
  return scale;
}
