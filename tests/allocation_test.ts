/**
 * Decoding must not make garbage per operation: every activation, routing and attention buffer
 * is allocated once. A child process decodes 1000 tokens (until V8 has optimized the loop), then
 * 200 more on the CPU backend with a young generation too large to be collected meanwhile, so the
 * heap's growth is what those 200 tokens allocated.
 */
import assert from "node:assert/strict";
import { synthesize } from "../engine/synth/synth.ts";
import { withTempDir } from "./_helpers.ts";

Deno.test("decoding 200 tokens on the CPU backend allocates under 1 KB per token", async () => {
  await withTempDir(async (dir) => {
    const model = `${dir}/m.gguf`;
    await synthesize({ preset: "tiny-mixtral", out: model, type: "Q4_0" });
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--expose-gc,--min-semi-space-size=64,--max-semi-space-size=64",
        new URL("./_decode_allocations.ts", import.meta.url).pathname,
        model,
        "1000",
        "200",
      ],
      stderr: "inherit",
    }).output();
    assert.ok(child.success, "the measuring process failed");
    const { tokens, heapGrowth } = JSON.parse(new TextDecoder().decode(child.stdout));
    // before the buffers were made once, a token allocated ~68 KB here; what remains (~0.5 KB)
    // is the embedding row's decode and a few numbers V8 boxes in the router
    assert.ok(heapGrowth / tokens < 1024, `${heapGrowth / tokens} bytes per token`);
  });
});
