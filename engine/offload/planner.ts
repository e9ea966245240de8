/**
 * What the offloaded forward pass asks of the expert cache, layer by layer, and what it counts.
 * For one layer: settle the guesses made for it (a guessed expert it does not use leaves the
 * cache, and its load is dropped if it has not begun), demand every expert the batch routes to
 * (misses load first), then the prefetch guesses for the next layers (loaded behind the demands),
 * then compute each expert once its bytes are in. When a layer needs more experts than its pool
 * has slots (a long prompt, a tiny budget), it goes in chunks, each computed and unpinned before
 * the next is asked for.
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
 * const io = { load() {}, wait() {}, cancel: () => false, compute() {} };
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
  /** Drop `slot`'s latest load if it has not begun; true when no byte was moved. */
  cancel(slot: number): boolean;
  /** Run `expert` of the current layer from `slot`. */
  compute(expert: number, slot: number): void;
}

/**
 * Counters of cache traffic (totals, per layer, or per token). Per layer, prefetch bytes count
 * in the layer whose experts they are.
 */
export class OffloadCounters {
  hits = 0;
  misses = 0;
  /** Bytes loaded because the computing layer needed them. */
  demandBytes = 0;
  /** Bytes loaded on a guess (a guess dropped before its load began moved none). */
  prefetchedBytes = 0;
  /** Prefetched bytes never used. */
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
  /** Slots whose prefetched expert has not been used yet, and how many. */
  readonly #unusedPrefetch: Uint8Array;
  #unusedPrefetches = 0;
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
    this.#dropWrongGuesses(layer, needed, count, io);
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
          this.#clearUnused(grant.slot);
        } else {
          this.#count(counters, "misses", 1);
          this.#count(counters, "demandBytes", this.model.bytesOf(key));
          this.#evicted(grant.slot, grant.evicted);
          io.load(grant.slot, key, true);
        }
        chunk[inChunk] = grant.slot;
        experts[inChunk++] = needed[next]!;
      }
      if (inChunk === 0) throw new Error("the expert cache has no slot to spare");
      if (!prefetched) {
        prefetched = true;
        for (const guess of guesses) this.#prefetch(guess, io);
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
      if (this.#unusedPrefetch[slot]) this.#evicted(slot, this.cache.keyAt(slot));
    }
  }

  #prefetch(guess: PrefetchGuess, io: LayerIo): void {
    const experts = guess.experts;
    this.#pendingGuess[guess.layer]!.set(experts);
    this.#pendingCount[guess.layer] = experts.length;
    for (let g = 0; g < experts.length; g++) {
      const key = guess.layer * this.model.experts + experts[g]!;
      const grant = this.cache.request(key, false);
      if (grant === null || grant.hit) continue;
      this.#count(this.#layerOf(key), "prefetchedBytes", this.model.bytesOf(key));
      this.#evicted(grant.slot, grant.evicted);
      this.#unusedPrefetch[grant.slot] = 1;
      this.#unusedPrefetches++;
      this.cache.protect(grant.slot); // until its layer runs
      io.load(grant.slot, key, false);
    }
  }

  /**
   * The experts prefetched for `layer` that it does not use leave the cache now rather than
   * crowd out experts that were used: their slots are the next to be filled. A guess whose load
   * has not begun is dropped without moving a byte.
   */
  #dropWrongGuesses(layer: number, needed: ArrayLike<number>, count: number, io: LayerIo): void {
    if (this.#unusedPrefetches === 0) return;
    for (let slot = 0; slot < this.#unusedPrefetch.length; slot++) {
      if (!this.#unusedPrefetch[slot]) continue;
      const key = this.cache.keyAt(slot);
      if (Math.floor(key / this.model.experts) !== layer) continue;
      if (indexOf(needed, count, key % this.model.experts) >= 0) continue; // demanded just below
      if (io.cancel(slot)) {
        this.#count(this.#layerOf(key), "prefetchedBytes", -this.model.bytesOf(key));
        this.#clearUnused(slot);
      } else {
        this.#evicted(slot, key);
      }
      this.cache.forget(slot);
    }
  }

  /** `slot` no longer holds an unused prefetch: it was used, evicted, or its load dropped. */
  #clearUnused(slot: number): void {
    if (!this.#unusedPrefetch[slot]) return;
    this.#unusedPrefetch[slot] = 0;
    this.#unusedPrefetches--;
    this.cache.unprotect(slot);
  }

  /** Bookkeeping of `key` leaving `slot`: a prefetched expert never used was wasted. */
  #evicted(slot: number, key: number): void {
    if (key >= 0 && this.#unusedPrefetch[slot]) {
      this.#count(this.#layerOf(key), "wastedPrefetchBytes", this.model.bytesOf(key));
    }
    this.#clearUnused(slot);
  }

  #layerOf(key: number): OffloadCounters {
    return this.perLayer[Math.floor(key / this.model.experts)]!;
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
      if (indexOf(needed, count, guess[g]!) >= 0) both++;
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

function indexOf(values: ArrayLike<number>, count: number, value: number): number {
  for (let i = 0; i < count; i++) if (values[i] === value) return i;
  return -1;
}

type CountedField = Exclude<
  keyof OffloadCounters,
  "hitRate" | "prefetchRecall" | "prefetchPrecision"
>;
