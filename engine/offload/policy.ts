/**
 * Eviction policies of the expert cache. A policy sees the cache's slots (which key each holds,
 * which are pinned) and chooses the victim when a key must come in and no slot is free. Every
 * policy is deterministic (random is seeded), so the engine and the cache simulator, fed the
 * same requests, evict the same experts.
 *
 * @example
 * ```ts
 * import { createPolicy } from "./policy.ts";
 * const lru = createPolicy("lru", 2);
 * lru.inserted(0, 7, 1);
 * lru.inserted(1, 9, 2);
 * lru.used(0, 7, 3, true);
 * console.log(lru.victim(new Uint8Array(2), [7, 9], 4)); // 1: key 9 was used least recently
 * ```
 * @module
 */
import { Prng } from "../synth/prng.ts";

/** The policies by name: `belady` needs the future (a recorded trace), so only the simulator has it. */
export const POLICY_NAMES = ["lru", "lfu", "fifo", "random", "belady"] as const;
export type PolicyName = typeof POLICY_NAMES[number];

/**
 * When each key is demanded next: Belady's oracle, built from a trace. `next(key, now)` is the
 * index, in the run's sequence of demands, of the first demand of `key` at or after `now`
 * (Infinity: never again).
 */
export interface FutureDemands {
  next(key: number, now: number): number;
}

/**
 * Chooses which resident key leaves. Times are the cache's request counter; `victim`'s `now` is
 * the number of demands granted so far.
 */
export interface EvictionPolicy {
  readonly name: PolicyName;
  /** `key` was loaded into `slot` at `time`. */
  inserted(slot: number, key: number, time: number): void;
  /** `key` in `slot` was requested at `time` (`demand`: computed with, not just prefetched). */
  used(slot: number, key: number, time: number, demand: boolean): void;
  /** The slot to evict among those not pinned (at least one is not), or −1 for none. */
  victim(pinned: Uint8Array, keys: readonly number[], now: number): number;
}

/** A policy for a cache of `slots` slots; `seed` drives `random`, `future` drives `belady`. */
export function createPolicy(
  name: PolicyName,
  slots: number,
  options: { seed?: number; future?: FutureDemands } = {},
): EvictionPolicy {
  switch (name) {
    case "lru":
      return new Lru(slots);
    case "lfu":
      return new Lfu(slots);
    case "fifo":
      return new Fifo(slots);
    case "random":
      return new RandomPolicy(options.seed ?? 0);
    case "belady":
      if (!options.future) {
        throw new RangeError("Belady's policy needs the future: replay a recorded trace");
      }
      return new Belady(options.future);
  }
}

/** The unpinned slot with the smallest `score` (ties: the lowest slot), or −1. */
function smallest(pinned: Uint8Array, score: (slot: number) => number): number {
  let best = -1;
  let bestScore = Infinity;
  for (let slot = 0; slot < pinned.length; slot++) {
    if (pinned[slot]) continue;
    const value = score(slot);
    if (best < 0 || value < bestScore) [best, bestScore] = [slot, value];
  }
  return best;
}

/** Least recently used: the paper's policy and the default. */
class Lru implements EvictionPolicy {
  readonly name = "lru";
  readonly #lastUse: Float64Array;
  constructor(slots: number) {
    this.#lastUse = new Float64Array(slots);
  }
  inserted(slot: number, _key: number, time: number) {
    this.#lastUse[slot] = time;
  }
  used(slot: number, _key: number, time: number) {
    this.#lastUse[slot] = time;
  }
  victim(pinned: Uint8Array) {
    return smallest(pinned, (slot) => this.#lastUse[slot]!);
  }
}

/**
 * Least frequently used: a key's demands counted over the whole run (not only while it is
 * resident: an expert's popularity outlives its evictions); ties go to the least recent.
 */
class Lfu implements EvictionPolicy {
  readonly name = "lfu";
  readonly #counts = new Map<number, number>();
  readonly #lastUse: Float64Array;
  constructor(slots: number) {
    this.#lastUse = new Float64Array(slots);
  }
  inserted(slot: number, _key: number, time: number) {
    this.#lastUse[slot] = time;
  }
  used(slot: number, key: number, time: number, demand: boolean) {
    this.#lastUse[slot] = time;
    if (demand) this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }
  victim(pinned: Uint8Array, keys: readonly number[]) {
    // counts dominate; recency (a time below 2^40) breaks ties
    return smallest(
      pinned,
      (slot) => (this.#counts.get(keys[slot]!) ?? 0) * 2 ** 40 + this.#lastUse[slot]!,
    );
  }
}

/** First in, first out: the oldest load leaves, however often it was used. */
class Fifo implements EvictionPolicy {
  readonly name = "fifo";
  readonly #insertedAt: Float64Array;
  constructor(slots: number) {
    this.#insertedAt = new Float64Array(slots);
  }
  inserted(slot: number, _key: number, time: number) {
    this.#insertedAt[slot] = time;
  }
  used() {}
  victim(pinned: Uint8Array) {
    return smallest(pinned, (slot) => this.#insertedAt[slot]!);
  }
}

/** A uniformly random unpinned slot (seeded: the same run evicts the same experts). */
class RandomPolicy implements EvictionPolicy {
  readonly name = "random";
  readonly #prng: Prng;
  constructor(seed: number) {
    this.#prng = new Prng(seed);
  }
  inserted() {}
  used() {}
  victim(pinned: Uint8Array) {
    let free = 0;
    for (const p of pinned) if (!p) free++;
    if (free === 0) return -1;
    let pick = this.#prng.nextU32() % free;
    for (let slot = 0; slot < pinned.length; slot++) {
      if (!pinned[slot] && pick-- === 0) return slot;
    }
    return -1;
  }
}

/** Belady's optimal policy: evict the key demanded again furthest in the future. */
class Belady implements EvictionPolicy {
  readonly name = "belady";
  constructor(readonly future: FutureDemands) {}
  inserted() {}
  used() {}
  victim(pinned: Uint8Array, keys: readonly number[], now: number) {
    return smallest(pinned, (slot) => -this.future.next(keys[slot]!, now));
  }
}
