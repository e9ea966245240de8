/**
 * The `cache` suite: how much fast memory experts need. The engine decodes greedily with every
 * expert resident while it records its routing (and its prefetch guesses at each depth and k);
 * the cache simulator replays that trace through the engine's own cache and planner for every
 * policy at budgets from 10 % to 100 % of the expert bytes — Belady's optimal, which knows the
 * future, bounds what any online policy can reach — and gives prefetch recall and precision.
 * Then the engine decodes with real offloading at several budgets: the tok/s-vs-memory curve
 * users pick hardware by.
 *
 * @example
 * ```ts ignore
 * import { cacheTasks } from "./cache.ts";
 * for (const task of cacheTasks(model, STANDARD.cache, engine)) await task.run();
 * ```
 * @module
 */
import { openGGUF } from "../engine/gguf/read.ts";
import { readConfig } from "../engine/model/config.ts";
import { argmax } from "../engine/sample.ts";
import type { PolicyName } from "../engine/offload/policy.ts";
import { ExpertStore } from "../engine/offload/store.ts";
import {
  neededExperts,
  simulate,
  type Trace,
  traceHeader,
  TraceRecorder,
} from "../engine/offload/trace.ts";
import { type EngineOptions, loadModel } from "../cli/engine_options.ts";
import { type RequiredLabels, type TestRecord, testRecord } from "./results.ts";
import { type BenchModel, describeEngine, type Task, withExpertCache } from "./task.ts";
import { benchPrompt, decodeRate } from "./tokens.ts";

/** What the cache suite measures. */
export interface CacheOptions {
  readonly traceTokens: number;
  /** Shares of the expert bytes the simulated caches get. */
  readonly budgets: readonly number[];
  readonly policies: readonly PolicyName[];
  /** Prefetch guesses recorded at each depth × experts per layer. */
  readonly prefetch: { readonly depths: readonly number[]; readonly experts: readonly number[] };
  /** Shares of the expert bytes decode is measured at, with the engine offloading. */
  readonly measuredBudgets: readonly number[];
  readonly genTokens: number;
  readonly repetitions: number;
}

/** The prompt traces start from. */
const TRACE_PROMPT = 16;
/** The budget prefetch recall and precision are counted at (they hardly depend on it). */
const PREFETCH_BUDGET = 0.5;

const percent = (share: number) => `${+(share * 100).toFixed(1)}%`;

/** The suite's tasks for `model` run with `engine` (backend, threads). */
export function cacheTasks(
  model: BenchModel,
  options: CacheOptions,
  engine: EngineOptions,
): Task[] {
  const simulated: Task = {
    id: `cache/${model.id}/simulated`,
    label: `cache: ${model.id}, routing traces and the simulator`,
    run: async () => ({ tests: await simulatedRecords(model, options, engine), peers: [] }),
  };
  const measured = options.measuredBudgets.map((share): Task => ({
    id: `cache/${model.id}/decode-${percent(share)}`,
    label: `cache: ${model.id} decoding from a ${percent(share)} cache`,
    run: async () => ({ tests: [await measuredDecode(model, options, engine, share)], peers: [] }),
  }));
  return [simulated, ...measured];
}

/**
 * Greedy decoding of `tokens` tokens after the fixed prompt with every expert resident, the
 * routing (and guesses `depth` layers ahead, `experts` per layer) recorded by the engine.
 */
export async function recordTrace(
  path: string,
  engine: EngineOptions,
  tokens: number,
  guessing: { readonly depth: number; readonly experts: number } | null,
): Promise<Trace> {
  using gguf = await openGGUF(path);
  const config = readConfig(gguf);
  const recorder = new TraceRecorder(
    traceHeader(path, config, ExpertStore.fromGGUF(gguf, config), guessing),
  );
  const prompt = benchPrompt(TRACE_PROMPT, config.vocabSize);
  await using loaded = await loadModel(gguf, engine, prompt.length + tokens, {
    onRouting: recorder.record,
    ...(guessing ? { guessAhead: guessing } : {}),
  });
  const fed = [...prompt];
  let next = argmax(await loaded.model.prefill(prompt, 0));
  for (let i = 0; i < tokens; i++) {
    fed.push(next);
    next = argmax(await loaded.model.forward(next, fed.length - 1));
  }
  return recorder.trace(fed);
}

