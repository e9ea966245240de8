import assert from "node:assert/strict";
import { percentile, summarize } from "./stats.ts";

Deno.test("summarize gives the mean, sample standard deviation, median and range", () => {
  const summary = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(summary.mean, 5);
  assert.equal(summary.stddev, Math.sqrt(32 / 7));
  assert.equal(summary.median, 4.5);
  assert.deepEqual([summary.min, summary.max], [2, 9]);
  assert.deepEqual(summarize([3]), { mean: 3, stddev: 0, median: 3, min: 3, max: 3 });
  assert.throws(() => summarize([]), RangeError);
});

Deno.test("percentile interpolates between order statistics as numpy does", () => {
  const samples = [15, 20, 35, 40, 50];
  assert.equal(percentile(samples, 0), 15);
  assert.equal(percentile(samples, 1), 50);
  assert.equal(percentile(samples, 0.4), 29);
  assert.equal(percentile([1, 2, 3, 4], 0.99), 3.9699999999999998);
});
