/**
 * What the offloaded forward pass asks of the expert cache, layer by layer, and what it counts.
 * For one layer: demand every expert the batch routes to (misses load first), then the prefetch
 * guesses for the next layers (loaded behind the demands), then compute each expert once its
 * bytes are in. When a layer needs more experts than its pool has slots (a long prompt, a tiny
 * budget), it goes in chunks, each computed and unpinned before the next is asked for.
 *
 * The engine runs this with a loader that moves bytes; the cache simulator runs it with a loader
 * that does nothing. Same requests, same cache, same policy: the same hits.
 *
 * @example
 * ```ts
 * import { ExpertCache } from "./cache.ts";
 * import { OffloadPlanner } from "./planner.ts";
 * const cache = new ExpertCache({ slots: 4, scopes: 1, scopeOf: () => 0, policy: "lru" });
 * const planner = new OffloadPlanner(cache, { layers: 2, experts: 8, bytesOf: () => 1000 });
 * const io = { load() {}, wait() {}, compute() {} };
 * planner.stepLayer(0, [1, 5], 2, [{ layer: 1, experts: [2, 3] }], io);
 * planner.stepLayer(1, [2, 6], 2, [], io);
 * console.log(planner.total.hits, planner.total.misses); // 1 3
 * ```
 * @module
 */
import type { ExpertCache } from "./cache.ts";

/** What the planner needs to know of the model. */
export interface PlannerModel {
  readonly layers: number;
  /** Routed experts per MoE layer. */
  readonly experts: number;
  /** Bytes of the expert with key `layer · experts + expert`. */
  readonly bytesOf: (key: number) => number;
}

/** How the planner's decisions are carried out. */
export interface LayerIo {
  /** Start moving expert `key` into `slot` (`demand`: before any queued prefetch). */
  load(slot: number, key: number, demand: boolean): void;
  /** Return once `slot`'s latest load is complete. */
  wait(slot: number): void;
  /** Run `expert` of the current layer from `slot`. */
  compute(expert: number, slot: number): void;
}

/** Counters of cache traffic (totals, per layer, or per token). */
export class OffloadCounters {
  hits = 0;
  misses = 0;
  /** Bytes loaded because the computing layer needed them. */
  demandBytes = 0;
  /** Bytes loaded on a guess. */
  prefetchedBytes = 0;
  /** Prefetched bytes evicted before any use. */
  wastedPrefetchBytes = 0;
  /** Guessed experts, used experts of guessed layers, and the guesses that were used. */
  guessed = 0;
  usedOfGuessed = 0;
  guessedAndUsed = 0;
  /** Milliseconds the computing thread waited for bytes. */
  stallMs = 0;

  get hitRate(): number {
    const requests = this.hits + this.misses;
    return requests ? this.hits / requests : 0;
  }

  /** Of the experts used in guessed layers, the share that had been guessed. */
  get prefetchRecall(): number {
    return this.usedOfGuessed ? this.guessedAndUsed / this.usedOfGuessed : 0;
  }

  /** Of the guessed experts, the share that was used. */
  get prefetchPrecision(): number {
    return this.guessed ? this.guessedAndUsed / this.guessed : 0;
  }
}

/** Guesses for one later layer, made while the current one computes. */
export interface PrefetchGuess {
  readonly layer: number;
  readonly experts: readonly number[];
}

/** Drives the cache for the offloaded forward pass and counts what happens. */
export class OffloadPlanner {
  readonly total = new OffloadCounters();
  readonly perLayer: OffloadCounters[];
  /** The current token (or batch) so far; `endStep` files it. */
  step = new OffloadCounters();
  readonly steps: OffloadCounters[] = [];
  /** Slots whose prefetched expert has not been used yet. */
  readonly #unusedPrefetch: Uint8Array;
  /** The latest guess for each layer (copied: the caller reuses its arrays), until it runs. */
  readonly #pendingGuess: Int32Array[];
  readonly #pendingCount: Int32Array;
  /** A chunk's slots and experts (at most every slot: no allocation per layer). */
  readonly #chunk: Int32Array;
  readonly #chunkExperts: Int32Array;

  constructor(readonly cache: ExpertCache, readonly model: PlannerModel) {
    this.perLayer = Array.from({ length: model.layers }, () => new OffloadCounters());
    this.#unusedPrefetch = new Uint8Array(cache.slotCount);
    this.#pendingGuess = Array.from({ length: model.layers }, () => new Int32Array(model.experts));
    this.#pendingCount = new Int32Array(model.layers).fill(-1);
    this.#chunk = new Int32Array(cache.slotCount);
    this.#chunkExperts = new Int32Array(cache.slotCount);
  }

