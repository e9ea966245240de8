import assert from "node:assert/strict";
import type { LanguageModel } from "../engine/model/language_model.ts";
import { outputAgreement, repetitionsStop, timeTokens, tokensRecords } from "./tokens.ts";

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

Deno.test("a prompt-then-decode test (llama-bench's -pg) times the prefill and every step after it", async () => {
  const calls: string[] = [];
  const model = {
    config: { vocabSize: 100 },
    prefill: (tokens: number[], pos: number) => {
      calls.push(`prefill ${tokens.length}@${pos}`);
      return Promise.resolve(new Float32Array(8));
    },
    forward: (_token: number, pos: number) => {
      calls.push(`forward @${pos}`);
      return Promise.resolve(new Float32Array(8));
    },
  } as unknown as LanguageModel;
  const pgOptions = {
    promptLengths: [],
    genTokens: 1,
    promptGen: [{ prompt: 4, gen: 3 }],
    repetitions: 1,
    warmup: 0,
    depth: 2,
  };
  const seconds = await timeTokens(model, pgOptions);
  // the context (untimed), tg1 after it; the context again, then pp4+tg3 after it
  assert.deepEqual(calls, [
    "prefill 2@0",
    "forward @2",
    "prefill 2@0",
    "prefill 4@2",
    "forward @6",
    "forward @7",
    "forward @8",
  ]);
  assert.equal(seconds.pg[0]!.length, 1);
  const labels = { task: "t", model: "m", type: "Q4_0", config: "resident" };
  const records = tokensRecords(labels, pgOptions, seconds);
  assert.deepEqual(records.map((r) => r.test), ["tg1@d2", "pp4+tg3@d2"]);
  assert.equal(records[1]!.samples[0], 7 / seconds.pg[0]![0]!);
});

Deno.test("outputAgreement() feeds the expected tokens and counts the next ones the model picks", async () => {
  const fed: [number, number][] = [];
  // picks token+1, except at position 2
  const model = {
    forward: (token: number, pos: number) => {
      fed.push([token, pos]);
      const logits = new Float32Array(16);
      logits[pos === 2 ? 0 : token + 1] = 1;
      return Promise.resolve(logits);
    },
  } as unknown as LanguageModel;
  assert.equal(await outputAgreement(model, 3, [4, 5, 6, 7]), 3 / 4);
  assert.deepEqual(fed, [[3, 0], [4, 1], [5, 2], [6, 3]]);
});
