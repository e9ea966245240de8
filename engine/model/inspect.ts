/**
 * A summary of a GGUF model for people and scripts: architecture, hyperparameters, tokenizer,
 * tensors, bytes per type, and the expert layout that offloading works with.
 *
 * @example
 * ```ts
 * import { inspectModel } from "./inspect.ts";
 * import { openGGUF } from "../gguf/read.ts";
 * import { synthesize } from "../synth/synth.ts";
 * const out = await Deno.makeTempFile({ suffix: ".gguf" });
 * await synthesize({ preset: "tiny-mixtral", out });
 * using gguf = await openGGUF(out);
 * const summary = inspectModel(gguf);
 * console.log(summary.architecture, summary.experts?.count); // llama 8
 * ```
 * @module
 */
import { fileTypeName } from "../gguf/file_type.ts";
import type { GGUFFile } from "../gguf/read.ts";
import type { MetadataValue } from "../gguf/types.ts";

/** One tensor as `inspect --json` lists it. */
export interface TensorSummary {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly bytes: number;
}

/** Bytes and tensor count of one ggml type in the file. */
export interface TypeShare {
  readonly tensors: number;
  readonly bytes: number;
  /** Fraction of all tensor bytes. */
  readonly share: number;
}

/** The routed experts: what offloading moves between memory tiers. */
export interface ExpertSummary {
  /** Experts per MoE layer. */
  readonly count: number;
  /** Experts each token uses (top-k), when the metadata says. */
  readonly used: number | null;
  /** Layers that have routed experts. */
  readonly layers: number;
  /** Bytes of one expert (its gate, up and down slices) in each MoE layer, by layer index. */
  readonly bytesPerExpert: Readonly<Record<string, number>>;
  /** Bytes of all routed experts together. */
  readonly totalBytes: number;
  /** Bytes of everything else (attention, norms, routers, embeddings, shared experts). */
  readonly residentBytes: number;
}

/** Everything `moebench inspect` shows. */
export interface ModelSummary {
  readonly file: { readonly path: string; readonly bytes: number; readonly version: number };
  readonly architecture: string;
  readonly name: string | null;
  /** `general.file_type` as llama.cpp names it (e.g. `Q4_K_M`), when present. */
  readonly fileType: string | null;
  /** Every `ARCH.*` metadata key, without the prefix (arrays shown by their length). */
  readonly hyperparameters: Readonly<Record<string, number | string | boolean>>;
  readonly tokenizer: {
    readonly model: string | null;
    readonly pre: string | null;
    readonly tokens: number;
    readonly merges: number;
    readonly bos: number | null;
    readonly eos: number | null;
  };
  readonly tensorCount: number;
  readonly tensorBytes: number;
  /** Bytes per ggml type: the quantization mix. */
  readonly types: Readonly<Record<string, TypeShare>>;
  readonly experts: ExpertSummary | null;
  /**
   * Bytes of weights one decode step reads: every tensor but the routed experts and the token
   * embeddings (one row of them, unless the output projection is tied to them), plus the `used`
   * experts of every MoE layer. Null for a MoE model whose top-k the metadata does not give.
   */
  readonly activeBytesPerToken: number | null;
  readonly tensors: readonly TensorSummary[];
}

/** Routed-expert tensors: `blk.N.ffn_{gate,up,down,gate_up}_exps.weight`, experts as dim 2. */
const EXPERT_TENSOR = /^blk\.(\d+)\.ffn_[a-z_]+_exps\.weight$/;

