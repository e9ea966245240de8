/**
 * The compiled CPU kernels (built from C by `build.sh`, in two variants: `kernels_relaxed.wasm`
 * with relaxed SIMD's integer dot product where the runtime has it, `kernels.wasm` with plain
 * SIMD128 otherwise; both give identical results): which export runs each weight type's mat-mul
 * and each activation conversion, and instantiation over a shared memory.
 * @module
 */
import { type VecDotType, vecDotType } from "../../quant/activations.ts";

/** Activation blocks a mat-mul kernel reads, and the export that converts f32 rows to them. */
export interface ActivationLayout {
  readonly convert: string;
  /** Values per block, and its bytes. */
  readonly blockValues: number;
  readonly blockBytes: number;
}

/** ggml's activation types (its "vec_dot types"), as the kernels.h structs lay them out. */
export const GGML_ACTIVATIONS: Readonly<Record<Exclude<VecDotType, "F32">, ActivationLayout>> = {
  F16: { convert: "convert_f16", blockValues: 1, blockBytes: 2 },
  BF16: { convert: "convert_bf16", blockValues: 1, blockBytes: 2 },
  Q8_0: { convert: "quantize_q8_0", blockValues: 32, blockBytes: 34 },
  Q8_1: { convert: "quantize_q8_1", blockValues: 32, blockBytes: 36 },
  Q8_K: { convert: "quantize_q8_K", blockValues: 256, blockBytes: 292 },
};

/** Q8_0's values with an f32 scale and Σq beside them (kernels.h's block_q8_0_summed). */
export const Q8_0_SUMMED: ActivationLayout = {
  convert: "quantize_q8_0_summed",
  blockValues: 32,
  blockBytes: 40,
};

/** How the CPU kernels run one weight type. */
export interface TypeKernels {
  /** The mat-mul export (a mat-vec is a mat-mul of one token). */
  readonly matMul: string;
  /** The activation blocks it reads: ggml's for the type, in some layout (null: f32 as is). */
  readonly activations: ActivationLayout | null;
  /**
   * For a kernel that reads rows interleaved in groups of four: the export that interleaves a
   * matrix in place at load, `(w, rows, cols, scratch of 4 rows)`, and the one that takes a row
   * back out as plain blocks, `(group, index in group, cols, out)`. Null: plain rows.
   */
  readonly interleave: { readonly rows: string; readonly row: string } | null;
}

/** The kernels of a weight type whose mat-mul reads ggml's activation blocks for it, plain rows. */
function plain(type: string): TypeKernels {
  const activation = vecDotType(type);
  return {
    matMul: `matvec_${type.toLowerCase()}`,
    activations: activation === "F32" ? null : GGML_ACTIVATIONS[activation],
    interleave: null,
  };
}

/** Every weight type the CPU runs. */
export const TYPE_KERNELS: Readonly<Record<string, TypeKernels>> = {
  F32: plain("F32"),
  F16: plain("F16"),
  BF16: plain("BF16"),
  Q4_0: {
    matMul: "matvec_q4_0",
    activations: Q8_0_SUMMED,
    interleave: { rows: "interleave_q4_0", row: "deinterleave_row_q4_0" },
  },
  Q4_1: plain("Q4_1"),
  Q5_0: plain("Q5_0"),
  Q5_1: plain("Q5_1"),
  Q8_0: plain("Q8_0"),
  IQ4_NL: plain("IQ4_NL"),
  Q2_K: plain("Q2_K"),
  Q3_K: plain("Q3_K"),
  Q4_K: plain("Q4_K"),
  Q5_K: plain("Q5_K"),
  Q6_K: plain("Q6_K"),
  IQ4_XS: plain("IQ4_XS"),
  IQ2_XXS: plain("IQ2_XXS"),
  IQ2_XS: plain("IQ2_XS"),
  IQ2_S: plain("IQ2_S"),
  IQ3_XXS: plain("IQ3_XXS"),
  IQ3_S: plain("IQ3_S"),
  IQ1_S: plain("IQ1_S"),
  IQ1_M: plain("IQ1_M"),
};

/** The activation conversion exports, each once. */
export const CONVERT_KERNELS: readonly string[] = [
  ...new Set(
    Object.values(TYPE_KERNELS).flatMap(({ activations }) =>
      activations ? [activations.convert] : []
    ),
  ),
];

/**
 * The memory-read probe, a mat-vec over raw bytes (`cols` bytes per row, a multiple of 64):
 * what plain SIMD reads reach, for the kernels' GB/s to be compared with.
 */
export const PROBE_READ_KERNEL = "probe_read";

/** Causal attention over an f32 KV cache, for a batch's (token, head) pairs (attention.c). */
export const ATTENTION_KERNEL = "attend_f32";

/** Every kernel, in a fixed order: the thread pool names a kernel by its index here. */
export const KERNEL_NAMES: readonly string[] = [
  ...Object.values(TYPE_KERNELS).map(({ matMul }) => matMul),
  ...CONVERT_KERNELS,
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
