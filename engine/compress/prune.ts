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
 * import { prunePlan, writePruned } from "./prune.ts";
 * const plan = prunePlan(gguf, layers, 0.25);
 * await writePruned(gguf, plan, "pruned.gguf");
 * ```
 * @module
 */
import type { GGUFFile } from "../gguf/read.ts";
import { type Metadata, u32 } from "../gguf/types.ts";
import { type TensorToWrite, writeGGUF } from "../gguf/write.ts";
import { readConfig } from "../model/config.ts";
import { type LayerImportance, mostImportant } from "./importance.ts";

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

/** Per-expert tensors: sliced along their last dimension (experts). */
const STACKED = /^blk\.(\d+)\.(ffn_(gate|up|down|gate_up)_exps\.weight|exp_probs_b\.bias)$/;
/** The router: one row per expert. */
const ROUTER = /^blk\.(\d+)\.ffn_gate_inp\.weight$/;

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
  const bytesAfter = gguf.tensors.reduce((sum, t) => {
    const sliced = STACKED.test(t.name) || ROUTER.test(t.name);
    return sum + (sliced ? (t.bytes / config.experts) * kept : t.bytes);
  }, 0);
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

/** Writes `gguf` pruned as `plan` says to `out` (atomically). */
export async function writePruned(
  gguf: GGUFFile,
  plan: PrunePlan,
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
    const stacked = STACKED.exec(info.name) ?? ROUTER.exec(info.name);
    if (!stacked) {
      return {
        name: info.name,
        typeName: info.typeName,
        shape: info.shape,
        data: copy(gguf, info),
      };
    }
    const kept = plan.keep.get(Number(stacked[1]))!;
    const slice = info.bytes / plan.experts;
    const shape = [...info.shape];
    shape[shape.length - 1] = plan.kept;
    return {
      name: info.name,
      typeName: info.typeName,
      shape,
      data: async function* () {
        const buffer = new Uint8Array(slice);
        for (const expert of kept) {
          yield await gguf.readBytes(info.offset + expert * slice, slice, buffer);
        }
      },
    };
  });
  const { bytes } = await writeGGUF(out, { metadata, tensors }, onProgress ? { onProgress } : {});
  return bytes;
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
