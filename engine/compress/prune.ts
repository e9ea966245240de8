/**
 * Expert pruning: remove the least important experts of every MoE layer and rewrite the model.
 * GGUF (and llama.cpp) has one expert count for all layers, so every layer keeps the same number
 * of experts — each its own most important ones. The stacked `ffn_{gate,up,down}_exps` tensors
 * keep the kept experts' slices, the router (`ffn_gate_inp`) their rows, DeepSeek's selection
 * bias (`exp_probs_b`) their entries; `expert_count` becomes the kept count.
 *
 * Router adjustment (Moxin's activation adjustment): with fewer experts, each token activates
 * proportionally fewer, `expert_used_count` = max(1, round(k · kept / experts)) (halves round
 * up), so the active compute per token shrinks with the model.
 *
 * @example
 * ```ts ignore
 * import { prunePlan, writeCompressed } from "./prune.ts";
 * const plan = prunePlan(gguf, layers, 0.25);
 * await writeCompressed(gguf, plan, new Map(), "pruned.gguf");
 * ```
 * @module
 */
import type { GGUFFile } from "../gguf/read.ts";
import { type Metadata, type TensorInfo, u32 } from "../gguf/types.ts";
import { type TensorToWrite, writeGGUF } from "../gguf/write.ts";
import { readConfig } from "../model/config.ts";
import { type LayerImportance, mostImportant } from "./importance.ts";
import { encode } from "./mixed.ts";
import { quantFormat } from "../quant/registry.ts";
import { ggmlType } from "../quant/types.ts";

