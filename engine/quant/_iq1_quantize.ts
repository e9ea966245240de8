/**
 * ggml's IQ1_S and IQ1_M quantizers (`quantize_row_iq1_s_impl`, `quantize_row_iq1_m_impl`), bit
 * for bit. IQ1_S with an importance matrix of ones (ggml quantizes it only with one): each
 * value's weight is √(σ² + x²), σ² twice the super-block's mean square; IQ1_M as ggml does
 * without one: each value weighted by its square.
 *
 * With three levels (−1, 0, 1, each shifted by ±1/8) a group's best split can be found exactly:
 * the values sorted, every pair of boundaries is scored, for either shift (IQ1_M: a shift per
 * half group, four combinations). The levels then go onto IQ1S_GRID (the nearest listed
 * neighbour where the combination is not a point), and the group's scale is re-fitted where that
 * moved any.
 * @module
 */
import { writeF16 } from "./float.ts";
import { IQ1S_DELTA, IQ1S_GRID } from "./_iq_grids.ts";
import { IQ2_CODES, meanSquare } from "./_iq2_quantize.ts";
import { type Lattice, lattice, oddScaleCode, unitImportanceWeight } from "./_iq_search.ts";

const fround = Math.fround;
/** ggml's `GROUP_MAX_EPS_IQ1_S`. */
const EPS_IQ1_S = fround(1e-12);
/** The levels with the shift up, and down. */
type Levels = readonly [number, number, number];
const SHIFTED_UP: Levels = [-1 + IQ1S_DELTA, IQ1S_DELTA, 1 + IQ1S_DELTA];
const SHIFTED_DOWN: Levels = [-1 - IQ1S_DELTA, -IQ1S_DELTA, 1 - IQ1S_DELTA];

const weight = new Float32Array(32);
const sumX = new Float32Array(33);
const sumW = new Float32Array(33);
const L = new Int8Array(32);
const scales = new Float32Array(16);
/**
 * Each group's shift (+1 up, −1 down), kept across blocks as ggml's array is: a group of zeros
 * leaves the one before it (IQ1_M keeps its own, below).
 */
const shifts = new Int8Array(8);

/**
 * ggml's `iq1_find_best_neighbour2`: of an off-grid code's neighbours, the point whose shifted
 * levels `levels` under `scale` are nearest to `x[from…]` (weighted); its levels into `L[at…]`.
 */
function bestNeighbour(
  lat: Lattice,
  start: number,
  x: Float32Array,
  from: number,
  at: number,
  scale: number,
  levels: readonly number[],
): number {
  let best = Infinity;
  let index = -1;
  for (let j = 1; j <= lat.neighbours[start]!; j++) {
    const p = lat.neighbours[start + j]!;
    let d2 = 0;
    for (let i = 0; i < 8; i++) {
      const q = levels[(lat.points[8 * p + i]! - 1) / 2]!;
      const diff = fround(fround(scale * q) - x[from + i]!);
      d2 = fround(d2 + fround(fround(weight[at + i]! * diff) * diff));
    }
    if (d2 < best) {
      best = d2;
      index = p;
    }
  }
  for (let i = 0; i < 8; i++) L[at + i] = (lat.points[8 * index + i]! - 1) / 2;
  return index;
}

