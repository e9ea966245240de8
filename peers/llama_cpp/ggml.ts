/**
 * ggml's own type traits, quantizers and dequantizers, called through Deno's FFI on the
 * `libggml-base` that node-llama-cpp ships: the oracle every moebench format is tested against.
 *
 * @example
 * ```ts ignore
 * import { loadGgml } from "./ggml.ts";
 * const ggml = await loadGgml();
 * console.log(ggml.typeSize(2), ggml.blockSize(2)); // 18n 32n (Q4_0)
 * ```
 * @module
 */
import { findLibrary, llamaCppLibraryDir, LlamaCppUnavailable } from "./llama_cpp.ts";

const SYMBOLS = {
  ggml_type_size: { parameters: ["i32"], result: "usize" },
  ggml_blck_size: { parameters: ["i32"], result: "i64" },
  ggml_type_name: { parameters: ["i32"], result: "pointer" },
  ggml_fp16_to_fp32_row: { parameters: ["buffer", "buffer", "i64"], result: "void" },
  ggml_bf16_to_fp32_row: { parameters: ["buffer", "buffer", "i64"], result: "void" },
  ggml_quantize_chunk: {
    parameters: ["i32", "buffer", "buffer", "i64", "i64", "i64", "buffer"],
    result: "usize",
  },
  ggml_quantize_requires_imatrix: { parameters: ["i32"], result: "bool" },
} as const;

/** Dequantizers ggml exports as `dequantize_row_<name>(const block*, float*, int64_t)`. */
const DEQUANTIZERS = [
  "q4_0",
  "q4_1",
  "q5_0",
  "q5_1",
  "q8_0",
  "q2_K",
  "q3_K",
  "q4_K",
  "q5_K",
  "q6_K",
  "iq4_nl",
  "iq4_xs",
  "iq2_xxs",
  "iq2_xs",
  "iq2_s",
  "iq3_xxs",
  "iq3_s",
  "iq1_s",
  "iq1_m",
] as const;

/** ggml, loaded. */
export interface Ggml extends Disposable {
  /**
   * The CPU backend's activation converter for a vec_dot type (`type_traits_cpu[id].from_float`,
   * e.g. `quantize_row_q8_0`): what ggml's dot products actually multiply.
   */
  fromFloat(typeId: number, values: Float32Array): Uint8Array;
  typeSize(typeId: number): bigint;
  /** Whether ggml quantizes this type only with an importance matrix. */
  requiresImportance(typeId: number): boolean;
  blockSize(typeId: number): bigint;
  typeName(typeId: number): string;
  /**
   * ggml_quantize_chunk: `rows` rows of `rowLength` values, weighted by `importance` (one weight
   * per column, llama-quantize's imatrix) where given.
   * @throws {RangeError} without one for a type ggml cannot quantize without (IQ2_XXS, IQ2_XS,
   * IQ1_S, IQ1_M), rather than letting ggml abort the process.
   */
  quantize(
    typeId: number,
    values: Float32Array,
    rows: number,
    rowLength: number,
    importance?: Float32Array,
  ): Uint8Array;
  /**
   * ggml's row decoder for a type (by moebench's name, e.g. `Q4_K`, `F16`) over `count` values:
   * `dequantize_row_*`, `ggml_fp16_to_fp32_row` or `ggml_bf16_to_fp32_row`.
   */
  dequantize(typeName: string, blocks: Uint8Array, count: number): Float32Array;
  close(): void;
}

const CPU_SYMBOLS = {
  ggml_cpu_init: { parameters: [], result: "void" },
  ggml_get_type_traits_cpu: { parameters: ["i32"], result: "pointer" },
} as const;

/**
 * One of the CPU backend builds node-llama-cpp ships. ggml picks the best for the CPU at run
 * time; the AVX2 build (`haswell`) has the x86 code paths llama.cpp runs here, and is used
 * where present.
 */
async function loadCpuBackend(): Promise<Deno.DynamicLibrary<typeof CPU_SYMBOLS>> {
  const dir = await llamaCppLibraryDir();
  let path: string;
  try {
    path = await findLibrary(dir, "libggml-cpu-haswell");
  } catch {
    path = await findLibrary(dir, "libggml-cpu");
  }
  try {
    const cpu = Deno.dlopen(path, CPU_SYMBOLS);
    cpu.symbols.ggml_cpu_init();
    return cpu;
  } catch (error) {
    throw new LlamaCppUnavailable(`cannot load ${path}: ${error}`, { cause: error });
  }
}

