/** `moebench bench --suite tokens`: moebench's and llama.cpp's pp/tg on the same file. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openGGUF } from "../engine/gguf/read.ts";
import { inspectModel } from "../engine/model/inspect.ts";
import { synthesize } from "../engine/synth/synth.ts";
import { llamaCppUnavailableReason } from "../peers/llama_cpp/llama_cpp.ts";
import { runMoebench, withTempDir } from "./_helpers.ts";

const unavailable = await llamaCppUnavailableReason();

Deno.test({
  name: "`moebench bench` times prefill and decode, with llama.cpp beside it on the same file",
  ignore: unavailable !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const path = join(dir, "m.gguf");
      await synthesize({ preset: "tiny-mixtral", out: path, type: "Q4_0", seed: 1 });
      const result = await runMoebench(
        ...["bench", "--model", path, "--pp", "16", "--tg", "8", "--reps", "2", "--threads", "2"],
        ...["--peer", "llama.cpp", "--json"],
      );
      assert.equal(result.code, 0, result.stderr);
      const { tests, peers, activeBytesPerToken, readBandwidthGBps } = JSON.parse(result.stdout);
      {
        using gguf = await openGGUF(path);
        const expected = inspectModel(gguf).activeBytesPerToken;
        assert.ok(expected !== null && activeBytesPerToken === expected);
      }
      assert.ok(readBandwidthGBps > 0 && Number.isFinite(readBandwidthGBps));
      for (const records of [tests, peers]) {
        assert.deepStrictEqual(records.map((r: { test: string }) => r.test), ["pp16", "tg8"]);
        for (const record of records) {
          assert.equal(record.samples.length, 2);
          assert.ok(record.tps > 0 && Number.isFinite(record.tps), JSON.stringify(record));
        }
        // decode reads the active weights once per token; a batched prefill shares its reads
        assert.equal(records[0].weightsGBps, null);
        assert.equal(records[1].weightsGBps, (records[1].tps * activeBytesPerToken) / 1e9);
      }
    });
  },
});

Deno.test("`moebench bench` refuses a bad flag with one line", async () => {
  const result = await runMoebench("bench", "--model", "x.gguf", "--threads", "0");
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--threads must be a whole number from 1 to 256/);
  assert.equal(result.stderr.trim().split("\n").length, 1);
});
