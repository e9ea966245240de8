/**
 * What ggml's reference K-quant quantizers share: `nearest_int` (round half to even through the
 * 1.5·2²³ trick, in f32), `make_qx_quants` (the symmetric sub-block quantizer of Q3_K and Q6_K:
 * 19 scales around the extreme value's, the x²-weighted least error kept), `make_qkx2_quants`
 * (the affine one of Q2_K, Q4_K and Q5_K) and Q4_K/Q5_K's 6-bit scales and minimums. Every
 * operation rounds to f32 as ggml's C does.
 * @module
 */
import { readF16, writeF16 } from "./float.ts";
import { scaleMinK4 } from "./_k_scales.ts";
import { largestMagnitude } from "./_legacy.ts";

const fround = Math.fround;

/** ggml's `GROUP_MAX_EPS`: a group whose largest magnitude is below it is all zero. */
export const GROUP_MAX_EPS = 1e-15;

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
  const max = largestMagnitude(x, from, n);
  const amax = Math.abs(max);
  if (amax < GROUP_MAX_EPS) {
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
  let scale = suml2 ? fround(sumlx / suml2) : 0;
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

/**
 * ggml's `make_qkx2_quants`: affine levels `L[at…]` in 0…nmax for `n` values from `x[from…]`
 * under per-value `weights`, trying `nstep + 1` scales from (nmax + rmin)/(max − min) upwards by
 * `rdelta` and keeping the weighted-least-squares fit with the lowest weighted error (squared,
 * or absolute with `useMad`). Returns the scale and the minimum as ggml's `the_min` (−min ≥ 0).
 */
export function makeQkx2Quants(
  n: number,
  nmax: number,
  x: Float32Array,
  from: number,
  weights: Float32Array,
  L: Uint8Array,
  at: number,
  rmin: number,
  rdelta: number,
  nstep: number,
  useMad: boolean,
): { scale: number; theMin: number } {
  let min = x[from]!;
  let max = x[from]!;
  let sumW = weights[0]!;
  let sumX = fround(sumW * x[from]!);
  for (let i = 1; i < n; i++) {
    const v = x[from + i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sumW = fround(sumW + weights[i]!);
    sumX = fround(sumX + fround(weights[i]! * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, at, at + n);
    return { scale: 0, theMin: -min };
  }
  const levelsFor = (iscale: number, into: Uint8Array, offset: number) => {
    for (let i = 0; i < n; i++) {
      const l = nearestInt(fround(iscale * fround(x[from + i]! - min)));
      into[offset + i] = Math.max(0, Math.min(nmax, l));
    }
  };
  const errorOf = (scale: number, offsetMin: number, levels: Uint8Array, offset: number) => {
    let error = 0;
    for (let i = 0; i < n; i++) {
      let diff = fround(fround(fround(scale * levels[offset + i]!) + offsetMin) - x[from + i]!);
      diff = useMad ? Math.abs(diff) : fround(diff * diff);
      error = fround(error + fround(weights[i]! * diff));
    }
    return error;
  };
  let iscale = fround(nmax / fround(max - min));
  let scale = fround(1 / iscale);
  levelsFor(iscale, L, at);
  let bestError = errorOf(scale, min, L, at);
  if (nstep < 1) return { scale, theMin: -min };
  const aux = new Uint8Array(n);
  for (let is = 0; is <= nstep; is++) {
    iscale = fround(fround(fround(rmin + fround(rdelta * is)) + nmax) / fround(max - min));
    levelsFor(iscale, aux, 0);
    let [sumL, sumL2, sumXL] = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const [l, w] = [aux[i]!, weights[i]!];
      sumL = fround(sumL + fround(w * l));
      sumL2 = fround(sumL2 + fround(fround(w * l) * l));
      sumXL = fround(sumXL + fround(fround(w * l) * x[from + i]!));
    }
    const D = fround(fround(sumW * sumL2) - fround(sumL * sumL));
    if (D > 0) {
      let thisScale = fround(fround(fround(sumW * sumXL) - fround(sumX * sumL)) / D);
      let thisMin = fround(fround(fround(sumL2 * sumX) - fround(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fround(sumXL / sumL2);
      }
      const error = errorOf(thisScale, thisMin, aux, 0);
      if (error < bestError) {
        L.set(aux, at);
        bestError = error;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  return { scale, theMin: -min };
}

/** Where a Q4_K/Q5_K block keeps its super-block scales and packed sub-block scales. */
export interface ScaleMinLayout {
  readonly d: number;
  readonly dmin: number;
  readonly scales: number;
}

/** HQQ's hooks into the K-quants' scale-and-minimum search. */
export interface ScaleMinRefiner {
  /**
   * Improves the sub-blocks' scales and minimums (x = scale·q − min, min ≥ 0; as many as `scales`
   * has, of 256 / that many values) of the 256 values at `x[from…]` in place, before they are
   * quantized to their codes.
   */
  subBlocks?(
    x: Float32Array,
    from: number,
    scales: Float32Array,
    mins: Float32Array,
    nmax: number,
  ): void;
  /**
   * Passes of a least-squares fit of the super-block's d and dmin to the 6-bit scales and
   * minimums and the levels, each followed by new levels (kept while the error falls).
   */
  readonly superBlockPasses: number;
}

/**
 * The part of ggml's Q4_K and Q5_K reference quantizers they share: for the 256 values at
 * `x[from…]`, each 32-value sub-block's scale and minimum (`make_qkx2_quants` weighted by
 * rms + |x|, then `refine`d where given), both quantized to 6 bits against the super-block's d
 * and dmin (written at `at`), then every value's level in 0…nmax into `L`.
 */
export function quantizeScaleMinBlock(
  x: Float32Array,
  from: number,
  view: DataView,
  at: number,
  layout: ScaleMinLayout,
  nmax: number,
  search: { readonly rmin: number; readonly nstep: number },
  L: Uint8Array,
  refine?: ScaleMinRefiner,
): void {
  const weights = new Float32Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const sub = from + 32 * j;
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) sumX2 = fround(sumX2 + fround(x[sub + l]! * x[sub + l]!));
    const avX = fround(Math.sqrt(fround(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = fround(avX + Math.abs(x[sub + l]!));
    const fit = makeQkx2Quants(
      32,
      nmax,
      x,
      sub,
      weights,
      L,
      32 * j,
      search.rmin,
      fround(0.1),
      search.nstep,
      false,
    );
    scales[j] = fit.scale;
    mins[j] = fit.theMin;
  }
  refine?.subBlocks?.(x, from, scales, mins, nmax);
  for (let j = 0; j < 8; j++) {
    if (scales[j]! > maxScale) maxScale = scales[j]!;
    if (mins[j]! > maxMin) maxMin = mins[j]!;
  }
  const invScale = maxScale > 0 ? fround(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fround(63 / maxMin) : 0;
  const packed = new Uint8Array(12);
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(fround(invScale * scales[j]!)) & 0xff);
    const lm = Math.min(63, nearestInt(fround(invMin * mins[j]!)) & 0xff);
    if (j < 4) {
      packed[j] = ls;
      packed[j + 4] = lm;
    } else {
      packed[j + 4] = (ls & 0x0f) | ((lm & 0x0f) << 4);
      packed[j - 4]! |= (ls >> 4) << 6;
      packed[j]! |= (lm >> 4) << 6;
    }
  }
  for (let i = 0; i < 12; i++) view.setUint8(at + layout.scales + i, packed[i]!);
  writeF16(view, at + layout.d, fround(maxScale / 63));
  writeF16(view, at + layout.dmin, fround(maxMin / 63));
  const levelsFor = (d: number, dmin: number) => {
    for (let j = 0; j < 8; j++) {
      const [sc, m] = scaleMinK4(packed, 0, j);
      const sd = fround(d * sc);
      if (!sd) continue;
      const dm = fround(dmin * m);
      for (let i = 0; i < 32; i++) {
        const l = nearestInt(fround(fround(x[from + 32 * j + i]! + dm) / sd));
        L[32 * j + i] = Math.max(0, Math.min(nmax, l));
      }
    }
  };
  levelsFor(readF16(view, at + layout.d), readF16(view, at + layout.dmin));
  const subBlocks = { count: 8, size: 32, codes: (j: number) => scaleMinK4(packed, 0, j) };
  for (let pass = 0; pass < (refine?.superBlockPasses ?? 0); pass++) {
    if (!refitSuperBlock(x, from, view, at, layout, subBlocks, L, levelsFor)) break;
  }
}

/** The sub-blocks of a K super-block: how many, their size, and each one's scale and min codes. */
export interface SubBlockCodes {
  readonly count: number;
  readonly size: number;
  codes(j: number): [number, number];
}

/** Squared error of a K super-block's 256 values decoded from d, dmin, the codes and L. */
function superBlockError(
  x: Float32Array,
  from: number,
  d: number,
  dmin: number,
  subBlocks: SubBlockCodes,
  L: Uint8Array,
): number {
  let error = 0;
  const n = subBlocks.size;
  for (let j = 0; j < subBlocks.count; j++) {
    const [sc, m] = subBlocks.codes(j);
    const [sd, dm] = [fround(d * sc), fround(dmin * m)];
    for (let i = 0; i < n; i++) error += (x[from + n * j + i]! - (sd * L[n * j + i]! - dm)) ** 2;
  }
  return error;
}

/**
 * One least-squares pass over a K super-block's d and dmin (x ≈ d·scale·L − dmin·min, the scale
 * and minimum codes and the levels fixed), then new levels for them (`levelsFor`). Keeps the
 * result (and returns true) only where the stored error falls.
 */
export function refitSuperBlock(
  x: Float32Array,
  from: number,
  view: DataView,
  at: number,
  layout: ScaleMinLayout,
  subBlocks: SubBlockCodes,
  L: Uint8Array,
  levelsFor: (d: number, dmin: number) => void,
): boolean {
  const [d0, dmin0] = [readF16(view, at + layout.d), readF16(view, at + layout.dmin)];
  const before = superBlockError(x, from, d0, dmin0, subBlocks, L);
  let [saa, sab, sbb, sax, sbx] = [0, 0, 0, 0, 0];
  const n = subBlocks.size;
  for (let j = 0; j < subBlocks.count; j++) {
    const [sc, m] = subBlocks.codes(j);
    for (let i = 0; i < n; i++) {
      const [a, b, value] = [sc * L[n * j + i]!, -m, x[from + n * j + i]!];
      saa += a * a;
      sab += a * b;
      sbb += b * b;
      sax += a * value;
      sbx += b * value;
    }
  }
  const det = saa * sbb - sab * sab;
  if (det <= 0) return false;
  const d = (sax * sbb - sbx * sab) / det;
  const dmin = (saa * sbx - sab * sax) / det;
  if (!(d > 0) || !(dmin >= 0)) return false;
  const saved = L.slice();
  writeF16(view, at + layout.d, d);
  writeF16(view, at + layout.dmin, dmin);
  const [d1, dmin1] = [readF16(view, at + layout.d), readF16(view, at + layout.dmin)];
  levelsFor(d1, dmin1);
  if (superBlockError(x, from, d1, dmin1, subBlocks, L) < before) return true;
  L.set(saved);
  writeF16(view, at + layout.d, d0);
  writeF16(view, at + layout.dmin, dmin0);
  return false;
}

/**
 * ggml's `make_q3_quants(n, nmax, x, L, do_rmse = true)`: symmetric levels `L[at…]` in 0…2·nmax−1
 * for `n` values from `x[from…]`, first rounded against the extreme value, then improved one
 * level at a time (up to five passes) while the x²-weighted least-squares fit gets better.
 * Returns the scale.
 */
export function makeQ3Quants(
  n: number,
  nmax: number,
  x: Float32Array,
  from: number,
  L: Int8Array,
  at: number,
): number {
  const max = largestMagnitude(x, from, n);
  const amax = Math.abs(max);
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, at, at + n);
    return 0;
  }
  const clamp = (l: number) => Math.max(-nmax, Math.min(nmax - 1, l));
  const iscale = fround(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[from + i]!;
    const l = clamp(nearestInt(fround(iscale * v)));
    L[at + i] = l;
    const w = fround(v * v);
    sumlx = fround(sumlx + fround(fround(w * v) * l));
    suml2 = fround(suml2 + fround(fround(w * l) * l));
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const v = x[from + i]!;
      const w = fround(v * v);
      const old = L[at + i]!;
      let slx = fround(sumlx - fround(fround(w * v) * old));
      if (slx > 0) {
        let sl2 = fround(suml2 - fround(fround(w * old) * old));
        const level = clamp(nearestInt(fround(fround(v * sl2) / slx)));
        if (level !== old) {
          slx = fround(slx + fround(fround(w * v) * level));
          sl2 = fround(sl2 + fround(fround(w * level) * level));
          if (
            sl2 > 0 &&
            fround(fround(slx * slx) * suml2) > fround(fround(sumlx * sumlx) * sl2)
          ) {
            L[at + i] = level;
            sumlx = slx;
            suml2 = sl2;
            changed++;
          }
        }
      }
    }
    if (!changed) break;
  }
  for (let i = 0; i < n; i++) L[at + i] = L[at + i]! + nmax;
  return fround(sumlx / suml2);
}

/**
 * Packs 256 two-bit levels as Q2_K and Q3_K store them: byte l of each 128-value half's 32 bytes
 * holds elements l, l+32, l+64 and l+96 in bits 0–1, 2–3, 4–5 and 6–7.
 */
export function writeTwoBits(view: DataView, qs: number, levels: ArrayLike<number>): void {
  for (let half = 0; half < 2; half++) {
    const j = half * 128;
    for (let l = 0; l < 32; l++) {
      view.setUint8(
        qs + half * 32 + l,
        levels[j + l]! | (levels[j + l + 32]! << 2) | (levels[j + l + 64]! << 4) |
          (levels[j + l + 96]! << 6),
      );
    }
  }
}

/**
 * ggml's `make_qp_quants(n, nmax, x, L, quant_weights)`: levels `L` (bytes: a negative level
 * wraps, as in ggml's uint8_t array) in 0…nmax for the non-negative `x`, the scale first from
 * the largest value, then the best of 8 nearby inverse scales by weighted error, then up to five
 * passes moving single levels while the least-squares fit improves. Returns the scale.
 */
export function makeQpQuants(
  n: number,
  nmax: number,
  x: Float32Array,
  L: Uint8Array,
  weights: Float32Array,
): number {
  let max = 0;
  for (let i = 0; i < n; i++) max = max > x[i]! ? max : x[i]!;
  if (max < GROUP_MAX_EPS) {
    L.fill(0, 0, n);
    return 0;
  }
  let iscale = fround(nmax / max);
  for (let i = 0; i < n; i++) L[i] = nearestInt(fround(iscale * x[i]!));
  const scale = fround(1 / iscale);
  let bestMse = 0;
  for (let i = 0; i < n; i++) {
    const diff = fround(x[i]! - fround(scale * L[i]!));
    bestMse = fround(bestMse + fround(fround(weights[i]! * diff) * diff));
  }
  for (let is = -4; is <= 4; is++) {
    if (is === 0) continue;
    const iscaleIs = fround(fround(fround(fround(0.1) * is) + nmax) / max);
    const scaleIs = fround(1 / iscaleIs);
    let mse = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.min(nmax, nearestInt(fround(iscaleIs * x[i]!)));
      const diff = fround(x[i]! - fround(scaleIs * l));
      mse = fround(mse + fround(fround(weights[i]! * diff) * diff));
    }
    if (mse < bestMse) {
      bestMse = mse;
      iscale = iscaleIs;
    }
  }
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const l = Math.min(nmax, nearestInt(fround(iscale * x[i]!)));
    L[i] = l;
    sumlx = fround(sumlx + fround(fround(weights[i]! * x[i]!) * l));
    suml2 = fround(suml2 + fround(fround(weights[i]! * l) * l));
  }
  for (let pass = 0; pass < 5; pass++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      let slx = fround(sumlx - fround(fround(w * x[i]!) * L[i]!));
      let sl2 = fround(suml2 - fround(fround(w * L[i]!) * L[i]!));
      if (slx > 0 && sl2 > 0) {
        const l = Math.min(nmax, nearestInt(fround(fround(x[i]! * sl2) / slx)));
        if (l !== L[i]) {
          slx = fround(slx + fround(fround(w * x[i]!) * l));
          sl2 = fround(sl2 + fround(fround(w * l) * l));
          if (fround(fround(slx * slx) * suml2) > fround(fround(sumlx * sumlx) * sl2)) {
            L[i] = l;
            sumlx = slx;
            suml2 = sl2;
            changed++;
          }
        }
      }
    }
    if (!changed) break;
  }
  return fround(sumlx / suml2);
}
