/**
 * The expert store: where every routed expert's bytes are. An expert (layer l, expert e) is the
 * e-th slice of each of the layer's stacked `ffn_{gate,up,down}_exps` tensors, each in its own
 * quantized type; the store knows each slice's file offset and size, and how the three sit in a
 * cache slot (one after another, 64-byte aligned). Keys number experts `l · experts + e`.
 *
 * @example
 * ```ts
 * import { ExpertStore } from "./store.ts";
 * import { openGGUF } from "../gguf/read.ts";
 * import { readConfig } from "../model/config.ts";
 * import { synthesize } from "../synth/synth.ts";
 * const out = await Deno.makeTempFile({ suffix: ".gguf" });
 * await synthesize({ preset: "tiny-mixtral", out, type: "Q4_0" });
 * using gguf = await openGGUF(out);
 * const store = ExpertStore.fromGGUF(gguf, readConfig(gguf));
 * console.log(store.bytesOf(0) > 0, store.totalBytes === store.expertBytes(0) * 8 * 2); // true true
 * ```
 * @module
 */
import type { GGUFFile } from "../gguf/read.ts";
import { vecDotType } from "../quant/activations.ts";
import type { QuantFormat } from "../quant/format.ts";
import type { ModelConfig } from "../model/config.ts";
import type { MatrixFactory } from "../model/matrix.ts";
import { type FeedForward, type Numerics, tensorFormat } from "../model/weights.ts";

/** Alignment of each matrix in a slot (a cache line, as the kernels like). */
const PART_ALIGN = 64;

/** The parts of an expert, in slot order. */
export const EXPERT_PARTS = ["gate", "up", "down"] as const;
export type ExpertPart = typeof EXPERT_PARTS[number];

/** One matrix of a layer's experts: expert e's bytes start at `fileOffset + e · bytes`. */
export interface PartLayout {
  readonly part: ExpertPart;
  readonly format: QuantFormat;
  readonly rows: number;
  readonly cols: number;
  readonly fileOffset: number;
  /** Bytes of one expert's slice. */
  readonly bytes: number;
  /** Where the slice goes in a slot. */
  readonly slotOffset: number;
}

/** How one MoE layer's experts are stored. */
export interface LayerExperts {
  readonly parts: readonly PartLayout[];
  /** Bytes of one expert (its three slices). */
  readonly bytes: number;
  /** Bytes of a slot holding one (the slices aligned). */
  readonly slotBytes: number;
  /** Layers with the same types and shapes share an id (and slot views). */
  readonly layoutId: number;
}

/** Every routed expert of a model: sizes, file places, slot layouts. */
export class ExpertStore {
  private constructor(
    readonly path: string,
    readonly experts: number,
    /** Per layer; null for dense layers (DeepSeek's leading ones). */
    readonly layers: readonly (LayerExperts | null)[],
  ) {}

  /** @throws {GGUFError} naming a missing expert tensor or an unsupported type. */
  static fromGGUF(gguf: GGUFFile, config: ModelConfig): ExpertStore {
    const layouts: string[] = [];
    const layers = Array.from({ length: config.layers }, (_, l) => {
      if (l < config.leadingDenseBlocks) return null;
      let slotOffset = 0;
      const parts = EXPERT_PARTS.map((part) => {
        const info = gguf.tensor(`blk.${l}.ffn_${part}_exps.weight`);
        const layout = {
          part,
          format: tensorFormat(gguf, info),
          rows: info.shape[1]!,
          cols: info.shape[0]!,
          fileOffset: info.offset,
          bytes: info.bytes / config.experts,
          slotOffset,
        };
        slotOffset = Math.ceil((slotOffset + layout.bytes) / PART_ALIGN) * PART_ALIGN;
        return layout;
      });
      const signature = parts.map((p) => `${p.format.type.name}:${p.rows}x${p.cols}`).join(",");
      let layoutId = layouts.indexOf(signature);
      if (layoutId < 0) layoutId = layouts.push(signature) - 1;
      const bytes = parts.reduce((sum, p) => sum + p.bytes, 0);
      return { parts, bytes, slotBytes: slotOffset, layoutId };
    });
    return new ExpertStore(gguf.path, config.experts, layers);
  }

  /** Bytes of every expert of `layer` (0 for a dense layer). */
  expertBytes(layer: number): number {
    return this.layers[layer]?.bytes ?? 0;
  }

  /** Bytes of the expert with `key`. */
  bytesOf(key: number): number {
    return this.expertBytes(Math.floor(key / this.experts));
  }

  /** All routed experts' bytes. */
  get totalBytes(): number {
    return this.layers.reduce((sum, layer) => sum + (layer ? layer.bytes * this.experts : 0), 0);
  }

  /** Bytes of one cache slot: the largest expert of any layer, its slices aligned. */
  get slotBytes(): number {
    return Math.max(0, ...this.layers.map((layer) => layer?.slotBytes ?? 0));
  }

  /** Layers with routed experts. */
  get moeLayers(): number {
    return this.layers.filter((layer) => layer !== null).length;
  }

  /**
   * Reads expert `expert` of `layer` from `gguf` into matrices `matrix` makes (a backend's, for
   * an expert kept apart from its stacked tensors: hybrid placement).
   */
  async readExpert<M>(
    gguf: GGUFFile,
    layer: number,
    expert: number,
    matrix: MatrixFactory<M>,
    numerics: Numerics,
  ): Promise<FeedForward<M>> {
    const parts = this.layers[layer]!.parts.map((p) => {
      const start = p.fileOffset + expert * p.bytes;
      const activations = numerics === "ggml" ? vecDotType(p.format.type.name) : null;
      return matrix(
        p.format,
        p.rows,
        p.cols,
        p.bytes,
        (into, at) => gguf.readBytes(start + at, into.length, into),
        activations,
      );
    });
    const [gate, up, down] = await Promise.all(parts);
    return { gate: gate!, up: up!, down: down! };
  }
}
