/**
 * The compiled CPU kernels (built from C by `build.sh`, in two variants: `kernels_relaxed.wasm`
 * with relaxed SIMD's integer dot product where the runtime has it, `kernels.wasm` with plain
 * SIMD128 otherwise; both give identical results): which export runs each weight type's mat-mul
 * and each activation conversion, and instantiation over a shared memory.
 * @module
 */
import type { VecDotType } from "../../quant/activations.ts";

/** The mat-mul export of each weight type (a mat-vec is a mat-mul of one token). */
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

/** Causal attention over an f32 KV cache, for a batch's (token, head) pairs (attention.c). */
export const ATTENTION_KERNEL = "attend_f32";

/** Every kernel, in a fixed order: the thread pool names a kernel by its index here. */
export const KERNEL_NAMES: readonly string[] = [
  ...Object.values(MATVEC_KERNELS),
  ...Object.values(CONVERT_KERNELS),
  PROBE_READ_KERNEL,
  ATTENTION_KERNEL,
];

/** One instance of the kernels: its functions by name, and its own stack. */
export interface KernelInstance {
  readonly exports: Record<string, (...args: number[]) => void>;
  /** Where the module's static data ends: the heap may start here. */
  readonly heapBase: number;
}

/** The kernel builds: relaxed SIMD where the runtime validates it, plain SIMD128 everywhere. */
export type KernelVariant = "relaxed" | "simd128";

const VARIANT_FILES: Readonly<Record<KernelVariant, string>> = {
  relaxed: "kernels_relaxed.wasm",
  simd128: "kernels.wasm",
};

/** A function that returns i32x4.relaxed_dot_i8x16_i7x16_add_s of three zero vectors. */
const RELAXED_SIMD_PROBE = (() => {
  const zeros = [0xfd, 0x0c, ...new Array(16).fill(0)]; // v128.const 0
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // types: () -> v128
    ...[0x03, 0x02, 0x01, 0x00], // one function of that type
    ...[0x0a, 0x3d, 0x01, 0x3b, 0x00, ...zeros, ...zeros, ...zeros, 0xfd, 0x93, 0x02, 0x0b],
  ]);
})();

/** The best variant this runtime runs. */
export function bestKernelVariant(): KernelVariant {
  return WebAssembly.validate(RELAXED_SIMD_PROBE) ? "relaxed" : "simd128";
}

const compiled = new Map<KernelVariant, Promise<WebAssembly.Module>>();

/** The kernel module of `variant`, compiled once per thread. */
export function kernelModule(variant: KernelVariant): Promise<WebAssembly.Module> {
  let module = compiled.get(variant);
  if (!module) {
    const url = new URL(`./${VARIANT_FILES[variant]}`, import.meta.url);
    module = Deno.readFile(url).then((bytes) => WebAssembly.compile(bytes));
    compiled.set(variant, module);
  }
  return module;
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
