/**
 * RAM bandwidth as STREAM measures it: a copy of one array into another, both far larger than
 * the last-level cache, split over every core, timed over repetitions; bytes read plus bytes
 * written count (STREAM's convention: 2 × the array per copy). The read-only rate, which bounds
 * decode (weights are only read), comes from the engine's own SIMD read kernel (`cpu.ts`).
 *
 * @example
 * ```ts ignore
 * import { measureCopyBandwidth } from "./ram.ts";
 * const copy = await measureCopyBandwidth({ arrayBytes: 1 << 30, threads: 2, reps: 5 });
 * console.log(`${copy.best.toFixed(1)} GB/s`);
 * ```
 * @module
 */
import { type Rate, rateOf } from "../../engine/backend/cpu/bandwidth.ts";
import type { CopySlice } from "./copy_worker.ts";

/** How the copy probe runs. */
export interface CopyProbe {
  /** Bytes of each of the two arrays. */
  readonly arrayBytes: number;
  readonly threads: number;
  /** Timed repetitions, after one untimed. */
  readonly reps: number;
}

/** STREAM copy bandwidth (GB/s, read + written). */
export async function measureCopyBandwidth(probe: CopyProbe): Promise<Rate> {
  // page-sized slices, so that no two threads write the same page
  const slice = Math.ceil(probe.arrayBytes / probe.threads / 4096) * 4096;
  const source = new SharedArrayBuffer(probe.arrayBytes);
  const target = new SharedArrayBuffer(probe.arrayBytes);
  // touch every page of both arrays first: page faults are not bandwidth
  new Uint8Array(source).fill(1);
  new Uint8Array(target).fill(2);
  const workers = Array.from(
    { length: probe.threads },
    () => new Worker(new URL("./copy_worker.ts", import.meta.url), { type: "module" }),
  );
  const all = (message: CopySlice[] | "copy") =>
    Promise.all(workers.map((worker, i) =>
      new Promise<void>((resolve, reject) => {
        worker.onmessage = () => resolve();
        worker.onerror = (event) => reject(new Error(`copy probe thread: ${event.message}`));
        worker.postMessage(message === "copy" ? "copy" : message[i]);
      })
    ));
  try {
    await all(workers.map((_, i) => ({
      source,
      target,
      start: Math.min(i * slice, probe.arrayBytes),
      end: Math.min((i + 1) * slice, probe.arrayBytes),
    })));
    const rates: number[] = [];
    for (let rep = 0; rep <= probe.reps; rep++) {
      const start = performance.now();
      await all("copy");
      const seconds = (performance.now() - start) / 1000;
      if (rep > 0) rates.push((2 * probe.arrayBytes) / seconds / 1e9);
    }
    return rateOf(rates);
  } finally {
    workers.forEach((worker) => worker.terminate());
  }
}