/** Hit rate of every policy at every budget, and prefetch recall/precision per depth and k. */
async function simulatedRecords(
  model: BenchModel,
  options: CacheOptions,
  engine: EngineOptions,
): Promise<TestRecord[]> {
  const labels = (
    test: string,
    config: string,
    unit: "hit rate" | "share",
    share: number,
    policy: string,
  ): RequiredLabels => ({
    task: `cache/${model.id}/simulated`,
    suite: "cache",
    test,
    model: model.id,
    type: model.type,
    config,
    unit,
    budget_share: share,
    policy,
  });
  const records: TestRecord[] = [];
  const plain = await recordTrace(model.path, engine, options.traceTokens, null);
  const steps = plain.steps.length;
  for (const share of options.budgets) {
    for (const policy of options.policies) {
      const counters = simulate(plain, { budgetShare: share }, policy, { prefetch: false });
      records.push(testRecord(labels("hit_rate", percent(share), "hit rate", share, policy), [
        counters.hitRate,
      ], { details: { hits: counters.hits, misses: counters.misses, steps } }));
    }
  }
  for (const depth of options.prefetch.depths) {
    for (const experts of options.prefetch.experts) {
      const trace = await recordTrace(model.path, engine, options.traceTokens, { depth, experts });
      const counters = simulate(trace, { budgetShare: PREFETCH_BUDGET }, "lru");
      const accuracy = guessAccuracy(trace, depth);
      const config = `depth ${depth}, k ${experts}`;
      const details = {
        depth,
        experts,
        guessed_layers: accuracy.layers,
        hit_rate_with_prefetch: counters.hitRate,
        prefetched_bytes: counters.prefetchedBytes,
        wasted_prefetch_bytes: counters.wastedPrefetchBytes,
        steps,
      };
      for (
        const [test, value] of [
          ["prefetch_recall", accuracy.recall],
          ["prefetch_precision", accuracy.precision],
        ] as const
      ) {
        records.push(
          testRecord(labels(test, config, "share", PREFETCH_BUDGET, "lru"), [value], { details }),
        );
      }
    }
  }
  return records;
}

/**
 * How well the guesses made `depth` MoE layers ahead named the experts that layer then used:
 * recall (used experts that were guessed) and precision (guesses that were used), over every
 * step. The engine's own counters see only each layer's latest guess (a nearer one replaces a
 * farther one), so depth is measured here, on the guesses as the trace recorded them.
 */
export function guessAccuracy(trace: Trace, depth: number) {
  let [used, guessed, hits, layers] = [0, 0, 0, 0];
  for (const step of trace.steps) {
    const order = step.layers.map((layer) => layer.layer);
    for (const [i, layer] of step.layers.entries()) {
      const target = step.layers[i + depth];
      if (!target) continue;
      const guess = layer.guesses.find((g) => g.layer === order[i + depth]);
      if (!guess) continue;
      const needed = new Set(neededExperts(target));
      layers++;
      used += needed.size;
      guessed += guess.experts.length;
      hits += guess.experts.filter((expert) => needed.has(expert)).length;
    }
  }
  return { recall: used ? hits / used : 0, precision: guessed ? hits / guessed : 0, layers };
}

/** Decode tok/s with the engine offloading experts behind an LRU cache of `share`. */
async function measuredDecode(
  model: BenchModel,
  options: CacheOptions,
  engine: EngineOptions,
  share: number,
): Promise<TestRecord> {
  using gguf = await openGGUF(model.path);
  await using loaded = await loadModel(gguf, withExpertCache(engine, share), options.genTokens);
  const { samples } = await decodeRate(loaded.model, options.genTokens, options.repetitions);
  const stats = loaded.model.offload!.stats();
  return testRecord(
    {
      task: `cache/${model.id}/decode-${percent(share)}`,
      suite: "cache",
      test: `tg${options.genTokens}`,
      model: model.id,
      type: model.type,
      backend: loaded.backend,
      threads: loaded.threads,
      config: describeEngine(withExpertCache(engine, share)),
      budget_bytes: stats.budget_bytes,
      budget_share: share,
      policy: "lru",
      unit: "tok/s",
    },
    samples,
    {
      warmup: 1,
      details: {
        hit_rate: stats.hit_rate,
        prefetch_recall: stats.prefetch_recall,
        stall_ms: stats.stall_ms,
        load_gbps: stats.load_gbps,
        tier: stats.tier,
      },
    },
  );
}
