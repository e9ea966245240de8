/**
 * `moebench compress` as a user runs it: a pruned model that llama.cpp loads and runs with the
 * same logits as moebench, the plan alone with `--dry-run`, and budgets.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type GGUFFile, openGGUF } from "../engine/gguf/read.ts";
import { readConfig } from "../engine/model/config.ts";
import { ReferenceModel } from "../engine/model/reference.ts";
import { synthesize } from "../engine/synth/synth.ts";
import { evalWithLlamaCpp, llamaCppUnavailableReason } from "../peers/llama_cpp/llama_cpp.ts";
import { logitAgreement } from "./_logit_agreement.ts";
import { runMoebench, withTempDir } from "./_helpers.ts";

const unavailable = await llamaCppUnavailableReason();

/** moebench's teacher-forced logits on `path` within the engine budget of llama.cpp's. */
async function agreesWithLlamaCpp(path: string, gguf: GGUFFile, tokens: number[]) {
  const theirs = await evalWithLlamaCpp(path, tokens, 8);
  const reference = await ReferenceModel.load(gguf, { maxContext: 32, numerics: "ggml" });
  const ours = tokens.map((token, pos) => reference.forward(token, pos).slice());
  const agreement = logitAgreement(ours, theirs);
  assert.ok(agreement.top1Agreement >= 0.95, JSON.stringify(agreement));
  assert.ok(agreement.meanTop3Delta <= 0.05, JSON.stringify(agreement));
}

Deno.test({
  name: "`moebench compress --prune-ratio` writes a model llama.cpp runs with moebench's logits",
  ignore: unavailable !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const model = join(dir, "m.gguf");
      await synthesize({ preset: "tiny-qwen3moe", out: model, type: "Q8_0", seed: 5 });
      const out = join(dir, "pruned.gguf");
      const result = await runMoebench(
        "compress",
        model,
        "--out",
        out,
        "--prune-ratio",
        "0.25",
        "--json",
      );
      assert.equal(result.code, 0, result.stderr);
      const plan = JSON.parse(result.stdout);
      assert.equal(plan.experts, 16);
      assert.equal(plan.kept, 12);
      assert.equal(plan.kept_used_count, 3); // top-4 of 16 → top-3 of 12
      assert.equal(plan.written, (await Deno.stat(out)).size);
      assert.ok(plan.bytes_after < plan.bytes_before);
      using gguf = await openGGUF(out);
      const config = readConfig(gguf);
      assert.equal(config.experts, 12);
      assert.equal(config.expertsUsed, 3);
      const tokens = [1, ...Array.from({ length: 15 }, (_, i) => 5 + ((i * 37) % 900))];
      await agreesWithLlamaCpp(out, gguf, tokens);
    });
  },
});

Deno.test({
  name:
    "`moebench compress --budget` fits mixed precision (pruning where needed) that llama.cpp runs",
  ignore: unavailable !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const model = join(dir, "m.gguf");
      await synthesize({ preset: "tiny-olmoe", out: model, type: "Q8_0", seed: 5 });
      const dry = await runMoebench("compress", model, "--budget", "9MB", "--dry-run", "--json");
      assert.equal(dry.code, 0, dry.stderr);
      const plan = JSON.parse(dry.stdout);
      assert.ok(plan.bytes_after <= 9e6, JSON.stringify(plan.bytes_after));
      assert.equal(plan.kept, 16); // mixed precision alone fits: nothing pruned
      const types = Object.values(plan.types) as string[];
      assert.ok(types.length > 0 && types.some((type) => type !== "Q8_0"), types.join());
      assert.equal(plan.written, null);
      assert.equal([...Deno.readDirSync(dir)].length, 1); // nothing written

      const out = join(dir, "small.gguf");
      const tight = await runMoebench("compress", model, "--budget", "2MB", "--out", out, "--json");
      assert.equal(tight.code, 0, tight.stderr);
      const pruned = JSON.parse(tight.stdout);
      assert.ok(pruned.kept < 16, "a budget below every matrix at its leanest prunes experts");
      assert.ok(pruned.written <= 2e6 && pruned.written === (await Deno.stat(out)).size);
      using gguf = await openGGUF(out);
      // (tokens … i·41 … hit a routing near-tie on this IQ1_S/IQ2 file: one position picks another
      // expert in each engine and the logits part from there; elsewhere they agree to ~1e-6)
      const tokens = [1, ...Array.from({ length: 15 }, (_, i) => 5 + ((i * 53) % 900))];
      await agreesWithLlamaCpp(out, gguf, tokens);

      const none = await runMoebench("compress", model, "--budget", "300kB", "--dry-run");
      assert.equal(none.code, 2);
      assert.match(
        none.stderr,
        /every matrix at its leanest type \(IQ1_S where rows allow\), still over the 300 kB budget/,
      );
      const bad = await runMoebench("compress", model, "--prune-ratio", "0.25");
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /give --out/);
    });
  },
});
