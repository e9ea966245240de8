import assert from "node:assert/strict";
import { cachedShare, dropPageCache } from "./page_cache.ts";

Deno.test("dropping a file from the page cache empties it, as mincore confirms", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, new Uint8Array(8 << 20).fill(7));
    await Deno.readFile(path);
    const drop = dropPageCache(path);
    if (!drop.dropped) {
      // a machine where it cannot work says why (not Linux, no libc)
      assert.ok(Deno.build.os !== "linux", drop.reason);
      return;
    }
    assert.ok(drop.cachedBefore > 0.9, `cached before: ${drop.cachedBefore}`);
    assert.ok(drop.cachedAfter <= 0.05, `cached after: ${drop.cachedAfter}`);
    await Deno.readFile(path);
    assert.ok(cachedShare(path)! > 0.9);
  } finally {
    await Deno.remove(path);
  }
});
