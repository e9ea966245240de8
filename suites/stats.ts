/**
 * Summary statistics of a test's samples: every results record carries them beside the samples,
 * so that a reader (or a check on read) can recompute each one.
 *
 * @example
 * ```ts
 * import { percentile, summarize } from "./stats.ts";
 * console.log(summarize([1, 2, 3, 10]).median); // 2.5
 * console.log(percentile([1, 2, 3, 4, 5], 0.95)); // 4.8
 * ```
 * @module
 */

/** Mean, sample standard deviation (n − 1), median, minimum and maximum. */
export interface Summary {
  readonly mean: number;
  readonly stddev: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** The summary of `samples` (at least one). */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError("no samples to summarize");
  const mean = samples.reduce((sum, x) => sum + x, 0) / samples.length;
  const variance = samples.length > 1
    ? samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (samples.length - 1)
    : 0;
  return {
    mean,
    stddev: Math.sqrt(variance),
    median: percentile(samples, 0.5),
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

/** The `p` quantile (0…1), linearly interpolated between order statistics (numpy's default). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError("no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const at = p * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}
