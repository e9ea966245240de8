/**
 * llama.cpp as a peer and an oracle, through the npm package `node-llama-cpp`, which ships
 * llama.cpp prebuilt. It lives in its own npm package beside this file (`package.json`,
 * `package-lock.json`), installed on first use, and runs in a Node process (`worker.mjs`):
 * users who never compare with llama.cpp never download it. Its quantizer, which
 * node-llama-cpp does not expose, is called through Deno's FFI on the shipped `libllama`.
 *
 * Nothing here is needed to run moebench itself; tests use it to check that moebench's files
 * and results agree with llama.cpp, and skip with the reason where it cannot load.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fileTypeId, type FileTypeName } from "../../engine/gguf/file_type.ts";
import { LlamaCppUnavailable } from "./errors.ts";

export { LlamaCppUnavailable };

const PEER_DIR = fileURLToPath(new URL(".", import.meta.url));
const PACKAGE = "node-llama-cpp";

/** The version pinned in this folder's package.json. */
async function pinnedVersion(): Promise<string> {
  const manifest = JSON.parse(await Deno.readTextFile(join(PEER_DIR, "package.json")));
  return manifest.dependencies[PACKAGE];
}

/** The npm package that carries llama.cpp's binaries for this platform. */
function binaryPackage(): string {
  const os = Deno.build.os;
  const arch = Deno.build.arch === "x86_64" ? "x64" : "arm64";
  if (os === "linux") return `linux-${arch}`;
  if (os === "darwin") return arch === "arm64" ? "mac-arm64-metal" : "mac-x64";
  if (os === "windows") return `win-${arch}`;
  throw new LlamaCppUnavailable(`no llama.cpp binaries for ${os}/${arch}`);
}

let installation: Promise<void> | undefined;

/**
 * Installs node-llama-cpp (CPU binaries of this platform only: its optional CUDA and Vulkan
 * builds are ~700 MB) into this folder with npm, unless the pinned version is there already.
 * @throws {LlamaCppUnavailable} where npm is missing or the install fails.
 */
