/**
 * What the CPU kernels reach: plain SIMD reads (the decode roofline: weights are only read) and
 * the engine's Q4_0 mat-vec, both over a matrix far larger than the last-level cache, on the
 * engine's own thread pool.
 *
 * @example
 * ```ts ignore
 * import { measureCpu } from "./cpu.ts";
 * const { read, matVec } = await measureCpu({ matrixBytes: 1 << 30, threads: 2, reps: 5 });
 * console.log(read.best, matVec.best);
 * ```
 * @module
 */
import {
  allocMatVecArena,
  quantizedTile,
  type Rate,
  timeReads,
  timeTypeMatVec,
} from "../../engine/backend/cpu/bandwidth.ts";
import { bestKernelVariant } from "../../engine/backend/cpu/kernels.ts";
import { startThreads } from "../../engine/backend/cpu/pool.ts";
import { Prng } from "../../engine/synth/prng.ts";

/** The weight type whose kernel the probe times: the commonest in MoE GGUF files' experts. */
export const PROBED_TYPE = "Q4_0";

/** How the CPU probe runs. */
export interface CpuProbe {
  readonly matrixBytes: number;
  readonly threads: number;
  readonly reps: number;
}

/** GB/s of plain reads and of the Q4_0 mat-vec, on `threads` threads. */
export async function measureCpu(
  probe: CpuProbe,
): Promise<{ readonly read: Rate; readonly matVec: Rate }> {
  const { heap, pool: threadPool } = await startThreads(probe.threads, bestKernelVariant());
  await using pool = threadPool;
  const prng = new Prng(7);
  const arena = allocMatVecArena(heap, probe.matrixBytes, prng);
  const read = timeReads(pool, arena.matrix, probe.matrixBytes, arena.output, probe.reps);
  const tile = quantizedTile(PROBED_TYPE, prng)!;
  const matVec = timeTypeMatVec(pool, heap, arena, PROBED_TYPE, tile, probe.reps);
  return { read, matVec };
}
