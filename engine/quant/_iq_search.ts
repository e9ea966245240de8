/**
 * The lattice search of ggml's IQ2 and IQ3 quantizers (`iq2xs_init_impl`, `iq3xs_init_impl`,
 * `iq2_find_best_neighbour`, and the per-group scale search their `quantize_row_*_impl` share),
 * with ggml's f32 rounding at every step so that the blocks are ggml's bit for bit.
 *
 * Values are first sign-folded (the signs stored apart), so a group of 4 or 8 non-negative
 * values is to be written as a point of the grid times a scale. For a trial scale, each value's
 * nearest level (0 … maxQ − 1, standing for 2l + 1) is taken; if that combination of levels is not
 * a point of the grid, the best of its precomputed neighbours (the grid points at the nearest
 * few distances) is. A scale search tries inverse scales around (2·maxQ − 1)/max and keeps the
 * one whose least-squares fit explains the most.
 * @module
 */
import type { IqGrid } from "./_iq_grids.ts";
import { nearestInt } from "./_k_quants.ts";

const fround = Math.fround;

/** A grid prepared for the search: where each combination of levels goes. */
export interface Lattice {
  readonly grid: IqGrid;
  /** Each point's coordinates as 2l + 1 (what the search fits). */
  readonly points: Int8Array;
  /**
   * For each code of levels: its point's index (≥ 0), or −(start + 1) where `neighbours[start]`
   * counts the candidate points that follow it.
   */
  readonly map: Int32Array;
  readonly neighbours: Uint16Array;
}

const lattices = new Map<string, Lattice>();

/**
 * The lattice of `grid` with the neighbours at the `distances` nearest squared distances of each
 * code off the grid (ggml's `nwant`), for codes below `codes` (ggml's `kmap_size`). Made once.
 */
export function lattice(grid: IqGrid, distances: number, codes: number): Lattice {
  const key = `${grid.name} ${distances}`;
  const made = lattices.get(key);
  if (made) return made;
  const { coordinates, bits } = grid;
  const size = grid.codes.length;
  const points = new Int8Array(size * coordinates);
  const map = new Int32Array(codes).fill(-1);
  grid.codes.forEach((code, p) => {
    for (let c = 0; c < coordinates; c++) {
      points[p * coordinates + c] = 2 * ((code >> (bits * c)) & ((1 << bits) - 1)) + 1;
    }
    map[code] = p;
  });
  // squared distances between the halves of two codes (a half: coordinates / 2 levels), so that
  // a code's distance to a point is two lookups
  const levelMask = (1 << bits) - 1;
  const halfBits = (bits * coordinates) / 2;
  const halfMask = (1 << halfBits) - 1;
  const halves = new Int32Array(1 << (2 * halfBits));
  for (let a = 0; a <= halfMask; a++) {
    for (let b = 0; b <= halfMask; b++) {
      let d2 = 0;
      for (let c = 0; c < coordinates / 2; c++) {
        const diff = 2 * (((a >> (bits * c)) & levelMask) - ((b >> (bits * c)) & levelMask));
        d2 += diff * diff;
      }
      halves[(a << halfBits) | b] = d2;
    }
  }
  const neighbours: number[] = [];
  const distance = new Int32Array(size);
  const smallest = new Int32Array(distances);
  for (let code = 0; code < codes; code++) {
    if (map[code]! >= 0) continue;
    const low = (code & halfMask) << halfBits;
    const high = (code >> halfBits) << halfBits;
    for (let p = 0; p < size; p++) {
      const point = grid.codes[p]!;
      distance[p] = halves[low | (point & halfMask)]! + halves[high | (point >> halfBits)]!;
    }
    // the nearest `distances` distinct distances, then their points by distance and index: the
    // order ggml's qsort on (distance, index) gives
    const nearest = nearestDistinct(distance, distances, smallest);
    map[code] = -(neighbours.length + 1);
    const start = neighbours.push(0) - 1;
    for (const d2 of nearest) {
      for (let p = 0; p < size; p++) if (distance[p] === d2) neighbours.push(p);
    }
    neighbours[start] = neighbours.length - start - 1;
  }
  const made2 = { grid, points, map, neighbours: Uint16Array.from(neighbours) };
  lattices.set(key, made2);
  return made2;
}