/** Encodes the 256 values at `x[from…]` as the IQ1_S block at `at` (d, qs 32, qh 8 × u16). */
export function encodeIq1S(x: Float32Array, from: number, view: DataView, at: number): void {
  const lat = lattice(IQ1S_GRID, 3, IQ2_CODES);
  for (let i = 0; i < 50; i++) view.setUint8(at + i, 0);
  const sigma2 = fround(2 * meanSquare(x, from));
  const order = Array.from({ length: 32 }, (_, i) => i);
  const index = new Uint16Array(4);
  let maxScale = 0;
  for (let group = 0; group < 8; group++) {
    const xb = from + 32 * group;
    let max = 0;
    for (let i = 0; i < 32; i++) {
      weight[i] = unitImportanceWeight(sigma2, x[xb + i]!);
      max = i === 0 || Math.abs(x[xb + i]!) > max ? Math.abs(x[xb + i]!) : max;
    }
    if (max < EPS_IQ1_S) {
      scales[group] = 0;
      L.fill(1);
      continue;
    }
    // the exact split: values in ascending order (a stable sort, as glibc's qsort sorts these)
    order.sort((a, b) => x[xb + a]! - x[xb + b]!);
    for (let j = 0; j < 32; j++) {
      const i = order[j]!;
      sumX[j + 1] = fround(sumX[j]! + fround(weight[i]! * x[xb + i]!));
      sumW[j + 1] = fround(sumW[j]! + weight[i]!);
    }
    let [best, scale, first, second, shift] = [-1.1754943508222875e-38, max, -1, -1, 0];
    for (let i1 = 0; i1 <= 32; i1++) {
      for (let i2 = i1; i2 <= 32; i2++) {
        for (const [levels, sign] of [[SHIFTED_UP, 1], [SHIFTED_DOWN, -1]] as const) {
          const [low, middle, high] = [
            fround(sumX[i1]! - sumX[0]!),
            fround(sumX[i2]! - sumX[i1]!),
            fround(sumX[32]! - sumX[i2]!),
          ];
          const sumqx = fround(
            fround(fround(low * levels[0]) + fround(middle * levels[1])) + fround(high * levels[2]),
          );
          const [wLow, wMiddle, wHigh] = [
            fround(sumW[i1]! - sumW[0]!),
            fround(sumW[i2]! - sumW[i1]!),
            fround(sumW[32]! - sumW[i2]!),
          ];
          const sumq2 = fround(
            fround(
              fround(fround(wLow * levels[0]) * levels[0]) +
                fround(fround(wMiddle * levels[1]) * levels[1]),
            ) + fround(fround(wHigh * levels[2]) * levels[2]),
          );
          if (sumq2 > 0 && fround(sumqx * sumqx) > fround(best * sumq2)) {
            scale = fround(sumqx / sumq2);
            best = fround(scale * sumqx);
            [first, second, shift] = [i1, i2, sign];
          }
        }
      }
    }
    for (let j = 0; j < 32; j++) L[order[j]!] = j < first ? 0 : j < second ? 1 : 2;
    if (scale < 0) {
      for (let j = 0; j < 32; j++) L[j] = 2 - L[j]!;
      scale = -scale;
      shift = -shift;
    }
    const levels = shift === 1 ? SHIFTED_UP : SHIFTED_DOWN;
    let allOnGrid = true;
    for (let k = 0; k < 4; k++) {
      let code = 0;
      for (let j = 0; j < 8; j++) code |= L[8 * k + j]! << (2 * j);
      let point = lat.map[code]!;
      if (point < 0) {
        allOnGrid = false;
        point = bestNeighbour(lat, -point - 1, x, xb + 8 * k, 8 * k, scale, levels);
      }
      index[k] = point;
    }
    if (!allOnGrid) {
      let [sumqx, sumq2] = [0, 0];
      for (let k = 0; k < 4; k++) {
        for (let j = 0; j < 8; j++) {
          const w = weight[8 * k + j]!;
          const q = levels[(lat.points[8 * index[k]! + j]! - 1) / 2]!;
          sumqx = fround(sumqx + fround(fround(w * q) * x[xb + 8 * k + j]!));
          sumq2 = fround(sumq2 + fround(fround(w * q) * q));
        }
      }
      if (sumqx > 0 && sumq2 > 0) scale = fround(sumqx / sumq2);
    }
    let high = 0;
    for (let k = 0; k < 4; k++) {
      view.setUint8(at + 2 + 4 * group + k, index[k]! & 255);
      high |= (index[k]! >> 8) << (3 * k);
    }
    view.setUint16(at + 34 + 2 * group, high, true);
    scales[group] = scale;
    shifts[group] = shift;
    maxScale = Math.max(maxScale, scale);
  }
  if (!maxScale) return;
  const d = fround(maxScale / 15);
  writeF16(view, at, fround(d * fround(1.125))); // ggml's fudge factor
  const id = fround(1 / d);
  for (let group = 0; group < 8; group++) {
    const l = oddScaleCode(id, scales[group]!, 7) | (shifts[group] === -1 ? 8 : 0);
    const qh = at + 34 + 2 * group;
    view.setUint16(qh, view.getUint16(qh, true) | (l << 12), true);
  }
}

