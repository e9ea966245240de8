import assert from "node:assert/strict";
import { parseTokensTestName, tokensTestName } from "./test_names.ts";

Deno.test("tokens test names are llama-bench's and read back to what they name", () => {
  const cases = [
    ["pp512", { prompt: 512, gen: 0, depth: 0 }],
    ["tg128", { prompt: 0, gen: 128, depth: 0 }],
    ["pp512+tg128", { prompt: 512, gen: 128, depth: 0 }],
    ["tg64@d2048", { prompt: 0, gen: 64, depth: 2048 }],
    ["pp16+tg4@d8", { prompt: 16, gen: 4, depth: 8 }],
  ] as const;
  for (const [name, test] of cases) {
    assert.equal(tokensTestName(test), name);
    assert.deepEqual(parseTokensTestName(name), test);
  }
  for (const other of ["ttft64", "pp", "pp512tg128", "+tg8", "pp8+", "@d512", "hit_rate", "kl"]) {
    assert.equal(parseTokensTestName(other), null, other);
  }
});