/**
 * Loads `libggml-base` from node-llama-cpp's binaries.
 * @throws {LlamaCppUnavailable} where it cannot be loaded.
 */
export async function loadGgml(): Promise<Ggml> {
  const path = await findLibrary(await llamaCppLibraryDir(), "libggml-base");
  const dequantizeSymbols = Object.fromEntries(
    DEQUANTIZERS.map((name) => [
      `dequantize_row_${name}`,
      { parameters: ["buffer", "buffer", "i64"], result: "void" } as const,
    ]),
  );
  let lib;
  try {
    lib = Deno.dlopen(path, { ...SYMBOLS, ...dequantizeSymbols });
  } catch (error) {
    throw new LlamaCppUnavailable(`cannot load ${path}: ${error}`, { cause: error });
  }
  const cpu = await loadCpuBackend();
  const symbols = lib.symbols as unknown as
    & typeof lib.symbols
    & Record<string, (src: Uint8Array, dst: Float32Array, k: bigint) => void>;
  const close = () => {
    cpu.close();
    lib.close();
  };
  return {
    fromFloat(typeId, values) {
      const traits = cpu.symbols.ggml_get_type_traits_cpu(typeId);
      const fromFloat = traits && new Deno.UnsafePointerView(traits).getPointer(0);
      if (!fromFloat) throw new RangeError(`ggml has no from_float for type ${typeId}`);
      const definition = { parameters: ["buffer", "buffer", "i64"], result: "void" } as const;
      const convert = new Deno.UnsafeFnPointer(
        fromFloat as Deno.PointerObject<typeof definition>,
        definition,
      );
      const out = new Uint8Array(
        Number(symbols.ggml_type_size(typeId)) * values.length /
          Number(symbols.ggml_blck_size(typeId)),
      );
      convert.call(values, out, BigInt(values.length));
      return out;
    },
    typeSize: (id) => symbols.ggml_type_size(id) as bigint,
    requiresImportance: (id) => symbols.ggml_quantize_requires_imatrix(id),
    blockSize: (id) => symbols.ggml_blck_size(id) as bigint,
    typeName(id) {
      const pointer = symbols.ggml_type_name(id);
      return pointer === null ? "" : new Deno.UnsafePointerView(pointer).getCString();
    },
    quantize(typeId, values, rows, rowLength, importance) {
      if (!importance && symbols.ggml_quantize_requires_imatrix(typeId)) {
        throw new RangeError(`ggml needs an importance matrix to quantize type ${typeId}`);
      }
      if (importance && importance.length !== rowLength) {
        throw new RangeError(`${importance.length} importance weights for rows of ${rowLength}`);
      }
      const out = new Uint8Array(
        Number(symbols.ggml_type_size(typeId)) * values.length /
          Number(symbols.ggml_blck_size(typeId)),
      );
      const written = symbols.ggml_quantize_chunk(
        typeId,
        values,
        out,
        0n,
        BigInt(rows),
        BigInt(rowLength),
        importance ?? null,
      );
      if (Number(written) !== out.length) {
        throw new Error(`ggml_quantize_chunk wrote ${written} bytes, expected ${out.length}`);
      }
      return out;
    },
    dequantize(typeName, blocks, count) {
      const special: Record<string, string> = {
        F16: "ggml_fp16_to_fp32_row",
        BF16: "ggml_bf16_to_fp32_row",
      };
      // ggml's names are lower case but for the K: q4_K, iq4_xs
      const name = special[typeName] ??
        `dequantize_row_${typeName.toLowerCase().replace(/_k$/, "_K")}`;
      const fn = symbols[name];
      if (!fn) throw new RangeError(`ggml exports no dequantizer for ${typeName}`);
      const out = new Float32Array(count);
      fn(blocks, out, BigInt(count));
      return out;
    },
    close,
    [Symbol.dispose]: close,
  };
}

/**
 * An importance matrix of ones (every column equally important) where ggml quantizes `typeId`
 * only with one, else none: the plainest quantization ggml makes of each type.
 */
export function unitImportance(ggml: Ggml, typeId: number, rowLength: number) {
  return ggml.requiresImportance(typeId) ? new Float32Array(rowLength).fill(1) : undefined;
}
