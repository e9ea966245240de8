import assert from "node:assert/strict";
import { ResultsFile, testRecord } from "./results.ts";
import { standardScore } from "./standard.ts";
import { resultsFileOf } from "./_results_fixture.ts";

/** A standard run's tokens records with these medians. */
function tokens(pp256: number, tg64: number, offloaded: number) {
  const record = (test: string, config: string, median: number) =>
    testRecord({
      task: `tokens/${config}`,
      suite: "tokens",
      test,
      model: "moe-350m-q4_0",
      type: "Q4_0",
      config,
      unit: "tok/s",
    }, [median * 0.9, median, median * 1.1]);
  return [
    record("pp256", "resident", pp256),
    record("tg64", "resident", tg64),
    record("tg64", "offload 50% lru", offloaded),
  ];
}

function results(tests: ReturnType<typeof tokens>): ResultsFile {
  const spec = { name: "moebench-standard", version: 1 };
  return resultsFileOf(tests, {
    suite: "standard",
    spec,
    score: standardScore(tests, { backend: "cpu" }),
  });
}

Deno.test("the standard score is 100 on the reference machine and scales with speed", () => {
  const reference = standardScore(tokens(250, 200, 100), { backend: "cpu" })!;
  assert.ok(Math.abs(reference.value - 100) < 1e-9);
  const twice = standardScore(tokens(500, 400, 200), { backend: "cpu" })!;
  assert.ok(Math.abs(twice.value - 200) < 1e-9);
  // a geometric mean: 8× faster decode offloaded alone doubles the score
  const offloading = standardScore(tokens(250, 200, 800), { backend: "cpu" })!;
  assert.ok(Math.abs(offloading.value - 200) < 1e-9);
  assert.equal(standardScore(tokens(250, 200, 100).slice(0, 2), { backend: "cpu" }), null);
});

Deno.test("the results schema accepts a consistent file and refuses inconsistent ones", () => {
  const good = results(tokens(700, 260, 90));
  assert.ok(ResultsFile.safeParse(good).success);
  const firstMessage = (file: unknown) => {
    const parsed = ResultsFile.safeParse(file);
    assert.ok(!parsed.success);
    return parsed.error.issues[0]!.message;
  };
  const flattered = structuredClone(good);
  flattered.score!.value *= 2;
  flattered.score!.parts[0]!.median *= 2;
  assert.match(
    firstMessage(flattered),
    /the score's pp256 \(resident\) is not the records' median/,
  );
  const undone = { ...good, done: good.done.slice(1) };
  assert.match(firstMessage(undone), /records of task "tokens\/resident" but the task is not/);
  const extra = { ...good, hostname: "x" };
  assert.match(firstMessage(extra), /Unrecognized key/);
  const noSamples = structuredClone(good);
  noSamples.tests[0]!.samples = [];
  assert.ok(!ResultsFile.safeParse(noSamples).success);
  // per-sample conditions, one for each sample
  const reading = { others_cpu_cores: 0.01, cpu_mhz: 2400, temp_c: null, disturbed: false };
  const measured = structuredClone(good);
  measured.tests[0]!.conditions = [reading, reading, reading];
  assert.ok(ResultsFile.safeParse(measured).success);
  measured.tests[0]!.conditions.pop();
  assert.match(firstMessage(measured), /pp256 has 3 samples but conditions for 2/);
});
