/**
 * The options every command that runs a model shares (`--backend`, `--threads`, `--numerics`),
 * and loading a model as they say.
 * @module
 */
import { Option } from "@commander-js/extra-typings";
import { CpuBackend } from "../engine/backend/cpu/backend.ts";
import type { GGUFFile } from "../engine/gguf/read.ts";
import { referenceBackend } from "../engine/model/matrix.ts";
import { ReferenceModel } from "../engine/model/reference.ts";
import { UsageError } from "./common.ts";

/** `--backend`: the WASM SIMD kernels on worker threads, or the plain TypeScript oracle. */
export const backendOption = () =>
  new Option("--backend <name>", "cpu: WASM SIMD kernels on worker threads; reference: plain TS")
    .choices(["cpu", "reference"] as const).default("cpu" as const);

/** `--threads`: threads of the cpu backend. */
export const threadsOption = () =>
  new Option("--threads <n>", "threads of the cpu backend (default: logical cores)")
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

/** What the three options parse to. */
export interface EngineOptions {
  readonly backend: "cpu" | "reference";
  readonly threads?: number;
  readonly numerics?: "f32" | "ggml";
}

/** A loaded model and what must be released with it. */
export interface LoadedModel extends AsyncDisposable {
  readonly model: ReferenceModel;
}

/**
 * Loads `gguf` on the chosen backend. The reference backend defaults to exact f32 numerics;
 * the cpu backend's kernels work on ggml's rounded activations, so it refuses `--numerics f32`.
 */
export async function loadModel(
  gguf: GGUFFile,
  options: EngineOptions,
  maxContext: number,
): Promise<LoadedModel> {
  if (options.backend === "reference") {
    if (options.threads !== undefined) throw new UsageError("--threads needs --backend cpu");
    const model = await ReferenceModel.load(gguf, {
      maxContext,
      numerics: options.numerics ?? "f32",
      backend: referenceBackend,
    });
    return { model, [Symbol.asyncDispose]: () => Promise.resolve() };
  }
  if (options.numerics === "f32") {
    throw new UsageError(
      "--numerics f32 needs --backend reference (the cpu kernels round as ggml)",
    );
  }
  const cpu = await CpuBackend.create(options.threads ? { threads: options.threads } : {});
  try {
    const model = await ReferenceModel.load(gguf, { maxContext, numerics: "ggml", backend: cpu });
    return { model, [Symbol.asyncDispose]: () => cpu[Symbol.asyncDispose]() };
  } catch (error) {
    cpu.close();
    throw error;
  }
}
