/**
 * Expert offloading from the command line: `generate` with an expert budget gives the resident
 * tokens and reports the cache's traffic; `trace` records the routing and `simulate` replays it
 * to the engine's own hit count; bad flags and files are one clear line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runMoebench, withTempDir } from "./_helpers.ts";

const GENERATE = ["--tokens", "1,40,7,300", "-n", "10", "--threads", "2", "--json"];

Deno.test("generate with an expert budget: resident tokens, stats.offload, trace = simulate", async () => {
  await withTempDir(async (dir) => {
    const model = join(dir, "m.gguf");
    const synth = await runMoebench(
      "synth",
      "--preset",
      "tiny-qwen2moe",
      "--type",
      "Q4_0",
      "--out",
      model,
    );
    assert.equal(synth.code, 0, synth.stderr);
    const resident = await runMoebench("generate", "--model", model, ...GENERATE);
    assert.equal(resident.code, 0, resident.stderr);
    const offloaded = await runMoebench(
      "generate",
      "--model",
      model,
      ...GENERATE,
      "--expert-budget",
      "25%",
      "--cold",
    );
    assert.equal(offloaded.code, 0, offloaded.stderr);
    const ran = JSON.parse(offloaded.stdout);
    assert.deepEqual(ran.tokens, JSON.parse(resident.stdout).tokens);
    const offload = ran.stats.offload;
    for (
      const key of [
        "hits",
        "misses",
        "hit_rate",
        "bytes_loaded",
        "prefetch_recall",
        "prefetch_precision",
        "stall_ms",
        "load_gbps",
      ]
    ) {
      assert.equal(typeof offload[key], "number", key);
    }
    assert.ok(offload.misses > 0 && offload.bytes_loaded > 0 && offload.load_gbps > 0);
    assert.equal(ran.stats.threads, 2);
    // one step for the 4-token prompt, one per token fed back (the 10th is never fed)
    assert.equal(offload.per_token.length, 1 + 9);
    const sum = (key: string) =>
      offload.per_token.reduce(
        (total: number, step: Record<string, number>) => total + step[key]!,
        0,
      );
    assert.deepEqual([sum("hits"), sum("misses")], [offload.hits, offload.misses]);
    assert.equal(typeof offload.cold.dropped, "boolean");

    const trace = join(dir, "t.jsonl");
    const traced = await runMoebench(
      "trace",
      "--model",
      model,
      ...GENERATE,
      "--expert-budget",
      "25%",
      "--out",
      trace,
    );
    assert.equal(traced.code, 0, traced.stderr);
    const engine = JSON.parse(traced.stdout).offload;
    const replay = await runMoebench("simulate", trace, "--budget", "25%", "--json");
    assert.equal(replay.code, 0, replay.stderr);
    const results = JSON.parse(replay.stdout).results;
    const lru = results.find((r: { policy: string }) => r.policy === "lru");
    assert.deepEqual([lru.hits, lru.misses], [engine.hits, engine.misses]);
    const belady = results.find((r: { policy: string }) => r.policy === "belady");
    assert.ok(belady.hit_rate >= lru.hit_rate);

    // by default, offloading leaves a core to the expert loader
    const defaults = await runMoebench(
      "generate",
      "--model",
      model,
      ...GENERATE.filter((arg) => arg !== "--threads" && arg !== "2"),
      "--expert-slots",
      "2",
    );
    assert.equal(defaults.code, 0, defaults.stderr);
    const cores = navigator.hardwareConcurrency;
    assert.equal(JSON.parse(defaults.stdout).stats.threads, Math.max(1, cores - 1));
  });
});

Deno.test("offloading mistakes are one line and exit 2", async () => {
  await withTempDir(async (dir) => {
    const model = join(dir, "m.gguf");
    await runMoebench("synth", "--preset", "tiny-mixtral", "--type", "Q8_0", "--out", model);
    const bad = join(dir, "bad.jsonl");
    await Deno.writeTextFile(bad, '{"format":"moebench-trace","version":1}\n');
    const cases: [string[], RegExp][] = [
      [["generate", "--model", model, ...GENERATE, "--expert-budget", "lots"], /not a size/],
      [["generate", "--model", model, ...GENERATE, "--expert-budget", "1KB"], /holds no expert/],
      [
        [
          "generate",
          "--model",
          model,
          ...GENERATE,
          "--expert-budget",
          "1GB",
          "--expert-slots",
          "2",
        ],
        /not both/,
      ],
      [
        [
          "generate",
          "--model",
          model,
          "--tokens",
          "1,2",
          "--backend",
          "reference",
          "--expert-slots",
          "2",
        ],
        /needs --backend cpu/,
      ],
      [["simulate", bad], /bad\.jsonl line 1: the header's sizes/],
      [["simulate", bad, "--policy", "mru"], /"mru" is not a policy/],
    ];
    for (const [args, expected] of cases) {
      const result = await runMoebench(...args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    }
  });
});
