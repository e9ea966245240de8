/**
 * Routed experts run from a cache of slots in fast memory: the planner decides what each layer
 * demands and prefetches, the loader thread moves the bytes from the disk or RAM tier, and each
 * expert computes from its slot through matrix views made once per slot and layer layout.
 * @module
 */
import type { GGUFFile } from "../gguf/read.ts";
import type { ModelConfig } from "../model/config.ts";
import type { ExpertRunner, RunExpert } from "../model/experts.ts";
import type { Matrix } from "../model/matrix.ts";
import type { FeedForward } from "../model/weights.ts";
import type { QuantFormat } from "../quant/format.ts";
import { ExpertCache } from "./cache.ts";
import { ExpertLoader, type SlotMemory } from "./loader.ts";
import { type LayerIo, OffloadPlanner, type PrefetchGuess } from "./planner.ts";
import type { PolicyName } from "./policy.ts";
import { ExpertStore } from "./store.ts";

/** How big the expert cache is. */
export interface CacheSizing {
  /** Bytes of fast memory for expert slots, one pool for all layers (or a share of all expert bytes) … */
  readonly budgetBytes?: number;
  readonly budgetShare?: number;
  /** … or this many slots per MoE layer (the paper's layout). */
  readonly slotsPerLayer?: number;
}

/** How experts are offloaded. */
export interface OffloadOptions extends CacheSizing {
  /** Eviction policy (default LRU; Belady's needs a trace: the simulator's only). */
  readonly policy?: Exclude<PolicyName, "belady">;
  /** Guess the next `depth` layers' experts, `experts` each (default: the model's top-k). */
  readonly prefetch?: { readonly depth: number; readonly experts?: number } | null;
  /** Where experts live: read from the file on demand (default), or copied into RAM first. */
  readonly tier?: "disk" | "ram";
  /** Seeds the random policy. */
  readonly seed?: number;
}

/** What a backend must offer to hold expert slots (`M`: its matrices). */
export interface SlotBackend<M = Matrix> {
  /**
   * Room for `count` slots of `slotBytes` and a loader thread (its stack and `scratchBytes` of
   * scratch) in the backend's shared memory.
   */
  expertSlots(count: number, slotBytes: number, scratchBytes: number): SlotMemory;
  /** A matrix over bytes already in the backend's memory at `address`. */
  matrixAt(format: QuantFormat, rows: number, cols: number, address: number): M;
}

/** `generate --json`'s `stats.offload`. */
export interface OffloadStats {
  readonly hits: number;
  readonly misses: number;
  readonly hit_rate: number;
  readonly bytes_loaded: number;
  readonly demand_bytes: number;
  readonly prefetched_bytes: number;
  readonly wasted_prefetch_bytes: number;
  readonly prefetch_recall: number;
  readonly prefetch_precision: number;
  readonly stall_ms: number;
  readonly load_gbps: number;
  readonly slots: number;
  readonly slot_bytes: number;
  readonly budget_bytes: number;
  readonly expert_bytes: number;
  readonly policy: string;
  readonly tier: string;
  readonly per_layer: readonly {
    readonly layer: number;
    readonly hits: number;
    readonly misses: number;
    readonly stall_ms: number;
    readonly prefetch_recall: number;
  }[];
  /** Each forward step (the prompt's batches, then one per generated token). */
  readonly per_token: readonly {
    readonly hits: number;
    readonly misses: number;
    readonly demand_bytes: number;
    readonly prefetched_bytes: number;
    readonly stall_ms: number;
  }[];
}

/** What sizing a cache needs to know of a model's experts (an `ExpertStore`, or a trace's header). */
export interface ExpertSizes {
  readonly experts: number;
  readonly moeLayers: number;
  readonly totalBytes: number;
  readonly slotBytes: number;
}

/** The slots a budget buys: whole experts, at least one, at most every expert. */
export function slotsForBudget(store: ExpertSizes, options: CacheSizing): {
  slots: number;
  scopes: number;
} {
  const experts = store.experts;
  if (options.slotsPerLayer !== undefined) {
    if (!(options.slotsPerLayer >= 1)) throw new RangeError("--expert-slots must be at least 1");
    return { slots: Math.min(options.slotsPerLayer, experts), scopes: store.moeLayers };
  }
  const budget = options.budgetBytes ??
    Math.floor((options.budgetShare ?? 1) * store.totalBytes);
  const slots = Math.floor(budget / store.slotBytes);
  if (slots < 1) {
    throw new RangeError(
      `an expert budget of ${budget} bytes holds no expert (one takes ${store.slotBytes} bytes)`,
    );
  }
  return { slots: Math.min(slots, experts * store.moeLayers), scopes: 1 };
}

/** Experts behind an expert cache. */
export class OffloadedExperts<M = Matrix> implements ExpertRunner<M> {
  readonly planner: OffloadPlanner;
  readonly prefetch: { depth: number; experts: number } | null;
  readonly #store: ExpertStore;
  readonly #loader: ExpertLoader;
  readonly #memory: SlotMemory;
  readonly #backend: SlotBackend<M>;
  readonly #views = new Map<number, FeedForward<M>>();
  readonly #io: LayerIo;
  #layer = 0;
  #compute: RunExpert<M> = () => {};

