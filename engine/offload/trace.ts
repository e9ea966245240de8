/**
 * Routing traces and the cache simulator. A trace (JSON lines) records a run's routing: a
 * header line with the model's expert sizes, then one line per forward step (a prompt batch or
 * one generated token) with each MoE layer's top-k experts and weights per token, and the
 * prefetch guesses made during the step. The simulator replays the steps through the same
 * planner and cache the engine uses, with a loader that moves nothing: for the same trace,
 * budget and policy it counts exactly the engine's hits, in milliseconds, and it alone can run
 * Belady's optimal policy (it knows the future).
 *
 * @example
 * ```ts
 * import { simulate, type Trace } from "./trace.ts";
 * const trace: Trace = {
 *   header: { format: "moebench-trace", version: 1, model: "m.gguf", layers: 1, experts: 4,
 *     expertsUsed: 1, layerBytes: [100], slotBytes: 128, prefetch: null },
 *   steps: [0, 1, 0, 2].map((e, i) => ({ pos: i, tokens: [7], layers: [
 *     { layer: 0, experts: [[e]], weights: [[1]], guesses: [] }] })),
 * };
 * console.log(simulate(trace, { slotsPerLayer: 1 }, "lru").hits); // 0
 * console.log(simulate(trace, { slotsPerLayer: 2 }, "lru").hits); // 1
 * ```
 * @module
 */
import { ExpertCache } from "./cache.ts";
import { type CacheSizing, scopeOfKey, slotsForBudget } from "./offloaded.ts";
import { type OffloadCounters, OffloadPlanner, type PrefetchGuess } from "./planner.ts";
import type { FutureDemands, PolicyName } from "./policy.ts";
import type { RoutingEvent } from "../model/reference.ts";
import type { ModelConfig } from "../model/config.ts";
import type { ExpertStore } from "./store.ts";
import { atomicWrite } from "../../util/atomic_write.ts";

/** The first line of a trace. */
export interface TraceHeader {
  readonly format: "moebench-trace";
  readonly version: 1;
  readonly model: string;
  readonly layers: number;
  readonly experts: number;
  readonly expertsUsed: number;
  /** Bytes of one expert of each layer (0: a dense layer). */
  readonly layerBytes: readonly number[];
  /** Bytes of one cache slot, as the engine lays them out. */
  readonly slotBytes: number;
  /** The guessing that was on while recording (null: none, so no guesses in the steps). */
  readonly prefetch: { readonly depth: number; readonly experts: number } | null;
}

/** The header of a trace of the model at `path`: its routing shape, its experts' sizes. */
export function traceHeader(
  path: string,
  config: ModelConfig,
  store: ExpertStore,
  prefetch: TraceHeader["prefetch"],
): TraceHeader {
  return {
    format: "moebench-trace",
    version: 1,
    model: path,
    layers: config.layers,
    experts: config.experts,
    expertsUsed: config.expertsUsed,
    layerBytes: store.layers.map((layer) => layer?.bytes ?? 0),
    slotBytes: store.slotBytes,
    prefetch,
  };
}

/** One MoE layer of one step. */
export interface TraceLayer {
  readonly layer: number;
  /** Per token of the step: its experts, best first, and their weights. */
  readonly experts: readonly (readonly number[])[];
  readonly weights: readonly (readonly number[])[];
  readonly guesses: readonly PrefetchGuess[];
}

/** One forward step. */
export interface TraceStep {
  /** Position of its first token, and the tokens. */
  readonly pos: number;
  readonly tokens: readonly number[];
  readonly layers: readonly TraceLayer[];
}

export interface Trace {
  readonly header: TraceHeader;
  readonly steps: readonly TraceStep[];
}

/** The distinct experts a step's layer uses, ascending: what the engine demands. */
export function neededExperts(layer: TraceLayer): number[] {
  return [...new Set(layer.experts.flat())].sort((a, b) => a - b);
}

/** The sizes `slotsForBudget` reads, from a trace's header. */
function traceSizes(header: TraceHeader) {
  return {
    experts: header.experts,
    moeLayers: header.layerBytes.filter((bytes) => bytes > 0).length,
    totalBytes: header.layerBytes.reduce((sum, bytes) => sum + bytes * header.experts, 0),
    slotBytes: header.slotBytes,
  };
}

/** Belady's oracle over the trace's sequence of demanded keys. */
class TraceFuture implements FutureDemands {
  readonly #uses = new Map<number, number[]>();

  constructor(trace: Trace) {
    let index = 0;
    for (const step of trace.steps) {
      for (const layer of step.layers) {
        for (const expert of neededExperts(layer)) {
          const key = layer.layer * trace.header.experts + expert;
          let uses = this.#uses.get(key);
          if (!uses) this.#uses.set(key, uses = []);
          uses.push(index++);
        }
      }
    }
  }

  next(key: number, now: number): number {
    const uses = this.#uses.get(key);
    if (!uses) return Infinity;
    // the first use at or after `now` (binary search)
    let [low, high] = [0, uses.length];
    while (low < high) {
      const mid = (low + high) >> 1;
      if (uses[mid]! < now) low = mid + 1;
      else high = mid;
    }
    return low < uses.length ? uses[low]! : Infinity;
  }
}

/**
 * Replays `trace` through a cache of `sizing` under `policy`; `prefetch` false ignores the
 * recorded guesses. Returns the counters the engine would report.
 */
