import assert from "node:assert/strict";
import { join } from "node:path";
import { synthesize } from "../engine/synth/synth.ts";
import { POLICY_NAMES } from "../engine/offload/policy.ts";
import { simulate } from "../engine/offload/trace.ts";
import { recordTrace } from "./cache.ts";

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
