/**
 * The command line as a user runs it: outputs, `--json`, and one-line errors with exit code 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readResults } from "../suites/results.ts";
import { runMoebench as moebench, withTempDir } from "./_helpers.ts";

Deno.test("`synth --json` then `inspect --json` describe the same model", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "m.gguf");
    const synth = await moebench(
      "synth",
      "--preset",
      "tiny-qwen2moe",
      "--out",
      out,
      "--type",
      "Q4_0",
      "--seed",
      "9",
      "--json",
    );
    assert.equal(synth.code, 0, synth.stderr);
    assert.equal(synth.stderr, "");
    const made = JSON.parse(synth.stdout);
    assert.equal(made.type, "Q4_0");
    assert.equal(made.seed, 9);

    const inspect = await moebench("inspect", out, "--json");
    assert.equal(inspect.code, 0, inspect.stderr);
    const summary = JSON.parse(inspect.stdout);
    assert.equal(summary.architecture, "qwen2moe");
    assert.equal(summary.file.bytes, made.bytes);
    assert.equal(summary.fileType, "Q4_0");
    assert.equal(summary.tensorCount, made.tensors);
    assert.equal(summary.hyperparameters.expert_shared_feed_forward_length, 512);
    assert.equal(summary.tokenizer.model, "llama");
    assert.equal(summary.tokenizer.tokens, 1024);
    assert.deepStrictEqual(Object.keys(summary.types).sort(), ["F32", "Q4_0"]);
    assert.equal(summary.experts.count, 8);
    assert.equal(summary.experts.used, 4);
    assert.equal(summary.experts.layers, 4);
    // one expert = gate + up + down slices of 256×256 Q4_0 each
    assert.equal(summary.experts.bytesPerExpert["0"], 3 * 256 * 256 / 32 * 18);
    // a decode step: all but the routed experts and the embedding table, one embedding row,
    // four experts in each of the four layers
    const expertBytes = 4 * 8 * summary.experts.bytesPerExpert["0"];
    const embedding = summary.tensors.find((t: { name: string }) => t.name === "token_embd.weight");
    assert.equal(
      summary.activeBytesPerToken,
      summary.tensorBytes - expertBytes - embedding.bytes + embedding.bytes / 1024 +
        4 * 4 * summary.experts.bytesPerExpert["0"],
    );
    const first = summary.tensors[0];
    assert.deepStrictEqual(Object.keys(first), ["name", "type", "shape", "offset", "bytes"]);
    const total = summary.tensors.reduce((s: number, t: { bytes: number }) => s + t.bytes, 0);
    assert.equal(total, summary.tensorBytes);
  });
});

Deno.test("`inspect` prints a readable summary and, with --tensors, every tensor", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "m.gguf");
    assert.equal((await moebench("synth", "--preset", "tiny-olmoe", "--out", out)).code, 0);
    const plain = await moebench("inspect", out);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /architecture olmoe/);
    assert.match(plain.stdout, /experts: 16 per layer in 4 layers, top-4/);
    assert.doesNotMatch(plain.stdout, /blk\.0\.attn_q\.weight/);
    assert.ok(!plain.stdout.includes("\u001b["), "no colour codes when not on a terminal");
    const listed = await moebench("inspect", out, "--tensors");
    assert.match(listed.stdout, /blk\.3\.ffn_down_exps\.weight/);
  });
});

Deno.test("`demo` profiles, runs the standard benchmark and ends with an HTML report", async () => {
  await withTempDir(async (dir) => {
    const demo = await moebench("demo", "--dir", dir);
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /^profile: [a-z-]+( \(nearest\))? — /m);
    assert.match(demo.stdout, /roofline of .*moe-350m-q4_0\.gguf:/);
    assert.match(demo.stdout, /3\/3 report\. Score \d+\.\d/);
    const report = join(dir, "report.html");
    assert.ok(demo.stdout.trim().split("\n").some((line) => line.startsWith(`report:  ${report}`)));
    const results = await readResults(join(dir, "results.json"));
    assert.deepEqual(results.spec, { name: "moebench-standard", version: 2 });
    assert.ok(results.complete && results.score !== null && results.score.value > 0);
    for (const suite of ["tokens", "load", "cache", "quality"]) {
      assert.ok(results.tests.some((r) => r.suite === suite), `no ${suite} records`);
    }
    const html = await Deno.readTextFile(report);
    assert.match(html, /<canvas id="hit-rates">/);
    // a standard run is ranked on a published site
    const site = join(dir, "site");
    const published = await moebench("publish", join(dir, "results.json"), "--site", site);
    assert.equal(published.code, 0, published.stderr);
    const index = await Deno.readTextFile(join(site, "index.html"));
    const leaderboard = index.slice(
      index.indexOf('id="leaderboard"'),
      index.indexOf('id="others"'),
    );
    assert.match(
      leaderboard,
      /<tr><td>1<\/td><td>\d+\.\d<\/td><td><a href="runs\/[0-9a-f]{16}\.html">/,
    );
  });
});

Deno.test("`eval --json` prints the top logits after each token, best first", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "m.gguf");
    assert.equal((await moebench("synth", "--preset", "tiny-qwen2moe", "--out", out)).code, 0);
    const result = await moebench(
      "eval",
      "--model",
      out,
      "--tokens",
      "1,383,412",
      "--top",
      "4",
      "--json",
    );
    assert.equal(result.code, 0, result.stderr);
    const { top } = JSON.parse(result.stdout);
    assert.equal(top.length, 3);
    for (const position of top) {
      assert.equal(position.length, 4);
      const logits = position.map(([, logit]: [number, number]) => logit);
      assert.deepStrictEqual(logits, [...logits].sort((a, b) => b - a));
      assert.ok(position.every(([id]: [number]) => Number.isInteger(id) && id < 1024));
    }
    const bad = await moebench("eval", "--model", out, "--tokens", "1,5000");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^moebench: Token id 5000 is outside the vocabulary \(0–1023\)\n$/);
  });
});

const USER_MISTAKES: [string, string[], RegExp][] = [
  ["an unknown command", ["frobnicate"], /unknown command 'frobnicate'/],
  ["an unknown flag", ["inspect", "x.gguf", "--frob"], /unknown option '--frob'/],
  ["a missing required flag", ["synth", "--preset", "tiny-olmoe"], /--out <file>.*not specified/],
  [
    "an unknown preset",
    ["synth", "--preset", "nope", "--out", "x.gguf"],
    /argument 'nope' is invalid/,
  ],
  [
    "a type synth does not write",
    ["synth", "--preset", "tiny-olmoe", "--out", "x.gguf", "--type", "Q5_K"],
    /argument 'Q5_K' is invalid/,
  ],
  [
    "a BPE pre-tokenizer moebench does not know",
    ["synth", "--preset", "tiny-olmoe", "--out", "x.gguf", "--tokenizer", "bpe", "--pre", "nope"],
    /argument 'nope' is invalid/,
  ],
  [
    "a scale out of range",
    ["synth", "--preset", "tiny-olmoe", "--out", "x.gguf", "--scale", "2"],
    /^moebench: --scale must be in \(0, 1\], got 2$/,
  ],
  [
    "a seed that is not a number",
    ["synth", "--preset", "tiny-olmoe", "--out", "x.gguf", "--seed", "abc"],
    /"abc" is not a whole number/,
  ],
  [
    "an output folder that does not exist",
    ["synth", "--preset", "tiny-olmoe", "--out", "/no/such/folder/x.gguf"],
    /^moebench: Cannot write "\/no\/such\/folder\/x.gguf": folder "\/no\/such\/folder" does not exist$/,
  ],
  [
    "a missing model file",
    ["inspect", "/no/such/model.gguf"],
    /^moebench: Cannot read GGUF file "\/no\/such\/model.gguf": no such file$/,
  ],
  ["a file that is not GGUF", ["inspect", "deno.json"], /magic is "\{\\x0a {2}", expected "GGUF"/],
];

for (const [what, args, expected] of USER_MISTAKES) {
  Deno.test(`the CLI reports ${what} in one line and exits with code 2`, async () => {
    const result = await moebench(...args);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, "");
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, expected);
  });
}

Deno.test("`--help` and `--version` exit with code 0", async () => {
  const help = await moebench("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /synth/);
  const synthHelp = await moebench("synth", "--help");
  assert.match(synthHelp.stdout, /qwen3-30b-a3b-shape/);
  const version = await moebench("--version");
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
});

Deno.test("`generate` streams text, prints stats on stderr, and is greedy by default", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "m.gguf");
    assert.equal((await moebench("synth", "--preset", "tiny-qwen3moe", "--out", out)).code, 0);
    const args = ["generate", "--model", out, "--prompt", "the router", "-n", "6"];
    const json = await moebench(...args, "--json");
    assert.equal(json.code, 0, json.stderr);
    const result = JSON.parse(json.stdout);
    assert.equal(result.tokens.length, 6);
    for (const key of ["prefill_tps", "decode_tps", "ttft_ms", "n_prompt", "n_gen"]) {
      assert.ok(Number.isFinite(result.stats[key]), key);
    }
    const again = JSON.parse((await moebench(...args, "--json")).stdout);
    assert.deepStrictEqual(again.tokens, result.tokens, "greedy is deterministic");
    const streamed = await moebench(...args);
    assert.equal(streamed.stdout.trimEnd(), result.text.trimEnd());
    assert.match(streamed.stderr, /6 generated at [\d.]+ tok\/s/);
    const sampled = await moebench(...args, "--temp", "1", "--seed", "4", "--json");
    assert.notDeepStrictEqual(JSON.parse(sampled.stdout).tokens, result.tokens);
    const both = await moebench("generate", "--model", out, "--prompt", "x", "--tokens", "1,2");
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give exactly one of --prompt and --tokens/);
  });
});

Deno.test("`perplexity` needs 2·ctx tokens and names an unreadable text file", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "m.gguf");
    assert.equal((await moebench("synth", "--preset", "tiny-mixtral", "--out", out)).code, 0);
    const text = join(dir, "short.txt");
    await Deno.writeTextFile(text, "the router");
    const short = await moebench("perplexity", "--model", out, "--text", text, "--ctx", "16");
    assert.equal(short.code, 2);
    assert.match(short.stderr, /needs at least 32 tokens; the text has \d+/);
    const missing = await moebench("perplexity", "--model", out, "--text", join(dir, "nope.txt"));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^moebench: Cannot read text file ".*nope.txt"/);
    await Deno.writeTextFile(text, "the router and the experts ".repeat(20));
    const ok = await moebench("perplexity", "--model", out, "--text", text, "--ctx", "16");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^\[1\][\d.]+,\[2\][\d.]+,/);
    assert.match(ok.stdout, /Final estimate: PPL = [\d.]+ \+\/- [\d.]+/);
  });
});
