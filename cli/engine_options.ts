/**
 * The options every command that runs a model shares (`--backend`, `--threads`, `--numerics`,
 * and expert offloading's), and loading a model as they say.
 * @module
 */
import { Option } from "@commander-js/extra-typings";
import { CpuBackend, defaultThreads } from "../engine/backend/cpu/backend.ts";
import type { GGUFFile } from "../engine/gguf/read.ts";
import { referenceBackend } from "../engine/model/matrix.ts";
import { ReferenceModel, type RunOptions } from "../engine/model/reference.ts";
import type { LanguageModel } from "../engine/model/language_model.ts";
import { type Gpu, type GpuInfo, openGpu } from "../engine/backend/webgpu/device.ts";
import { GpuModel } from "../engine/backend/webgpu/model.ts";
import type { OffloadOptions } from "../engine/offload/offloaded.ts";
import { placeHotExperts, type Placement } from "../engine/offload/placement.ts";
import { ExpertStore } from "../engine/offload/store.ts";
import { readTrace } from "../engine/offload/trace.ts";
import { readConfig } from "../engine/model/config.ts";
import { type EngineSettings, readEngineConfig } from "../profiles/config.ts";
import { residentBytes } from "../util/memory.ts";
import { parseSize, parseWholeNumber, type SizeOption, UsageError } from "./common.ts";

/**
 * `--backend`: the WASM SIMD kernels on worker threads, WGSL kernels through WebGPU, the best of
 * those here, or the plain TypeScript oracle.
 */
export const backendOption = () =>
  new Option(
    "--backend <name>",
    "cpu: WASM SIMD kernels on worker threads; webgpu: WGSL kernels on the GPU; auto: webgpu " +
      "on a real GPU, else cpu; reference: plain TS",
  ).choices(["cpu", "webgpu", "auto", "reference"] as const).default("cpu" as const);

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

/** `--gpu-experts`: hybrid placement, the routed experts the GPU holds. */
export const gpuExpertsOption = () =>
  new Option(
    "--gpu-experts <size>",
    "hybrid: keep this many bytes (or share) of routed experts on the GPU, the most used per " +
      "--placement-trace; the rest compute on the CPU",
  ).argParser((value) => parseSize(value, true));

/** `--placement-trace`: the routing frequencies hybrid placement follows. */
export const placementTraceOption = () =>
  new Option("--placement-trace <file>", "hybrid: a trace from `moebench trace` of this model");

/** `--gpu-profile`: per-kernel GPU time. */
export const gpuProfileOption = () =>
  new Option(
    "--gpu-profile",
    "time every GPU kernel (timestamp queries; each dispatch in a pass of its own, so slower)",
  );

/** `--cold`: drop the model file from the page cache before generating. */
export const coldOption = () =>
  new Option("--cold", "drop the model file from the OS page cache first (a cold run)");

/** `--config`: engine settings from `moebench tune`. */
export const configOption = () =>
  new Option(
    "--config <file>",
    "engine settings from `moebench tune` (options given here override them)",
  );

/**
 * `options` with a config file's engine settings wherever the command line gave none
 * (`givenOnCli(name)` says; commander knows an option's source). An expert cache the command
 * line sets up another way (`--expert-slots`, `--gpu-experts`) keeps the config's out.
 */
export async function withEngineConfig<T extends EngineOptions>(
  options: T & { readonly config?: string },
  givenOnCli: (name: keyof EngineOptions) => boolean,
): Promise<T> {
  if (options.config === undefined) return options;
  const { engine } = await readEngineConfig(options.config);
  const ownCache = ["expertBudget", "expertSlots", "gpuExperts"] as const;
  const cacheGiven = ownCache.some((name) => options[name] !== undefined && givenOnCli(name));
  const fromConfig = Object.entries(settingsOptions(engine)).filter(([name]) =>
    !givenOnCli(name as keyof EngineOptions) && !(cacheGiven && name === "expertBudget")
  );
  return { ...options, ...Object.fromEntries(fromConfig) };
}

/** Engine settings (a config file's, or a tuning candidate's) as the options that ask for them. */
export function settingsOptions(engine: EngineSettings): EngineOptions {
  return {
    backend: engine.backend,
    ...(engine.threads !== null ? { threads: engine.threads } : {}),
    ...(engine.expert_budget_bytes !== null
      ? { expertBudget: { bytes: engine.expert_budget_bytes } }
      : {}),
    cachePolicy: engine.cache_policy,
    prefetch: engine.prefetch_depth > 0 ? "on" : "off",
    ...(engine.prefetch_depth > 0 ? { prefetchDepth: engine.prefetch_depth } : {}),
    ...(engine.prefetch_k !== null ? { prefetchK: engine.prefetch_k } : {}),
    expertTier: engine.expert_tier,
  };
}

/** What the options parse to. */
export interface EngineOptions {
  readonly backend: "cpu" | "webgpu" | "auto" | "reference";
  readonly threads?: number;
  readonly numerics?: "f32" | "ggml";
  readonly expertBudget?: SizeOption;
  readonly expertSlots?: number;
  readonly cachePolicy?: "lru" | "lfu" | "fifo" | "random";
  readonly prefetch?: "on" | "off";
  readonly prefetchDepth?: number;
  readonly prefetchK?: number;
  readonly expertTier?: "disk" | "ram";
  readonly gpuExperts?: SizeOption;
  readonly placementTrace?: string;
  readonly gpuProfile?: boolean;
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
  readonly model: LanguageModel;
  /** The backend running it (`auto` resolved). */
  readonly backend: "cpu" | "webgpu" | "reference";
  /** Resident set once the backend's threads ran, before any weight was read. */
  readonly engineRssBytes: number;
  /** Threads computing (the reference backend runs on one; 0: the GPU computes). */
  readonly threads: number;
  /** The GPU adapter, with the webgpu backend. */
  readonly gpu: GpuInfo | null;
}

