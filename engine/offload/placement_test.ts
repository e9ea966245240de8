import assert from "node:assert/strict";
import { placeHotExperts } from "./placement.ts";
import type { Trace, TraceLayer } from "./trace.ts";

/** A trace of `layers` (bytes per expert, 0 dense) where each step routes as `steps` say. */
function traceOf(layerBytes: number[], steps: number[][][]): Trace {
  return {
    header: {
      format: "moebench-trace",
      version: 1,
      model: "m.gguf",
      layers: layerBytes.length,
      experts: 4,
      expertsUsed: 2,
      layerBytes,
      slotBytes: 256,
      prefetch: null,
    },
    steps: steps.map((perLayer, pos) => ({
      pos,
      tokens: [1],
      layers: perLayer.map((experts, layer): TraceLayer => ({
        layer: layer + 1,
        experts: [experts],
        weights: [experts.map(() => 0.5)],
        guesses: [],
      })),
    })),
  };
}

Deno.test("the most used experts across layers fill the GPU's bytes; the rest stay on the CPU", () => {
  // layer 0 dense; layer 1's experts 100 bytes, layer 2's 200
  const trace = traceOf([0, 100, 200], [
    [[0, 1], [3, 2]],
    [[0, 2], [3, 0]],
    [[0, 1], [3, 2]],
  ]);
  // uses: layer 1 → e0 3, e1 2, e2 1; layer 2 → e3 3, e2 2, e0 1 (12 in all)
  const placement = placeHotExperts(trace, trace.header, 400);
  // by uses: (1,0) 100 B, (2,3) 200 B, then (1,1) 100 B = 400; (2,2) would not fit
  assert.deepEqual(placement.onGpu[0], null);
  assert.deepEqual([...placement.onGpu[1]!], [1, 1, 0, 0]);
  assert.deepEqual([...placement.onGpu[2]!], [0, 0, 0, 1]);
  assert.equal(placement.gpuBytes, 400);
  assert.equal(placement.cpuBytes, 2 * 100 + 3 * 200);
  assert.equal(placement.gpuShare, (3 + 3 + 2) / 12);
});

Deno.test("a smaller expert that still fits takes bytes a larger one cannot", () => {
  const trace = traceOf([0, 100, 200], [[[0, 1], [3, 2]]]);
  const placement = placeHotExperts(trace, trace.header, 150);
  // every used expert ties at one use: (1,0) fits, (1,1) does not after it, no 200 B one fits
  assert.deepEqual([...placement.onGpu[1]!], [1, 0, 0, 0]);
  assert.deepEqual([...placement.onGpu[2]!], [0, 0, 0, 0]);
  assert.equal(placement.gpuShare, 1 / 4);
});

Deno.test("a budget of every expert's bytes puts all of them on the GPU", () => {
  const trace = traceOf([0, 100, 200], [[[0, 1], [3, 2]]]);
  const placement = placeHotExperts(trace, trace.header, 1200);
  assert.equal(placement.cpuBytes, 0);
  assert.deepEqual([...placement.onGpu[2]!], [1, 1, 1, 1]);
  assert.equal(placement.gpuShare, 1);
});

Deno.test("a trace of a model with another routing shape is refused", () => {
  const trace = traceOf([0, 100, 200], [[[0, 1], [3, 2]]]);
  assert.throws(
    () => placeHotExperts(trace, { experts: 8, layerBytes: [0, 100, 200] }, 100),
    /trace of m\.gguf was recorded on a model with 3 layers of 4 experts, not this one's 3 of 8/,
  );
  assert.throws(
    () => placeHotExperts(trace, { experts: 4, layerBytes: [100, 100, 200] }, 100),
    RangeError,
  );
});
