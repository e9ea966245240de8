import assert from "node:assert/strict";
import { openGGUF } from "../gguf/read.ts";
import { synthesize } from "../synth/synth.ts";
import { str } from "../gguf/types.ts";
import { writeGGUF } from "../gguf/write.ts";
import { ReferenceModel } from "./reference.ts";
import { withTempDir } from "../../tests/_helpers.ts";

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
