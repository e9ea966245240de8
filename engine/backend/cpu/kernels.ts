/**
 * The compiled CPU kernels (`kernels.wasm`, built from C by `build.sh`): which export runs each
 * weight type's mat-vec and each activation conversion, and instantiation over a shared memory.
 * @module
 */
import type { VecDotType } from "../../quant/activations.ts";

/** The mat-vec export of each weight type. */
export const MATVEC_KERNELS: Readonly<Record<string, string>> = {
  F32: "matvec_f32",
  F16: "matvec_f16",
  BF16: "matvec_bf16",
  Q4_0: "matvec_q4_0",
  Q4_1: "matvec_q4_1",
  Q5_0: "matvec_q5_0",
  Q5_1: "matvec_q5_1",
  Q8_0: "matvec_q8_0",
  IQ4_NL: "matvec_iq4_nl",
  Q2_K: "matvec_q2_k",
  Q3_K: "matvec_q3_k",
  Q4_K: "matvec_q4_k",
  Q5_K: "matvec_q5_k",
  Q6_K: "matvec_q6_k",
  IQ4_XS: "matvec_iq4_xs",
};

/** The conversion export of each activation type (F32 activations are used as they are). */
export const CONVERT_KERNELS: Readonly<Record<Exclude<VecDotType, "F32">, string>> = {
  F16: "convert_f16",
  BF16: "convert_bf16",
  Q8_0: "quantize_q8_0",
  Q8_1: "quantize_q8_1",
  Q8_K: "quantize_q8_K",
};

/**
 * The memory-read probe, a mat-vec over raw bytes (`cols` bytes per row, a multiple of 64):
 * what plain SIMD reads reach, for the kernels' GB/s to be compared with.
 */
export const PROBE_READ_KERNEL = "probe_read";

/** Every kernel, in a fixed order: the thread pool names a kernel by its index here. */
export const KERNEL_NAMES: readonly string[] = [
  ...Object.values(MATVEC_KERNELS),
  ...Object.values(CONVERT_KERNELS),
  PROBE_READ_KERNEL,
];

/** One instance of the kernels: its functions by name, and its own stack. */
export interface KernelInstance {
  readonly exports: Record<string, (...args: number[]) => void>;
  /** Where the module's static data ends: the heap may start here. */
  readonly heapBase: number;
}

let compiled: Promise<WebAssembly.Module> | null = null;

/** The kernel module, compiled once per thread. */
export function kernelModule(): Promise<WebAssembly.Module> {
  compiled ??= Deno.readFile(new URL("./kernels.wasm", import.meta.url)).then((bytes) =>
    WebAssembly.compile(bytes)
  );
  return compiled;
}

/**
 * Instantiates the kernels over `memory`. Each thread needs a stack of its own in the shared
 * memory: `stackTop` (16-byte aligned, growing down) sets it; `null` keeps the module's own
 * stack (for the first instance only).
 */
export async function instantiateKernels(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  stackTop: number | null,
): Promise<KernelInstance> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as Record<string, unknown>;
  if (stackTop !== null) (exports.__stack_pointer as WebAssembly.Global).value = stackTop;
  return {
    exports: exports as Record<string, (...args: number[]) => void>,
    heapBase: (exports.__heap_base as WebAssembly.Global).value as number,
  };
}
