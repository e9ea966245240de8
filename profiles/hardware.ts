/**
 * What `moebench profile` found out about a machine: facts read from the OS and the GPU driver,
 * each with where it came from. Nothing is guessed: a fact that could not be read is `null`, and
 * its source says why.
 * @module
 */

/** One fact and where it came from (`value` null: unknown, `source` says why). */
export interface Fact<T> {
  readonly value: T | null;
  readonly source: string;
}

/** The CPU. */
export interface CpuFacts {
  readonly model: Fact<string>;
  readonly vendor: Fact<string>;
  readonly architecture: Fact<string>;
  readonly physicalCores: Fact<number>;
  readonly logicalCores: Fact<number>;
  /** Cores of the fast kind on hybrid CPUs (Apple's P-cores, Intel's P-cores); else all. */
  readonly performanceCores: Fact<number>;
  /** Of the SIMD extensions that matter for kernels: avx2, avx512f, avx512_vnni, amx, neon, … */
  readonly simd: Fact<readonly string[]>;
  readonly l2Bytes: Fact<number>;
  readonly l3Bytes: Fact<number>;
}

/** How the GPU reaches its memory. */
export type MemoryModel = "unified" | "discrete";

/** The WebGPU adapter (the one the webgpu backend would use). */
export interface GpuFacts {
  readonly vendor: Fact<string>;
  readonly architecture: Fact<string>;
  readonly description: Fact<string>;
  /** A software adapter (Mesa's llvmpipe): WGSL runs on the CPU. */
  readonly fallback: Fact<boolean>;
  readonly features: Fact<readonly string[]>;
  readonly maxBufferBytes: Fact<number>;
  readonly maxBindingBytes: Fact<number>;
  readonly memoryModel: Fact<MemoryModel>;
  /** Memory the GPU can hold weights in: its own, or the machine's RAM when unified. */
  readonly memoryBytes: Fact<number>;
}

/** The disk a model folder lives on. */
export interface DiskFacts {
  readonly folder: string;
  readonly device: Fact<string>;
  readonly filesystem: Fact<string>;
  /** `SSD`, `HDD` or `NVMe`, as the kernel reports it (virtual disks often say HDD). */
  readonly kind: Fact<string>;
  readonly freeBytes: Fact<number>;
  readonly totalBytes: Fact<number>;
}

/** Everything detected. */
export interface Hardware {
  readonly os: {
    readonly platform: Fact<string>;
    readonly release: Fact<string>;
    readonly kernel: Fact<string>;
  };
  readonly cpu: CpuFacts;
  readonly memory: {
    readonly totalBytes: Fact<number>;
    readonly availableBytes: Fact<number>;
  };
  /** null when WebGPU offers no adapter at all (see `gpuUnavailable`). */
  readonly gpu: GpuFacts | null;
  readonly gpuUnavailable: string | null;
  readonly disk: DiskFacts;
}

/** A known fact. */
export const known = <T>(value: T, source: string): Fact<T> => ({ value, source });

/** An unknown fact, and why it is unknown. */
export const unknown = <T>(why: string): Fact<T> => ({ value: null, source: why });

/** A fact that may be missing (`undefined`, `null`, `""`, or 0 where 0 means "not reported"). */
export function reported<T>(
  value: T | undefined | null,
  source: string,
  zeroIsUnknown = true,
): Fact<T> {
  if (value === undefined || value === null || value === "") {
    return unknown(`not reported by ${source}`);
  }
  if (zeroIsUnknown && value === 0) return unknown(`not reported by ${source}`);
  return known(value, source);
}
