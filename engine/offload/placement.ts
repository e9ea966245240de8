/**
 * Hybrid placement: which routed experts the GPU holds and which stay in host memory and are
 * computed by the CPU, as llama.cpp's `--n-cpu-moe` and Moxin's dynamic offloading split them.
 * Routing is skewed, so the bytes the GPU can spare go to the experts a recorded trace routed
 * to most often: the share of expert computations the GPU serves is then as large as those
 * bytes allow.
 *
 * @example
 * ```ts
 * import { placeHotExperts } from "./placement.ts";
 * import type { Trace } from "./trace.ts";
 * const trace: Trace = {
 *   header: { format: "moebench-trace", version: 1, model: "m.gguf", layers: 1, experts: 4,
 *     expertsUsed: 1, layerBytes: [100], slotBytes: 128, prefetch: null },
 *   steps: [0, 1, 0, 2].map((e, i) => ({ pos: i, tokens: [7], layers: [
 *     { layer: 0, experts: [[e]], weights: [[1]], guesses: [] }] })),
 * };
 * const placement = placeHotExperts(trace, trace.header, 200);
 * console.log([...placement.onGpu[0]!]); // [1, 1, 0, 0]: expert 0 (twice) and 1 (ties: lower)
 * console.log(placement.gpuShare); // 0.75
 * ```
 * @module
 */
import type { Trace } from "./trace.ts";

/** The routing shape a placement is for: the model's (an `ExpertStore`, a trace header). */
export interface ExpertShape {
  readonly experts: number;
  /** Bytes of one expert of each layer (0: a dense layer). */
  readonly layerBytes: readonly number[];
}

/** Where each routed expert computes. */
export interface Placement {
  /** Per layer (null: dense), per expert: 1 on the GPU, 0 on the CPU. */
  readonly onGpu: readonly (Uint8Array | null)[];
  readonly gpuBytes: number;
  readonly cpuBytes: number;
  /** The share of the trace's expert computations (token × expert) the GPU would have served. */
  readonly gpuShare: number;
}

/** What hybrid placement did: where experts sit, and where their computations ran. */
export interface HybridStats {
  readonly gpu_experts: number;
  readonly cpu_experts: number;
  readonly gpu_bytes: number;
  readonly cpu_bytes: number;
  /** The share of expert computations (token × expert) the trace predicted for the GPU. */
  readonly expected_gpu_share: number;
  /** … and the share the GPU ran. */
  readonly gpu_share: number;
  /** Host time spent computing experts. */
  readonly cpu_ms: number;
}

/**
 * Puts the experts `trace` routed to most often on the GPU until `budgetBytes` are used; ties go
 * to the lower layer and expert, experts the trace never used last.
 * @throws {RangeError} when the trace was recorded on a model with another routing shape.
 */
export function placeHotExperts(trace: Trace, model: ExpertShape, budgetBytes: number): Placement {
  const { experts, layerBytes } = model;
  const recorded = trace.header;
  const sameShape = recorded.experts === experts &&
    recorded.layerBytes.length === layerBytes.length &&
    recorded.layerBytes.every((bytes, l) => (bytes > 0) === (layerBytes[l]! > 0));
  if (!sameShape) {
    throw new RangeError(
      `the trace of ${recorded.model} was recorded on a model with ${recorded.layers} layers ` +
        `of ${recorded.experts} experts, not this one's ${layerBytes.length} of ${experts}`,
    );
  }
  const uses = new Float64Array(layerBytes.length * experts);
  let total = 0;
  for (const step of trace.steps) {
    for (const layer of step.layers) {
      for (const chosen of layer.experts) {
        for (const expert of chosen) uses[layer.layer * experts + expert]!++;
        total += chosen.length;
      }
    }
  }
  const keys = [...uses.keys()].filter((key) => layerBytes[Math.floor(key / experts)]! > 0);
  keys.sort((a, b) => uses[b]! - uses[a]! || a - b);

  const onGpu = layerBytes.map((bytes) => bytes > 0 ? new Uint8Array(experts) : null);
  let gpuBytes = 0;
  let cpuBytes = 0;
  let served = 0;
  for (const key of keys) {
    const layer = Math.floor(key / experts);
    const bytes = layerBytes[layer]!;
    if (gpuBytes + bytes <= budgetBytes) {
      onGpu[layer]![key % experts] = 1;
      gpuBytes += bytes;
      served += uses[key]!;
    } else {
      cpuBytes += bytes;
    }
  }
  return { onGpu, gpuBytes, cpuBytes, gpuShare: total > 0 ? served / total : 0 };
}