export function simulate(
  trace: Trace,
  sizing: CacheSizing,
  policy: PolicyName,
  { prefetch = true, seed = 0 }: { prefetch?: boolean; seed?: number } = {},
): OffloadCounters {
  const { header } = trace;
  const sizes = traceSizes(header);
  const { slots, scopes } = slotsForBudget(sizes, sizing);
  const cache = new ExpertCache({
    slots,
    scopes,
    scopeOf: scopeOfKey(header.layerBytes, header.experts, scopes),
    policy,
    seed,
    ...(policy === "belady" ? { future: new TraceFuture(trace) } : {}),
  });
  const planner = new OffloadPlanner(cache, {
    layers: header.layers,
    experts: header.experts,
    bytesOf: (key) => header.layerBytes[Math.floor(key / header.experts)]!,
  });
  // loads are instant here: a wrong guess is always loaded by the time it is known to be wrong
  const io = { load() {}, wait() {}, cancel: () => false, compute() {} };
  for (const step of trace.steps) {
    for (const layer of step.layers) {
      const needed = neededExperts(layer);
      planner.stepLayer(layer.layer, needed, needed.length, prefetch ? layer.guesses : [], io);
    }
    planner.endStep();
  }
  planner.finish();
  return planner.total;
}

/**
 * Collects a run's routing (pass `record` as the model's `onRouting`); `trace` cuts it into
 * steps and gives each step its tokens from the sequence that was fed.
 */
export class TraceRecorder {
  readonly #steps: { count: number; layers: TraceLayer[] }[] = [];
  #lastLayer = Infinity;

  constructor(readonly header: TraceHeader) {}

  readonly record = (event: RoutingEvent): void => {
    // a layer no later than the last one seen starts the next forward step
    if (event.layer <= this.#lastLayer) this.#steps.push({ count: event.count, layers: [] });
    this.#lastLayer = event.layer;
    const k = this.header.expertsUsed;
    const perToken = (values: Int32Array | Float64Array) =>
      Array.from(
        { length: event.count },
        (_, i) => Array.from(values.subarray(i * k, (i + 1) * k)),
      );
    this.#steps.at(-1)!.layers.push({
      layer: event.layer,
      experts: perToken(event.experts),
      weights: perToken(event.weights),
      guesses: event.guesses.map((guess) => ({ layer: guess.layer, experts: [...guess.experts] })),
    });
  };

  /** The trace, `fed` being every token fed to the model, in order. */
  trace(fed: readonly number[]): Trace {
    let pos = 0;
    const steps = this.#steps.map((step) => {
      const traced = { pos, tokens: fed.slice(pos, pos + step.count), layers: step.layers };
      pos += step.count;
      return traced;
    });
    return { header: this.header, steps };
  }
}

/** Writes `trace` as JSON lines (atomically: no half-written file on failure). */
export async function writeTrace(path: string, trace: Trace): Promise<void> {
  const encoder = new TextEncoder();
  await atomicWrite(path, async (sink) => {
    await sink.write(encoder.encode(JSON.stringify(trace.header) + "\n"));
    for (const step of trace.steps) await sink.write(encoder.encode(JSON.stringify(step) + "\n"));
  });
}

/** A trace file that is not one. */
export class TraceError extends RangeError {
  override name = "TraceError";
}

/**
 * Reads and checks a trace file.
 * @throws {TraceError} naming the file, the line and what is wrong with it.
 */
export async function readTrace(path: string): Promise<Trace> {
  const lines = (await Deno.readTextFile(path)).split("\n").filter((line) => line.trim() !== "");
  const fail = (line: number, problem: string): never => {
    throw new TraceError(`${path} line ${line}: ${problem}`);
  };
  const parse = (line: number): unknown => {
    try {
      return JSON.parse(lines[line - 1]!);
    } catch {
      return fail(line, "not JSON");
    }
  };
  if (lines.length === 0) fail(1, "empty: not a moebench trace");
  const header = parse(1) as TraceHeader;
  if (header?.format !== "moebench-trace" || header.version !== 1) {
    fail(1, "not a moebench trace (version 1) header");
  }
  const whole = (value: unknown, min = 0) =>
    Number.isSafeInteger(value) && (value as number) >= min;
  if (
    !whole(header.layers, 1) || !whole(header.experts, 1) || !whole(header.expertsUsed, 1) ||
    !whole(header.slotBytes, 1) || !Array.isArray(header.layerBytes) ||
    header.layerBytes.length !== header.layers || !header.layerBytes.every((b) => whole(b))
  ) {
    fail(1, "the header's sizes are missing or invalid");
  }
  const isExpert = (e: unknown) => whole(e) && (e as number) < header.experts;
  const isLayer = (l: unknown) => whole(l) && (header.layerBytes[l as number] ?? 0) > 0;
  const steps = lines.slice(1).map((_, i) => {
    const line = i + 2;
    const step = parse(line) as TraceStep;
    if (!whole(step?.pos) || !Array.isArray(step.tokens) || !Array.isArray(step.layers)) {
      fail(line, "a step needs pos, tokens and layers");
    }
    for (const layer of step.layers) {
      const valid = isLayer(layer?.layer) && Array.isArray(layer.experts) &&
        layer.experts.length === step.tokens.length &&
        layer.experts.every((e) => Array.isArray(e) && e.every(isExpert)) &&
        Array.isArray(layer.weights) && layer.weights.length === step.tokens.length &&
        Array.isArray(layer.guesses) &&
        layer.guesses.every((g) =>
          isLayer(g?.layer) && Array.isArray(g.experts) && g.experts.every(isExpert)
        );
      if (!valid) fail(line, `layer ${JSON.stringify(layer?.layer)} is malformed`);
    }
    return step;
  });
  return { header, steps };
}
