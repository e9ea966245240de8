/**
 * Memory read bandwidth as the CPU kernels see it: plain SIMD reads of a buffer far beyond the
 * last-level cache, on the kernels' own thread pool. Decode reads every active weight once per
 * token, so this bounds its speed; benchmarks report weights read per second beside it.
 *
 * @example
 * ```ts ignore
 * import { measureReadBandwidth } from "./bandwidth.ts";
 * const read = await measureReadBandwidth(2);
 * console.log(`${read.median.toFixed(1)} GB/s`);
 * ```
 * @module
 */
import { quantizer } from "../../quant/registry.ts";
import { ggmlType, rowByteSize } from "../../quant/types.ts";
import type { Prng } from "../../synth/prng.ts";
import type { WasmHeap } from "./heap.ts";
import {
  bestKernelVariant,
  KERNEL_NAMES,
  type KernelVariant,
  PROBE_READ_KERNEL,
  TYPE_KERNELS,
} from "./kernels.ts";
import { startThreads, type ThreadPool } from "./pool.ts";

/** GB/s over timed runs: the best and the median. */
export interface Rate {
  readonly best: number;
  readonly median: number;
}

/** The best and median of GB/s samples. */
export function rateOf(samples: readonly number[]): Rate {
  const sorted = [...samples].sort((a, b) => a - b);
  return { best: sorted.at(-1)!, median: sorted[Math.floor(sorted.length / 2)]! };
}

/**
 * Times `reps` runs (after one warm-up) of mat-vec kernel `kernel` over `rows` rows of `rowBytes`
 * at `w`, with activations at `x` and results to `out`: GB/s of weights read.
 */
export function timeMatVec(
  pool: ThreadPool,
  kernel: string,
  w: number,
  rowBytes: number,
  rows: number,
  cols: number,
  x: number,
  out: number,
  reps: number,
): Rate {
  const index = KERNEL_NAMES.indexOf(kernel);
  const rates: number[] = [];
  for (let rep = 0; rep <= reps; rep++) {
    const start = performance.now();
    pool.matMul(index, w, rowBytes, rows, cols, x, 0, 1, out, 0);
    const seconds = (performance.now() - start) / 1000;
    if (rep > 0) rates.push((rows * rowBytes) / seconds / 1e9);
  }
  return rateOf(rates);
}

/** Columns of the timed matrices: a typical model width. */
export const TIMED_COLS = 4096;

/** Rows of real blocks tiled over a timed matrix (random bytes would hold NaN/denormal scales). */
export const TILE_ROWS = 64;

/** Where a typed mat-vec is timed: a matrix region and its input, scratch and output. */
export interface MatVecArena {
  readonly matrix: number;
  readonly matrixBytes: number;
  readonly input: number;
  readonly activations: number;
  /** Four rows of the widest type: the scratch of the kernels that interleave rows at load. */
  readonly interleaveScratch: number;
  readonly output: number;
}

/** Places a mat-vec arena of a `matrixBytes` matrix on `heap`, its pages touched. */
export function allocMatVecArena(heap: WasmHeap, matrixBytes: number, prng: Prng): MatVecArena {
  const arena = {
    matrix: heap.alloc(matrixBytes),
    matrixBytes,
    input: heap.alloc(4 * TIMED_COLS),
    activations: heap.alloc(4 * TIMED_COLS),
    interleaveScratch: heap.alloc(4 * 4 * TIMED_COLS),
    output: heap.alloc(4 * Math.ceil(matrixBytes / 64)),
  };
  heap.bytes(arena.matrix, matrixBytes).fill(1);
  heap.f32(arena.input, TIMED_COLS).set(
    Float32Array.from({ length: TIMED_COLS }, () => prng.uniform(1)),
  );
  return arena;
}

/**
 * Times `typeName`'s mat-vec kernel (as the engine lays its rows out) over as many rows of the
 * arena's matrix as fit, filled with copies of `tile` (`TILE_ROWS` quantized rows).
 */
export function timeTypeMatVec(
  pool: ThreadPool,
  heap: WasmHeap,
  arena: MatVecArena,
  typeName: string,
  tile: Uint8Array,
  reps: number,
): Rate {
  const kernels = TYPE_KERNELS[typeName];
  if (!kernels) throw new RangeError(`no CPU kernel for ${typeName}`);
  const rowBytes = rowByteSize(ggmlType(typeName), TIMED_COLS);
  const rows = Math.floor(arena.matrixBytes / rowBytes / TILE_ROWS) * TILE_ROWS;
  const bytes = heap.bytes(arena.matrix, rows * rowBytes);
  for (let at = 0; at < bytes.length; at += tile.length) bytes.set(tile, at);
  if (kernels.interleave) {
    const interleave = pool.kernels.exports[kernels.interleave.rows]!;
    interleave(arena.matrix, TILE_ROWS, TIMED_COLS, arena.interleaveScratch);
    for (let at = tile.length; at < bytes.length; at += tile.length) {
      bytes.copyWithin(at, 0, tile.length);
    }
  }
  const convert = kernels.activations?.convert;
  if (convert) pool.kernels.exports[convert]!(arena.input, arena.activations, TIMED_COLS);
  const x = convert ? arena.activations : arena.input;
  return timeMatVec(
    pool,
    kernels.matMul,
    arena.matrix,
    rowBytes,
    rows,
    TIMED_COLS,
    x,
    arena.output,
    reps,
  );
}

/** `TILE_ROWS` rows of `TIMED_COLS` random values quantized to `typeName` by its TS quantizer. */
export function quantizedTile(typeName: string, prng: Prng): Uint8Array | null {
  const values = Float32Array.from({ length: TILE_ROWS * TIMED_COLS }, () => prng.uniform(1));
  try {
    const format = quantizer(typeName);
    const out = new Uint8Array(rowByteSize(ggmlType(typeName), values.length));
    format.quantize(values, out);
    return out;
  } catch {
    return null; // no TS quantizer for this type
  }
}

/** Rows of the read probe: 4 KiB each. */
const PROBE_ROW_BYTES = 4096;

/** GB/s that plain SIMD reads of `bytes` reach on `pool`, whose memory holds them from `at`. */
export function timeReads(
  pool: ThreadPool,
  at: number,
  bytes: number,
  out: number,
  reps = 5,
): Rate {
  const rows = Math.floor(bytes / PROBE_ROW_BYTES);
  return timeMatVec(
    pool,
    PROBE_READ_KERNEL,
    at,
    PROBE_ROW_BYTES,
    rows,
    PROBE_ROW_BYTES,
    0,
    out,
    reps,
  );
}

/** The machine's memory read bandwidth on `threads` threads: 1 GiB read 5 times. */
export async function measureReadBandwidth(
  threads: number,
  variant: KernelVariant = bestKernelVariant(),
): Promise<Rate> {
  const bytes = 1 << 30;
  const { heap, pool: threadPool } = await startThreads(threads, variant);
  await using pool = threadPool;
  const buffer = heap.alloc(bytes);
  heap.bytes(buffer, bytes).fill(1); // touch every page before timing
  return timeReads(pool, buffer, bytes, heap.alloc(4 * (bytes / PROBE_ROW_BYTES)));
}
