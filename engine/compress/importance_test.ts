import assert from "node:assert/strict";
import type { Trace } from "../offload/trace.ts";
import { expertImportance, mostImportant } from "./importance.ts";
import { adjustedTopK } from "./prune.ts";

/** One layer, 4 experts, top-2: three tokens. */
const trace: Trace = {
  header: {
    format: "moebench-trace",
    version: 1,
    model: "m.gguf",
    layers: 1,
    experts: 4,
    expertsUsed: 2,
    layerBytes: [100],
    slotBytes: 128,
    prefetch: null,
  },
  steps: [
    {
      pos: 0,
      tokens: [5, 6],
      layers: [{
        layer: 0,
        experts: [[0, 1], [0, 2]],
        weights: [[0.75, 0.25], [0.5, 0.5]],
        guesses: [],
      }],
    },
    {
      pos: 2,
      tokens: [7],
      layers: [{ layer: 0, experts: [[1, 0]], weights: [[0.75, 0.25]], guesses: [] }],
    },
  ],
};

Deno.test("importance weighs activation frequency against routing score", () => {
  const [layer] = expertImportance(trace, 0.5);
  assert.equal(layer!.tokens, 3);
  assert.deepEqual([...layer!.freq], [1, 2 / 3, 1 / 3, 0]);
  assert.deepEqual([...layer!.score], [1.5 / 3, 1 / 3, 0.5 / 3, 0]);
  assert.deepEqual([...expertImportance(trace, 1)[0]!.importance], [...layer!.freq]);
  assert.deepEqual([...expertImportance(trace, 0)[0]!.importance], [...layer!.score]);
  assert.deepEqual(mostImportant(layer!.importance, 2), [0, 1]);
  // ties go to the lower index
  assert.deepEqual(mostImportant(new Float64Array([0.1, 0.3, 0.3, 0.3]), 2), [1, 2]);
  assert.throws(() => expertImportance(trace, 1.5), RangeError);
});

Deno.test("the router adjustment scales top-k with the experts kept", () => {
  assert.equal(adjustedTopK(4, 16, 12), 3);
  assert.equal(adjustedTopK(8, 64, 48), 6);
  assert.equal(adjustedTopK(2, 8, 6), 2); // 1.5 rounds up
  assert.equal(adjustedTopK(2, 8, 2), 1); // 0.5 rounds up, at least one
  assert.equal(adjustedTopK(1, 8, 1), 1);
  assert.equal(adjustedTopK(4, 16, 16), 4);
});
