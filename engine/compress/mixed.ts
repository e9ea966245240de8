/**
 * Mixed precision under a byte budget. Each weight matrix gets a type from a ladder of formats
 * moebench can write, by bits per weight (IQ1_S 1.56, IQ1_M 1.75, IQ2_XXS 2.06, IQ2_XS 2.31,
 * IQ2_S 2.56, Q2_K 2.63, IQ3_XXS 3.06, IQ3_S and Q3_K 3.44, IQ4_XS 4.25, Q4_0 4.5 … Q6_K 6.56,
 * Q8_0 8.5, F16). Its sensitivity to a type is the relative squared error that type leaves on a
 * sample of its rows, weighted by the tensor's role: attention, dense and shared-expert weights
 * and the output act on every token (weight 1), a routed expert's on the k of n tokens routed to
 * it (k/n), so a bit spent on a routed expert buys
 * less. The allocator starts every matrix at the bottom of the ladder, then repeatedly takes the
 * upgrade that removes the most weighted error per byte added while the total stays within the
 * budget (to any richer rung: a ladder ordered by bytes is not always ordered by error); when
 * even the bottom is over the budget it says so, and the caller prunes more.
 * Norms, biases, routers and tensors whose rows are not whole blocks keep their type.
 *
 * @example
 * ```ts ignore
 * import { allocateTypes, tensorSensitivity } from "./mixed.ts";
 * const measured = await tensorSensitivity(gguf);
 * const choice = allocateTypes(candidatesFor(measured, 3 / 12, 12 / 16), 900e6);
 * ```
 * @module
 */
import type { GGUFFile } from "../gguf/read.ts";
import type { TensorInfo } from "../gguf/types.ts";
import { quantFormat, quantizer } from "../quant/registry.ts";
import { ggmlType, rowByteSize } from "../quant/types.ts";
import { HQQ_TYPES, hqqQuantize, type HqqType } from "./hqq.ts";

/** The types a matrix may get, leanest first. */
export const TYPE_LADDER = [
  "IQ1_S",
  "IQ1_M",
  "IQ2_XXS",
  "IQ2_XS",
  "IQ2_S",
  "Q2_K",
  "IQ3_XXS",
  "IQ3_S",
  "Q3_K",
  "IQ4_XS",
  "Q4_0",
  "IQ4_NL",
  "Q4_K",
  "Q4_1",
  "Q5_0",
  "Q5_K",
  "Q5_1",
  "Q6_K",
  "Q8_0",
  "F16",
] as const;
export type LadderType = typeof TYPE_LADDER[number];

/** Rows sampled per tensor to measure its sensitivity. */
const SAMPLE_ROWS = 64;

/** A matrix the allocator chooses a type for. */
export interface Candidate {
  readonly name: string;
  /** attention, dense, shared expert, routed expert, embeddings, output. */
  readonly role: string;
  /** How much of the model's output an error here reaches. */
  readonly weight: number;
  readonly elements: number;
  /** The rungs of the ladder its rows fit (K-quants need rows of whole 256-value blocks). */
  readonly types: readonly LadderType[];
  /** Bytes and relative squared error at each of its types. */
  readonly bytes: readonly number[];
  readonly relativeError: readonly number[];
}

/** A matrix's role and weight from its name (`routedShare`: k/n of a routed expert). */
export function roleOf(name: string, routedShare: number): { role: string; weight: number } {
  if (/_exps\.weight$/.test(name)) return { role: "routed expert", weight: routedShare };
  if (/_shexp\.weight$/.test(name)) return { role: "shared expert", weight: 1 };
  if (/\.attn_/.test(name)) return { role: "attention", weight: 1 };
  if (name === "token_embd.weight") return { role: "embeddings", weight: 1 };
  if (name === "output.weight") return { role: "output", weight: 1 };
  return { role: "dense", weight: 1 };
}

/** Whether the allocator may retype `info`: a matrix of whole blocks, not a router or norm. */
export function retypable(info: TensorInfo): boolean {
  return info.shape.length >= 2 && info.shape[0]! % 32 === 0 &&
    !/ffn_gate_inp|_norm|\.bias$|exp_probs_b/.test(info.name);
}

/** Quantizes `values` as `type` (HQQ for the affine types) into `out`. */
export function encode(type: string, values: Float32Array, out: Uint8Array): void {
  if ((HQQ_TYPES as readonly string[]).includes(type)) {
    hqqQuantize(type as HqqType, values, out);
  } else {
    quantizer(type).quantize(values, out);
  }
}

/** A matrix's measured sensitivity: its sampled relative error at each type its rows fit. */
export interface Sensitivity {
  readonly name: string;
  readonly cols: number;
  readonly elements: number;
  readonly types: readonly LadderType[];
  readonly relativeError: readonly number[];
  /**
   * At the types HQQ writes, the error ggml's round-to-nearest quantizer leaves instead (what
   * HQQ is compared with); null at the others.
   */
  readonly roundToNearestError: readonly (number | null)[];
}