/** What pruning will do. */
export interface PrunePlan {
  readonly experts: number;
  readonly kept: number;
  readonly expertsUsed: number;
  readonly keptUsed: number;
  /** Per MoE layer: the experts kept, ascending. */
  readonly keep: ReadonlyMap<number, readonly number[]>;
  /** Bytes of the file's tensors before and after. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/**
 * Tensors pruning slices by expert: the stacked experts and the selection bias (along their last
 * dimension) and the router (one row per expert, also its last dimension in ggml order).
 */
const PER_EXPERT =
  /^blk\.(\d+)\.(ffn_(gate|up|down|gate_up)_exps\.weight|exp_probs_b\.bias|ffn_gate_inp\.weight)$/;

/** The layer of a tensor pruning slices by expert, or null for one it keeps whole. */
export function perExpertLayer(name: string): number | null {
  const match = PER_EXPERT.exec(name);
  return match ? Number(match[1]) : null;
}

/** Bytes of a tensor once `kept` of its `experts` remain. */
export function prunedBytes(info: TensorInfo, experts: number, kept: number): number {
  return perExpertLayer(info.name) === null ? info.bytes : (info.bytes / experts) * kept;
}

/** The router adjustment's top-k for `kept` of `experts` experts. */
export function adjustedTopK(expertsUsed: number, experts: number, kept: number): number {
  return Math.min(kept, Math.max(1, Math.floor((expertsUsed * kept) / experts + 0.5)));
}

/**
 * The plan that prunes `ratio` of each MoE layer's experts (rounded to whole experts, at least
 * the top-k kept), choosing by `importance`.
 * @throws {RangeError} for a dense model, group-routed experts, or a ratio leaving too few.
 */
export function prunePlan(
  gguf: GGUFFile,
  importance: readonly LayerImportance[],
  ratio: number,
): PrunePlan {
  const config = readConfig(gguf);
  if (config.experts === 0) throw new RangeError(`${gguf.path}: a dense model has no experts`);
  if (config.router.groups > 1) {
    throw new RangeError(
      `${gguf.path}: experts are routed in groups; pruning would break the groups`,
    );
  }
  if (!(ratio >= 0 && ratio < 1)) throw new RangeError(`the prune ratio must be in [0, 1)`);
  const kept = config.experts - Math.round(config.experts * ratio);
  if (kept < config.expertsUsed && kept < 2) {
    throw new RangeError(`pruning ${ratio} leaves ${kept} experts: too few to route between`);
  }
  const keep = new Map<number, number[]>();
  for (let layer = config.leadingDenseBlocks; layer < config.layers; layer++) {
    const figures = importance.find((l) => l.layer === layer);
    if (!figures) throw new RangeError(`the calibration trace has no routing for layer ${layer}`);
    keep.set(layer, mostImportant(figures.importance, kept));
  }
  const bytesBefore = gguf.tensors.reduce((sum, t) => sum + t.bytes, 0);
  const bytesAfter = gguf.tensors.reduce(
    (sum, t) => sum + prunedBytes(t, config.experts, kept),
    0,
  );
  return {
    experts: config.experts,
    kept,
    expertsUsed: config.expertsUsed,
    keptUsed: adjustedTopK(config.expertsUsed, config.experts, kept),
    keep,
    bytesBefore,
    bytesAfter,
  };
}

/**
 * Writes `gguf` pruned as `plan` says to `out` (atomically), each tensor named in `types`
 * converted to that type (decoded, then encoded: HQQ for the affine types), expert by expert for
 * the stacked expert tensors so memory stays at one expert's values.
 */
export async function writeCompressed(
  gguf: GGUFFile,
  plan: PrunePlan,
  types: ReadonlyMap<string, string>,
  out: string,
  onProgress?: (written: number, total: number) => void,
): Promise<number> {
  const arch = gguf.architecture;
  const metadata: Metadata = new Map([
    ...gguf.metadata,
    [`${arch}.expert_count`, u32(plan.kept)],
    [`${arch}.expert_used_count`, u32(plan.keptUsed)],
  ]);
  const tensors: TensorToWrite[] = gguf.tensors.map((info) => {
    const layer = perExpertLayer(info.name);
    const typeName = types.get(info.name) ?? info.typeName;
    const convert = typeName === info.typeName ? null : converter(info.typeName, typeName);
    if (layer === null) {
      const data = convert
        ? async function* () {
          yield convert(await gguf.readTensor(info));
        }
        : copy(gguf, info);
      return { name: info.name, typeName, shape: info.shape, data };
    }
    const kept = plan.keep.get(layer)!;
    const slice = info.bytes / plan.experts;
    const shape = [...info.shape];
    shape[shape.length - 1] = plan.kept;
    return {
      name: info.name,
      typeName,
      shape,
      data: async function* () {
        const buffer = new Uint8Array(slice);
        for (const expert of kept) {
          const bytes = await gguf.readBytes(info.offset + expert * slice, slice, buffer);
          yield convert ? convert(bytes) : bytes;
        }
      },
    };
  });
  const { bytes } = await writeGGUF(out, { metadata, tensors }, onProgress ? { onProgress } : {});
  return bytes;
}

/** Blocks of type `from` re-encoded as type `to`. */
function converter(from: string, to: string): (bytes: Uint8Array) => Uint8Array {
  const source = quantFormat(from);
  const target = ggmlType(to);
  return (bytes) => {
    const values = new Float32Array(
      (bytes.length / source.type.bytesPerBlock) * source.type.blockSize,
    );
    source.dequantize(bytes, values);
    const out = new Uint8Array((values.length / target.blockSize) * target.bytesPerBlock);
    encode(to, values, out);
    return out;
  };
}

/** A tensor's bytes, read in pieces of at most 16 MiB. */
function copy(gguf: GGUFFile, info: { offset: number; bytes: number }) {
  return async function* () {
    const piece = 16 << 20;
    const buffer = new Uint8Array(Math.min(piece, info.bytes));
    for (let at = 0; at < info.bytes; at += piece) {
      const length = Math.min(piece, info.bytes - at);
      yield await gguf.readBytes(info.offset + at, length, buffer.subarray(0, length));
    }
  };
}
