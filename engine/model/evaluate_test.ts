import assert from "node:assert/strict";
import { topLogits } from "./evaluate.ts";

Deno.test("topLogits() returns the largest logits best first, lower id first on ties", () => {
  const logits = Float32Array.from([0.5, 3, -1, 3, 2, 7]);
  assert.deepStrictEqual(topLogits(logits, 3), [[5, 7], [1, 3], [3, 3]]);
  assert.deepStrictEqual(topLogits(logits, 1), [[5, 7]]);
  assert.equal(topLogits(logits, 10).length, 6);
});
