import assert from "node:assert/strict";
import type { LanguageModel } from "../engine/model/language_model.ts";
import { repetitionsStop, timeTokens } from "./tokens.ts";

/** A model whose every step takes `delay(step)` milliseconds (spun, not slept: steady timing). */
function fakeModel(delay: (step: number) => number): LanguageModel {
  let step = 0;
  const spin = async () => {
    const until = performance.now() + delay(step++);
    while (performance.now() < until) { /* busy */ }
    await Promise.resolve();
    return new Float32Array(8);
  };
  return { config: { vocabSize: 100 }, prefill: spin, forward: spin } as unknown as LanguageModel;
}

const options = { promptLengths: [4], genTokens: 2, repetitions: 3, warmup: 1 };

Deno.test("fixed repetitions stop at the count and say so", async () => {
  const seconds = await timeTokens(fakeModel(() => 1), options);
  assert.equal(seconds.stop, "fixed");
  assert.equal(seconds.tg.length, 3);
  assert.equal(seconds.pp[0]!.length, 3);
  // one reading per timed repetition, the warm-up's left out with its samples
  assert.equal(seconds.conditions.length, 3);
});

Deno.test("until steady: on while any test's CV is over the target, to the count or time limit", () => {
  const until = { cv: 0.035, maxRepetitions: 10, maxSeconds: 30 };
  const steady = [[100, 101, 99], [50, 50.5, 49.5]];
  const noisy = [[100, 130, 80], [50, 50.5, 49.5]];
  assert.equal(repetitionsStop(steady, 2, 1, { repetitions: 3, until }), null); // the minimum first
  assert.equal(repetitionsStop(steady, 3, 1, { repetitions: 3, until }), "cv");
  assert.equal(repetitionsStop(steady, 3, 1, { repetitions: 3 }), "fixed");
  assert.equal(repetitionsStop(noisy, 3, 1, { repetitions: 3, until }), null);
  assert.equal(repetitionsStop(noisy, 10, 1, { repetitions: 3, until }), "max_count");
  assert.equal(repetitionsStop(noisy, 5, 30, { repetitions: 3, until }), "max_time");
  assert.equal(repetitionsStop([[1, 2], []], 3, 1, { repetitions: 3, until }), null);
});