  private constructor(
    store: ExpertStore,
    planner: OffloadPlanner,
    loader: ExpertLoader,
    memory: SlotMemory,
    backend: SlotBackend<M>,
    readonly options: OffloadOptions,
    prefetch: { depth: number; experts: number } | null,
  ) {
    this.#store = store;
    this.planner = planner;
    this.#loader = loader;
    this.#memory = memory;
    this.#backend = backend;
    this.prefetch = prefetch;
    this.#io = {
      load: (slot, key, demand) => loader.load(slot, key, demand),
      wait: (slot) => loader.wait(slot),
      cancel: (slot) => loader.cancel(slot),
      compute: (expert, slot) => this.#compute(expert, this.#view(slot, this.#layer)),
    };
  }

  /** Sets up the cache, its slots in `backend`'s memory and the loader thread. */
  static async create<M>(
    gguf: GGUFFile,
    config: ModelConfig,
    backend: SlotBackend<M>,
    options: OffloadOptions,
  ): Promise<OffloadedExperts<M>> {
    const store = ExpertStore.fromGGUF(gguf, config);
    const { slots, scopes } = slotsForBudget(store, options);
    const cache = new ExpertCache({
      slots,
      scopes,
      scopeOf: scopeOfKey(store.layers.map((layer) => layer?.bytes ?? 0), store.experts, scopes),
      policy: options.policy ?? "lru",
      seed: options.seed ?? 0,
    });
    const planner = new OffloadPlanner(cache, {
      layers: config.layers,
      experts: config.experts,
      bytesOf: (key) => store.bytesOf(key),
    });
    const widestRow = Math.max(
      ...store.layers.flatMap((layer) => layer?.parts.map((p) => p.bytes / p.rows) ?? []),
    );
    const memory = backend.expertSlots(slots * scopes, store.slotBytes, 4 * widestRow);
    const loader = await ExpertLoader.start(
      gguf,
      store,
      slots * scopes,
      memory,
      options.tier ?? "disk",
    );
    const depth = options.prefetch?.depth ?? 0;
    const prefetch = depth > 0
      ? { depth, experts: options.prefetch?.experts ?? config.expertsUsed }
      : null;
    return new OffloadedExperts(store, planner, loader, memory, backend, options, prefetch);
  }

  runLayer(
    layer: number,
    needed: ArrayLike<number>,
    count: number,
    guesses: readonly PrefetchGuess[],
    compute: RunExpert<M>,
  ): void {
    this.#layer = layer;
    this.#compute = compute;
    this.planner.stepLayer(layer, needed, count, guesses, this.#io);
  }

  endStep(): void {
    this.planner.endStep();
  }

  /** The expert in `slot` as matrices for `layer`'s layout (made once per slot and layout). */
  #view(slot: number, layer: number): FeedForward<M> {
    const layout = this.#store.layers[layer]!;
    const id = slot * this.#store.layers.length + layout.layoutId;
    let view = this.#views.get(id);
    if (view === undefined) {
      const base = this.#memory.slotBase + slot * this.#memory.slotStride;
      const [gate, up, down] = layout.parts.map((part) =>
        this.#backend.matrixAt(part.format, part.rows, part.cols, base + part.slotOffset)
      );
      view = { gate: gate!, up: up!, down: down! };
      this.#views.set(id, view);
    }
    return view;
  }

  /** The run's counters, as `generate --json` reports them. */
  stats(): OffloadStats {
    this.planner.finish();
    const total = this.planner.total;
    const cache = this.planner.cache;
    return {
      hits: total.hits,
      misses: total.misses,
      hit_rate: total.hitRate,
      bytes_loaded: this.#loader.bytesLoaded,
      demand_bytes: total.demandBytes,
      prefetched_bytes: total.prefetchedBytes,
      wasted_prefetch_bytes: total.wastedPrefetchBytes,
      prefetch_recall: total.prefetchRecall,
      prefetch_precision: total.prefetchPrecision,
      stall_ms: total.stallMs,
      load_gbps: this.#loader.loadMs > 0 ? this.#loader.bytesLoaded / this.#loader.loadMs / 1e6 : 0,
      slots: cache.slotCount,
      slot_bytes: this.#store.slotBytes,
      budget_bytes: cache.slotCount * this.#store.slotBytes,
      expert_bytes: this.#store.totalBytes,
      policy: cache.options.policy,
      tier: this.options.tier ?? "disk",
      per_layer: this.planner.perLayer.flatMap((layer, l) =>
        this.#store.layers[l]
          ? [{
            layer: l,
            hits: layer.hits,
            misses: layer.misses,
            stall_ms: layer.stallMs,
            prefetch_recall: layer.prefetchRecall,
          }]
          : []
      ),
      per_token: this.planner.steps.map((step) => ({
        hits: step.hits,
        misses: step.misses,
        demand_bytes: step.demandBytes,
        prefetched_bytes: step.prefetchedBytes,
        stall_ms: step.stallMs,
      })),
    };
  }

  close(): void {
    this.#loader.close();
  }
}

/**
 * The pool of each key: one for all, or one per MoE layer (in layer order; `layerBytes` is 0 for
 * dense layers).
 */
export function scopeOfKey(
  layerBytes: readonly number[],
  experts: number,
  scopes: number,
): (key: number) => number {
  if (scopes === 1) return () => 0;
  const moeIndex = layerBytes.map((_, l) => layerBytes.slice(0, l).filter((b) => b > 0).length);
  return (key) => moeIndex[Math.floor(key / experts)]!;
}