/**
 * `--backend auto`: the GPU where WebGPU finds a real one (not a fallback adapter such as Mesa's
 * llvmpipe, which runs WGSL on the CPU slower than the cpu backend), else the cpu backend.
 */
async function resolveBackend(
  backend: EngineOptions["backend"],
): Promise<{ backend: LoadedModel["backend"]; gpu: Gpu | null }> {
  if (backend === "cpu" || backend === "reference") return { backend, gpu: null };
  const gpu = await openGpu();
  if ("unavailable" in gpu) {
    if (backend === "auto") return { backend: "cpu", gpu: null };
    throw new UsageError(`--backend webgpu: ${gpu.unavailable}`);
  }
  if (backend === "auto" && gpu.info.fallback) {
    gpu.device.destroy();
    return { backend: "cpu", gpu: null };
  }
  return { backend: "webgpu", gpu };
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
  const { backend, gpu } = await resolveBackend(options.backend);
  if (backend === "reference") {
    if (offload) throw new UsageError("offloading experts needs --backend cpu or webgpu");
    if (options.threads !== undefined) throw new UsageError("--threads needs --backend cpu");
    const model = await ReferenceModel.load(gguf, {
      maxContext,
      numerics: options.numerics ?? "f32",
      backend: referenceBackend,
      ...extra,
    });
    return {
      model,
      backend,
      engineRssBytes,
      threads: 1,
      gpu: null,
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  }
  if (options.numerics === "f32") {
    throw new UsageError(
      `--numerics f32 needs --backend reference (the ${backend} kernels round as ggml)`,
    );
  }
  if (gpu) return await loadOnGpu(gguf, gpu, options, offload, maxContext, extra);
  if (options.gpuExperts !== undefined || options.placementTrace !== undefined) {
    throw new UsageError(`hybrid placement needs --backend webgpu (running on ${backend})`);
  }
  if (options.gpuProfile) {
    throw new UsageError(`--gpu-profile needs --backend webgpu (running on ${backend})`);
  }
  const threads = options.threads ?? defaultThreads(navigator.hardwareConcurrency, !!offload);
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
      backend,
      engineRssBytes,
      threads: cpu.threads,
      gpu: null,
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

/**
 * The webgpu backend: weights and activations on the GPU. Offloaded experts stage in host slots
 * of a one-thread cpu backend (the loader thread's memory) on their way to the GPU's slots; with
 * hybrid placement, the CPU's experts live and compute in a cpu backend of `--threads`.
 */
async function loadOnGpu(
  gguf: GGUFFile,
  gpu: Gpu,
  options: EngineOptions,
  offload: OffloadOptions | undefined,
  maxContext: number,
  extra: Pick<RunOptions, "onRouting" | "guessAhead">,
): Promise<LoadedModel> {
  const placement = await hybridPlacement(gguf, options);
  if (offload && placement) {
    throw new UsageError("give --gpu-experts or an expert cache (--expert-budget), not both");
  }
  if (options.threads !== undefined && !placement) {
    throw new UsageError("--threads needs --backend cpu, or --gpu-experts on the webgpu backend");
  }
  const host = offload || placement
    ? await CpuBackend.create({
      threads: placement ? options.threads ?? navigator.hardwareConcurrency : 1,
    })
    : null;
  const engineRssBytes = residentBytes();
  const release = () => {
    host?.close();
    gpu.device.destroy();
  };
  try {
    const model = await GpuModel.load(gguf, gpu, {
      maxContext,
      ...(offload ? { offload, staging: host! } : {}),
      ...(placement ? { hybrid: { placement, host: host! } } : {}),
      profileKernels: options.gpuProfile ?? false,
      ...extra,
    });
    return {
      model,
      backend: "webgpu",
      engineRssBytes,
      threads: placement ? host!.threads : 0,
      gpu: gpu.info,
      [Symbol.asyncDispose]: () => {
        model.close();
        release();
        return Promise.resolve();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/** `--gpu-experts` and `--placement-trace`: where each routed expert computes (null: the GPU). */
async function hybridPlacement(
  gguf: GGUFFile,
  options: EngineOptions,
): Promise<Placement | null> {
  const { gpuExperts, placementTrace } = options;
  if (gpuExperts === undefined && placementTrace === undefined) return null;
  if (gpuExperts === undefined || placementTrace === undefined) {
    throw new UsageError(
      "hybrid placement needs both --gpu-experts and --placement-trace (from moebench trace)",
    );
  }
  const store = ExpertStore.fromGGUF(gguf, readConfig(gguf));
  const budget = "share" in gpuExperts ? gpuExperts.share * store.totalBytes : gpuExperts.bytes;
  const trace = await readTrace(placementTrace);
  const layerBytes = store.layers.map((layer) => layer?.bytes ?? 0);
  return placeHotExperts(trace, { experts: store.experts, layerBytes }, budget);
}
