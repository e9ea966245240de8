import assert from "node:assert/strict";
import { readTrace, simulate, type Trace, TraceError, writeTrace } from "./trace.ts";

const TRACE: Trace = {
  header: {
    format: "moebench-trace",
    version: 1,
    model: "m.gguf",
    layers: 2,
    experts: 4,
    expertsUsed: 2,
    layerBytes: [0, 100],
    slotBytes: 128,
    prefetch: null,
  },
  steps: [[0, 1], [1, 2], [0, 1], [2, 3]].map((experts, pos) => ({
    pos,
    tokens: [7],
    layers: [{ layer: 1, experts: [experts], weights: [[0.6, 0.4]], guesses: [] }],
  })),
};

Deno.test("a trace survives writing and reading, and replays", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await writeTrace(path, TRACE);
    const read = await readTrace(path);
    assert.deepEqual(read, TRACE);
    // two slots (256 bytes): 0 1 | 1 hits, 2 evicts 0 | 0 evicts 1 (used before 2), 1 evicts 2
    // (0 is pinned) | 2 and 3 miss: one hit; Belady keeps 1 at step 2 and 2 for step 3
    const lru = simulate(read, { budgetBytes: 256 }, "lru");
    assert.deepEqual([lru.hits, lru.misses], [1, 7]);
    const belady = simulate(read, { budgetBytes: 256 }, "belady");
    assert.ok(belady.hits > lru.hits);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a malformed trace is one error naming the file and the line", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  const header = JSON.stringify(TRACE.header);
  const cases: [string, RegExp][] = [
    ["", /line 1: empty/],
    ["{", /line 1: not JSON/],
    ['{"format":"other"}', /line 1: not a moebench trace/],
    [JSON.stringify({ ...TRACE.header, experts: -1 }), /line 1: the header's sizes/],
    [`${header}\n{"pos":0}`, /line 2: a step needs pos, tokens and layers/],
    [
      `${header}\n` +
      JSON.stringify({ ...TRACE.steps[0], layers: [{ ...TRACE.steps[0]!.layers[0], layer: 0 }] }),
      /line 2: layer 0 is malformed/,
    ],
    [
      `${header}\n` + JSON.stringify({
        ...TRACE.steps[0],
        layers: [{ ...TRACE.steps[0]!.layers[0], experts: [[0, 9]] }],
      }),
      /line 2: layer 1 is malformed/,
    ],
  ];
  try {
    for (const [text, expected] of cases) {
      await Deno.writeTextFile(path, text);
      await assert.rejects(readTrace(path), (error: Error) => {
        assert.ok(error instanceof TraceError);
        assert.match(error.message, expected);
        assert.ok(error.message.startsWith(path));
        return true;
      });
    }
  } finally {
    await Deno.remove(path);
  }
});
