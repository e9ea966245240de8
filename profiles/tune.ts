/**
 * `moebench tune`: a starting engine config from the hardware profile and the model (backend,
 * whether experts fit in memory or run from a cache of what does, prefetch, threads), refined
 * by a short measured sweep: one setting at a time is moved from the best config so far, and a
 * move is kept only when decode is faster by more than the noise margin. The winner is then
 * timed against the untuned defaults back to back, so that the two figures share one run.
 *
 * @example
 * ```ts ignore
 * import { startingSettings, tune } from "./tune.ts";
 * const start = startingSettings(choice, hardware, summary, null);
 * const defaults = untunedDefaults(start, hardware);
 * const result = await tune(start.engine, defaults, { hardware, topK: 4, experts: 32 }, measure);
 * console.log(result.verdict);
 * ```
 * @module
 */
import { defaultThreads } from "../engine/backend/cpu/backend.ts";
import type { ModelSummary } from "../engine/model/inspect.ts";
import type { Candidate, EngineSettings } from "./config.ts";
import type { Hardware } from "./hardware.ts";
import { computeThreads, type ProfileChoice, weightMemoryBytes } from "./profile.ts";

/** Where tuning starts, and why. */
export interface TuneStart {
  readonly engine: EngineSettings;
  readonly why: readonly string[];
  /** The memory weights may fill, and where that figure came from. */
  readonly budget: { readonly bytes: number; readonly source: string };
}

const MIB = 2 ** 20;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;

/**
 * The profile's config for `model` on `hardware`. `budgetBytes` (the user's `--budget`) replaces
 * the memory the profile derives from the hardware.
 */
export function startingSettings(
  choice: ProfileChoice,
  hardware: Hardware,
  model: ModelSummary,
  budgetBytes: number | null,
): TuneStart {
  const { profile } = choice;
  const why: string[] = [`profile ${profile.name}: ${choice.reason}`];
  const realGpu = hardware.gpu !== null && hardware.gpu.fallback.value === false;
  const backend = profile.backend === "webgpu" && realGpu ? "webgpu" : "cpu";
  if (backend !== profile.backend) why.push(`backend cpu: ${profile.name} wants a GPU, none here`);
  else why.push(`backend ${backend}: the profile's default`);

  const derived = weightMemoryBytes(profile, hardware);
  const budget = budgetBytes !== null
    ? { bytes: budgetBytes, source: "--budget" }
    : derived !== null
    ? {
      bytes: derived,
      source: `${profile.name}: ${profile.weightMemory.fraction * 100} % of the ` +
        `${profile.weightMemory.pool === "gpu" ? "GPU's memory" : "RAM"} less ` +
        `${mib(profile.weightMemory.headroomBytes)} (${profile.weightMemory.why})`,
    }
    : null;
  if (budget === null) {
    throw new RangeError(`the ${profile.weightMemory.pool} memory size is unknown: give --budget`);
  }
  const experts = model.experts;
  let cacheBytes: number | null = null;
  if (model.tensorBytes <= budget.bytes) {
    why.push(
      `every weight resident: ${mib(model.tensorBytes)} fit the ${mib(budget.bytes)} budget`,
    );
  } else if (!experts) {
    throw new RangeError(
      `${model.file.path}: a dense model of ${mib(model.tensorBytes)} does not fit ` +
        `${mib(budget.bytes)}, and has no experts to offload`,
    );
  } else {
    cacheBytes = Math.floor(budget.bytes - experts.residentBytes);
    const largestExpert = Math.max(...Object.values(experts.bytesPerExpert));
    if (cacheBytes < largestExpert) {
      throw new RangeError(
        `${model.file.path}: its dense weights alone (${mib(experts.residentBytes)}) leave no ` +
          `room for an expert in ${mib(budget.bytes)}`,
      );
    }
    why.push(
      `experts offloaded: ${mib(model.tensorBytes)} exceed the ${mib(budget.bytes)} budget, ` +
        `so ${mib(cacheBytes)} left after the dense weights cache experts`,
    );
  }
  const offloading = cacheBytes !== null;
  const threads = backend === "cpu" ? computeThreads(profile, hardware, offloading) : null;
  if (threads !== null) {
    why.push(
      `${threads} thread${threads > 1 ? "s" : ""}: the ${profile.threads.replace("-", " ")}` +
        (offloading ? ", one left to the expert loader" : ""),
    );
  }
  return {
    budget,
    why,
    engine: {
      backend,
      threads,
      expert_budget_bytes: cacheBytes,
      cache_policy: "lru",
      prefetch_depth: offloading ? profile.prefetchDepth : 0,
      prefetch_k: null,
      expert_tier: "disk",
    },
  };
}

/**
 * What `generate` does without engine options, given the same memory: the cpu backend on its
 * default threads (spelled out, so that a tuned config equal to it is seen as such), and the same expert cache (without it the model would not fit) with the
 * default prefetch (one layer ahead) and policy (LRU).
 */
export function untunedDefaults(start: TuneStart, hardware: Hardware): EngineSettings {
  const offloading = start.engine.expert_budget_bytes !== null;
  const cores = hardware.cpu.logicalCores.value ?? navigator.hardwareConcurrency;
  return {
    backend: "cpu",
    threads: defaultThreads(cores, offloading),
    expert_budget_bytes: start.engine.expert_budget_bytes,
    cache_policy: "lru",
    prefetch_depth: start.engine.expert_budget_bytes === null ? 0 : 1,
    prefetch_k: null,
    expert_tier: "disk",
  };
}

