/**
 * Disk read bandwidth where models live: a probe file written to the model folder, read
 * sequentially (4 MiB reads, as a model load does) and in expert-sized pieces at random offsets
 * (as expert offloading does), each cold (the file's pages dropped from the page cache first,
 * and checked gone) and then warm (from the page cache).
 *
 * @example
 * ```ts ignore
 * import { measureDisk } from "./disk.ts";
 * const disk = await measureDisk({ folder: ".", fileBytes: 256 << 20, expertBytes: 4 << 20 });
 * console.log(disk.cold ? disk.sequential.cold : disk.coldFailure);
 * ```
 * @module
 */
import { readRate } from "../../util/timed_reads.ts";
import { dropPageCache } from "../../engine/offload/page_cache.ts";
import { Prng } from "../../engine/synth/prng.ts";

/** How the disk probe runs. */
export interface DiskProbe {
  /** Folder the probe file is written to (and removed from). */
  readonly folder: string;
  readonly fileBytes: number;
  /** Bytes of one random read: an expert's gate, up and down slices. */
  readonly expertBytes: number;
}

/** GB/s with the file's pages dropped first, and then cached. */
export interface ColdWarm {
  readonly cold: number;
  readonly warm: number;
}

/** What the disk probe measured. */
export interface DiskRates {
  readonly sequential: ColdWarm;
  readonly random: ColdWarm;
  /** Whether the page cache drop worked (else "cold" reads may have come from memory). */
  readonly cold: boolean;
  readonly coldFailure: string | null;
  readonly fileBytes: number;
  readonly expertBytes: number;
}

const SEQUENTIAL_READ = 4 << 20;

/** Measures disk reads in `probe.folder`; the probe file is removed whatever happens. */
export async function measureDisk(probe: DiskProbe): Promise<DiskRates> {
  const path = `${probe.folder}/.moebench-disk-probe-${Deno.pid}.bin`;
  try {
    await writeProbeFile(path, probe.fileBytes);
    const failures: string[] = [];
    const drop = () => {
      const result = dropPageCache(path);
      if (!result.dropped) failures.push(result.reason);
    };
    const pieces = Math.floor(probe.fileBytes / probe.expertBytes);
    if (pieces < 2) throw new RangeError("the disk probe file must hold at least 2 experts");
    // half the file's experts, in random order: no piece read twice in one pass
    const order = shuffled(pieces, new Prng(3)).slice(0, Math.max(2, pieces >> 1));
    const offsets = order.map((piece) => piece * probe.expertBytes);
    const sequentialOffsets = Array.from(
      { length: Math.floor(probe.fileBytes / SEQUENTIAL_READ) },
      (_, i) => i * SEQUENTIAL_READ,
    );
    drop();
    const sequentialCold = await readRate(path, sequentialOffsets, SEQUENTIAL_READ);
    const sequentialWarm = await readRate(path, sequentialOffsets, SEQUENTIAL_READ);
    drop();
    const randomCold = await readRate(path, offsets, probe.expertBytes);
    const randomWarm = await readRate(path, offsets, probe.expertBytes);
    return {
      sequential: { cold: sequentialCold, warm: sequentialWarm },
      random: { cold: randomCold, warm: randomWarm },
      cold: failures.length === 0,
      coldFailure: failures[0] ?? null,
      fileBytes: probe.fileBytes,
      expertBytes: probe.expertBytes,
    };
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

/** Writes `bytes` of incompressible data and makes sure they reached the disk. */
async function writeProbeFile(path: string, bytes: number): Promise<void> {
  const chunk = new Uint8Array(SEQUENTIAL_READ);
  const prng = new Prng(11);
  const words = new Uint32Array(chunk.buffer);
  for (let i = 0; i < words.length; i++) words[i] = prng.nextU32();
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  for (let written = 0; written < bytes; written += chunk.length) {
    words[0] = written; // no two chunks alike, for disks that deduplicate
    const piece = chunk.subarray(0, Math.min(chunk.length, bytes - written));
    for (let at = 0; at < piece.length;) at += await file.write(piece.subarray(at));
  }
  await file.syncData();
}

/** 0 … n−1 in random order (Fisher–Yates). */
export function shuffled(n: number, prng: Prng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = prng.nextU32() % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
