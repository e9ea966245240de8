import assert from "node:assert/strict";
import { compareSamples, describeComparison, tQuantile, tTwoSided, welchTest } from "./compare.ts";

Deno.test("Student's t quantiles and p-values match the published tables", () => {
  const table: [number, number][] = [[1, 12.706], [2, 4.303], [5, 2.571], [10, 2.228], [30, 2.042]];
  for (const [df, t] of table) assert.ok(Math.abs(tQuantile(0.975, df) - t) < 5e-4, `df ${df}`);
  assert.ok(Math.abs(tQuantile(0.975, 1e6) - 1.95996) < 1e-4); // the normal's 1.96
  assert.ok(Math.abs(tTwoSided(2.228, 10) - 0.05) < 1e-4);
  // a textbook Welch case: t = −1 with 8 degrees of freedom
  const test = welchTest([1, 2, 3, 4, 5], [2, 3, 4, 5, 6]);
  assert.equal(test.t, -1);
  assert.ok(Math.abs(test.df - 8) < 1e-9);
  assert.ok(Math.abs(test.p - 0.34659) < 1e-5, `${test.p}`);
  assert.throws(() => welchTest([1], [1, 2]), /two samples or more/);
});

const recorded = JSON.parse(
  await Deno.readTextFile(new URL("../tests/fixtures/comparison_runs.json", import.meta.url)),
) as { runs: Record<string, Record<string, number[]>> };
const { run_a: runA, run_b: runB, one_thread: oneThread } = recorded.runs;
const higherIsBetter = (test: string) => !test.startsWith("ttft");

Deno.test("two recorded runs of one configuration compare as inconclusive, every test", () => {
  for (const test of Object.keys(runA!)) {
    const comparison = compareSamples(runA![test]!, runB![test]!, higherIsBetter(test));
    assert.equal(comparison.verdict, "inconclusive", test);
    const sentence = describeComparison("run A", "run B", comparison, "faster", "slower");
    assert.match(sentence, /^run A vs run B: inconclusive \([+−][\d.]+ %, 95 % CI [+−][\d.]+ % … /);
  }
});

Deno.test("2 threads against a recorded 1-thread run: prefill and first token significantly faster", () => {
  for (const test of ["pp64", "ttft64"]) {
    const comparison = compareSamples(runA![test]!, oneThread![test]!, higherIsBetter(test));
    assert.equal(comparison.verdict, "better", test);
    assert.ok(comparison.test.p < 0.05, `${test}: p ${comparison.test.p}`);
    assert.match(
      describeComparison("2 threads", "1 thread", comparison, "faster", "slower"),
      /^2 threads is faster than 1 thread by [\d.]+ % \(95 % CI [\d.]+ % … [\d.]+ %\)$/,
    );
  }
  // this tiny model's decode gains nothing from a second thread, and the test says so
  const decode = compareSamples(runA!.tg32!, oneThread!.tg32!, true);
  assert.equal(decode.verdict, "inconclusive");
});

Deno.test("a comparison without spread is decided by the difference alone", () => {
  assert.equal(compareSamples([5, 5, 5], [5, 5], true).verdict, "inconclusive");
  assert.equal(compareSamples([6, 6], [5, 5], true).verdict, "better");
  assert.equal(compareSamples([6, 6], [5, 5], false).verdict, "worse");
});
