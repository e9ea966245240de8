import assert from "node:assert/strict";
import { openGGUF } from "../gguf/read.ts";
import { synthesize } from "../synth/synth.ts";
import { str } from "../gguf/types.ts";
import { writeGGUF } from "../gguf/write.ts";
import { ReferenceModel } from "./reference.ts";
import { withTempDir } from "../../tests/_helpers.ts";
import { CpuBackend } from "../backend/cpu/backend.ts";
import { type MatrixBackend, referenceBackend } from "./matrix.ts";

Deno.test("DeepSeek layers: a dense first layer, then routed and shared experts", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/m.gguf`;
    await synthesize({ preset: "tiny-deepseek2", out, type: "Q8_0" });
    using gguf = await openGGUF(out);
    const model = await ReferenceModel.load(gguf, { maxContext: 8 });
    assert.equal(model.weights.layers[0]!.ffn.kind, "dense");
    assert.equal(model.weights.layers[1]!.ffn.kind, "mixture");
    assert.equal(model.weights.layers[1]!.attention.kind, "latent");
    assert.ok(model.forward(1, 0).every(Number.isFinite));
    assert.equal(model.routing.length, 3, "routing is recorded for the three MoE layers");
  });
});

Deno.test("ReferenceModel routes each token to top-k experts with weights summing to one", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/m.gguf`;
    await synthesize({ preset: "tiny-qwen3moe", out, type: "Q8_0" });
    using gguf = await openGGUF(out);
    const model = await ReferenceModel.load(gguf, { maxContext: 8 });
    const logits = model.forward(1, 0);
    assert.equal(logits.length, 1024);
    assert.ok(logits.every(Number.isFinite));
    assert.equal(model.routing.length, 4);
    for (const layer of model.routing) {
      assert.equal(new Set(layer.experts).size, 4);
      assert.ok(Math.abs(layer.weights.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    }
    // a different context gives different logits for the same token
    const first = model.forward(50, 1).slice();
    model.forward(60, 0);
    assert.notDeepStrictEqual(model.forward(50, 1), first);
  });
});

Deno.test("ReferenceModel rejects unsupported architectures, bad tokens and positions", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/m.gguf`;
    await writeGGUF(out, {
      metadata: new Map([["general.architecture", str("gpt2")]]),
      tensors: [],
    });
    using dense = await openGGUF(out);
    await assert.rejects(
      ReferenceModel.load(dense),
      /architecture "gpt2" is not supported \(supported: llama, qwen2moe, qwen3moe, olmoe, deepseek2\)/,
    );
    await synthesize({ preset: "tiny-mixtral", out, type: "Q4_0" });
    using gguf = await openGGUF(out);
    const model = await ReferenceModel.load(gguf, { maxContext: 4 });
    assert.throws(() => model.forward(1024, 0), /Token id 1024 is outside the vocabulary/);
    assert.throws(() => model.forward(1, 4), /Position 4 is outside the context of 4 tokens/);
  });
});

Deno.test("a batched pass gives every token the logits it gets alone, on both backends", async () => {
  await using cpu = await CpuBackend.create({ threads: 2 });
  const backends: [string, MatrixBackend][] = [["reference", referenceBackend], ["cpu", cpu]];
  const tokens = [1, 17, 400, 5, 933, 61, 62, 800, 3, 250];
  await withTempDir(async (dir) => {
    for (
      const preset of [
        "tiny-mixtral",
        "tiny-qwen2moe",
        "tiny-qwen3moe",
        "tiny-olmoe",
        "tiny-deepseek2",
      ]
    ) {
      const out = `${dir}/${preset}.gguf`;
      await synthesize({ preset, out, type: "Q4_0" });
      using gguf = await openGGUF(out);
      for (const [name, backend] of backends) {
        // batches of 4: the ten tokens cross two batch boundaries
        const options = { maxContext: 16, batchSize: 4, numerics: "ggml", backend } as const;
        const model = await ReferenceModel.load(gguf, options);
        const alone = tokens.map((token, pos) => model.forward(token, pos).slice());
        const batched: Float32Array[] = [];
        model.score(tokens, 0, (_, logits) => batched.push(logits.slice()));
        assert.deepStrictEqual(batched, alone, `${preset}, ${name} backend`);
        assert.deepStrictEqual(
          model.prefill(tokens, 0),
          alone.at(-1),
          `${preset}, ${name} prefill`,
        );
      }
    }
  });
});
