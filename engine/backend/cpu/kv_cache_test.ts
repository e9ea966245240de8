import assert from "node:assert/strict";
import { ReferenceKvCache } from "../../model/kv_cache.ts";
import { Prng } from "../../synth/prng.ts";
import { CpuBackend } from "./backend.ts";

Deno.test("the CPU KV cache attends as the reference cache, on 1 and 2 threads", async () => {
  // grouped heads (two queries per key-value head) and keys wider than values, as latent attention
  const shape = { heads: 4, kvHeads: 2, keyHeadDim: 12, valueHeadDim: 8, scale: 0.3 };
  const prng = new Prng(9);
  const random = (length: number, size: number) =>
    Float32Array.from({ length }, () => prng.uniform(size));
  const keys = random(7 * 2 * 12, 2);
  const values = random(7 * 2 * 8, 1);
  const queries = random(4 * 4 * 12, 2);
  for (const threads of [1, 2]) {
    await using cpu = await CpuBackend.create({ threads });
    for (const round of [false, true]) {
      const caches = [new ReferenceKvCache(shape, 2, 20, round), cpu.kvCache(shape, 2, 20, round)];
      const [expected, actual] = caches.map((cache) => {
        // positions 0–2, then 3–6 of layer 1; then a batch of four tokens at positions 3–6
        cache.store(1, 0, 3, keys, values);
        cache.store(1, 3, 4, keys.subarray(3 * 24), values.subarray(3 * 16));
        const out = new Float32Array(4 * 4 * 8);
        cache.attend(1, 3, 4, queries, out);
        return out;
      });
      assert.equal(caches[1]!.bytes, caches[0]!.bytes);
      for (let i = 0; i < expected!.length; i++) {
        // f32 scores and exp in the kernel, f64 in the reference
        assert.ok(
          Math.abs(actual![i]! - expected![i]!) <=
            (round ? 2e-3 : 2e-6) * (1 + Math.abs(expected![i]!)),
          `${threads} threads, rounding ${round}, value ${i}: ${actual![i]} vs ${expected![i]}`,
        );
      }
    }
  }
});
