/**
 * A results file around given records, for tests: a run on the recorded test machine
 * (`tests/fixtures/machine.json`) with the default engine config, every record's task done.
 *
 * @example
 * ```ts ignore
 * import { resultsFileOf } from "./_results_fixture.ts";
 * const file = resultsFileOf(records, { suite: "tokens", spec: null, score: null });
 * ```
 * @module
 */
import type { ResultsFile, TestRecord } from "./results.ts";

const machine = JSON.parse(
  await Deno.readTextFile(new URL("../tests/fixtures/machine.json", import.meta.url)),
);

/** `tests` as a complete run of `suite` under `spec`, with `score`. */
export function resultsFileOf(
  tests: TestRecord[],
  { suite, spec, score }: Pick<ResultsFile, "suite" | "spec" | "score">,
): ResultsFile {
  return {
    format: "moebench-results",
    format_version: 1,
    spec,
    moebench: { version: "0.1.0", commit: null },
    timestamp: "2026-12-05T00:00:00.000Z",
    suite,
    complete: true,
    done: [...new Set(tests.map((t) => t.task))],
    options: {},
    machine,
    config: {
      backend: "cpu",
      threads: null,
      expert_budget_bytes: null,
      cache_policy: "lru",
      prefetch_depth: 1,
      prefetch_k: null,
      expert_tier: "disk",
    },
    models: [],
    tests,
    peers: [],
    score,
  };
}
