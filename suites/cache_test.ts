import assert from "node:assert/strict";
import { join } from "node:path";
import { synthesize } from "../engine/synth/synth.ts";
import { POLICY_NAMES } from "../engine/offload/policy.ts";
import { simulate, type Trace } from "../engine/offload/trace.ts";
import { guessAccuracy, recordTrace } from "./cache.ts";

Deno.test("Belady's bound is at least every online policy's hit rate at every budget, on an engine trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "m.gguf");
    await synthesize({ preset: "tiny-qwen3moe", out: path, type: "Q8_0", seed: 3 });
    const trace = await recordTrace(path, { backend: "cpu", threads: 1 }, 48, null);
    assert.equal(trace.steps.length, 1 + 48); // the prompt's batch, then one step per token
    assert.ok(trace.steps.every((step) => step.layers.length === 4));
    for (let share = 0.05; share <= 1; share += 0.05) {
      const rate = (policy: (typeof POLICY_NAMES)[number]) =>
        simulate(trace, { budgetShare: share }, policy, { prefetch: false }).hitRate;
      const belady = rate("belady");
      for (const policy of POLICY_NAMES.filter((p) => p !== "belady")) {
        assert.ok(
          belady >= rate(policy),
          `${policy} beats Belady at ${share.toFixed(2)}: ${rate(policy)} > ${belady}`,
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("guess accuracy compares each guess with the experts its layer then used", () => {
  const layer = (index: number, used: number[], guesses: [number, number[]][]) => ({
    layer: index,
    experts: [used],
    weights: [used.map(() => 1)],
    guesses: guesses.map(([target, experts]) => ({ layer: target, experts })),
  });
  const trace: Trace = {
    header: {
      format: "moebench-trace",
      version: 1,
      model: "m.gguf",
      layers: 3,
      experts: 8,
      expertsUsed: 2,
      layerBytes: [1, 1, 1],
      slotBytes: 64,
      prefetch: { depth: 2, experts: 2 },
    },
    steps: [{
      pos: 0,
      tokens: [5],
      layers: [
        layer(0, [0, 1], [[1, [2, 3]], [2, [4, 7]]]),
        layer(1, [2, 5], [[2, [4, 5]]]),
        layer(2, [4, 5], []),
      ],
    }],
  };
  // depth 1: layer 1 guessed {2,3} used {2,5}; layer 2 guessed {4,5} used {4,5}
  assert.deepEqual(guessAccuracy(trace, 1), { recall: 3 / 4, precision: 3 / 4, layers: 2 });
  // depth 2: layer 2 guessed {4,7} from layer 0
  assert.deepEqual(guessAccuracy(trace, 2), { recall: 1 / 2, precision: 1 / 2, layers: 1 });
});
