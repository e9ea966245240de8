/**
 * ggml's IQ2_XS and IQ2_S quantizers (`quantize_row_iq2_xs_impl`, `quantize_row_iq2_s_impl`), bit
 * for bit. IQ2_XS with an importance matrix of ones: ggml quantizes that type only with one
 * (llama-quantize refuses it without `--imatrix`), and with every column equally important each
 * value's weight is √(σ² + x²), σ² the super-block's mean square. IQ2_S as ggml does without one:
 * σ²/2 + x².
 * @module
 */
import { writeF16 } from "./float.ts";
import { IQ2S_GRID, IQ2XS_GRID } from "./_iq_grids.ts";
import { foldSigns, lattice, pointOf, searchGroup, SearchState } from "./_iq_search.ts";
import { GROUP_MAX_EPS, nearestInt } from "./_k_quants.ts";

const fround = Math.fround;

/** Codes of 8 two-bit levels that ggml's IQ2 search visits (ggml's `kmap_size`). */
export const IQ2_CODES = 43692;

const xval = new Float32Array(16);
const weight = new Float32Array(16);
const waux = new Float32Array(16);
const scales = new Float32Array(16);
const state = new SearchState(16, 2);
const search = { maxQ: 3, tries: 9, step: fround(0.1), startOnGrid: true, refitAll: false };

/** The mean square of the 256 values at `x[from…]`, in f32 as ggml sums it. */
export function meanSquare(x: Float32Array, from: number): number {
  let sum = 0;
  for (let i = 0; i < 256; i++) sum = fround(sum + fround(x[from + i]! * x[from + i]!));
  return fround(sum / 256);
}

/** Encodes the 256 values at `x[from…]` as the IQ2_XS block at `at` (d, qs 64, scales 8). */
export function encodeIq2Xs(x: Float32Array, from: number, view: DataView, at: number): void {
  const lat = lattice(IQ2XS_GRID, 2, IQ2_CODES);
  for (let i = 0; i < 74; i++) view.setUint8(at + i, 0);
  const sigma2 = meanSquare(x, from);
  let maxScale = 0;
  for (let half = 0; half < 16; half++) {
    const start = from + 16 * half;
    for (let i = 0; i < 16; i++) {
      weight[i] = fround(Math.sqrt(fround(sigma2 + fround(x[start + i]! * x[start + i]!))));
      waux[i] = fround(Math.sqrt(weight[i]!));
    }
    const signs = [0, 1].map((k) => foldSigns(x, start + 8 * k, weight, xval, 8 * k, true) & 127);
    let max = xval[0]!;
    for (let i = 1; i < 16; i++) max = xval[i]! > max ? xval[i]! : max;
    if (max < GROUP_MAX_EPS) {
      scales[half] = 0;
      state.L.fill(0);
      continue;
    }
    let scale = searchGroup(lat, search, 16, xval, weight, waux, max, state);
    if (scale < 0) { // never seen, kept as ggml has it: flip the scale and the signs
      scale = -scale;
      for (let k = 0; k < 2; k++) signs[k] = ~signs[k]! & 127;
    }
    for (let k = 0; k < 2; k++) {
      view.setUint16(
        at + 2 + 2 * (2 * half + k),
        pointOf(lat, state.L, 8 * k) | (signs[k]! << 9),
        true,
      );
    }
    scales[half] = scale;
    maxScale = Math.max(maxScale, scale);
  }
  if (!maxScale) {
    for (let i = 2; i < 66; i++) view.setUint8(at + i, 0);
    return;
  }
  const d = fround(maxScale / 31);
  writeF16(view, at, d);
  writeScaleNibbles(view, at + 66, fround(1 / d));
}

/** The 16 groups' scales as 4-bit codes ((2l + 1)·d/2 nearest), two to a byte from `bytes`. */
function writeScaleNibbles(view: DataView, bytes: number, id: number): void {
  for (let half = 0; half < 16; half++) {
    const l = nearestInt(fround(0.5 * fround(fround(id * scales[half]!) - 1)));
    const byte = bytes + (half >> 1);
    const code = Math.max(0, Math.min(15, l)) << (4 * (half & 1));
    view.setUint8(byte, (half & 1 ? view.getUint8(byte) : 0) | code);
  }
}
/** ggml's `GROUP_MAX_EPS_IQ2_S`. */
const EPS_IQ2_S = fround(1e-8);
const sState = new SearchState(16, 2);

/**
 * Encodes the 256 values at `x[from…]` as the IQ2_S block at `at` (d, qs 32 + signs 32, qh 8,
 * scales 8).
 */
export function encodeIq2S(x: Float32Array, from: number, view: DataView, at: number): void {
  const lat = lattice(IQ2S_GRID, 1, IQ2_CODES);
  const [qs, signBytes, qh, scaleBytes] = [at + 2, at + 34, at + 66, at + 74];
  for (let i = 0; i < 82; i++) view.setUint8(at + i, 0);
  const quarterSigma2 = fround(0.25 * fround(2 * meanSquare(x, from)));
  let maxScale = 0;
  for (let half = 0; half < 16; half++) {
    const start = from + 16 * half;
    for (let i = 0; i < 16; i++) {
      weight[i] = fround(quarterSigma2 + fround(x[start + i]! * x[start + i]!));
      waux[i] = fround(Math.sqrt(weight[i]!));
    }
    const signs = [0, 1].map((k) => foldSigns(x, start + 8 * k, weight, xval, 8 * k, false));
    let max = xval[0]!;
    for (let i = 1; i < 16; i++) max = xval[i]! > max ? xval[i]! : max;
    if (max < EPS_IQ2_S) {
      scales[half] = 0;
      continue;
    }
    let scale = searchGroup(lat, search, 16, xval, weight, waux, max, sState);
    if (scale < 0) {
      scale = -scale;
      for (let k = 0; k < 2; k++) signs[k] = ~signs[k]! & 255;
    }
    for (let k = 0; k < 2; k++) {
      const point = pointOf(lat, sState.L, 8 * k);
      const i8 = 2 * half + k;
      view.setUint8(qs + i8, point & 255);
      const high = qh + (i8 >> 2);
      view.setUint8(high, view.getUint8(high) | ((point >> 8) << (2 * (i8 & 3))));
      view.setUint8(signBytes + i8, signs[k]!);
    }
    scales[half] = scale;
    maxScale = Math.max(maxScale, scale);
  }
  if (!maxScale) return;
  const d = fround(maxScale / 31);
  writeF16(view, at, fround(d * fround(0.9875))); // ggml's fudge factor
  writeScaleNibbles(view, scaleBytes, fround(1 / d));
}
