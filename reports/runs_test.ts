import assert from "node:assert/strict";
import type { ResultsFile } from "../suites/results.ts";
import { STANDARD } from "../suites/spec.ts";
import { provenanceProblem } from "./runs.ts";

/** The parts of a standard run that provenance looks at. */
function run(modelHash: string, outputHash: string | undefined): ResultsFile {
  const { main } = STANDARD.models;
  return {
    spec: { name: STANDARD.name, version: STANDARD.version },
    models: [{ id: main.id, sha256: modelHash }],
    tests: [{
      model: main.id,
      test: "tg64",
      backend: "cpu",
      config: "resident",
      details: outputHash === undefined ? {} : { output_sha256: outputHash },
    }],
  } as unknown as ResultsFile;
}

Deno.test("a standard run with the spec's model and greedy tokens is trusted; any other is not", () => {
  const { main } = STANDARD.models;
  const expected = STANDARD.expectedOutput.sha256;
  assert.equal(provenanceProblem(run(main.sha256, expected)), null);
  assert.match(
    provenanceProblem(run("0".repeat(64), expected))!,
    /^model moe-350m-q4_0 is not the spec's \(SHA-256 000000000000…\)$/,
  );
  assert.match(
    provenanceProblem(run(main.sha256, "f".repeat(64)))!,
    /its tg64 \(resident\) decoded other tokens than the spec's/,
  );
  assert.match(provenanceProblem(run(main.sha256, undefined))!, /decoded other tokens/);
  // runs of other spec versions are judged by their own version's rules elsewhere
  const older = { ...run("0".repeat(64), undefined), spec: { name: STANDARD.name, version: 1 } };
  assert.equal(provenanceProblem(older as ResultsFile), null);
});

Deno.test("another backend's decode is trusted where it chose the spec's tokens, teacher-forced", () => {
  const { main } = STANDARD.models;
  const gpu = (agreement: number | undefined) => {
    const results = run(main.sha256, STANDARD.expectedOutput.sha256);
    results.tests.push({
      ...results.tests[0]!,
      backend: "webgpu",
      // its own greedy decode parted from the spec's at a near-tie
      details: {
        output_sha256: "e".repeat(64),
        ...(agreement === undefined ? {} : { output_agreement: agreement }),
      },
    });
    return provenanceProblem(results);
  };
  assert.equal(gpu(63 / 64), null);
  assert.equal(
    gpu(1 / 64),
    "its tg64 (webgpu, resident) chose the spec's next token at 2 % of the positions " +
      "(at least 90 % asked)",
  );
  assert.equal(
    gpu(undefined),
    "its tg64 (webgpu, resident) was not checked against the spec's tokens",
  );
});