  /**
   * One MoE layer: `needed[0 … count)` (distinct experts, ascending) are demanded and computed;
   * `guesses` are prefetched behind the first chunk of demands.
   */
  stepLayer(
    layer: number,
    needed: ArrayLike<number>,
    count: number,
    guesses: readonly PrefetchGuess[],
    io: LayerIo,
  ): void {
    const counters = this.perLayer[layer]!;
    this.#scoreGuess(layer, needed, count, counters);
    const chunk = this.#chunk;
    const experts = this.#chunkExperts;
    let next = 0;
    let prefetched = false;
    while (next < count) {
      let inChunk = 0;
      for (; next < count; next++) {
        const key = layer * this.model.experts + needed[next]!;
        const grant = this.cache.request(key, true);
        if (grant === null) break; // every slot of the pool is pinned: compute these first
        this.cache.pin(grant.slot);
        if (grant.hit) {
          this.#count(counters, "hits", 1);
          this.#unusedPrefetch[grant.slot] = 0;
        } else {
          this.#count(counters, "misses", 1);
          this.#count(counters, "demandBytes", this.model.bytesOf(key));
          this.#evicted(grant.slot, grant.evicted, counters);
          io.load(grant.slot, key, true);
        }
        chunk[inChunk] = grant.slot;
        experts[inChunk++] = needed[next]!;
      }
      if (inChunk === 0) throw new Error("the expert cache has no slot to spare");
      if (!prefetched) {
        prefetched = true;
        for (const guess of guesses) this.#prefetch(guess, io, counters);
      }
      for (let i = 0; i < inChunk; i++) {
        const slot = chunk[i]!;
        const started = performance.now();
        io.wait(slot);
        this.#count(counters, "stallMs", performance.now() - started);
        io.compute(experts[i]!, slot);
        this.cache.unpin(slot);
      }
    }
  }

  /** Ends a token (or batch): its counters join `steps`. */
  endStep(): void {
    this.steps.push(this.step);
    this.step = new OffloadCounters();
  }

  /** Counts prefetches still unused at the end of a run as wasted. */
  finish(): void {
    for (let slot = 0; slot < this.#unusedPrefetch.length; slot++) {
      if (!this.#unusedPrefetch[slot]) continue;
      const key = this.cache.keyAt(slot);
      this.#unusedPrefetch[slot] = 0;
      const layer = Math.floor(key / this.model.experts);
      this.#count(this.perLayer[layer]!, "wastedPrefetchBytes", this.model.bytesOf(key));
    }
  }

  #prefetch(guess: PrefetchGuess, io: LayerIo, current: OffloadCounters): void {
    const experts = guess.experts;
    this.#pendingGuess[guess.layer]!.set(experts);
    this.#pendingCount[guess.layer] = experts.length;
    for (let g = 0; g < experts.length; g++) {
      const key = guess.layer * this.model.experts + experts[g]!;
      const grant = this.cache.request(key, false);
      if (grant === null || grant.hit) continue;
      this.#count(current, "prefetchedBytes", this.model.bytesOf(key));
      this.#evicted(grant.slot, grant.evicted, current);
      this.#unusedPrefetch[grant.slot] = 1;
      io.load(grant.slot, key, false);
    }
  }

  /** Bookkeeping of an eviction from `slot`: a prefetched expert never used was wasted. */
  #evicted(slot: number, key: number, counters: OffloadCounters): void {
    if (key >= 0 && this.#unusedPrefetch[slot]) {
      this.#count(counters, "wastedPrefetchBytes", this.model.bytesOf(key));
    }
    this.#unusedPrefetch[slot] = 0;
  }

  /** Recall and precision of the guess made for `layer`, now that its experts are known. */
  #scoreGuess(
    layer: number,
    needed: ArrayLike<number>,
    count: number,
    counters: OffloadCounters,
  ): void {
    const guessed = this.#pendingCount[layer]!;
    if (guessed < 0) return;
    this.#pendingCount[layer] = -1;
    const guess = this.#pendingGuess[layer]!;
    let both = 0;
    for (let g = 0; g < guessed; g++) {
      for (let i = 0; i < count; i++) if (needed[i] === guess[g]) both++;
    }
    this.#count(counters, "guessed", guessed);
    this.#count(counters, "usedOfGuessed", count);
    this.#count(counters, "guessedAndUsed", both);
  }

  #count(layer: OffloadCounters, field: CountedField, amount: number): void {
    layer[field] += amount;
    this.step[field] += amount;
    this.total[field] += amount;
  }
}

type CountedField = Exclude<
  keyof OffloadCounters,
  "hitRate" | "prefetchRecall" | "prefetchPrecision"
>;
