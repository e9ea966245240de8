/**
 * llama.cpp's pp, tg and pp+tg, timed through its C API (libllama over Deno's FFI) exactly as
 * llama-bench times them: a prompt decoded in one batch, tokens decoded one per call, or both,
 * each from an emptied context (filled, untimed, with the `context` tokens first: its `-d`), no
 * sampling. node-llama-cpp's own JavaScript layer adds ~10 ms to every
 * decode call (measured here: 65 tok/s through it against 208 tok/s through the C API on the same
 * file), so a peer figure taken through it would flatter moebench threefold.
 *
 * @example
 * ```ts ignore
 * import { benchWithLlamaCpp } from "./bench.ts";
 * const { pp, tg } = await benchWithLlamaCpp("m.gguf", {
 *   threads: 2, promptLengths: [128], genTokens: 64, repetitions: 3, warmup: 1,
 *   prompt: Array.from({ length: 128 }, (_, i) => 3 + i),
 * });
 * ```
 * @module
 */
import { findLibrary, llamaCppLibraryDir, LlamaCppUnavailable } from "./llama_cpp.ts";

/**
 * `llama_model_params` (80 bytes), `llama_context_params` (160) and `llama_batch` (56) of the
 * pinned llama.cpp release, passed and returned by value. Structs over 16 bytes travel in memory
 * on x86-64 and arm64 alike, so only their sizes matter here; fields are set by byte offset.
 */
const MODEL_PARAMS = { struct: Array(10).fill("u64") } as const;
const CONTEXT_PARAMS = { struct: Array(20).fill("u64") } as const;
const BATCH = { struct: Array(7).fill("u64") } as const;
const CONTEXT = { nCtx: 0, nBatch: 4, nUbatch: 8, nThreads: 28, nThreadsBatch: 32, flashAttn: 52 };

const SYMBOLS = {
  llama_backend_init: { parameters: [], result: "void" },
  llama_log_set: { parameters: ["pointer", "pointer"], result: "void" },
  llama_model_default_params: { parameters: [], result: MODEL_PARAMS },
  llama_model_load_from_file: { parameters: ["buffer", MODEL_PARAMS], result: "pointer" },
  llama_model_free: { parameters: ["pointer"], result: "void" },
  llama_context_default_params: { parameters: [], result: CONTEXT_PARAMS },
  llama_init_from_model: { parameters: ["pointer", CONTEXT_PARAMS], result: "pointer" },
  llama_free: { parameters: ["pointer"], result: "void" },
  llama_get_memory: { parameters: ["pointer"], result: "pointer" },
  llama_memory_clear: { parameters: ["pointer", "bool"], result: "void" },
  llama_batch_get_one: { parameters: ["buffer", "i32"], result: BATCH },
  llama_decode: { parameters: ["pointer", BATCH], result: "i32" },
} as const;

const GGML_SYMBOLS = {
  ggml_backend_load_all_from_path: { parameters: ["buffer"], result: "void" },
} as const;

/** What to time. */
export interface LlamaCppBenchOptions {
  readonly threads: number;
  /** A pp test at each prompt length. */
  readonly promptLengths: readonly number[];
  readonly genTokens: number;
  /** Prompt-then-decode tests (`-pg`), each timed as one. */
  readonly promptGen?: readonly { readonly prompt: number; readonly gen: number }[];
  /** Tokens put in the context, untimed, before each test (none: an empty context). */
  readonly context?: readonly number[];
  /** Timed repetitions, after `warmup` untimed ones. */
  readonly repetitions: number;
  readonly warmup: number;
  /** The prompt's token ids (at least the longest length; tg feeds them again one by one). */
  readonly prompt: readonly number[];
}

/** Seconds per repetition of each test. */
export interface LlamaCppBench {
  /** Per prompt length. */
  readonly pp: number[][];
  readonly tg: number[];
  /** Per prompt-then-decode test. */
  readonly pg: number[][];
}

const cString = (s: string) => new TextEncoder().encode(`${s}\0`);

/**
 * Times `model` in llama.cpp (CPU, no flash attention).
 * @throws {LlamaCppUnavailable} where llama.cpp cannot be loaded or refuses the model.
 */
