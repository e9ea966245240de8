/**
 * The `standard` suite: every suite of the spec on the spec's models, and the headline score.
 *
 * Score = 100 × (pp256/250 × tg64/200 × tg64-offloaded/100)^(1/3), each figure the median tok/s
 * of its record (resident prefill of 256 tokens, resident decode of 64, decode of 64 with an LRU
 * cache of half the expert bytes) over the spec's reference machine's figure: the reference
 * machine scores 100, a machine twice as fast at all three scores 200. A geometric mean, so no
 * one figure dominates (LocalScore's choice too); medians, so one disturbed repetition does not
 * move it; and offloaded decode inside it, because that is what a MoE machine is bought for.
 *
 * @example
 * ```ts ignore
 * import { standardPlan } from "./standard.ts";
 * const plan = await standardPlan({ backend: "cpu" }, { peer: false });
 * ```
 * @module
 */
import type { EngineOptions } from "../cli/engine_options.ts";
import { openGGUF } from "../engine/gguf/read.ts";
import { readConfig } from "../engine/model/config.ts";
import { openGpu } from "../engine/backend/webgpu/device.ts";
import { cacheTasks } from "./cache.ts";
import { loadTasks } from "./load.ts";
import { qualityTasks } from "./quality.ts";
import type { Score, TestRecord } from "./results.ts";
import type { RunPlan } from "./run.ts";
import { ensureSpecModel, SPEC_ID, type SpecModel, specText, STANDARD } from "./spec.ts";
import { type BenchModel, benchModel, describeEngine, withExpertCache } from "./task.ts";
import { tokensTasks } from "./tokens.ts";

/** The spec's models, generated where missing and checked; `onModel` says which is next. */
export async function specModels(
  models: readonly SpecModel[],
  onModel?: (model: SpecModel, done: number, total: number) => void,
): Promise<BenchModel[]> {
  const ready: BenchModel[] = [];
  for (const [i, model] of models.entries()) {
    onModel?.(model, i, models.length);
    const file = await ensureSpecModel(model);
    ready.push(await benchModel(file.path, file));
  }
  return ready;
}

/** The spec's quality text for a model of `vocabulary` tokens. */
export function standardText(vocabulary: number): number[] {
  const { ctx, chunks, textSeed } = STANDARD.quality;
  return specText(ctx * chunks, vocabulary, textSeed);
}

/** The standard's plan on this machine's `engine` (backend and threads only). */
export async function standardPlan(
  engine: EngineOptions,
  { peer, onModel }: {
    peer: boolean;
    onModel?: (model: SpecModel, done: number, total: number) => void;
  },
): Promise<RunPlan> {
  const { models: spec } = STANDARD;
  const [main, reference, ...variants] = await specModels(
    [spec.main, spec.qualityReference, ...spec.qualityVariants],
    onModel,
  );
  const expectedTokens = STANDARD.expectedOutput.tokens.split(",").map(Number);
  return {
    suite: "standard",
    spec: SPEC_ID,
    options: {
      backend: engine.backend,
      threads: engine.threads ?? null,
      peer: peer ? "llama.cpp" : null,
    },
    config: {
      backend: engine.backend,
      threads: engine.threads ?? null,
      expert_budget_bytes: null,
      cache_policy: "lru",
      prefetch_depth: 1,
      prefetch_k: null,
      expert_tier: "disk",
    },
    models: [main!, reference!, ...variants],
    tasks: [
      ...tokensTasks(main!, { ...STANDARD.tokens, peer, expectedTokens }, engine),
      // a real GPU is timed too (llvmpipe and other software adapters are not: they run WGSL
      // on the CPU, slower than the cpu backend, and would take most of the run)
      ...(engine.backend === "cpu" && await realGpu()
        ? tokensTasks(main!, { ...STANDARD.tokens, peer: false, expectedTokens }, {
          backend: "webgpu",
        })
        : []),
      ...loadTasks(main!, STANDARD.load, STANDARD.tokens.repetitions),
      ...cacheTasks(main!, STANDARD.cache, engine),
      ...qualityTasks(
        { reference: reference!, variants },
        await standardTextFor(reference!),
        STANDARD.quality,
        engine,
      ),
    ],
    score: (tests) => standardScore(tests, engine),
  };
}

/** Whether WebGPU finds a hardware adapter. */
async function realGpu(): Promise<boolean> {
  const gpu = await openGpu();
  if ("unavailable" in gpu) return false;
  gpu.device.destroy();
  return !gpu.info.fallback;
}

/** The spec's quality text for `model`'s vocabulary. */
export async function standardTextFor(model: BenchModel): Promise<number[]> {
  using gguf = await openGGUF(model.path);
  return standardText(readConfig(gguf).vocabSize);
}

/**
 * The headline score from a standard run's records (null if one of its parts is missing). Each
 * part takes the best backend's median: the machine's best way to run the model.
 */
export function standardScore(tests: readonly TestRecord[], engine: EngineOptions): Score | null {
  const { reference } = STANDARD.score;
  const { promptLengths, genTokens, offloadShare } = STANDARD.tokens;
  const prompt = promptLengths.at(-1)!;
  const resident = describeEngine(engine);
  const offloaded = describeEngine(withExpertCache(engine, offloadShare));
  const wanted = [
    { test: `pp${prompt}`, config: resident, reference: reference.pp256 },
    { test: `tg${genTokens}`, config: resident, reference: reference.tg64 },
    { test: `tg${genTokens}`, config: offloaded, reference: reference.tg64Offloaded },
  ];
  const parts: Score["parts"] = [];
  for (const part of wanted) {
    const best = tests
      .filter((t) => t.suite === "tokens" && t.test === part.test && t.config === part.config)
      .sort((a, b) => b.median - a.median)[0];
    if (!best) return null;
    parts.push({
      ...part,
      backend: best.backend ?? "",
      median: best.median,
      ratio: best.median / part.reference,
    });
  }
  const value = 100 * Math.pow(parts.reduce((product, p) => product * p.ratio, 1), 1 / 3);
  return {
    value,
    formula: `100 × geometric mean of median tok/s over the reference machine's: ` +
      parts.map((p) => `${p.test} ${p.config} / ${p.reference}`).join(", "),
    parts,
  };
}
