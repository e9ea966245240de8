/**
 * The measurements of `moebench profile`: RAM copy (STREAM) and read bandwidth, disk reads cold
 * and warm, host→GPU uploads, and the engine's own mat-vec rates on CPU and GPU, sized from the
 * detected hardware (arrays four times the last-level cache, as STREAM asks).
 *
 * @example
 * ```ts ignore
 * import { detectHardware } from "../detect.ts";
 * import { measureMachine } from "./mod.ts";
 * const hardware = await detectHardware(".");
 * const { measured } = await measureMachine(hardware, { quick: true, folder: "." });
 * console.log(measured.ram_copy_gbps);
 * ```
 * @module
 */
import type { Rate } from "../../engine/backend/cpu/bandwidth.ts";
import type { Hardware } from "../hardware.ts";
import { measureCpu } from "./cpu.ts";
import { type DiskRates, measureDisk } from "./disk.ts";
import { measureGpu } from "./gpu.ts";
import { measureCopyBandwidth } from "./ram.ts";

export { type DecodeBytes, roofline, type RooflineTier } from "./roofline.ts";

/** The figures `profile --json` prints under "measured" (GB/s; null where not measurable). */
export interface Measured {
  readonly ram_copy_gbps: number;
  readonly ram_read_gbps: number;
  readonly disk_seq_read_gbps: number | null;
  readonly disk_rand_read_gbps: number | null;
  readonly disk_seq_read_warm_gbps: number | null;
  readonly disk_rand_read_warm_gbps: number | null;
  /** Whether the disk figures above are cold (the page cache drop worked). */
  readonly disk_cold: boolean;
  readonly gpu_upload_gbps: number | null;
  readonly cpu_matvec_gbps: number;
  readonly gpu_matvec_gbps: number | null;
}

/** How each figure was taken: sizes, threads, repetitions, medians, and why some are missing. */
export interface MeasuredDetails {
  readonly quick: boolean;
  readonly threads: number;
  readonly reps: number;
  readonly ram_array_bytes: number;
  readonly ram_copy: Rate;
  readonly ram_read: Rate;
  readonly cpu_matvec: Rate & { readonly type: string };
  readonly disk: DiskRates | { readonly skipped: string };
  readonly gpu:
    | {
      readonly upload: Rate;
      readonly matvec: Rate;
      readonly matrix_bytes: number;
      readonly fallback: boolean;
    }
    | { readonly skipped: string };
}

/** How the probes run. */
export interface ProbeOptions {
  /** A short run (under a minute): smaller arrays and files, fewer repetitions. */
  readonly quick: boolean;
  /** Folder whose disk is measured. */
  readonly folder: string;
  /** Bytes of one expert for the random disk reads (default 4 MiB). */
  readonly expertBytes?: number;
  /** Called as each probe starts. */
  readonly onStep?: (name: string, index: number, count: number) => void;
}

const MIB = 2 ** 20;
/** JavaScript's shared arrays stop below 2 GiB. */
const MAX_ARRAY_BYTES = 1792 * MIB;

/**
 * STREAM's rule: each array at least 4× the last-level cache (2× for a quick run). Where the cache
 * size is hidden (virtual machines often hide it), arrays are as large as allowed (1 GiB for a
 * quick run): a server CPU's L3 reaches ~1 GiB (AMD's V-Cache parts), and arrays that fit in it
 * would measure the cache, not RAM.
 */
export function ramArrayBytes(hardware: Hardware, quick: boolean): number {
  const cache = hardware.cpu.l3Bytes.value ?? hardware.cpu.l2Bytes.value;
  const available = hardware.memory.availableBytes.value ?? hardware.memory.totalBytes.value;
  const wanted = cache === null
    ? (quick ? 1024 * MIB : MAX_ARRAY_BYTES)
    : Math.max((quick ? 2 : 4) * cache, quick ? 256 * MIB : 1024 * MIB);
  const room = available === null ? MAX_ARRAY_BYTES : available / 4;
  return Math.floor(Math.min(wanted, MAX_ARRAY_BYTES, room) / MIB) * MIB;
}

/** Runs every probe on `hardware`. */
export async function measureMachine(
  hardware: Hardware,
  options: ProbeOptions,
): Promise<{ readonly measured: Measured; readonly details: MeasuredDetails }> {
  const steps = ["RAM copy", "CPU read + mat-vec", "disk", "GPU"];
  const step = (i: number) => options.onStep?.(steps[i]!, i, steps.length);
  const threads = hardware.cpu.logicalCores.value ?? navigator.hardwareConcurrency;
  const reps = options.quick ? 3 : 10;
  const arrayBytes = ramArrayBytes(hardware, options.quick);

  step(0);
  const copy = await measureCopyBandwidth({ arrayBytes, threads, reps });
  step(1);
  const cpu = await measureCpu({ matrixBytes: arrayBytes, threads, reps });
  step(2);
  const disk = await probeDisk(hardware, options);
  step(3);
  const gpuBytes = (options.quick ? 64 : 256) * MIB;
  const gpu = await measureGpu({ matrixBytes: gpuBytes, reps: options.quick ? 2 : 5 });
  options.onStep?.("done", steps.length, steps.length);

  const diskRates = "skipped" in disk ? null : disk;
  const gpuRates = "unavailable" in gpu ? null : gpu;
  return {
    measured: {
      ram_copy_gbps: copy.best,
      ram_read_gbps: cpu.read.best,
      disk_seq_read_gbps: diskRates?.sequential.cold ?? null,
      disk_rand_read_gbps: diskRates?.random.cold ?? null,
      disk_seq_read_warm_gbps: diskRates?.sequential.warm ?? null,
      disk_rand_read_warm_gbps: diskRates?.random.warm ?? null,
      disk_cold: diskRates?.cold ?? false,
      gpu_upload_gbps: gpuRates?.upload.best ?? null,
      cpu_matvec_gbps: cpu.matVec.best,
      gpu_matvec_gbps: gpuRates?.matVec.best ?? null,
    },
    details: {
      quick: options.quick,
      threads,
      reps,
      ram_array_bytes: arrayBytes,
      ram_copy: copy,
      ram_read: cpu.read,
      cpu_matvec: { ...cpu.matVec, type: "Q4_0" },
      disk,
      gpu: gpuRates
        ? {
          upload: gpuRates.upload,
          matvec: gpuRates.matVec,
          matrix_bytes: gpuBytes,
          fallback: gpuRates.fallback,
        }
        : { skipped: "unavailable" in gpu ? gpu.unavailable : "" },
    },
  };
}

/** The disk probe, or why it was skipped (too little free space for its file). */
async function probeDisk(
  hardware: Hardware,
  options: ProbeOptions,
): Promise<DiskRates | { readonly skipped: string }> {
  const wanted = (options.quick ? 256 : 1024) * MIB;
  const free = hardware.disk.freeBytes.value;
  const fileBytes = free === null ? wanted : Math.min(wanted, Math.floor(free / 4 / MIB) * MIB);
  const expertBytes = options.expertBytes ?? 4 * MIB;
  if (fileBytes < 4 * expertBytes) {
    return { skipped: `${hardware.disk.folder} has too little free space for the probe file` };
  }
  try {
    return await measureDisk({ folder: hardware.disk.folder, fileBytes, expertBytes });
  } catch (error) {
    if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
    return { skipped: `cannot write a probe file in ${hardware.disk.folder}` };
  }
}
