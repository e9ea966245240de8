/**
 * The options every command that runs a model shares (`--backend`, `--threads`, `--numerics`,
 * and expert offloading's), and loading a model as they say.
 * @module
 */
import { Option } from "@commander-js/extra-typings";
import { CpuBackend } from "../engine/backend/cpu/backend.ts";
import type { GGUFFile } from "../engine/gguf/read.ts";
import { referenceBackend } from "../engine/model/matrix.ts";
import { ReferenceModel, type RunOptions } from "../engine/model/reference.ts";
import type { OffloadOptions } from "../engine/offload/offloaded.ts";
import { residentBytes } from "../util/memory.ts";
import { parseSize, parseWholeNumber, type SizeOption, UsageError } from "./common.ts";

/** `--backend`: the WASM SIMD kernels on worker threads, or the plain TypeScript oracle. */
export const backendOption = () =>
  new Option("--backend <name>", "cpu: WASM SIMD kernels on worker threads; reference: plain TS")
    .choices(["cpu", "reference"] as const).default("cpu" as const);

/** `--threads`: threads of the cpu backend. */
export const threadsOption = () =>
  new Option(
    "--threads <n>",
    "threads of the cpu backend (default: logical cores; one fewer when offloading experts)",
  )
    .argParser((value) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 256) {
        throw new UsageError(`--threads must be a whole number from 1 to 256, got "${value}"`);
      }
      return n;
    });

/** `--numerics`: how activations are rounded (the cpu backend always rounds as ggml does). */
export const numericsOption = () =>
  new Option(
    "--numerics <mode>",
    "f32: exact activations (reference backend only); ggml: rounded as llama.cpp's CPU",
  ).choices(["f32", "ggml"] as const);

/** `--expert-budget`: offload experts behind a cache of this many bytes (or share of experts). */
export const expertBudgetOption = () =>
  new Option(
    "--expert-budget <size>",
    "offload routed experts: a cache of this size (512MiB, 2GB, 25% of the expert bytes)",
  ).argParser((value) => parseSize(value, true));

/** `--expert-slots`: offload experts behind this many cache slots per MoE layer. */
export const expertSlotsOption = () =>
  new Option("--expert-slots <n>", "offload routed experts: this many cache slots per MoE layer")
    .argParser(parseWholeNumber);

/** `--cache-policy`: which expert leaves the cache. */
export const cachePolicyOption = () =>
  new Option("--cache-policy <name>", "expert cache eviction policy")
    .choices(["lru", "lfu", "fifo", "random"] as const).default("lru" as const);

/** `--prefetch`: speculative loading of the next layers' guessed experts. */
export const prefetchOption = () =>
  new Option("--prefetch <on|off>", "guess and load the next layers' experts while computing")
    .choices(["on", "off"] as const).default("on" as const);

/** `--prefetch-depth`: layers ahead to guess. */
export const prefetchDepthOption = () =>
  new Option("--prefetch-depth <n>", "layers ahead to guess experts for").argParser(
    parseWholeNumber,
  ).default(1);

/** `--prefetch-k`: experts to guess per layer. */
export const prefetchKOption = () =>
  new Option("--prefetch-k <n>", "experts to guess per layer (default: the model's top-k)")
    .argParser(parseWholeNumber);

/** `--expert-tier`: where offloaded experts are read from. */
export const expertTierOption = () =>
  new Option("--expert-tier <tier>", "where offloaded experts live: the file, or a RAM copy")
    .choices(["disk", "ram"] as const).default("disk" as const);

/** `--cold`: drop the model file from the page cache before generating. */
export const coldOption = () =>
  new Option("--cold", "drop the model file from the OS page cache first (a cold run)");

/** What the options parse to. */
export interface EngineOptions {
  readonly backend: "cpu" | "reference";
  readonly threads?: number;
  readonly numerics?: "f32" | "ggml";
  readonly expertBudget?: SizeOption;
  readonly expertSlots?: number;
  readonly cachePolicy?: "lru" | "lfu" | "fifo" | "random";
  readonly prefetch?: "on" | "off";
  readonly prefetchDepth?: number;
  readonly prefetchK?: number;
  readonly expertTier?: "disk" | "ram";
}

/** The offloading the options ask for (undefined: every expert resident). */
export function offloadOptions(options: EngineOptions): OffloadOptions | undefined {
  const { expertBudget: budget, expertSlots: slots } = options;
  if (budget !== undefined && slots !== undefined) {
    throw new UsageError("give --expert-budget or --expert-slots, not both");
  }
  if (budget === undefined && slots === undefined) return undefined;
  const depth = options.prefetch === "off" ? 0 : options.prefetchDepth ?? 1;
  return {
    ...(budget && "bytes" in budget ? { budgetBytes: budget.bytes } : {}),
    ...(budget && "share" in budget ? { budgetShare: budget.share } : {}),
    ...(slots !== undefined ? { slotsPerLayer: slots } : {}),
    policy: options.cachePolicy ?? "lru",
    prefetch: depth > 0
      ? { depth, ...(options.prefetchK !== undefined ? { experts: options.prefetchK } : {}) }
      : null,
    tier: options.expertTier ?? "disk",
  };
}

/** A loaded model and what must be released with it. */
export interface LoadedModel extends AsyncDisposable {
  readonly model: ReferenceModel;
  /** Resident set once the backend's threads ran, before any weight was read. */
  readonly engineRssBytes: number;
  /** Threads computing (the reference backend runs on one). */
  readonly threads: number;
}

/**
 * Loads `gguf` on the chosen backend. The reference backend defaults to exact f32 numerics;
 * the cpu backend's kernels work on ggml's rounded activations, so it refuses `--numerics f32`.
 */
export async function loadModel(
  gguf: GGUFFile,
  options: EngineOptions,
  maxContext: number,
  extra: Pick<RunOptions, "onRouting" | "guessAhead"> = {},
): Promise<LoadedModel> {
  const offload = offloadOptions(options);
  let engineRssBytes = residentBytes();
  if (options.backend === "reference") {
    if (offload) throw new UsageError("offloading experts needs --backend cpu");
    if (options.threads !== undefined) throw new UsageError("--threads needs --backend cpu");
    const model = await ReferenceModel.load(gguf, {
      maxContext,
      numerics: options.numerics ?? "f32",
      backend: referenceBackend,
      ...extra,
    });
    return { model, engineRssBytes, threads: 1, [Symbol.asyncDispose]: () => Promise.resolve() };
  }
  if (options.numerics === "f32") {
    throw new UsageError(
      "--numerics f32 needs --backend reference (the cpu kernels round as ggml)",
    );
  }
  // the expert loader needs a core of its own: sharing one, its time slices hold up every
  // mat-vec at the compute threads' barrier (measured: 45 → 75 tok/s on 2 cores)
  const threads = options.threads ??
    (offload ? Math.max(1, navigator.hardwareConcurrency - 1) : navigator.hardwareConcurrency);
  const cpu = await CpuBackend.create({ threads });
  engineRssBytes = residentBytes();
  try {
    const model = await ReferenceModel.load(gguf, {
      maxContext,
      numerics: "ggml",
      backend: cpu,
      ...(offload ? { offload } : {}),
      ...extra,
    });
    return {
      model,
      engineRssBytes,
      threads: cpu.threads,
      [Symbol.asyncDispose]: () => {
        model.close();
        return cpu[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    cpu.close();
    throw error;
  }
}
