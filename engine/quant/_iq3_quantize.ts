/**
 * ggml's IQ3_XXS and IQ3_S quantizers (`quantize_row_iq3_xxs_impl`, `quantize_row_iq3_s_impl`,
 * as `quantize_iq3_xxs`/`quantize_iq3_s` run them without an importance matrix: each value
 * weighted by its square), bit for bit — but for one thing: after a 32-value group of zeros,
 * ggml's IQ3_S writes the rest of the super-block's indexes and signs one group early (it skips
 * the group without advancing its pointers), so they decode as the wrong points; here every
 * group's bytes go where the decoder reads them.
 * @module
 */
import { writeF16 } from "./float.ts";
import { IQ3S_GRID, IQ3XXS_GRID } from "./_iq_grids.ts";
import {
  foldSigns,
  largestFolded,
  lattice,
  oddScaleCode,
  pointOf,
  searchGroup,
  SearchState,
} from "./_iq_search.ts";

const fround = Math.fround;
/** ggml's `GROUP_MAX_EPS_IQ3_XXS`. */
const EPS_IQ3_XXS = fround(1e-8);

/** Per-group scratch, reused (encoding is synchronous). */
const xval = new Float32Array(32);
const weight = new Float32Array(32);
const waux = new Float32Array(32);
const scales = new Float32Array(8);

/** Each value's weight (its square) and its square root, for the group at `x[from…]`. */
function weigh(x: Float32Array, from: number): void {
  for (let i = 0; i < 32; i++) {
    weight[i] = fround(x[from + i]! * x[from + i]!);
    waux[i] = fround(Math.sqrt(weight[i]!));
  }
}

/** A group's 4-bit scale code. */
const scaleCode = (id: number, scale: number) => oddScaleCode(id, scale, 15);

const xxsState = new SearchState(32, 8);
const xxsSearch = { maxQ: 8, tries: 15, step: fround(0.2), refitAll: false };

/** Encodes the 256 values at `x[from…]` as the IQ3_XXS block at `at` (d, then 96 bytes). */
export function encodeIq3Xxs(x: Float32Array, from: number, view: DataView, at: number): void {
  const lat = lattice(IQ3XXS_GRID, 2, 4096);
  const qs = at + 2;
  const signsAndScales = new Uint32Array(8);
  for (let i = 0; i < 96; i++) view.setUint8(qs + i, 0);
  let maxScale = 0;
  for (let group = 0; group < 8; group++) {
    const start = from + 32 * group;
    weigh(x, start);
    const signs = [0, 1, 2, 3].map((k) =>
      foldSigns(x, start + 8 * k, weight, xval, 8 * k, true) & 127
    );
    const max = largestFolded(xval, 32);
    if (max < EPS_IQ3_XXS) {
      scales[group] = 0;
      xxsState.L.fill(0);
      continue;
    }
    let scale = searchGroup(lat, xxsSearch, 32, xval, weight, waux, max, xxsState);
    if (scale < 0) { // never seen, kept as ggml has it: flip the scale and the signs
      scale = -scale;
      for (let k = 0; k < 4; k++) signs[k] = ~signs[k]! & 127;
    }
    for (let k = 0; k < 8; k++) view.setUint8(qs + 8 * group + k, pointOf(lat, xxsState.L, 4 * k));
    signsAndScales[group] = signs[0]! | (signs[1]! << 7) | (signs[2]! << 14) | (signs[3]! << 21);
    scales[group] = scale;
    maxScale = Math.max(maxScale, scale);
  }
  if (!maxScale) {
    writeF16(view, at, 0);
    return;
  }
  const d = fround(maxScale / 31);
  writeF16(view, at, fround(d * fround(1.0125))); // ggml's fudge factor
  const id = fround(1 / d);
  for (let group = 0; group < 8; group++) {
    const word = (signsAndScales[group]! | (scaleCode(id, scales[group]!) << 28)) >>> 0;
    view.setUint32(qs + 64 + 4 * group, word, true);
  }
}

const sState = new SearchState(32, 8);
const sSearch = { maxQ: 8, tries: 9, step: fround(0.2), startOnGrid: false, refitAll: true };

/**
 * Encodes the 256 values at `x[from…]` as the IQ3_S block at `at` (d, qs 64, qh 8, signs 32,
 * scales 4).
 */
export function encodeIq3S(x: Float32Array, from: number, view: DataView, at: number): void {
  const lat = lattice(IQ3S_GRID, 3, 4096);
  const [qs, qh, signBytes, scaleBytes] = [at + 2, at + 66, at + 74, at + 106];
  for (let i = 0; i < 110; i++) view.setUint8(at + i, 0);
  let maxScale = 0;
  for (let group = 0; group < 8; group++) {
    const start = from + 32 * group;
    weigh(x, start);
    const signs = [0, 1, 2, 3].map((k) => foldSigns(x, start + 8 * k, weight, xval, 8 * k, false));
    const max = largestFolded(xval, 32);
    if (!max) {
      scales[group] = 0;
      continue;
    }
    let scale = searchGroup(lat, sSearch, 32, xval, weight, waux, max, sState);
    if (scale < 0) {
      scale = -scale;
      for (let k = 0; k < 4; k++) signs[k] = ~signs[k]! & 255;
    }
    for (let k = 0; k < 8; k++) {
      const point = pointOf(lat, sState.L, 4 * k);
      view.setUint8(qs + 8 * group + k, point & 255);
      view.setUint8(qh + group, view.getUint8(qh + group) | ((point >> 8) << k));
    }
    for (let k = 0; k < 4; k++) view.setUint8(signBytes + 4 * group + k, signs[k]!);
    scales[group] = scale;
    maxScale = Math.max(maxScale, scale);
  }
  if (!maxScale) return;
  const d = fround(maxScale / 31);
  writeF16(view, at, fround(d * fround(1.033))); // ggml's fudge factor
  const id = fround(1 / d);
  for (let pair = 0; pair < 4; pair++) {
    const low = scaleCode(id, scales[2 * pair]!);
    view.setUint8(scaleBytes + pair, low | (scaleCode(id, scales[2 * pair + 1]!) << 4));
  }
}
