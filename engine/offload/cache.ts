/**
 * The expert cache's bookkeeping: a fixed number of slots in fast memory, which expert (key)
 * each holds, which are pinned (in use by the layer computing now), and an eviction policy.
 * Slots form one pool for every layer (`global`) or an equal pool per layer (`layer`: the
 * paper's k slots per layer). A prefetched expert waiting for its layer is protected: it is
 * evicted only when every other slot is pinned or protected (under LFU a fresh guess would
 * otherwise be the first victim, even of the next guess). It moves no bytes: the engine loads
 * what it says into the slots, and the cache simulator replays traces through the very same
 * decisions.
 *
 * @example
 * ```ts
 * import { ExpertCache } from "./cache.ts";
 * const cache = new ExpertCache({ slots: 2, scopes: 1, scopeOf: () => 0, policy: "lru" });
 * console.log(cache.request(5, true)?.hit); // false: loaded into a free slot
 * console.log(cache.request(5, true)?.hit); // true
 * ```
 * @module
 */
import {
  createPolicy,
  type EvictionPolicy,
  type FutureDemands,
  type PolicyName,
} from "./policy.ts";

/** How the cache is laid out. */
export interface CacheOptions {
  /** Slots per scope. */
  readonly slots: number;
  /** Pools of slots: 1 for a global cache, the MoE layer count for per-layer caches. */
  readonly scopes: number;
  /** The pool a key's expert belongs to. */
  readonly scopeOf: (key: number) => number;
  readonly policy: PolicyName;
  /** Seeds the random policy. */
  readonly seed?: number;
  /** Belady's oracle. */
  readonly future?: FutureDemands;
}

/** The outcome of a request that got a slot. */
export interface CacheGrant {
  readonly slot: number;
  /** The key was already resident (or on its way in). */
  readonly hit: boolean;
  /** The key that left to make room (−1: the slot was free or it was a hit). */
  readonly evicted: number;
}

/** One pool of slots and its policy. */
interface Scope {
  readonly first: number;
  readonly keys: number[];
  /** Per slot: 1 when pinned or protected (what the policy may not evict), … */
  readonly pinned: Uint8Array;
  /** … and 1 when pinned (what nothing may evict). */
  readonly held: Uint8Array;
  /** Protected slots in the pool. */
  protectedCount: number;
  readonly policy: EvictionPolicy;
}

/** Which expert each slot holds, pins, and evictions by policy. */
export class ExpertCache {
  readonly #scopes: Scope[];
  readonly #scopeOf: (key: number) => number;
  readonly #slotOfKey = new Map<number, number>();
  /** Pins per slot (a slot may be pinned by several holders). */
  readonly #pins: Uint16Array;
  readonly #protected: Uint8Array;
  #time = 0;
  /** Demands granted so far: where Belady's oracle stands in the trace. */
  #demands = 0;

  constructor(readonly options: CacheOptions) {
    if (!(options.slots >= 1)) throw new RangeError("the expert cache needs at least one slot");
    this.#scopeOf = options.scopeOf;
    this.#pins = new Uint16Array(options.slots * options.scopes);
    this.#protected = new Uint8Array(options.slots * options.scopes);
    this.#scopes = Array.from({ length: options.scopes }, (_, s) => ({
      first: s * options.slots,
      keys: new Array<number>(options.slots).fill(-1),
      pinned: new Uint8Array(options.slots),
      held: new Uint8Array(options.slots),
      protectedCount: 0,
      policy: createPolicy(options.policy, options.slots, {
        seed: (options.seed ?? 0) + s,
        ...(options.future ? { future: options.future } : {}),
      }),
    }));
  }

  /** Slots in all. */
  get slotCount(): number {
    return this.#pins.length;
  }

  /** Requests made so far: the clock of the policies (and of Belady's oracle). */
  get time(): number {
    return this.#time;
  }

  /** The slot holding `key`, or −1. */
  slotOf(key: number): number {
    return this.#slotOfKey.get(key) ?? -1;
  }

  /** The key slot `slot` holds, or −1. */
  keyAt(slot: number): number {
    const scope = this.#scopeOfSlot(slot);
    return scope.keys[slot - scope.first]!;
  }

  /**
   * Asks for `key` (`demand`: the layer computing now needs it; else a prefetch guess). A
   * resident key is a hit; otherwise it takes a free slot or evicts the policy's victim among
   * unpinned slots. Null when every slot of its pool is pinned.
   */
  request(key: number, demand: boolean): CacheGrant | null {
    const time = this.#time++;
    const resident = this.#slotOfKey.get(key);
    const scope = this.#scopes[this.#scopeOf(key)]!;
    if (resident !== undefined) {
      scope.policy.used(resident - scope.first, key, time, demand);
      if (demand) this.#demands++;
      return { slot: resident, hit: true, evicted: -1 };
    }
    let local = scope.keys.indexOf(-1);
    if (local < 0) local = scope.policy.victim(scope.pinned, scope.keys, this.#demands);
    if (local < 0 && scope.protectedCount > 0) {
      local = scope.policy.victim(scope.held, scope.keys, this.#demands);
    }
    if (local < 0) return null;
    if (demand) this.#demands++;
    this.unprotect(scope.first + local);
    const evicted = scope.keys[local]!;
    if (evicted >= 0) this.#slotOfKey.delete(evicted);
    scope.keys[local] = key;
    const slot = scope.first + local;
    this.#slotOfKey.set(key, slot);
    scope.policy.inserted(local, key, time);
    if (demand) scope.policy.used(local, key, time, true);
    return { slot, hit: false, evicted };
  }

  /**
   * Empties `slot` (an unpinned one): its key is no longer resident, and the slot is the first
   * the next request takes. For a prefetch that turned out wrong.
   */
  forget(slot: number): void {
    const scope = this.#scopeOfSlot(slot);
    const local = slot - scope.first;
    const key = scope.keys[local]!;
    if (scope.held[local]) throw new RangeError(`slot ${slot} is pinned: it is in use`);
    this.unprotect(slot);
    if (key < 0) return;
    this.#slotOfKey.delete(key);
    scope.keys[local] = -1;
  }

  /** Keeps `slot` from being evicted until `unpin`. */
  pin(slot: number): void {
    this.#pins[slot]!++;
    this.#updateFlags(slot);
  }

  unpin(slot: number): void {
    this.#pins[slot]!--;
    this.#updateFlags(slot);
  }

  /** Evicts `slot` only when nothing else can go, until `unprotect` (or its eviction). */
  protect(slot: number): void {
    if (this.#protected[slot]) return;
    this.#protected[slot] = 1;
    this.#scopeOfSlot(slot).protectedCount++;
    this.#updateFlags(slot);
  }

  unprotect(slot: number): void {
    if (!this.#protected[slot]) return;
    this.#protected[slot] = 0;
    this.#scopeOfSlot(slot).protectedCount--;
    this.#updateFlags(slot);
  }

  #scopeOfSlot(slot: number): Scope {
    return this.#scopes[Math.floor(slot / this.options.slots)]!;
  }

  #updateFlags(slot: number): void {
    const scope = this.#scopeOfSlot(slot);
    const held = this.#pins[slot]! > 0 ? 1 : 0;
    scope.held[slot - scope.first] = held;
    scope.pinned[slot - scope.first] = held | this.#protected[slot]!;
  }
}