/** The `count` smallest distinct values of `values`, ascending, in `into` (a view of it). */
function nearestDistinct(values: Int32Array, count: number, into: Int32Array): Int32Array {
  let found = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (found === count && value >= into[count - 1]!) continue;
    let at = 0;
    while (at < found && into[at]! < value) at++;
    if (at < found && into[at] === value) continue;
    for (let j = Math.min(found, count - 1); j > at; j--) into[j] = into[j - 1]!;
    into[at] = value;
    if (found < count) found++;
  }
  return into.subarray(0, found);
}

/**
 * ggml's `iq2_find_best_neighbour`/`iq3_find_best_neighbour`: of the neighbours listed for an
 * off-grid code, the point nearest to `xval[at…]` under `scale` (weighted by `weight`), its
 * levels written to `L[at…]`. Returns its index.
 */
export function bestNeighbour(
  lat: Lattice,
  start: number,
  xval: Float32Array,
  weight: Float32Array,
  at: number,
  scale: number,
  L: Int8Array,
): number {
  const c = lat.grid.coordinates;
  let best = Infinity;
  let index = -1;
  for (let j = 1; j <= lat.neighbours[start]!; j++) {
    const p = lat.neighbours[start + j]!;
    let d2 = 0;
    for (let i = 0; i < c; i++) {
      const diff = fround(fround(scale * lat.points[p * c + i]!) - xval[at + i]!);
      d2 = fround(d2 + fround(fround(weight[at + i]! * diff) * diff));
    }
    if (d2 < best) {
      best = d2;
      index = p;
    }
  }
  for (let i = 0; i < c; i++) L[at + i] = (lat.points[index * c + i]! - 1) / 2;
  return index;
}

/** The levels of `xval[at…]` (one point) for inverse scale `id`, as a code; into `L[at…]`. */
export function levelsFor(
  lat: Lattice,
  xval: Float32Array,
  at: number,
  id: number,
  maxQ: number,
  L: Int8Array,
) {
  let code = 0;
  for (let i = 0; i < lat.grid.coordinates; i++) {
    const l = nearestInt(fround(0.5 * fround(fround(id * xval[at + i]!) - 1)));
    L[at + i] = Math.max(0, Math.min(maxQ - 1, l));
    code |= L[at + i]! << (lat.grid.bits * i);
  }
  return code;
}

/** The point index of the levels at `L[at…]` (which the search keeps on the grid). */
export function pointOf(lat: Lattice, L: Int8Array, at: number): number {
  let code = 0;
  for (let i = 0; i < lat.grid.coordinates; i++) code |= L[at + i]! << (lat.grid.bits * i);
  const point = lat.map[code]!;
  if (point < 0) {
    throw new Error(`levels ${[...L.subarray(at, at + 4)]} are not on ${lat.grid.name}`);
  }
  return point;
}

/**
 * A group's scale as the code l (0 … top) whose odd multiple (2l + 1) of the super-block's d/2 is
 * nearest it, `id` being 1/d: ggml's `nearest_int(0.5f*(id*scale - 1))`, clamped.
 */
export function oddScaleCode(id: number, scale: number, top: number): number {
  return Math.max(0, Math.min(top, nearestInt(fround(0.5 * fround(fround(id * scale) - 1)))));
}

/** Σw·x·q and Σw·q² over a group's levels (q = 2l + 1): its least-squares scale's parts. */
export function fitSums(
  n: number,
  xval: Float32Array,
  weight: Float32Array,
  levels: Int8Array,
): [number, number] {
  let sumqx = 0;
  let sumq2 = 0;
  for (let i = 0; i < n; i++) {
    const q = 2 * levels[i]! + 1;
    sumqx = fround(sumqx + fround(fround(weight[i]! * xval[i]!) * q));
    sumq2 = fround(sumq2 + fround(fround(weight[i]! * q) * q));
  }
  return [sumqx, sumq2];
}

/** The largest of the first `n` sign-folded values (ggml's `MAX` from the first on). */
export function largestFolded(xval: Float32Array, n: number): number {
  let max = xval[0]!;
  for (let i = 1; i < n; i++) max = xval[i]! > max ? xval[i]! : max;
  return max;
}

/**
 * The weight ggml gives a value under an importance matrix of ones: √(σ² + x²), `sigma2` its
 * super-block's (scaled) mean square.
 */
export function unitImportanceWeight(sigma2: number, x: number): number {
  return fround(Math.sqrt(fround(sigma2 + fround(x * x))));
}