/** The relative squared error `sample` keeps once encoded by `quantize` as `type`. */
function relativeError(
  type: string,
  sample: Float32Array,
  rows: number,
  signal: number,
  quantize: (values: Float32Array, out: Uint8Array) => void,
): number {
  const bytes = new Uint8Array(rowByteSize(ggmlType(type), sample.length / rows) * rows);
  quantize(sample, bytes);
  const back = new Float32Array(sample.length);
  quantFormat(type).dequantize(bytes, back);
  let error = 0;
  for (let i = 0; i < sample.length; i++) error += (back[i]! - sample[i]!) ** 2;
  return signal > 0 ? error / signal : 0;
}

/**
 * Every retypable matrix of `gguf`, its error at each type measured on a sample of its rows (and
 * at the HQQ types, ggml's round-to-nearest error too).
 */
export async function tensorSensitivity(gguf: GGUFFile): Promise<Sensitivity[]> {
  const measured: Sensitivity[] = [];
  for (const info of gguf.tensors.filter(retypable)) {
    const cols = info.shape[0]!;
    const rows = info.elements / cols;
    const format = quantFormat(info.typeName);
    const rowBytes = rowByteSize(format.type, cols);
    const sample = new Float32Array(Math.min(rows, SAMPLE_ROWS) * cols);
    const row = new Uint8Array(rowBytes);
    const picked = sample.length / cols;
    for (let i = 0; i < picked; i++) {
      const r = Math.floor((i * rows) / picked);
      await gguf.readBytes(info.offset + r * rowBytes, rowBytes, row);
      format.dequantize(row, sample.subarray(i * cols, (i + 1) * cols));
    }
    let signal = 0;
    for (const v of sample) signal += v * v;
    const types = TYPE_LADDER.filter((type) => cols % ggmlType(type).blockSize === 0);
    measured.push({
      name: info.name,
      cols,
      elements: info.elements,
      types,
      relativeError: types.map((type) =>
        relativeError(type, sample, picked, signal, (values, out) => encode(type, values, out))
      ),
      roundToNearestError: types.map((type) =>
        (HQQ_TYPES as readonly string[]).includes(type)
          ? relativeError(type, sample, picked, signal, quantizer(type).quantize)
          : null
      ),
    });
  }
  return measured;
}

/**
 * The allocator's candidates for a pruning: routed expert tensors keep `keptShare` of their
 * elements, and their errors weigh `routedShare` (k/n after the router adjustment).
 */
export function candidatesFor(
  measured: readonly Sensitivity[],
  routedShare: number,
  keptShare: number,
): Candidate[] {
  return measured.map((m) => {
    const elements = /_exps\.weight$/.test(m.name) ? m.elements * keptShare : m.elements;
    return {
      name: m.name,
      ...roleOf(m.name, routedShare),
      elements,
      types: m.types,
      bytes: m.types.map((type) => (elements / m.cols) * rowByteSize(ggmlType(type), m.cols)),
      relativeError: m.relativeError,
    };
  });
}

/** What the allocator chose. */
export interface Allocation {
  /** The rung of each candidate, by name. */
  readonly types: ReadonlyMap<string, LadderType>;
  /** Bytes of the candidates at their chosen types. */
  readonly bytes: number;
  /** Σ weight · relative error · elements: the damage the choice leaves. */
  readonly weightedError: number;
}

/**
 * The types for `candidates` within `budget` bytes (their share of it: the caller subtracts the
 * bytes of everything else), or null when even the leanest rung is over.
 */
export function allocateTypes(candidates: readonly Candidate[], budget: number): Allocation | null {
  const rung = candidates.map(() => 0);
  let bytes = candidates.reduce((sum, c) => sum + c.bytes[0]!, 0);
  if (bytes > budget) return null;
  const damage = (c: Candidate, r: number) => c.weight * c.relativeError[r]! * c.elements;
  for (;;) {
    // any richer rung, not only the next: a ladder by bytes is not always one by error
    let best: [number, number] | null = null;
    let bestGain = 0;
    for (const [i, c] of candidates.entries()) {
      const r = rung[i]!;
      for (let to = r + 1; to < c.types.length; to++) {
        const extra = c.bytes[to]! - c.bytes[r]!;
        if (bytes + extra > budget) continue;
        const gain = (damage(c, r) - damage(c, to)) / Math.max(extra, 1);
        if (gain > bestGain) [best, bestGain] = [[i, to], gain];
      }
    }
    if (best === null) break;
    const [i, to] = best;
    bytes += candidates[i]!.bytes[to]! - candidates[i]!.bytes[rung[i]!]!;
    rung[i] = to;
  }
  return {
    types: new Map(candidates.map((c, i) => [c.name, c.types[rung[i]!]!])),
    bytes,
    weightedError: candidates.reduce((sum, c, i) => sum + damage(c, rung[i]!), 0),
  };
}
