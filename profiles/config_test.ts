import assert from "node:assert/strict";
import { withTempDir } from "../tests/_helpers.ts";
import {
  ConfigError,
  type EngineConfigFile,
  readEngineConfig,
  writeEngineConfig,
} from "./config.ts";

const engine = {
  backend: "cpu",
  threads: 1,
  expert_budget_bytes: 64 << 20,
  cache_policy: "lfu",
  prefetch_depth: 2,
  prefetch_k: null,
  expert_tier: "disk",
} as const;

const CONFIG: EngineConfigFile = {
  moebench_config: 1,
  moebench: "0.1.0",
  timestamp: "2026-11-25T00:00:00.000Z",
  profile: "cpu-only",
  profile_reason: "no WebGPU adapter",
  model: { path: "m.gguf", bytes: 1000 },
  budget: { bytes: 128 << 20, source: "--budget" },
  engine,
  tuning: {
    start: ["profile cpu-only"],
    default_decode_tps: 100,
    tuned_decode_tps: 110,
    verdict: "tuned decode is 10 % faster than the untuned defaults",
    candidates: [{ change: "cache policy lfu", engine, decode_tps: 110 }],
  },
};

Deno.test("a written config reads back as written", async () => {
  await withTempDir(async (dir) => {
    await writeEngineConfig(`${dir}/c.json`, CONFIG);
    assert.deepEqual(await readEngineConfig(`${dir}/c.json`), CONFIG);
  });
});

Deno.test("a config that is not one fails in one line naming the file and the field", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, string, RegExp][] = [
      ["not json", "{", /c\.json: not JSON/],
      ["another version", JSON.stringify({ ...CONFIG, moebench_config: 2 }), /moebench_config/],
      [
        "a negative thread count",
        JSON.stringify({ ...CONFIG, engine: { ...engine, threads: -1 } }),
        /engine\.threads: Too small/,
      ],
      [
        "an unknown setting",
        JSON.stringify({ ...CONFIG, engine: { ...engine, turbo: true } }),
        /engine: Unrecognized key: "turbo"/,
      ],
      ["an array", "[]", /the top level: Invalid input/],
    ];
    for (const [what, text, message] of cases) {
      await Deno.writeTextFile(`${dir}/c.json`, text);
      await assert.rejects(readEngineConfig(`${dir}/c.json`), (error: Error) => {
        assert.ok(error instanceof ConfigError, what);
        assert.match(error.message, new RegExp(`^${dir}/c\\.json: `), what);
        assert.match(error.message, message, what);
        assert.ok(!error.message.includes("\n"), what);
        return true;
      });
    }
    await assert.rejects(readEngineConfig(`${dir}/none.json`), /none\.json: no such file/);
  });
});

Deno.test("an invalid config is never written, and the old file stays", async () => {
  await withTempDir(async (dir) => {
    await writeEngineConfig(`${dir}/c.json`, CONFIG);
    const bad = { ...CONFIG, engine: { ...engine, prefetch_depth: 99 } };
    await assert.rejects(writeEngineConfig(`${dir}/c.json`, bad));
    assert.deepEqual(await readEngineConfig(`${dir}/c.json`), CONFIG);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["c.json"]);
  });
});