/** How a format searches a group's scale. */
export interface GroupSearch {
  readonly maxQ: number;
  /** Trial inverse scales: (2·maxQ − 1 + t·step)/max for t = −tries … tries. */
  readonly tries: number;
  readonly step: number;
  /**
   * Whether the points count as on the grid before any trial is kept (IQ2_XS: yes, IQ3_S: no;
   * IQ3_XXS leaves the previous group's flags).
   */
  readonly startOnGrid?: boolean;
  /** Whether the final pass re-fits every point (IQ3_S), or only those off the grid. */
  readonly refitAll: boolean;
}

/**
 * Scratch that outlives a group, as ggml's locals outlive its loop iterations (a group whose
 * trials never improve keeps the previous group's levels, as in ggml).
 */
export class SearchState {
  readonly L: Int8Array;
  readonly trial: Int8Array;
  readonly onGrid: Uint8Array;
  readonly trialOnGrid: Uint8Array;
  constructor(values: number, points: number) {
    this.L = new Int8Array(values);
    this.trial = new Int8Array(values);
    this.onGrid = new Uint8Array(points);
    this.trialOnGrid = new Uint8Array(points);
  }
}

/**
 * The scale of a group of `n` sign-folded values `xval` (largest `max`) with weights `weight`
 * (and their square roots `waux`, which the neighbour search weighs by), its levels left in
 * `state.L` on the grid.
 */
export function searchGroup(
  lat: Lattice,
  search: GroupSearch,
  n: number,
  xval: Float32Array,
  weight: Float32Array,
  waux: Float32Array,
  max: number,
  state: SearchState,
): number {
  const { L, trial, onGrid, trialOnGrid } = state;
  const c = lat.grid.coordinates;
  const points = n / c;
  const top = 2 * search.maxQ - 1;
  const fit = (levels: Int8Array) => fitSums(n, xval, weight, levels);
  let best = 0;
  let scale = fround(max / top);
  if (search.startOnGrid !== undefined) onGrid.fill(search.startOnGrid ? 1 : 0);
  for (let t = -search.tries; t <= search.tries; t++) {
    const id = fround(fround(top + fround(t * search.step)) / max);
    const trialScale = fround(1 / id);
    for (let k = 0; k < points; k++) {
      const point = lat.map[levelsFor(lat, xval, c * k, id, search.maxQ, trial)]!;
      trialOnGrid[k] = point >= 0 ? 1 : 0;
      if (point < 0) bestNeighbour(lat, -point - 1, xval, waux, c * k, trialScale, trial);
    }
    const [sumqx, sumq2] = fit(trial);
    if (sumq2 > 0 && fround(sumqx * sumqx) > fround(best * sumq2)) {
      scale = fround(sumqx / sumq2);
      best = fround(scale * sumqx);
      L.set(trial.subarray(0, n));
      onGrid.set(trialOnGrid.subarray(0, points));
    }
  }
  if (onGrid.subarray(0, points).some((on) => !on) && scale > 0) {
    const id = fround(1 / scale);
    for (let k = 0; k < points; k++) {
      if (!search.refitAll && onGrid[k]) continue;
      const point = lat.map[levelsFor(lat, xval, c * k, id, search.maxQ, L)]!;
      if (point < 0) bestNeighbour(lat, -point - 1, xval, waux, c * k, scale, L);
    }
    const [sumqx, sumq2] = fit(L);
    if (sumq2 > 0) scale = fround(sumqx / sumq2);
  }
  return scale;
}

/**
 * Sign-folds the 8 values at `x[from…]` into `xval[at…]` and returns their sign bits (bit i:
 * value i was negative). With `evenSigns` (the IQ2/IQ3_XXS formats, which store 7 bits), an odd
 * count of minus signs is made even by flipping the value that matters least (weight·x²).
 */
export function foldSigns(
  x: Float32Array,
  from: number,
  weight: Float32Array,
  xval: Float32Array,
  at: number,
  evenSigns: boolean,
): number {
  let signs = 0;
  let flips = 0;
  for (let i = 0; i < 8; i++) {
    const value = x[from + i]!;
    xval[at + i] = value >= 0 ? value : -value;
    if (value < 0) {
      signs |= 1 << i;
      flips++;
    }
  }
  if (evenSigns && flips % 2) {
    let least = 0;
    let min = fround(fround(weight[at]! * x[from]!) * x[from]!);
    for (let i = 1; i < 8; i++) {
      const ax = fround(fround(weight[at + i]! * x[from + i]!) * x[from + i]!);
      if (ax < min) {
        min = ax;
        least = i;
      }
    }
    xval[at + least] = -xval[at + least]!;
    signs ^= 1 << least;
  }
  return signs;
}
