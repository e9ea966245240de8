import assert from "node:assert/strict";
import { ExpertCache } from "./cache.ts";
import type { PolicyName } from "./policy.ts";

/** A one-pool cache of `slots`; `run` demands keys in order and returns the hits' pattern. */
function replay(policy: PolicyName, slots: number, keys: number[], future?: number[]): string {
  const cache = new ExpertCache({
    slots,
    scopes: 1,
    scopeOf: () => 0,
    policy,
    ...(future
      ? {
        future: {
          next: (key: number, now: number) => {
            const at = future.indexOf(key, now);
            return at < 0 ? Infinity : at;
          },
        },
      }
      : {}),
  });
  return keys.map((key) => cache.request(key, true)!.hit ? "h" : "m").join("");
}

Deno.test("LRU evicts the least recently used expert, FIFO the oldest load", () => {
  // 1 2 1 3: LRU evicts 2 (1 was used after it), FIFO evicts 1 (loaded first)
  assert.equal(replay("lru", 2, [1, 2, 1, 3, 1]), "mmhmh");
  assert.equal(replay("fifo", 2, [1, 2, 1, 3, 1]), "mmhmm");
});

Deno.test("LFU keeps the most demanded expert, counting demands across evictions", () => {
  // 1 is demanded three times; 2, 3, 4 once each: LFU keeps 1, LRU loses it
  const keys = [1, 1, 1, 2, 3, 4, 1];
  assert.equal(replay("lfu", 2, keys), "mhhmmmh");
  assert.equal(replay("lru", 2, keys), "mhhmmmm");
});

Deno.test("Belady's policy evicts the expert needed furthest ahead and beats LRU", () => {
  const keys = [1, 2, 3, 1, 2, 3, 1, 2, 3];
  const belady = replay("belady", 2, keys, keys);
  const lru = replay("lru", 2, keys);
  assert.equal(lru, "mmmmmmmmm");
  assert.equal(belady, "mmmhmhmhm");
});

Deno.test("the random policy is seeded: the same seed evicts the same experts", () => {
  const keys = Array.from({ length: 200 }, (_, i) => (i * 7919) % 13);
  assert.equal(replay("random", 4, keys), replay("random", 4, keys));
  assert.match(replay("random", 4, keys), /h/);
});

Deno.test("pinned slots are never evicted; a full pool of pins refuses", () => {
  const cache = new ExpertCache({ slots: 2, scopes: 1, scopeOf: () => 0, policy: "lru" });
  const a = cache.request(1, true)!;
  const b = cache.request(2, true)!;
  cache.pin(a.slot);
  const c = cache.request(3, true)!;
  assert.equal(c.slot, b.slot);
  assert.equal(c.evicted, 2);
  cache.pin(c.slot);
  assert.equal(cache.request(4, true), null);
  cache.unpin(a.slot);
  assert.equal(cache.request(4, true)!.evicted, 1);
  assert.equal(cache.slotOf(1), -1);
  assert.equal(cache.keyAt(a.slot), 4);
});

Deno.test("per-layer pools evict only within their layer", () => {
  // keys 0–9 are layer 0, 10–19 layer 1
  const cache = new ExpertCache({
    slots: 1,
    scopes: 2,
    scopeOf: (key) => Math.floor(key / 10),
    policy: "lru",
  });
  cache.request(1, true);
  cache.request(11, true);
  assert.equal(cache.request(2, true)!.evicted, 1);
  assert.equal(cache.slotOf(11), 1);
});

Deno.test("a forgotten slot is empty and the first to be filled; a pinned one cannot be", () => {
  const cache = new ExpertCache({ slots: 2, scopes: 1, scopeOf: () => 0, policy: "lru" });
  const a = cache.request(1, true)!;
  const b = cache.request(2, true)!;
  cache.forget(b.slot);
  assert.equal(cache.slotOf(2), -1);
  assert.equal(cache.request(3, true)!.slot, b.slot, "not key 1's, the least recent");
  cache.pin(a.slot);
  assert.throws(() => cache.forget(a.slot), /pinned/);
});

Deno.test("a protected slot is evicted only when no other can be", () => {
  const cache = new ExpertCache({ slots: 2, scopes: 1, scopeOf: () => 0, policy: "lfu" });
  const popular = cache.request(1, true)!;
  cache.request(1, true);
  const guess = cache.request(2, false)!;
  cache.protect(guess.slot);
  // LFU's victim would be the fresh guess (no demands yet); protected, the popular one goes
  assert.equal(cache.request(3, false)!.evicted, 1);
  cache.pin(popular.slot);
  // every other slot pinned: the protection yields
  assert.equal(cache.request(4, true)!.evicted, 2);
});