/** ggml's `GROUP_MAX_EPS_IQ1_M`. */
const EPS_IQ1_M = fround(1e-7);
/** IQ1_M's shift combination of each group (as `shifts`). */
const combinations = new Int8Array(16);
/** IQ1_M's shift combinations (first half, second half: 0 ++, 1 +−, 2 −+, 3 −−) as qh bits. */
const SHIFT_BITS = [0x00, 0x80, 0x08, 0x88];
/** The levels of half `k` of an IQ1_M group under shift combination `shift`. */
const halfLevels = (shift: number, k: number) =>
  (k === 0 ? shift < 2 : shift % 2 === 0) ? SHIFTED_UP : SHIFTED_DOWN;

/** IQ1_M's weights for the 16 values at `x[xb…]`: their squares. */
function weighIq1m(x: Float32Array, xb: number): void {
  for (let i = 0; i < 16; i++) weight[i] = fround(x[xb + i]! * x[xb + i]!);
}

/**
 * Encodes the 256 values at `x[from…]` as the IQ1_M block at `at` (qs 32, qh 16, scales 8 with
 * the f16 d in their top nibbles).
 */
export function encodeIq1M(x: Float32Array, from: number, view: DataView, at: number): void {
  const lat = lattice(IQ1S_GRID, 3, IQ2_CODES);
  for (let i = 0; i < 56; i++) view.setUint8(at + i, 0);
  const [qs, qh, scaleWords] = [at, at + 32, at + 48];
  const order = Array.from({ length: 16 }, (_, i) => i);
  const index = new Uint16Array(2);
  const sumqx = new Float32Array(4);
  const sumq2 = new Float32Array(4);
  let maxScale = 0;
  for (let group = 0; group < 16; group++) {
    const xb = from + 16 * group;
    weighIq1m(x, xb);
    let max = Math.abs(x[xb]!);
    for (let i = 1; i < 16; i++) max = Math.abs(x[xb + i]!) > max ? Math.abs(x[xb + i]!) : max;
    if (max < EPS_IQ1_M) {
      scales[group] = 0;
      L.fill(1);
      continue;
    }
    order.sort((a, b) => x[xb + a]! - x[xb + b]!);
    let [best, scale, first, second, bestShift] = [-1.1754943508222875e-38, max, -1, -1, -1];
    for (let i1 = 0; i1 <= 16; i1++) {
      for (let i2 = i1; i2 <= 16; i2++) {
        sumqx.fill(0);
        sumq2.fill(0);
        for (let j = 0; j < 16; j++) {
          const i = order[j]!;
          const level = j < i1 ? 0 : j < i2 ? 1 : 2;
          const [w, value] = [weight[i]!, x[xb + i]!];
          for (let k = 0; k < 4; k++) {
            // the first half's values take the first shift of combination k, the rest the second
            const up = i < 8 ? k < 2 : k % 2 === 0;
            const q = (up ? SHIFTED_UP : SHIFTED_DOWN)[level];
            sumqx[k] = fround(sumqx[k]! + fround(fround(w * q) * value));
            sumq2[k] = fround(sumq2[k]! + fround(fround(w * q) * q));
          }
        }
        for (let k = 0; k < 4; k++) {
          if (sumq2[k]! > 0 && fround(sumqx[k]! * sumqx[k]!) > fround(best * sumq2[k]!)) {
            scale = fround(sumqx[k]! / sumq2[k]!);
            best = fround(scale * sumqx[k]!);
            [first, second, bestShift] = [i1, i2, k];
          }
        }
      }
    }
    for (let j = 0; j < 16; j++) L[order[j]!] = j < first ? 0 : j < second ? 1 : 2;
    if (scale < 0) {
      for (let j = 0; j < 16; j++) L[j] = 2 - L[j]!;
      scale = -scale;
      bestShift = 3 - bestShift;
    }
    let allOnGrid = true;
    for (let k = 0; k < 2; k++) {
      let code = 0;
      for (let j = 0; j < 8; j++) code |= L[8 * k + j]! << (2 * j);
      let point = lat.map[code]!;
      if (point < 0) {
        allOnGrid = false;
        const levels = halfLevels(bestShift, k);
        point = bestNeighbour(lat, -point - 1, x, xb + 8 * k, 8 * k, scale, levels);
      }
      index[k] = point;
    }
    if (!allOnGrid) {
      let [fitqx, fitq2] = [0, 0];
      for (let k = 0; k < 2; k++) {
        const levels = halfLevels(bestShift, k);
        for (let j = 0; j < 8; j++) {
          const w = weight[8 * k + j]!;
          const q = levels[(lat.points[8 * index[k]! + j]! - 1) / 2]!;
          fitqx = fround(fitqx + fround(fround(w * q) * x[xb + 8 * k + j]!));
          fitq2 = fround(fitq2 + fround(fround(w * q) * q));
        }
      }
      if (fitqx > 0 && fitq2 > 0) scale = fround(fitqx / fitq2);
    }
    view.setUint8(qs + 2 * group, index[0]! & 255);
    view.setUint8(qs + 2 * group + 1, index[1]! & 255);
    view.setUint8(qh + group, (index[0]! >> 8) | ((index[1]! >> 8) << 4));
    scales[group] = scale;
    combinations[group] = bestShift;
    maxScale = Math.max(maxScale, scale);
  }
  if (!maxScale) return;
  // the 3-bit scales, then d refitted to the stored points and scales
  let d = fround(maxScale / 15);
  const id = fround(1 / d);
  const words = new Uint16Array(4);
  let [fitqx, fitq2] = [0, 0];
  for (let group = 0; group < 16; group++) {
    const l = oddScaleCode(id, scales[group]!, 7);
    words[group >> 2] = words[group >> 2]! | (l << (3 * (group & 3)));
    const bits = view.getUint8(qh + group) | SHIFT_BITS[combinations[group]!]!;
    view.setUint8(qh + group, bits);
    const xb = from + 16 * group;
    weighIq1m(x, xb);
    for (let k = 0; k < 2; k++) {
      const levels = halfLevels(combinations[group]!, k);
      const point = view.getUint8(qs + 2 * group + k) + ((bits << (8 - 4 * k)) & 0x700);
      for (let j = 0; j < 8; j++) {
        const w = weight[8 * k + j]!;
        const q = fround(levels[(lat.points[8 * point + j]! - 1) / 2]! * (2 * l + 1));
        fitqx = fround(fitqx + fround(fround(w * q) * x[xb + 8 * k + j]!));
        fitq2 = fround(fitq2 + fround(fround(w * q) * q));
      }
    }
  }
  if (fitq2 > 0) d = fround(fitqx / fitq2);
  const scaleView = new DataView(new ArrayBuffer(2));
  writeF16(scaleView, 0, fround(d * fround(1.1125))); // ggml's fudge factor
  const bits = scaleView.getUint16(0, true);
  for (let k = 0; k < 4; k++) {
    view.setUint16(scaleWords + 2 * k, words[k]! | (((bits >> (4 * k)) & 0xf) << 12), true);
  }
}
