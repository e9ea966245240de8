import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { openGGUF } from "../gguf/read.ts";
import { withTempDir } from "../../tests/_helpers.ts";
import { F32 } from "../quant/float.ts";
import { findPreset, PRESETS, scaleShape } from "./presets.ts";
import { synthesize } from "./synth.ts";
import { planTensors } from "./tensor_plan.ts";
import { buildVocabulary } from "./vocab.ts";
import { SPACE_MARK } from "../tokenizer/spm.ts";
import { TOKEN_TYPE } from "../tokenizer/token_type.ts";

async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

/**
 * The files these options produce, by SHA-256. They are the same on every machine: a change
 * here means generated models changed, which must bump SYNTH_VERSION.
 */
const GOLDEN: [string, string, number, string][] = [
  ["tiny-mixtral", "F16", 0, "b7eeb1960c8e4de626063c53192541ae9d2871afc49d2aa5cf7cf81e274abdd2"],
  ["tiny-qwen2moe", "Q4_0", 7, "f7a772a4315afab20be7a06097c97e1d9fd736c510803d86cdb657e07fea18b2"],
];

for (const [preset, type, seed, expected] of GOLDEN) {
  Deno.test(`synthesize() writes the known bytes for ${preset} ${type} seed ${seed}`, async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/m.gguf`;
      await synthesize({ preset, out, type, seed });
      assert.equal(await sha256(out), expected);
    });
  });
}

Deno.test("synthesize() is deterministic and the seed changes the weights", async () => {
  await withTempDir(async (dir) => {
    const run = (name: string, seed: number) =>
      synthesize({ preset: "tiny-olmoe", out: `${dir}/${name}`, type: "Q8_0", seed });
    await run("a.gguf", 3);
    await run("b.gguf", 3);
    await run("c.gguf", 4);
    assert.equal(await sha256(`${dir}/a.gguf`), await sha256(`${dir}/b.gguf`));
    assert.notEqual(await sha256(`${dir}/a.gguf`), await sha256(`${dir}/c.gguf`));
  });
});

for (const preset of PRESETS.filter((p) => p.name.startsWith("tiny-"))) {
  Deno.test(`${preset.name}: metadata and tensors agree with the preset's shape`, async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/m.gguf`;
      const result = await synthesize({ preset: preset.name, out, type: "Q4_0" });
      using gguf = await openGGUF(out);
      const shape = preset.shape;
      const arch = shape.architecture;
      assert.equal(gguf.architecture, arch);
      assert.equal(gguf.getNumber(`${arch}.block_count`), shape.blockCount);
      assert.equal(gguf.getNumber(`${arch}.expert_count`), shape.expertCount);
      assert.equal(gguf.getNumber(`${arch}.expert_used_count`), shape.expertUsedCount);
      assert.equal(gguf.getStrings("tokenizer.ggml.tokens").length, shape.vocabSize);
      const plan = planTensors(shape);
      assert.equal(gguf.tensors.length, plan.length);
      assert.equal(result.bytes, gguf.fileSize);
      for (const planned of plan) {
        const tensor = gguf.tensor(planned.name);
        assert.deepStrictEqual(tensor.shape, planned.shape, planned.name);
        assert.equal(tensor.typeName, planned.quantizable ? "Q4_0" : "F32", planned.name);
      }
      const experts = gguf.tensor(`blk.${shape.blockCount - 1}.ffn_down_exps.weight`);
      assert.deepStrictEqual(experts.shape, [
        shape.expertFeedForwardLength,
        shape.embeddingLength,
        shape.expertCount,
      ]);
    });
  });
}

Deno.test("weights are fan-in scaled: standard deviation 1/√fan_in, norms near 1", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/m.gguf`;
    await synthesize({ preset: "tiny-mixtral", out, type: "F32", seed: 5 });
    using gguf = await openGGUF(out);
    const values = async (name: string) => {
      const info = gguf.tensor(name);
      const result = new Float32Array(info.elements);
      F32.dequantize(await gguf.readTensor(info), result);
      return result;
    };
    const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
    const up = await values("blk.1.ffn_up_exps.weight");
    assert.ok(Math.abs(std(up) * Math.sqrt(256) - 1) < 0.02, `std ${std(up)}`);
    const norm = await values("blk.1.attn_norm.weight");
    assert.ok(norm.every((v) => v >= 0.9 && v <= 1.1));
  });
});

Deno.test("scaleShape() shrinks widths to multiples of 256 and keeps the head width", () => {
  const mixtral = findPreset("mixtral-8x7b-shape").shape;
  const small = scaleShape(mixtral, { scale: 0.25, layers: 4 });
  assert.equal(small.embeddingLength, 1024);
  assert.equal(small.headCount, 8);
  assert.equal(small.headCountKV, 2);
  assert.equal(small.headDim, 128);
  assert.equal(small.expertFeedForwardLength, 3584);
  assert.equal(small.blockCount, 4);
  assert.equal(small.expertCount, 8);
  const qwen = scaleShape(findPreset("qwen1.5-moe-a2.7b-shape").shape, { scale: 0.1 });
  assert.equal(qwen.embeddingLength, 256);
  assert.equal(qwen.headCount * qwen.headDim, qwen.embeddingLength, "qwen2moe needs q = n_embd");
  assert.equal(qwen.sharedExpertCount * qwen.expertFeedForwardLength, 1024, "4 × 256");
  const v3 = scaleShape(findPreset("deepseek-v3-shape").shape, { scale: 0.0625, layers: 3 });
  assert.equal(v3.embeddingLength, 512);
  assert.equal(v3.leadingDenseBlocks, 2, "at least one MoE layer is kept");
  assert.deepStrictEqual(v3.mla, {
    qLoraRank: 256,
    kvLoraRank: 256,
    nopeHeadDim: 128,
    ropeHeadDim: 64,
    valueHeadDim: 128,
  });
  assert.throws(() => scaleShape(mixtral, { scale: 1.5 }), /--scale must be in \(0, 1\]/);
  assert.throws(() => scaleShape(mixtral, { layers: 0 }), /--layers must be a whole number/);
});

Deno.test("buildVocabulary() has the specials, byte tokens, and every piece's prefix", () => {
  const vocab = buildVocabulary(3000);
  assert.equal(vocab.tokens.length, 3000);
  assert.equal(new Set(vocab.tokens).size, 3000);
  assert.deepStrictEqual(vocab.tokens.slice(0, 4), ["<unk>", "<s>", "</s>", "<0x00>"]);
  assert.equal(vocab.tokens[3 + 255], "<0xFF>");
  assert.equal(vocab.types[3], TOKEN_TYPE.byte);
  const known = new Set(vocab.tokens);
  for (const [id, token] of vocab.tokens.entries()) {
    if (vocab.types[id] !== TOKEN_TYPE.normal || [...token].length < 2) continue;
    const prefix = [...token].slice(0, -1).join("");
    assert.ok(known.has(prefix), `"${token}" has no prefix "${prefix}"`);
  }
  assert.ok(known.has(`${SPACE_MARK}the`));
  assert.throws(() => buildVocabulary(100), /at least/);
});
