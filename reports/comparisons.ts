/**
 * The report's comparisons: every figure a later run shares with the first (same test, model,
 * configuration and backend) compared by Welch's t-test on their samples (`suites/compare.ts`),
 * as a sentence with its 95 % confidence interval, or "inconclusive" — never a bare ratio.
 *
 * @example
 * ```ts ignore
 * import { reportComparisons } from "./comparisons.ts";
 * for (const row of reportComparisons(runs)) console.log(row.test, row.sentence);
 * ```
 * @module
 */
import { compareSamples, describeComparison } from "../suites/compare.ts";
import { HIGHER_IS_BETTER, type TestRecord } from "../suites/results.ts";
import type { ReportRun } from "./runs.ts";

/** One figure of a later run against the first run's. */
export interface ComparisonRow {
  readonly test: string;
  readonly model: string;
  readonly config: string;
  readonly backend: string | null;
  readonly sentence: string;
}

/** What makes two records the same figure. */
const key = (r: TestRecord) => [r.test, r.model, r.config, r.backend].join("\u0000");

/** Speeds and times read as faster/slower; the rest as better/worse. */
const words = (unit: TestRecord["unit"]): [string, string] =>
  unit === "tok/s" || unit === "ms" || unit === "GB/s" ? ["faster", "slower"] : ["better", "worse"];

/** Each later run's figures against the first run's (those with two samples or more on both). */
export function reportComparisons(runs: readonly ReportRun[]): ComparisonRow[] {
  const [first, ...later] = runs;
  if (!first) return [];
  const base = new Map(first.results.tests.map((r) => [key(r), r]));
  const rows: ComparisonRow[] = [];
  for (const run of later) {
    for (const record of run.results.tests) {
      const against = base.get(key(record));
      if (!against || record.samples.length < 2 || against.samples.length < 2) continue;
      const comparison = compareSamples(
        record.samples,
        against.samples,
        HIGHER_IS_BETTER[record.unit],
      );
      const [better, worse] = words(record.unit);
      rows.push({
        test: record.test,
        model: record.model,
        config: record.config,
        backend: record.backend,
        sentence: describeComparison(run.label, first.label, comparison, better, worse),
      });
    }
  }
  return rows;
}
