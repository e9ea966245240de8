/**
 * Timed file reads, as expert loads do them: each load is one or more pieces (an expert's gate,
 * up and down slices) read with positioned reads into one buffer, and each load's time is kept.
 *
 * @example
 * ```ts
 * import { timedLoads } from "./timed_reads.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array(1 << 20));
 * const seconds = await timedLoads(path, [[{ offset: 0, length: 4096 }], [{ offset: 8192, length: 4096 }]]);
 * console.log(seconds.length); // 2
 * ```
 * @module
 */

/** Bytes at `offset`. */
export interface Piece {
  readonly offset: number;
  readonly length: number;
}

/** Seconds each load (its pieces, in order) took. */
export async function timedLoads(
  path: string,
  loads: readonly (readonly Piece[])[],
): Promise<number[]> {
  const largest = Math.max(0, ...loads.map((load) => load.reduce((n, p) => n + p.length, 0)));
  const buffer = new Uint8Array(largest);
  using file = await Deno.open(path, { read: true });
  const seconds: number[] = [];
  for (const load of loads) {
    const start = performance.now();
    let into = 0;
    for (const piece of load) {
      await file.seek(piece.offset, Deno.SeekMode.Start);
      for (let at = 0; at < piece.length;) {
        const read = await file.read(buffer.subarray(into + at, into + piece.length));
        if (read === null) throw new Error(`${path} ended early`);
        at += read;
      }
      into += piece.length;
    }
    seconds.push((performance.now() - start) / 1000);
  }
  return seconds;
}

/** GB/s of reading `length` bytes at each of `offsets`, in that order. */
export async function readRate(
  path: string,
  offsets: readonly number[],
  length: number,
): Promise<number> {
  const seconds = await timedLoads(path, offsets.map((offset) => [{ offset, length }]));
  return (offsets.length * length) / seconds.reduce((a, b) => a + b, 0) / 1e9;
}
