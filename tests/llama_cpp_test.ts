/**
 * End-to-end checks against llama.cpp (through node-llama-cpp): every synthetic preset loads
 * and decodes there, and `moebench inspect --json` describes a file quantized by llama.cpp's own
 * quantizer exactly as llama.cpp's tooling reads it. Skipped, with the reason, where llama.cpp's
 * native build cannot load.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { synthesize } from "../engine/synth/synth.ts";
import { runMoebench as moebench } from "./_helpers.ts";
import { findPreset } from "../engine/synth/presets.ts";
import { ggmlTypeName } from "../engine/quant/types.ts";
import {
  generateWithLlamaCpp,
  llamaCppUnavailableReason,
  quantizeWithLlamaCpp,
  readTensorsWithLlamaCpp,
} from "../peers/llama_cpp/llama_cpp.ts";

const unavailable = await llamaCppUnavailableReason();
if (unavailable) console.warn(`llama.cpp tests skipped: ${unavailable}`);

const dir = await Deno.makeTempDir({ prefix: "moebench-llama-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const PROMPT = "the expert layers and the router";

Deno.test({
  name: "`moebench synth --preset tiny-mixtral` writes a model llama.cpp loads and decodes",
  ignore: unavailable !== null,
  async fn() {
    const out = join(dir, "x.gguf");
    const result = await moebench("synth", "--preset", "tiny-mixtral", "--out", out);
    assert.equal(result.code, 0, result.stderr);
    const run = await generateWithLlamaCpp(out, PROMPT, 16);
    assert.equal(run.tokens.length, 16);
    assert.ok(run.tokens.every((t) => t >= 0 && t < 1024));
    // the synthetic vocabulary has "▁the" and "▁and", so llama.cpp's tokenizer uses them
    assert.ok(run.promptTokens.length < [...PROMPT].length, `${run.promptTokens}`);
  },
});

const TINY = ["tiny-mixtral", "tiny-qwen2moe", "tiny-qwen3moe", "tiny-olmoe", "tiny-deepseek2"];
for (const preset of TINY) {
  for (const type of ["F32", "F16", "Q8_0", "Q4_0"]) {
    Deno.test({
      name: `llama.cpp loads and decodes ${preset} in ${type}`,
      ignore: unavailable !== null,
      async fn() {
        const out = join(dir, `${preset}-${type}.gguf`);
        await synthesize({ preset, out, type, seed: 1 });
        const run = await generateWithLlamaCpp(out, PROMPT, 8);
        assert.equal(run.tokens.length, 8);
        // random weights still give a prompt-dependent continuation, not one fixed token
        const other = await generateWithLlamaCpp(out, "memory and cache", 8);
        assert.notDeepStrictEqual(run.tokens, other.tokens);
      },
    });
  }
}

// the real models' shapes, shrunk; vocabularies stay full size (32k–152k tokens)
for (
  const [preset, scale] of [
    ["mixtral-8x7b-shape", 0.0625],
    ["olmoe-1b-7b-shape", 0.125],
    ["qwen3-30b-a3b-shape", 0.125],
    ["qwen1.5-moe-a2.7b-shape", 0.125],
    ["deepseek-v2-lite-shape", 0.125],
    ["deepseek-v3-shape", 0.0625],
  ] as const
) {
  Deno.test({
    name: `llama.cpp loads and decodes ${preset} at scale ${scale}, 2 layers`,
    // (DeepSeek-V3 keeps one of its 3 dense layers and one MoE layer)
    ignore: unavailable !== null,
    async fn() {
      const out = join(dir, `${preset}.gguf`);
      const result = await synthesize({ preset, out, type: "Q4_0", scale, layers: 2 });
      assert.equal(result.shape.expertCount, findPreset(preset).shape.expertCount);
      const run = await generateWithLlamaCpp(out, PROMPT, 4);
      assert.equal(run.tokens.length, 4);
    },
  });
}

Deno.test({
  name: "`inspect --json` on a llama.cpp Q4_K_M file lists every tensor as llama.cpp reads it",
  ignore: unavailable !== null,
  async fn() {
    const f32 = join(dir, "qwen3-f32.gguf");
    const q4km = join(dir, "qwen3-q4_k_m.gguf");
    await synthesize({ preset: "tiny-qwen3moe", out: f32, type: "F32" });
    await quantizeWithLlamaCpp(f32, q4km, "Q4_K_M");
    const result = await moebench("inspect", q4km, "--json");
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.fileType, "Q4_K_M");

    const theirs = await readTensorsWithLlamaCpp(q4km);
    assert.equal(summary.tensors.length, theirs.length);
    const typeNames = new Set<string>();
    for (const [i, tensor] of summary.tensors.entries()) {
      const reference = theirs[i]!;
      assert.equal(tensor.name, reference.name);
      assert.deepStrictEqual(tensor.shape, reference.shape, tensor.name);
      assert.equal(tensor.offset, reference.offset, tensor.name);
      assert.equal(tensor.type, ggmlTypeName(reference.typeId), tensor.name);
      typeNames.add(tensor.type);
    }
    // Q4_K_M is a mix: Q4_K for most weights, Q6_K for some, F32 for norms and routers
    for (const expected of ["Q4_K", "Q6_K", "F32"]) assert.ok(typeNames.has(expected), expected);
    assert.ok(summary.experts.count === 16 && summary.experts.layers === 4);
  },
});
