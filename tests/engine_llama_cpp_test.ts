/**
 * moebench against a live llama.cpp on the same files, for what the recorded fixtures
 * (`llama_cpp_fixtures_test.ts`) do not cover: greedy generation from a prompt, DeepSeek-V3's
 * shape, and llama-perplexity's procedure.
 *
 * The model runs with `ggml` numerics (activations rounded as llama.cpp's CPU dot products
 * round them, F16 KV cache), llama.cpp without flash attention.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openGGUF } from "../engine/gguf/read.ts";
import { ReferenceModel } from "../engine/model/reference.ts";
import { Prng } from "../engine/synth/prng.ts";
import { synthesize } from "../engine/synth/synth.ts";
import {
  evalWithLlamaCpp,
  generateWithLlamaCpp,
  llamaCppUnavailableReason,
  logProbsWithLlamaCpp,
} from "../peers/llama_cpp/llama_cpp.ts";
import { SentencePieceTokenizer } from "../engine/tokenizer/spm.ts";
import { logitAgreement } from "./_logit_agreement.ts";
import { runMoebench, withTempDir } from "./_helpers.ts";

const unavailable = await llamaCppUnavailableReason();
if (unavailable) console.warn(`llama.cpp comparisons skipped: ${unavailable}`);

const TINY = ["tiny-mixtral", "tiny-qwen2moe", "tiny-qwen3moe", "tiny-olmoe", "tiny-deepseek2"];

const GENERATE_CASES: [string, "spm" | "bpe"][] = [
  ...TINY.map((preset): [string, "spm"] => [preset, "spm"]),
  ["tiny-qwen3moe", "bpe"],
];

for (const [preset, tokenizer] of GENERATE_CASES) {
  Deno.test({
    name:
      `\`moebench generate\` continues a prompt as llama.cpp does (${preset} F32, ${tokenizer}, greedy)`,
    ignore: unavailable !== null,
    async fn() {
      await withTempDir(async (dir) => {
        const path = join(dir, "m.gguf");
        await synthesize({ preset, out: path, type: "F32", seed: 5, tokenizer });
        const prompt = "the expert layers and the router";
        const theirs = await generateWithLlamaCpp(path, prompt, 12);
        const result = await runMoebench(
          "generate",
          "--model",
          path,
          "--prompt",
          prompt,
          "-n",
          "12",
          "--numerics",
          "ggml",
          "--json",
        );
        assert.equal(result.code, 0, result.stderr);
        const ours = JSON.parse(result.stdout);
        assert.deepStrictEqual(ours.tokens, theirs.tokens);
        // node-llama-cpp detokenizes the tokens as a text of their own, which drops
        // SentencePiece's leading space; as a continuation the space belongs to the text
        assert.equal(ours.text.replace(/^ /, ""), theirs.text);
        const bos = tokenizer === "spm" ? 1 : 0; // SentencePiece models add BOS, these BPE ones not
        assert.equal(ours.stats.n_prompt, theirs.promptTokens.length + bos);
        assert.equal(ours.stats.n_gen, 12);
      });
    },
  });
}

Deno.test({
  name: "DeepSeek-V3's shape (q compression, sigmoid router in expert groups) matches llama.cpp",
  ignore: unavailable !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const path = join(dir, "v3.gguf");
      // two of its three dense leading layers and one MoE layer, widths ÷ 16
      await synthesize({
        preset: "deepseek-v3-shape",
        out: path,
        type: "F16",
        scale: 0.0625,
        layers: 3,
        seed: 4,
      });
      const prng = new Prng(99);
      const tokens = [1, ...Array.from({ length: 23 }, () => 3 + (prng.nextU32() % 5000))];
      const theirs = await evalWithLlamaCpp(path, tokens, 8);
      using gguf = await openGGUF(path);
      const model = await ReferenceModel.load(gguf, { maxContext: 32, numerics: "ggml" });
      assert.equal(model.config.router.gating, "sigmoid");
      assert.equal(model.config.router.groups, 8);
      const ours = tokens.map((token, pos) => model.forward(token, pos).slice());
      const agreement = logitAgreement(ours, theirs);
      assert.ok(agreement.top1Agreement >= 0.95, JSON.stringify(agreement));
      assert.ok(agreement.meanTop3Delta <= 0.05, JSON.stringify(agreement));
    });
  },
});

Deno.test({
  name: "`moebench perplexity` equals llama-perplexity's estimate from llama.cpp's own logits",
  ignore: unavailable !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const path = join(dir, "m.gguf");
      const textPath = join(dir, "text.txt");
      await synthesize({ preset: "tiny-olmoe", out: path, type: "F32", seed: 2 });
      const words = "the of and to in is it that for was on are as with they at be this from".split(
        " ",
      );
      const prng = new Prng(8);
      await Deno.writeTextFile(
        textPath,
        Array.from({ length: 300 }, () => words[prng.nextU32() % words.length]).join(" "),
      );
      const ctx = 32;
      const result = await runMoebench(
        "perplexity",
        "--model",
        path,
        "--text",
        textPath,
        "--ctx",
        String(ctx),
        "--numerics",
        "ggml",
        "--json",
      );
      assert.equal(result.code, 0, result.stderr);
      const ours = JSON.parse(result.stdout);

      // llama-perplexity's procedure, on llama.cpp's log-probabilities
      using gguf = await openGGUF(path);
      const tokens = SentencePieceTokenizer.fromGGUF(gguf).encode(
        await Deno.readTextFile(textPath),
      );
      let nll = 0;
      let count = 0;
      for (let chunk = 0; chunk < Math.floor(tokens.length / ctx); chunk++) {
        const slice = tokens.slice(chunk * ctx, (chunk + 1) * ctx);
        slice[0] = 1; // BOS
        const logProbs = await logProbsWithLlamaCpp(path, slice);
        for (let pos = ctx / 2; pos < ctx - 1; pos++) {
          nll -= logProbs[pos]!;
          count++;
        }
      }
      const theirs = Math.exp(nll / count);
      console.log(`perplexity over ${count} tokens: moebench ${ours.ppl}, llama.cpp ${theirs}`);
      assert.equal(ours.count, count);
      // a mean NLL within 0.002 nats (measured: 0.00001 on this file; logits agree to ~2e-4
      // except where a near-tie routes a token to another expert)
      assert.ok(
        Math.abs(Math.log(ours.ppl / theirs)) < 2e-3,
        `moebench ${ours.ppl}, llama.cpp ${theirs}`,
      );
    });
  },
});
