/**
 * `moebench simulate`: replay a routing trace against expert cache budgets and policies
 * (Belady's optimal included) and print the hit rates the engine would see.
 * @module
 */
import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { parseSize, parseWholeNumber, printJson, type SizeOption } from "./common.ts";
import type { CacheSizing } from "../engine/offload/offloaded.ts";
import { POLICY_NAMES, type PolicyName } from "../engine/offload/policy.ts";
import { readTrace, simulate } from "../engine/offload/trace.ts";

/** Parses a comma-separated list with `parse` for each item. */
function listOf<T>(parse: (item: string) => T) {
  return (value: string): T[] => value.split(",").map((item) => parse(item.trim()));
}

function parsePolicy(name: string): PolicyName {
  if (!(POLICY_NAMES as readonly string[]).includes(name)) {
    throw new InvalidArgumentError(`"${name}" is not a policy (${POLICY_NAMES.join(", ")}).`);
  }
  return name as PolicyName;
}

/** A cache size as the user wrote it, and as the simulator takes it. */
function sizing(size: SizeOption | number): { label: string; sizing: CacheSizing } {
  if (typeof size === "number") return { label: `${size}/layer`, sizing: { slotsPerLayer: size } };
  if ("share" in size) {
    return { label: `${+(size.share * 100).toFixed(2)}%`, sizing: { budgetShare: size.share } };
  }
  return { label: `${size.bytes} B`, sizing: { budgetBytes: size.bytes } };
}

/** The `simulate` command. */
export function simulateCommand() {
  return new Command("simulate")
    .description("replay a routing trace against cache budgets and policies (Belady included)")
    .argument("<trace>", "trace file from `moebench trace`")
    .option(
      "--budget <sizes>",
      "comma-separated budgets: 25%, 512MiB, bytes",
      listOf((item) => parseSize(item, true)),
    )
    .option("--slots <counts>", "comma-separated slots per MoE layer", listOf(parseWholeNumber))
    .option("--policy <names>", "comma-separated policies", listOf(parsePolicy), [
      ...POLICY_NAMES,
    ])
    .option("--no-prefetch", "ignore the trace's prefetch guesses")
    .option("--seed <s>", "seed of the random policy", parseWholeNumber, 0)
    .option("--json", "print the results as JSON")
    .action(async (file, options) => {
      const trace = await readTrace(file);
      const sizes = [...(options.budget ?? []), ...(options.slots ?? [])];
      if (sizes.length === 0) sizes.push(...[0.1, 0.25, 0.5, 1].map((share) => ({ share })));
      const started = performance.now();
      const results = sizes.flatMap((size) => {
        const { label, sizing: cacheSizing } = sizing(size);
        return options.policy.map((policy) => {
          const counters = simulate(trace, cacheSizing, policy, {
            prefetch: options.prefetch,
            seed: options.seed,
          });
          return {
            cache: label,
            policy,
            hits: counters.hits,
            misses: counters.misses,
            hit_rate: counters.hitRate,
            demand_bytes: counters.demandBytes,
            prefetched_bytes: counters.prefetchedBytes,
            wasted_prefetch_bytes: counters.wastedPrefetchBytes,
            prefetch_recall: counters.prefetchRecall,
            prefetch_precision: counters.prefetchPrecision,
          };
        });
      });
      const ms = performance.now() - started;
      if (options.json) {
        printJson({ trace: file, steps: trace.steps.length, ms, results });
        return;
      }
      const policies = options.policy;
      console.log(["cache".padEnd(12), ...policies.map((p) => p.padStart(8))].join(" "));
      for (let row = 0; row < sizes.length; row++) {
        const cells = results.slice(row * policies.length, (row + 1) * policies.length);
        const rates = cells.map((cell) => `${(cell.hit_rate * 100).toFixed(1)}%`.padStart(8));
        console.log([cells[0]!.cache.padEnd(12), ...rates].join(" "));
      }
      console.log(`(hit rates over ${trace.steps.length} steps, replayed in ${ms.toFixed(0)} ms)`);
    });
}