export function ensureLlamaCpp(): Promise<void> {
  installation ??= (async () => {
    const version = await pinnedVersion();
    const installed = join(PEER_DIR, "node_modules", PACKAGE, "package.json");
    const binaries = join(PEER_DIR, "node_modules", "@node-llama-cpp", binaryPackage());
    try {
      const manifest = JSON.parse(await Deno.readTextFile(installed));
      await Deno.stat(binaries);
      if (manifest.version === version) return await disableAmxVariant();
    } catch {
      // not installed yet
    }
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command("npm", {
        args: [
          "install",
          "--no-save",
          "--omit=optional",
          "--ignore-scripts",
          "--no-audit",
          "--no-fund",
          `@node-llama-cpp/${binaryPackage()}@${version}`,
        ],
        cwd: PEER_DIR,
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (error) {
      throw new LlamaCppUnavailable(`npm is needed to install ${PACKAGE}: ${error}`, {
        cause: error,
      });
    }
    if (!output.success) {
      const reason = new TextDecoder().decode(output.stderr).trim().split("\n").pop();
      throw new LlamaCppUnavailable(`npm could not install ${PACKAGE}@${version}: ${reason}`);
    }
    await disableAmxVariant();
  })();
  return installation;
}

/**
 * Keeps ggml from choosing its Sapphire Rapids CPU variant. That variant repacks weights for
 * AMX, and llama.cpp then aborts on DeepSeek's batched latent-attention weights
 * (`GGML_ASSERT(*cur_backend_id != -1)` for any quantized or F16 deepseek2 model); without it
 * ggml takes the AVX-512 variant. (PERF_NOTES: llama.cpp is measured without AMX here too.)
 */
async function disableAmxVariant(): Promise<void> {
  const name = binaryPackage();
  const dir = join(PEER_DIR, "node_modules", "@node-llama-cpp", name, "bins", name);
  for await (const entry of Deno.readDir(dir)) {
    if (/^libggml-cpu-sapphirerapids\.(so|dylib|dll)$/.test(entry.name)) {
      await Deno.rename(join(dir, entry.name), join(dir, `${entry.name}.disabled`));
    }
  }
}

/** Runs one worker command in Node and returns its JSON answer. */
async function runWorker<T>(command: string, args: Record<string, unknown>): Promise<T> {
  await ensureLlamaCpp();
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("node", {
      args: [join(PEER_DIR, "worker.mjs"), command, JSON.stringify(args)],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new LlamaCppUnavailable(`Node.js is needed to run llama.cpp: ${error}`, {
      cause: error,
    });
  }
  if (!output.success) {
    const reason = new TextDecoder().decode(output.stderr).trim().split("\n").pop();
    throw new Error(`llama.cpp ${command} failed: ${reason}`);
  }
  return JSON.parse(new TextDecoder().decode(output.stdout)) as T;
}

/**
 * Whether llama.cpp can run here: `null` when it can, else the reason. Installs it if needed
 * and loads it once.
 */
export async function llamaCppUnavailableReason(): Promise<string | null> {
  try {
    await llamaCppInfo();
    await llamaCppLibraryDir();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Which llama.cpp build node-llama-cpp loads here. */
export interface LlamaCppInfo {
  /** `prebuilt` (shipped binaries) or `localBuild`. */
  readonly build: string;
  /** llama.cpp release tag, e.g. `v0.5.0`. */
  readonly release: string;
  readonly cores: number;
}

/** Loads llama.cpp once in the worker and says which build it is. */
export function llamaCppInfo(): Promise<LlamaCppInfo> {
  return runWorker("info", {});
}

/** What llama.cpp produced for a prompt. */
export interface LlamaCppRun {
  /** The prompt as llama.cpp tokenized it (without BOS). */
  readonly promptTokens: number[];
  /** Greedy continuation. */
  readonly tokens: number[];
  readonly text: string;
}

/** Loads `model` in llama.cpp, feeds BOS + the prompt, and decodes `count` tokens greedily. */
export function generateWithLlamaCpp(
  model: string,
  prompt: string,
  count: number,
): Promise<LlamaCppRun> {
  const threads = navigator.hardwareConcurrency;
  return runWorker("generate", { model, prompt, count, threads });
}

/**
 * Teacher-forced evaluation in llama.cpp: after each of `tokens`, its `top` highest raw logits
 * as `[id, logit]`, best first (the `eval --json` shape). Flash attention is off unless asked
 * for: its F16 accumulation is not what moebench's `ggml` numerics follow. `batchSize` 1 runs
 * one token per decode call.
 */
export async function evalWithLlamaCpp(
  model: string,
  tokens: readonly number[],
  top: number,
  { flashAttention = false, batchSize }: { flashAttention?: boolean; batchSize?: number } = {},
): Promise<[number, number][][]> {
  const threads = navigator.hardwareConcurrency;
  const result = await runWorker<{ top: [number, number][][] }>("eval", {
    model,
    tokens,
    top,
    threads,
    flashAttention,
    batchSize,
  });
  return result.top;
}

/** After each of `tokens` but the last, llama.cpp's log-probability of the next one. */
export function logProbsWithLlamaCpp(model: string, tokens: readonly number[]): Promise<number[]> {
  const threads = navigator.hardwareConcurrency;
  return runWorker("logprobs", { model, tokens, threads, flashAttention: false });
}

/** Each text as llama.cpp tokenizes it (no BOS; special tokens written in the text stay text). */
export function tokenizeWithLlamaCpp(model: string, texts: readonly string[]): Promise<number[][]> {
  return runWorker("tokenize", { model, texts });
}

/** One tensor as llama.cpp's tooling (node-llama-cpp's GGUF parser) reads it. */
export interface LlamaCppTensor {
  readonly name: string;
  readonly shape: number[];
  readonly typeId: number;
  /** Absolute file offset of the data. */
  readonly offset: number;
}

/** The tensor index of `model` as node-llama-cpp's GGUF parser reads it. */
export function readTensorsWithLlamaCpp(model: string): Promise<LlamaCppTensor[]> {
  return runWorker("tensors", { model });
}

// --- quantization through libllama's FFI ---

/** The folder holding `libllama` and `libggml*` for this platform (installing them if needed). */
export async function llamaCppLibraryDir(): Promise<string> {
  await ensureLlamaCpp();
  const name = binaryPackage();
  const dir = join(PEER_DIR, "node_modules", "@node-llama-cpp", name, "bins", name);
  try {
    await Deno.stat(dir);
  } catch (error) {
    throw new LlamaCppUnavailable(`llama.cpp binaries not found at ${dir}`, { cause: error });
  }
  return dir;
}

/** The shared library in `dir` whose name is `prefix` + `.` + anything + a library suffix. */
export async function findLibrary(dir: string, prefix: string): Promise<string> {
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
  ftype: FileTypeName,
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
    new DataView(params.buffer).setInt32(4, fileTypeId(ftype), true); // .ftype
    const cString = (s: string) => new TextEncoder().encode(`${s}\0`);
    const status = lib.symbols.llama_model_quantize(cString(input), cString(output), params);
    if (status !== 0) throw new Error(`llama.cpp failed to quantize ${input} to ${ftype}`);
  } finally {
    // never leave the library (which may stay loaded) a dead callback
    lib.symbols.llama_log_set(null, null);
    lib.close();
    silence.close();
  }
}