/** Summarises an opened GGUF file (metadata and tensor index only; no tensor data is read). */
export function inspectModel(gguf: GGUFFile): ModelSummary {
  const arch = gguf.architecture;
  const hyperparameters: Record<string, number | string | boolean> = {};
  for (const [key, value] of gguf.metadata) {
    if (key.startsWith(`${arch}.`)) hyperparameters[key.slice(arch.length + 1)] = plain(value);
  }
  const optionalNumber = (key: string) => (gguf.has(key) ? gguf.getNumber(key) : null);
  const optionalString = (key: string) => (gguf.has(key) ? gguf.getString(key) : null);
  const lengthOf = (key: string) => {
    const value = gguf.metadata.get(key);
    return value?.type === "array" ? value.value.length : 0;
  };
  const fileTypeId = optionalNumber("general.file_type");

  const tensors = gguf.tensors.map((t) => ({
    name: t.name,
    type: t.typeName,
    shape: t.shape,
    offset: t.offset,
    bytes: t.bytes,
  }));
  const tensorBytes = tensors.reduce((sum, t) => sum + t.bytes, 0);
  const types: Record<string, TypeShare> = {};
  for (const t of tensors) {
    const share = types[t.type] ?? { tensors: 0, bytes: 0, share: 0 };
    types[t.type] = { tensors: share.tensors + 1, bytes: share.bytes + t.bytes, share: 0 };
  }
  for (const [type, share] of Object.entries(types)) {
    types[type] = { ...share, share: tensorBytes ? share.bytes / tensorBytes : 0 };
  }

  const experts = summariseExperts(
    tensors,
    tensorBytes,
    optionalNumber(`${arch}.expert_used_count`),
  );
  return {
    file: { path: gguf.path, bytes: gguf.fileSize, version: gguf.version },
    architecture: arch,
    name: optionalString("general.name"),
    fileType: fileTypeId === null ? null : fileTypeName(fileTypeId),
    hyperparameters,
    tokenizer: {
      model: optionalString("tokenizer.ggml.model"),
      pre: optionalString("tokenizer.ggml.pre"),
      tokens: lengthOf("tokenizer.ggml.tokens"),
      merges: lengthOf("tokenizer.ggml.merges"),
      bos: optionalNumber("tokenizer.ggml.bos_token_id"),
      eos: optionalNumber("tokenizer.ggml.eos_token_id"),
    },
    tensorCount: tensors.length,
    tensorBytes,
    types,
    experts,
    activeBytesPerToken: activeBytesPerToken(tensors, tensorBytes, experts),
    tensors,
  };
}

function activeBytesPerToken(
  tensors: readonly TensorSummary[],
  tensorBytes: number,
  experts: ExpertSummary | null,
): number | null {
  const embeddings = tensors.find((t) => t.name === "token_embd.weight");
  const tied = !tensors.some((t) => t.name === "output.weight");
  const unreadEmbeddingBytes = embeddings && !tied
    ? embeddings.bytes - embeddings.bytes / (embeddings.shape[1] ?? 1)
    : 0;
  if (experts === null) return tensorBytes - unreadEmbeddingBytes;
  if (experts.used === null) return null;
  const used = experts.used;
  const usedExpertBytes = Object.values(experts.bytesPerExpert)
    .reduce((sum, bytes) => sum + bytes * used, 0);
  return experts.residentBytes - unreadEmbeddingBytes + usedExpertBytes;
}

function summariseExperts(
  tensors: readonly TensorSummary[],
  tensorBytes: number,
  used: number | null,
): ExpertSummary | null {
  const bytesPerExpert: Record<string, number> = {};
  let count = 0;
  let totalBytes = 0;
  for (const t of tensors) {
    const match = EXPERT_TENSOR.exec(t.name);
    if (!match || t.shape.length !== 3) continue;
    const experts = t.shape[2]!;
    count = Math.max(count, experts);
    const layer = match[1]!;
    bytesPerExpert[layer] = (bytesPerExpert[layer] ?? 0) + t.bytes / experts;
    totalBytes += t.bytes;
  }
  const layers = Object.keys(bytesPerExpert).length;
  if (layers === 0) return null;
  return {
    count,
    used,
    layers,
    bytesPerExpert,
    totalBytes,
    residentBytes: tensorBytes - totalBytes,
  };
}

/** A metadata value as plain JSON: arrays become their length, f32 its shortest decimal. */
function plain(value: MetadataValue): number | string | boolean {
  if (value.type === "array") return `[${value.itemType} × ${value.value.length}]`;
  if (value.type === "f32") return shortestF32(value.value);
  if (typeof value.value === "bigint") return Number(value.value);
  return value.value;
}

/** The shortest decimal that reads back as the same f32 (1e-5, not 0.000009999999747378752). */
function shortestF32(value: number): number {
  for (let digits = 1; digits < 17; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}
