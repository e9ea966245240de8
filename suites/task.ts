/**
 * What the suites are made of: tasks (a unit of measurement that writes its records at once,
 * and that `bench --resume` skips when a results file lists it done) over the models a run
 * measures.
 *
 * @example
 * ```ts ignore
 * import { benchModel } from "./task.ts";
 * const model = await benchModel("m.gguf", null);
 * console.log(model.id, model.type, model.sha256);
 * ```
 * @module
 */
import { openGGUF } from "../engine/gguf/read.ts";
import { type EngineOptions, offloadOptions } from "../cli/engine_options.ts";
import { inspectModel } from "../engine/model/inspect.ts";
import type { ModelRecord, TestRecord } from "./results.ts";
import { type ReadyModel, sha256File } from "./spec.ts";

/** A task's records: moebench's, and a peer's on the same files. */
export interface TaskOutput {
  readonly tests: readonly TestRecord[];
  readonly peers: readonly TestRecord[];
}

/** One unit of measurement. */
export interface Task {
  /** Unique in a run, stable across runs of the same options (`suite/model/what`). */
  readonly id: string;
  /** What the progress display says while it runs. */
  readonly label: string;
  run(): Promise<TaskOutput>;
}

/** A model as the suites measure it. */
export interface BenchModel extends ModelRecord {
  /** The weights' type with the most bytes (`Q4_0`): the records' `type`. */
  readonly type: string;
}

/**
 * A model to measure: the user's file at `path`, or a spec model made ready (`ensureSpecModel`,
 * which hashed it). Its id is the spec model's, else the file name.
 * @throws {GGUFError} naming the file when it is not a readable GGUF model.
 */
export async function benchModel(path: string, ready: ReadyModel | null): Promise<BenchModel> {
  using gguf = await openGGUF(path);
  const summary = inspectModel(gguf);
  const [type] = Object.entries(summary.types).sort(([, a], [, b]) => b.bytes - a.bytes)[0]!;
  return {
    id: ready?.model.id ?? path.slice(path.lastIndexOf("/") + 1).replace(/\.gguf$/i, ""),
    path,
    bytes: summary.file.bytes,
    sha256: ready?.sha256 ?? await sha256File(path),
    synth: ready
      ? { preset: ready.model.preset, type: ready.model.type, seed: ready.model.seed }
      : null,
    type,
  };
}

/** `engine` with routed experts offloaded behind an LRU cache of `share` of their bytes. */
export function withExpertCache(engine: EngineOptions, share: number): EngineOptions {
  return {
    ...engine,
    expertBudget: { share },
    cachePolicy: "lru",
    prefetch: "on",
    prefetchDepth: 1,
    expertTier: "disk",
  };
}

/** A run's engine in a few words: `resident`, or `offload 50% lru`. */
export function describeEngine(engine: EngineOptions): string {
  const offload = offloadOptions(engine);
  if (!offload) return "resident";
  const size = offload.budgetShare !== undefined
    ? `${+(offload.budgetShare * 100).toFixed(1)}%`
    : offload.budgetBytes !== undefined
    ? `${(offload.budgetBytes / 2 ** 20).toFixed(0)}MiB`
    : `${offload.slotsPerLayer} slots`;
  return `offload ${size} ${offload.policy}` + (offload.prefetch ? "" : " no-prefetch");
}
