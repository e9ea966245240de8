/**
 * The engine config file `moebench tune` writes and `generate`/`bench --config` read: how to run
 * one model on one machine (backend, threads, expert cache, prefetch), and how tuning arrived at
 * it. Validated on read (zod: a schema that is also the type) so that a hand-edited or foreign
 * file fails with one line naming the field, never half-applied.
 *
 * @example
 * ```ts ignore
 * import { readEngineConfig } from "./config.ts";
 * const config = await readEngineConfig("tuned.json");
 * console.log(config.engine.backend, config.engine.threads);
 * ```
 * @module
 */
import { z } from "zod";
import { readJsonFile, writeJsonFile } from "../util/json_file.ts";

/** The engine settings (snake_case, as every moebench JSON file). */
export const EngineSettings = z.object({
  backend: z.enum(["cpu", "webgpu"]),
  /** Threads of the cpu backend (null: the engine's default; the webgpu backend takes none). */
  threads: z.number().int().min(1).max(256).nullable(),
  /** Bytes of the expert cache (null: every expert resident). */
  expert_budget_bytes: z.number().int().positive().nullable(),
  cache_policy: z.enum(["lru", "lfu", "fifo", "random"]),
  /** MoE layers ahead the prefetch guesses (0: no prefetch). */
  prefetch_depth: z.number().int().min(0).max(8),
  /** Experts guessed per layer (null: the model's top-k). */
  prefetch_k: z.number().int().min(1).nullable(),
  expert_tier: z.enum(["disk", "ram"]),
}).strict();
export type EngineSettings = z.infer<typeof EngineSettings>;

/** One measured candidate of a tuning sweep. */
export const Candidate = z.object({
  change: z.string(),
  engine: EngineSettings,
  decode_tps: z.number().nonnegative(),
}).strict();
export type Candidate = z.infer<typeof Candidate>;

/** The config file. */
export const EngineConfigFile = z.object({
  moebench_config: z.literal(1),
  /** moebench's version that wrote it. */
  moebench: z.string(),
  timestamp: z.string(),
  profile: z.enum(["apple-m", "strix-halo", "nvidia-discrete", "cpu-only"]),
  profile_reason: z.string(),
  /** The model tuned for (its path as given, and its size to notice another file). */
  model: z.object({ path: z.string(), bytes: z.number().int().nonnegative() }).strict(),
  /** The memory weights could fill, and where that figure came from. */
  budget: z.object({ bytes: z.number().nonnegative(), source: z.string() }).strict(),
  engine: EngineSettings,
  tuning: z.object({
    /** Why the starting config is what it is. */
    start: z.array(z.string()),
    default_decode_tps: z.number().nonnegative(),
    tuned_decode_tps: z.number().nonnegative(),
    /** Why the winner won, or why the defaults stayed best. */
    verdict: z.string(),
    candidates: z.array(Candidate),
  }).strict(),
}).strict();
export type EngineConfigFile = z.infer<typeof EngineConfigFile>;

/** A config file that is not one; the message names the file and the problem. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads and validates a config file. */
export function readEngineConfig(path: string): Promise<EngineConfigFile> {
  return readJsonFile(
    path,
    EngineConfigFile,
    "moebench engine config",
    (message) => new ConfigError(message),
  );
}

/** Writes a config file atomically (validated first: moebench never writes what it would refuse). */
export function writeEngineConfig(path: string, config: EngineConfigFile): Promise<void> {
  return writeJsonFile(path, EngineConfigFile, config);
}
