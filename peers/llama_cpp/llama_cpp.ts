/**
 * llama.cpp as a peer and an oracle, through the npm package `node-llama-cpp`, which ships
 * llama.cpp prebuilt: load and run a GGUF with it, and quantize with its own quantizer (called
 * through Deno's FFI on the shipped `libllama`, as node-llama-cpp does not expose it).
 *
 * Nothing here is needed to run moebench itself; tests use it to check that moebench's files
 * and results agree with llama.cpp, and skip with the reason where it cannot load.
 * @module
 */
import type { Llama, Token } from "node-llama-cpp";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** llama.cpp cannot be used here; `message` says why. */
export class LlamaCppUnavailable extends Error {
  override name = "LlamaCppUnavailable";
}

let llamaPromise: Promise<Llama> | undefined;

/** The llama.cpp runtime (CPU only, prebuilt binaries only, quiet). Loaded once. */
export function loadLlamaCpp(): Promise<Llama> {
  llamaPromise ??= (async () => {
    try {
      const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
      return await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    } catch (error) {
      throw new LlamaCppUnavailable(
        `node-llama-cpp could not load llama.cpp: ${
          error instanceof Error ? error.message : error
        }`,
        { cause: error },
      );
    }
  })();
  return llamaPromise;
}

/** What llama.cpp produced for a prompt. */
export interface LlamaCppRun {
  /** The prompt as llama.cpp tokenized it (without BOS). */
  readonly promptTokens: number[];
  /** Greedy continuation. */
  readonly tokens: number[];
  readonly text: string;
}

/** Loads `modelPath` in llama.cpp, feeds BOS + the prompt, and decodes `count` tokens greedily. */
export async function generateWithLlamaCpp(
  modelPath: string,
  prompt: string,
  count: number,
): Promise<LlamaCppRun> {
  const llama = await loadLlamaCpp();
  const model = await llama.loadModel({ modelPath });
  try {
    // node-llama-cpp's default thread count oversubscribes small machines (~500 ms a token on
    // 2 cores instead of ~1 ms): use one thread per core, as llama.cpp's own tools do
    const context = await model.createContext({ contextSize: 512, threads: llama.cpuMathCores });
    try {
      const prompted = model.tokenize(prompt, false);
      const bos = model.tokens.bos;
      const input = bos === null ? prompted : [bos, ...prompted];
      const generated: Token[] = [];
      if (count > 0) {
        for await (const token of context.getSequence().evaluate(input, { temperature: 0 })) {
          generated.push(token);
          if (generated.length >= count) break;
        }
      }
      return {
        promptTokens: prompted.map(Number),
        tokens: generated.map(Number),
        text: model.detokenize(generated),
      };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

// --- quantization through libllama's FFI ---

/** llama.cpp's `llama_ftype` values for the whole-model quantization mixes. */
export const LLAMA_FTYPES = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 7,
  Q5_0: 8,
  Q5_1: 9,
  Q2_K: 10,
  Q3_K_M: 12,
  Q4_K_S: 14,
  Q4_K_M: 15,
  Q5_K_M: 17,
  Q6_K: 18,
  IQ4_NL: 25,
  IQ4_XS: 30,
} as const;

/** A llama.cpp quantization mix name. */
export type LlamaFtypeName = keyof typeof LLAMA_FTYPES;

/** The npm package that carries llama.cpp's binaries for this platform. */
function binaryPackage(): string {
  const os = Deno.build.os;
  const arch = Deno.build.arch === "x86_64" ? "x64" : "arm64";
  if (os === "linux") return `linux-${arch}`;
  if (os === "darwin") return arch === "arm64" ? "mac-arm64-metal" : "mac-x64";
  if (os === "windows") return `win-${arch}`;
  throw new LlamaCppUnavailable(`no llama.cpp binaries for ${os}/${arch}`);
}

/** The folder holding `libllama` and `libggml*` for this platform. */
export async function llamaCppLibraryDir(): Promise<string> {
  let packageRoot: string;
  try {
    packageRoot = dirname(dirname(fileURLToPath(import.meta.resolve("node-llama-cpp"))));
  } catch (error) {
    throw new LlamaCppUnavailable("node-llama-cpp is not installed", { cause: error });
  }
  const name = binaryPackage();
  const dir = join(dirname(packageRoot), "@node-llama-cpp", name, "bins", name);
  try {
    await Deno.stat(dir);
  } catch (error) {
    throw new LlamaCppUnavailable(`llama.cpp binaries not found at ${dir}`, { cause: error });
  }
  return dir;
}

/** The shared library in `dir` whose name starts with `prefix` followed by `.` (e.g. libllama.). */
async function findLibrary(dir: string, prefix: string): Promise<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(`${prefix}.`) && /\.(so|dylib|dll)$/.test(entry.name)) {
      return join(dir, entry.name);
    }
  }
  throw new LlamaCppUnavailable(`${prefix} not found in ${dir}`);
}

const QUANTIZE_SYMBOLS = {
  llama_backend_init: { parameters: [], result: "void" },
  llama_log_set: { parameters: ["function", "pointer"], result: "void" },
  // struct llama_model_quantize_params (llama.h): 4 × i32, 6 × bool, 4 pointers, size_t
  llama_model_quantize_default_params: {
    parameters: [],
    result: {
      struct: [
        "i32",
        "i32",
        "i32",
        "i32",
        "u8",
        "u8",
        "u8",
        "u8",
        "u8",
        "u8",
        "pointer",
        "pointer",
        "pointer",
        "pointer",
        "usize",
      ],
    },
  },
  llama_model_quantize: { parameters: ["buffer", "buffer", "buffer"], result: "u32" },
} as const;

/**
 * Quantizes `input` (an F32/F16 GGUF) to `output` with llama.cpp's own quantizer, as
 * `llama-quantize input output FTYPE` would.
 * @throws {LlamaCppUnavailable} where llama.cpp's library cannot be loaded.
 * @throws {Error} when llama.cpp reports a failure.
 */
export async function quantizeWithLlamaCpp(
  input: string,
  output: string,
  ftype: LlamaFtypeName,
): Promise<void> {
  const library = await findLibrary(await llamaCppLibraryDir(), "libllama");
  let lib: Deno.DynamicLibrary<typeof QUANTIZE_SYMBOLS>;
  try {
    lib = Deno.dlopen(library, QUANTIZE_SYMBOLS);
  } catch (error) {
    throw new LlamaCppUnavailable(`cannot load ${library}: ${error}`, { cause: error });
  }
  // llama.cpp logs every tensor it quantizes; keep the caller's output readable
  const silence = new Deno.UnsafeCallback(
    { parameters: ["i32", "pointer", "pointer"], result: "void" } as const,
    () => {},
  );
  try {
    lib.symbols.llama_log_set(silence.pointer, null);
    lib.symbols.llama_backend_init();
    const params = new Uint8Array(lib.symbols.llama_model_quantize_default_params());
    new DataView(params.buffer).setInt32(4, LLAMA_FTYPES[ftype], true); // .ftype
    const cString = (s: string) => new TextEncoder().encode(`${s}\0`);
    const status = lib.symbols.llama_model_quantize(cString(input), cString(output), params);
    if (status !== 0) throw new Error(`llama.cpp failed to quantize ${input} to ${ftype}`);
  } finally {
    // the library may stay loaded (node-llama-cpp shares it): never leave it a dead callback
    lib.symbols.llama_log_set(null, null);
    lib.close();
    silence.close();
  }
}
