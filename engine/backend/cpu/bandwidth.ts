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
import {
  bestKernelVariant,
  KERNEL_NAMES,
  type KernelVariant,
  PROBE_READ_KERNEL,
} from "./kernels.ts";
import { startThreads, type ThreadPool } from "./pool.ts";

/** GB/s over timed runs: the best and the median. */
export interface Rate {
  readonly best: number;
  readonly median: number;
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
  rates.sort((a, b) => a - b);
  return { best: rates.at(-1)!, median: rates[Math.floor(rates.length / 2)]! };
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