/** What the sweep may move. */
export interface SweepSpace {
  readonly hardware: Hardware;
  /** The model's experts per token and per layer (null: a dense model). */
  readonly topK: number | null;
  readonly experts: number | null;
}

/** One setting moved from `from`: its other values worth trying, each with what changed. */
function moves(
  from: EngineSettings,
  space: SweepSpace,
): { change: string; engine: EngineSettings }[] {
  const out: { change: string; engine: EngineSettings }[] = [];
  const cores = space.hardware.cpu.logicalCores.value ?? navigator.hardwareConcurrency;
  if (from.backend === "cpu") {
    const threads = from.threads ?? cores;
    for (const t of [threads - 1, threads + 1]) {
      if (t >= 1 && t <= cores) {
        out.push({ change: `threads ${t}`, engine: { ...from, threads: t } });
      }
    }
  }
  const gpu = space.hardware.gpu;
  if (gpu && gpu.fallback.value === false) {
    const backend = from.backend === "cpu" ? "webgpu" : "cpu";
    out.push({
      change: `backend ${backend}`,
      engine: { ...from, backend, threads: backend === "cpu" ? cores : null },
    });
  }
  if (from.expert_budget_bytes !== null) {
    for (const depth of [0, 1, 2, 3].filter((d) => d !== from.prefetch_depth)) {
      out.push({
        change: depth === 0 ? "no prefetch" : `prefetch ${depth} layers ahead`,
        engine: { ...from, prefetch_depth: depth },
      });
    }
    const policy = from.cache_policy === "lru" ? "lfu" : "lru";
    out.push({ change: `cache policy ${policy}`, engine: { ...from, cache_policy: policy } });
    if (space.topK !== null && space.experts !== null && from.prefetch_depth > 0) {
      const k = from.prefetch_k === null ? Math.min(space.experts, space.topK + 2) : null;
      if (k !== space.topK) {
        out.push({
          change: k === null ? "prefetch the top-k" : `prefetch ${k} experts per layer`,
          engine: { ...from, prefetch_k: k },
        });
      }
    }
  }
  return out;
}

/** What tuning found. */
export interface TuneResult {
  readonly engine: EngineSettings;
  readonly defaultTps: number;
  readonly tunedTps: number;
  readonly verdict: string;
  readonly candidates: readonly Candidate[];
}

/** A move must beat the best so far by this much to count (run-to-run noise is ~2 % here). */
export const NOISE_MARGIN = 0.05;

/**
 * Sweeps from `start` (one pass over the moves, greedily), then times the winner against
 * `defaults` back to back. `measure` returns decode tok/s of a config.
 */
export async function tune(
  start: EngineSettings,
  defaults: EngineSettings,
  space: SweepSpace,
  measure: (engine: EngineSettings, change: string) => Promise<number>,
): Promise<TuneResult> {
  const candidates: Candidate[] = [];
  const time = async (change: string, engine: EngineSettings) => {
    const decode_tps = await measure(engine, change);
    candidates.push({ change, engine, decode_tps });
    return decode_tps;
  };
  let best = start;
  let bestTps = await time("start (the profile's config)", start);
  const tried = new Set([JSON.stringify(start)]);
  let improved = true;
  while (improved) {
    improved = false;
    for (const move of moves(best, space)) {
      const key = JSON.stringify(move.engine);
      if (tried.has(key)) continue;
      tried.add(key);
      const tps = await time(move.change, move.engine);
      if (tps > bestTps * (1 + NOISE_MARGIN)) {
        best = move.engine;
        bestTps = tps;
        improved = true;
      }
    }
  }
  // the final comparison: defaults and winner alternately, twice each, in one run
  const same = JSON.stringify(best) === JSON.stringify(defaults);
  const defaultRuns: number[] = [];
  const tunedRuns: number[] = [];
  for (let round = 0; round < 2; round++) {
    defaultRuns.push(await time("untuned defaults", defaults));
    tunedRuns.push(same ? defaultRuns.at(-1)! : await time("tuned (final)", best));
  }
  const defaultTps = Math.max(...defaultRuns);
  const tunedTps = Math.max(...tunedRuns);
  const gain = tunedTps / defaultTps - 1;
  const keepDefaults = !same && gain < -NOISE_MARGIN;
  let verdict: string;
  if (same) {
    verdict = "the untuned defaults are already best: no move from them beat them by more " +
      `than ${NOISE_MARGIN * 100} %`;
  } else if (gain > NOISE_MARGIN) {
    verdict = `tuned decode is ${(gain * 100).toFixed(0)} % faster than the untuned defaults`;
  } else if (!keepDefaults) {
    verdict = `tuned and untuned decode are within the noise (${(gain * 100).toFixed(1)} %): ` +
      "the defaults are as good here";
  } else {
    verdict = "the untuned defaults measured faster in the final comparison; keeping them";
  }
  return {
    engine: keepDefaults ? defaults : best,
    defaultTps,
    tunedTps: keepDefaults ? defaultTps : tunedTps,
    verdict,
    candidates,
  };
}
