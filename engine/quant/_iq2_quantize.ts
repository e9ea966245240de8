/**
 * ggml's IQ2_XXS, IQ2_XS and IQ2_S quantizers (`quantize_row_iq2_xxs_impl` …), bit for bit.
 * IQ2_XXS and IQ2_XS with an importance matrix of ones: ggml quantizes those types only with one
 * (llama-quantize refuses them without `--imatrix`), and with every column equally important each
 * value's weight is √(σ² + x²), σ² the super-block's mean square. IQ2_S as ggml does without one:
 * σ²/2 + x².
 * @module
 */
import { writeF16 } from "./float.ts";
import { IQ2S_GRID, IQ2XS_GRID, IQ2XXS_GRID } from "./_iq_grids.ts";
import {
  bestNeighbour,
  fitSums,
  foldSigns,
  largestFolded,
  type Lattice,
  lattice,
  levelsFor,
  oddScaleCode,
  pointOf,
  searchGroup,
  SearchState,
  unitImportanceWeight,
} from "./_iq_search.ts";
import { GROUP_MAX_EPS, makeQpQuants } from "./_k_quants.ts";

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
      weight[i] = unitImportanceWeight(sigma2, x[start + i]!);
      waux[i] = fround(Math.sqrt(weight[i]!));
    }
    const signs = [0, 1].map((k) => foldSigns(x, start + 8 * k, weight, xval, 8 * k, true) & 127);
    const max = largestFolded(xval, 16);
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
    const byte = bytes + (half >> 1);
    const code = oddScaleCode(id, scales[half]!, 15) << (4 * (half & 1));
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
    const max = largestFolded(xval, 16);
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

const xxsX = new Float32Array(32);
const xxsWeight = new Float32Array(32);
const xxsWaux = new Float32Array(32);
const xxsScales = new Float32Array(8);
const xxsL = new Int8Array(32);
const xxsTrial = new Int8Array(32);
const qpLevels = new Uint8Array(32);

/** Puts the 4 points of `xval` at inverse scale `id` on the grid into `L`. */
function onGrid(lat: Lattice, id: number, scale: number, L: Int8Array): void {
  for (let k = 0; k < 4; k++) {
    const point = lat.map[levelsFor(lat, xxsX, 8 * k, id, 3, L)]!;
    if (point < 0) bestNeighbour(lat, -point - 1, xxsX, xxsWaux, 8 * k, scale, L);
  }
}

/** Encodes the 256 values at `x[from…]` as the IQ2_XXS block at `at` (d, then 8 × 8 bytes). */
export function encodeIq2Xxs(x: Float32Array, from: number, view: DataView, at: number): void {
  const lat = lattice(IQ2XXS_GRID, 2, IQ2_CODES);
  const words = new Uint32Array(16);
  const sigma2 = meanSquare(x, from);
  let maxScale = 0;
  for (let group = 0; group < 8; group++) {
    const start = from + 32 * group;
    for (let i = 0; i < 32; i++) {
      xxsWeight[i] = unitImportanceWeight(sigma2, x[start + i]!);
      xxsWaux[i] = fround(Math.sqrt(xxsWeight[i]!));
    }
    const signs = [0, 1, 2, 3].map((k) =>
      foldSigns(x, start + 8 * k, xxsWeight, xxsX, 8 * k, true) & 127
    );
    const max = largestFolded(xxsX, 32);
    if (max < GROUP_MAX_EPS) {
      xxsScales[group] = 0;
      xxsL.fill(0);
      continue;
    }
    // a first scale from the levels 0…4 of the values, then trials around it
    let scale = makeQpQuants(32, 4, xxsX, qpLevels, xxsWeight);
    const effectiveMax = fround(scale * 3);
    let best = 0;
    for (let t = -6; t <= 6; t++) {
      const id = fround(fround(5 + fround(t * fround(0.1))) / effectiveMax);
      onGrid(lat, id, fround(1 / id), xxsTrial);
      const [sumqx, sumq2] = fitSums(32, xxsX, xxsWeight, xxsTrial);
      if (sumq2 > 0 && fround(sumqx * sumqx) > fround(best * sumq2)) {
        scale = fround(sumqx / sumq2);
        best = fround(scale * sumqx);
        xxsL.set(xxsTrial);
      }
    }
    if (scale > 0) {
      onGrid(lat, fround(1 / scale), scale, xxsL);
      const [sumqx, sumq2] = fitSums(32, xxsX, xxsWeight, xxsL);
      if (sumq2 > 0) scale = fround(sumqx / sumq2);
    }
    if (scale < 0) { // never seen, kept as ggml has it: flip the scale and the signs
      scale = -scale;
      for (let k = 0; k < 4; k++) signs[k] = ~signs[k]! & 127;
    }
    for (let k = 0; k < 4; k++) {
      words[2 * group] = (words[2 * group]! | (pointOf(lat, xxsL, 8 * k) << (8 * k))) >>> 0;
      words[2 * group + 1] = (words[2 * group + 1]! | (signs[k]! << (7 * k))) >>> 0;
    }
    xxsScales[group] = scale;
    maxScale = Math.max(maxScale, scale);
  }
  for (let i = 0; i < 66; i++) view.setUint8(at + i, 0);
  if (!maxScale) return;
  const d = fround(maxScale / 31);
  writeF16(view, at, d);
  const id = fround(1 / d);
  for (let group = 0; group < 8; group++) {
    const l = oddScaleCode(id, xxsScales[group]!, 15);
    words[2 * group + 1] = (words[2 * group + 1]! | (l << 28)) >>> 0;
  }
  for (let w = 0; w < 16; w++) view.setUint32(at + 2 + 4 * w, words[w]!, true);
}
