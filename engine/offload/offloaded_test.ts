import assert from "node:assert/strict";
import { join } from "node:path";
import { CpuBackend } from "../backend/cpu/backend.ts";
import { openGGUF } from "../gguf/read.ts";
import { ReferenceModel, type RunOptions } from "../model/reference.ts";
import { readConfig } from "../model/config.ts";
import { synthesize } from "../synth/synth.ts";
import type { OffloadOptions } from "./offloaded.ts";
import { ExpertStore } from "./store.ts";
import { simulate, traceHeader, TraceRecorder } from "./trace.ts";

const cpu = await CpuBackend.create({ threads: 2 });
addEventListener("unload", () => cpu.close());
const PROMPT = [1, 17, 300, 42, 999, 5];

/** Greedy tokens after PROMPT, and the model (closed: its loader stopped). */
async function greedy(path: string, options: Partial<RunOptions>, count = 12) {
  using gguf = await openGGUF(path);
  const model = await ReferenceModel.load(gguf, {
    maxContext: 64,
    numerics: "ggml",
    backend: cpu,
    ...options,
  });
  try {
    const tokens: number[] = [];
    let logits = model.prefill(PROMPT, 0);
    for (let i = 0; i < count; i++) {
      let best = 0;
      for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
      tokens.push(best);
      logits = model.forward(best, PROMPT.length + i);
    }
    return { tokens, stats: model.offload?.stats() };
  } finally {
    model.close();
  }
}

const SETTINGS: OffloadOptions[] = [
  { budgetShare: 0.25 },
  { budgetShare: 0.25, prefetch: { depth: 1 } },
  { slotsPerLayer: 1, policy: "fifo", prefetch: { depth: 2, experts: 3 } },
  { slotsPerLayer: 2, policy: "lfu", tier: "ram" },
  { budgetShare: 0.5, policy: "random", prefetch: { depth: 1 } },
  { budgetShare: 1 },
];

for (const [preset, type] of [["tiny-mixtral", "Q4_0"], ["tiny-deepseek2", "Q8_0"]] as const) {
  Deno.test(`offloaded experts give the resident tokens: ${preset} ${type}`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = join(dir, "m.gguf");
      await synthesize({ preset, out: path, type, seed: 5 });
      const resident = await greedy(path, {});
      for (const offload of SETTINGS) {
        const run = await greedy(path, { offload });
        assert.deepEqual(run.tokens, resident.tokens, JSON.stringify(offload));
        const stats = run.stats!;
        assert.ok(stats.misses > 0 && stats.bytes_loaded > 0, JSON.stringify(stats));
        if (offload.prefetch) assert.ok(stats.prefetched_bytes > 0, JSON.stringify(stats));
        else assert.equal(stats.prefetched_bytes, 0);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("the simulator counts the engine's hits for the engine's trace, every policy", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "m.gguf");
    await synthesize({ preset: "tiny-qwen3moe", out: path, type: "Q4_0", seed: 2 });
    using gguf = await openGGUF(path);
    const config = readConfig(gguf);
    const store = ExpertStore.fromGGUF(gguf, config);
    for (
      const offload of [
        { budgetShare: 0.3, policy: "lru", prefetch: { depth: 1 } },
        { slotsPerLayer: 5, policy: "lfu", prefetch: { depth: 2, experts: 6 } },
        { budgetShare: 0.4, policy: "fifo", prefetch: null },
        { budgetShare: 0.2, policy: "random", prefetch: { depth: 1 } },
      ] as const
    ) {
      const recorder = new TraceRecorder(traceHeader(path, config, store, null));
      const run = await greedy(path, { offload, onRouting: recorder.record }, 20);
      const trace = recorder.trace([...PROMPT, ...run.tokens]);
      const replayed = simulate(trace, offload, offload.policy);
      const engine = run.stats!;
      // the bytes of wrong guesses depend on timing (a guess not yet loaded is dropped for
      // free); those of the guesses that were used do not
      assert.deepEqual(
        [replayed.hits, replayed.misses, replayed.prefetchedBytes - replayed.wastedPrefetchBytes],
        [engine.hits, engine.misses, engine.prefetched_bytes - engine.wasted_prefetch_bytes],
        offload.policy,
      );
      // Belady's bound is at least every policy's hit rate on the demands alone
      const rates = (["lru", "lfu", "fifo", "random", "belady"] as const).map((policy) =>
        simulate(trace, offload, policy, { prefetch: false }).hitRate
      );
      assert.ok(rates.every((rate) => rate <= rates[4]!), rates.join(" "));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an expert that cannot be read is one clear error, not a hang", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "m.gguf");
    await synthesize({ preset: "tiny-mixtral", out: path, type: "Q8_0", seed: 1 });
    using gguf = await openGGUF(path);
    const model = await ReferenceModel.load(gguf, {
      maxContext: 16,
      numerics: "ggml",
      backend: cpu,
      offload: { slotsPerLayer: 2 },
    });
    try {
      // the file loses its expert bytes after the model was loaded
      await Deno.truncate(path, gguf.tensor("blk.0.ffn_gate_exps.weight").offset + 100);
      assert.throws(
        () => model.prefill(PROMPT, 0),
        /m\.gguf": loading an expert failed: the file ends inside an expert/,
      );
    } finally {
      model.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
