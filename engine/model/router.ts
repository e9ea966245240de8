/**
 * The router of a mixture-of-experts layer, as llama.cpp's `build_moe_ffn` runs it: gating,
 * selection bias, expert groups, top-k, renormalised weights. Plain TypeScript on the host:
 * every backend's forward pass routes here.
 *
 * @example
 * ```ts
 * import { topIndices } from "./router.ts";
 * const best = new Int32Array(2);
 * topIndices(Float32Array.of(0.1, 0.7, 0.2), 2, new Uint8Array(3), best, 0);
 * console.log([...best]); // [1, 2]
 * ```
 * @module
 */
import type { ModelConfig } from "./config.ts";
import { softmax } from "./kv_cache.ts";

/** Which experts a token was routed to in one layer, and with what weights. */
export interface Routing {
  readonly experts: readonly number[];
  readonly weights: readonly number[];
}

/**
 * Per MoE layer, the routing recorded in `last` (`expertsUsed` experts and weights per layer,
 * layer by layer) for the layers where `isMoe(l)`.
 */
export function routingPerLayer(
  layers: number,
  isMoe: (layer: number) => boolean,
  expertsUsed: number,
  last: { readonly experts: Int32Array; readonly weights: Float64Array },
): Routing[] {
  const k = expertsUsed;
  return Array.from({ length: layers }, (_, l) => l).filter(isMoe).map((l) => ({
    experts: [...last.experts.subarray(l * k, (l + 1) * k)],
    weights: [...last.weights.subarray(l * k, (l + 1) * k)],
  }));
}

/** The router's scratch space, allocated once. */
export class RouterScratch {
  readonly probabilities: Float32Array; // (experts)
  readonly selection: Float32Array; // (experts) what chooses: probabilities plus any bias
  readonly taken: Uint8Array; // (experts)
  readonly groupScores: Float32Array; // (groups)
  readonly keptGroups: Int32Array; // (groupsUsed)

  constructor(c: ModelConfig) {
    this.probabilities = new Float32Array(c.experts);
    this.selection = new Float32Array(c.experts);
    this.taken = new Uint8Array(Math.max(c.experts, c.router.groups));
    this.groupScores = new Float32Array(c.router.groups);
    this.keptGroups = new Int32Array(c.router.groupsUsed);
  }
}

/**
 * Which of a batch's routing slots go to `expert`: `chosen` holds each token's k experts in rank
 * order (slot s is token ⌊s/k⌋'s rank s mod k) over `slots` slots. Writes those slots, ascending,
 * to `into` and returns how many there are: the tokens one expert computes at once.
 */
export function slotsRoutedTo(
  expert: number,
  chosen: Int32Array,
  slots: number,
  into: Int32Array,
): number {
  let routed = 0;
  for (let slot = 0; slot < slots; slot++) if (chosen[slot] === expert) into[routed++] = slot;
  return routed;
}

/**
 * The router, as llama.cpp's `build_moe_ffn`: gating (softmax or sigmoid), an optional bias
 * that affects only which experts are chosen, expert groups, top-k, then the chosen experts'
 * unbiased weights, renormalised and scaled as the model says. Writes the k experts and weights
 * at `experts[at …]` and `weights[at …]`.
 */
export function route(
  logits: Float32Array,
  selectionBias: Float32Array | null,
  c: ModelConfig,
  scratch: RouterScratch,
  experts: Int32Array,
  weights: Float64Array,
  at: number,
): void {
  const { router } = c;
  const { probabilities, selection } = scratch;
  probabilities.set(logits);
  if (router.gating === "softmax") softmax(probabilities, probabilities.length);
  else for (let e = 0; e < probabilities.length; e++) probabilities[e] = sigmoid(probabilities[e]!);
  selection.set(probabilities);
  if (selectionBias) {
    for (let e = 0; e < selection.length; e++) selection[e] = selection[e]! + selectionBias[e]!;
  }
  if (router.groups > 1) {
    // keep the groups whose two best experts score highest
    const perGroup = c.experts / router.groups;
    for (let g = 0; g < router.groups; g++) {
      let best = -Infinity;
      let second = -Infinity;
      for (let e = g * perGroup; e < (g + 1) * perGroup; e++) {
        const score = selection[e]!;
        if (score > best) [best, second] = [score, best];
        else if (score > second) second = score;
      }
      scratch.groupScores[g] = best + second;
    }
    topIndices(scratch.groupScores, router.groupsUsed, scratch.taken, scratch.keptGroups, 0);
    scratch.taken.fill(0);
    for (const g of scratch.keptGroups) scratch.taken[g] = 1;
    for (let g = 0; g < router.groups; g++) {
      if (!scratch.taken[g]) selection.fill(-Infinity, g * perGroup, (g + 1) * perGroup);
    }
  }
  const k = c.expertsUsed;
  topIndices(selection, k, scratch.taken, experts, at);
  let sum = 0;
  for (let i = at; i < at + k; i++) {
    weights[i] = probabilities[experts[i]!]!;
    sum += weights[i]!;
  }
  const divisor = router.normalize ? Math.max(sum, 6.103515625e-5) : 1;
  for (let i = at; i < at + k; i++) weights[i] = (weights[i]! / divisor) * router.scale;
}

/**
 * The indices of the `count` largest values, best first (ties: lower index first), written at
 * `into[at …]`; `taken` is scratch with one flag per value.
 */
export function topIndices(
  values: Float32Array,
  count: number,
  taken: Uint8Array,
  into: Int32Array | number[],
  at: number,
): void {
  taken.fill(0, 0, values.length);
  for (let n = 0; n < count; n++) {
    let best = -1;
    for (let i = 0; i < values.length; i++) {
      if (!taken[i] && (best < 0 || values[i]! > values[best]!)) best = i;
    }
    taken[best] = 1;
    into[at + n] = best;
  }
}

/** The logistic function. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