export async function benchWithLlamaCpp(
  model: string,
  options: LlamaCppBenchOptions,
): Promise<LlamaCppBench> {
  const dir = await llamaCppLibraryDir();
  const ggml = Deno.dlopen(await findLibrary(dir, "libggml"), GGML_SYMBOLS);
  const lib = Deno.dlopen(await findLibrary(dir, "libllama"), SYMBOLS);
  const silence = new Deno.UnsafeCallback(
    { parameters: ["i32", "pointer", "pointer"], result: "void" } as const,
    () => {},
  );
  let loaded: Deno.PointerValue = null;
  let context: Deno.PointerValue = null;
  try {
    lib.symbols.llama_log_set(silence.pointer, null);
    lib.symbols.llama_backend_init();
    ggml.symbols.ggml_backend_load_all_from_path(cString(dir));
    const modelParams = new Uint8Array(lib.symbols.llama_model_default_params());
    loaded = lib.symbols.llama_model_load_from_file(cString(model), modelParams);
    if (!loaded) throw new LlamaCppUnavailable(`llama.cpp could not load ${model}`);
    const params = new Uint8Array(lib.symbols.llama_context_default_params());
    const view = new DataView(params.buffer);
    const promptGen = options.promptGen ?? [];
    const filled = Int32Array.from(options.context ?? []);
    const longest = Math.max(...options.promptLengths, ...promptGen.map((pg) => pg.prompt), 1);
    const test = Math.max(longest, options.genTokens, ...promptGen.map((pg) => pg.prompt + pg.gen));
    const contextSize = Math.max(512, filled.length + test + 8);
    view.setUint32(CONTEXT.nCtx, contextSize, true);
    view.setUint32(CONTEXT.nBatch, longest, true);
    view.setUint32(CONTEXT.nUbatch, longest, true);
    view.setInt32(CONTEXT.nThreads, options.threads, true);
    view.setInt32(CONTEXT.nThreadsBatch, options.threads, true);
    view.setInt32(CONTEXT.flashAttn, 0, true); // LLAMA_FLASH_ATTN_TYPE_DISABLED
    context = lib.symbols.llama_init_from_model(loaded, params);
    if (!context) throw new LlamaCppUnavailable(`llama.cpp could not create a context`);
    const memory = lib.symbols.llama_get_memory(context);
    const prompt = Int32Array.from(options.prompt.slice(0, longest));
    const one = new Int32Array(1);
    const decode = (tokens: Int32Array) => {
      const batch = lib.symbols.llama_batch_get_one(tokens, tokens.length);
      const status = lib.symbols.llama_decode(context, batch);
      if (status !== 0) throw new Error(`llama_decode failed (${status})`);
    };
    /** An emptied context, then the `context` tokens in batches of at most `longest`. */
    const fill = () => {
      lib.symbols.llama_memory_clear(memory, true);
      for (let at = 0; at < filled.length; at += longest) {
        decode(filled.subarray(at, at + longest));
      }
    };
    const generate = (count: number) => {
      for (let i = 0; i < count; i++) {
        one[0] = prompt[i % prompt.length] ?? 1;
        decode(one);
      }
    };
    const result: LlamaCppBench = {
      pp: options.promptLengths.map(() => []),
      tg: [],
      pg: promptGen.map(() => []),
    };
    for (let rep = 0; rep < options.warmup + options.repetitions; rep++) {
      const timed = rep >= options.warmup;
      const time = (run: () => void, samples: number[]) => {
        fill();
        const start = performance.now();
        run();
        if (timed) samples.push((performance.now() - start) / 1000);
      };
      for (const [i, length] of options.promptLengths.entries()) {
        time(() => decode(prompt.subarray(0, length)), result.pp[i]!);
      }
      time(() => generate(options.genTokens), result.tg);
      for (const [i, { prompt: length, gen }] of promptGen.entries()) {
        time(() => {
          decode(prompt.subarray(0, length));
          generate(gen);
        }, result.pg[i]!);
      }
    }
    return result;
  } finally {
    if (context) lib.symbols.llama_free(context);
    if (loaded) lib.symbols.llama_model_free(loaded);
    lib.symbols.llama_log_set(null, null);
    lib.close();
    ggml.close();
    silence.close();
  }
}
