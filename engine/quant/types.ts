/**
 * The table of every ggml tensor type: its frozen GGUF id, name, block size, bytes per block and
 * block layout, as ggml defines them (`ggml/include/ggml.h`, `ggml/src/ggml-common.h`).
 *
 * Every other part of moebench (the GGUF reader and writer, the quantizers, the CPU and WGSL
 * kernels) takes sizes and field offsets from here, so that a layout is written down once.
 *
 * @example
 * ```ts
 * import { ggmlType, tensorByteSize } from "./types.ts";
 * const q4 = ggmlType("Q4_0");
 * console.log(q4.blockSize, q4.bytesPerBlock); // 32 18
 * console.log(tensorByteSize(q4, [4096, 14336])); // 33030144
 * ```
 * @module
 */

/** The element kinds a block field can hold. `f16` is an IEEE half stored as its 16 bits. */
export type FieldKind = "f16" | "f32" | "u8" | "i8" | "u16" | "i16";

/** Bytes per element of each field kind. */
export const FIELD_KIND_BYTES: Readonly<Record<FieldKind, number>> = {
  f16: 2,
  f32: 4,
  u8: 1,
  i8: 1,
  u16: 2,
  i16: 2,
};

/** One field of a block struct, e.g. `ggml_half d` is `{ name: "d", kind: "f16", count: 1 }`. */
export interface BlockField {
  readonly name: string;
  readonly kind: FieldKind;
  readonly count: number;
}

/** A field with its byte offset inside the block. */
export interface PlacedField extends BlockField {
  readonly offset: number;
}

/** What ggml says about one tensor type. */
export interface GGMLTypeInfo {
  /** The GGUF type id (frozen: it is what files store). */
  readonly id: number;
  /** The name as llama.cpp prints it in upper case, e.g. `Q4_K`. */
  readonly name: string;
  /** Elements per block (1 for plain float and integer types). */
  readonly blockSize: number;
  /** Bytes of one block. */
  readonly bytesPerBlock: number;
  /** Whether the type is a block-quantized format. */
  readonly quantized: boolean;
  /** The block struct, field by field, in memory order. */
  readonly fields: readonly PlacedField[];
}

/** Largest block size of any type (QK_K): tensors' rows must be a multiple of their type's block. */
export const QK_K = 256;

function info(
  id: number,
  name: string,
  blockSize: number,
  bytesPerBlock: number,
  quantized: boolean,
  fields: readonly BlockField[],
): GGMLTypeInfo {
  let offset = 0;
  const placed = fields.map((field) => {
    const at = { ...field, offset };
    offset += FIELD_KIND_BYTES[field.kind] * field.count;
    return at;
  });
  return { id, name, blockSize, bytesPerBlock, quantized, fields: placed };
}

const f = (name: string, kind: FieldKind, count = 1): BlockField => ({ name, kind, count });

/**
 * Every type ggml defines, by id. Ids 4, 5 and 31–33, 36–38 were removed from ggml and are
 * absent here, so a file using them is rejected by name.
 */
export const GGML_TYPES: readonly GGMLTypeInfo[] = [
  info(0, "F32", 1, 4, false, [f("value", "f32")]),
  info(1, "F16", 1, 2, false, [f("value", "f16")]),
  // block_q4_0: d, then 32 4-bit quants; element j in the low nibble of qs[j], j+16 in the high.
  info(2, "Q4_0", 32, 18, true, [f("d", "f16"), f("qs", "u8", 16)]),
  // block_q4_1: d and min m, quants as Q4_0; x = d*q + m.
  info(3, "Q4_1", 32, 20, true, [f("d", "f16"), f("m", "f16"), f("qs", "u8", 16)]),
  // block_q5_0: the fifth bit of each quant in qh (32 bits).
  info(6, "Q5_0", 32, 22, true, [f("d", "f16"), f("qh", "u8", 4), f("qs", "u8", 16)]),
  info(7, "Q5_1", 32, 24, true, [
    f("d", "f16"),
    f("m", "f16"),
    f("qh", "u8", 4),
    f("qs", "u8", 16),
  ]),
  info(8, "Q8_0", 32, 34, true, [f("d", "f16"), f("qs", "i8", 32)]),
  // block_q8_1: s = d * sum(qs), used for activations.
  info(9, "Q8_1", 32, 36, true, [f("d", "f16"), f("s", "f16"), f("qs", "i8", 32)]),
  // block_q2_K: 16 sub-blocks of 16; 4-bit scale and 4-bit min per sub-block.
  info(10, "Q2_K", QK_K, 84, true, [
    f("scales", "u8", 16),
    f("qs", "u8", 64),
    f("d", "f16"),
    f("dmin", "f16"),
  ]),
  // block_q3_K: high bits in hmask, 6-bit scales packed in 12 bytes.
  info(11, "Q3_K", QK_K, 110, true, [
    f("hmask", "u8", 32),
    f("qs", "u8", 64),
    f("scales", "u8", 12),
    f("d", "f16"),
  ]),
  // block_q4_K: 8 sub-blocks of 32; 6-bit scales and mins packed in 12 bytes.
  info(12, "Q4_K", QK_K, 144, true, [
    f("d", "f16"),
    f("dmin", "f16"),
    f("scales", "u8", 12),
    f("qs", "u8", 128),
  ]),
  info(13, "Q5_K", QK_K, 176, true, [
    f("d", "f16"),
    f("dmin", "f16"),
    f("scales", "u8", 12),
    f("qh", "u8", 32),
    f("qs", "u8", 128),
  ]),
  // block_q6_K: low 4 bits in ql, high 2 bits in qh, 8-bit scales per 16 elements.
  info(14, "Q6_K", QK_K, 210, true, [
    f("ql", "u8", 128),
    f("qh", "u8", 64),
    f("scales", "i8", 16),
    f("d", "f16"),
  ]),
  // block_q8_K: intermediate type for K-quant dot products; bsums are sums of 16 quants.
  info(15, "Q8_K", QK_K, 292, true, [f("d", "f32"), f("qs", "i8", 256), f("bsums", "i16", 16)]),
  info(16, "IQ2_XXS", QK_K, 66, true, [f("d", "f16"), f("qs", "u16", 32)]),
  info(17, "IQ2_XS", QK_K, 74, true, [f("d", "f16"), f("qs", "u16", 32), f("scales", "u8", 8)]),
  info(18, "IQ3_XXS", QK_K, 98, true, [f("d", "f16"), f("qs", "u8", 96)]),
  info(19, "IQ1_S", QK_K, 50, true, [f("d", "f16"), f("qs", "u8", 32), f("qh", "u16", 8)]),
  info(20, "IQ4_NL", 32, 18, true, [f("d", "f16"), f("qs", "u8", 16)]),
  info(21, "IQ3_S", QK_K, 110, true, [
    f("d", "f16"),
    f("qs", "u8", 64),
    f("qh", "u8", 8),
    f("signs", "u8", 32),
    f("scales", "u8", 4),
  ]),
  info(22, "IQ2_S", QK_K, 82, true, [
    f("d", "f16"),
    f("qs", "u8", 64),
    f("qh", "u8", 8),
    f("scales", "u8", 8),
  ]),
  info(23, "IQ4_XS", QK_K, 136, true, [
    f("d", "f16"),
    f("scales_h", "u16"),
    f("scales_l", "u8", 4),
    f("qs", "u8", 128),
  ]),
  info(24, "I8", 1, 1, false, [f("value", "i8")]),
  info(25, "I16", 1, 2, false, [f("value", "i16")]),
  // I32, I64 and F64 have no block struct; a single opaque field keeps the size checkable.
  info(26, "I32", 1, 4, false, [f("value", "u8", 4)]),
  info(27, "I64", 1, 8, false, [f("value", "u8", 8)]),
  info(28, "F64", 1, 8, false, [f("value", "u8", 8)]),
  // block_iq1_m: the f16 scale is spread over the top bits of `scales`.
  info(29, "IQ1_M", QK_K, 56, true, [f("qs", "u8", 32), f("qh", "u8", 16), f("scales", "u8", 8)]),
  info(30, "BF16", 1, 2, false, [f("value", "u16")]),
  info(34, "TQ1_0", QK_K, 54, true, [f("qs", "u8", 48), f("qh", "u8", 4), f("d", "f16")]),
  info(35, "TQ2_0", QK_K, 66, true, [f("qs", "u8", 64), f("d", "f16")]),
  // block_mxfp4: e8m0 shared exponent, 32 fp4 values.
  info(39, "MXFP4", 32, 17, true, [f("e", "u8"), f("qs", "u8", 16)]),
  // block_nvfp4: four e4m3 scales, one per 16 fp4 values.
  info(40, "NVFP4", 64, 36, true, [f("d", "u8", 4), f("qs", "u8", 32)]),
  info(41, "Q1_0", 128, 18, true, [f("d", "f16"), f("qs", "u8", 16)]),
  info(42, "Q2_0", 64, 18, true, [f("d", "f16"), f("qs", "u8", 16)]),
];

const byId = new Map(GGML_TYPES.map((t) => [t.id, t]));
const byName = new Map(GGML_TYPES.map((t) => [t.name, t]));

/** The type with this GGUF id, or `undefined` for ids ggml does not define (or removed). */
export function ggmlTypeById(id: number): GGMLTypeInfo | undefined {
  return byId.get(id);
}

/**
 * The type with this name (case-insensitive: `q4_k` and `Q4_K` both work).
 * @throws {RangeError} naming the known types when the name is not one of them.
 */
export function ggmlType(name: string): GGMLTypeInfo {
  const found = byName.get(name.toUpperCase());
  if (found) return found;
  throw new RangeError(
    `Unknown ggml type "${name}"; known types: ${GGML_TYPES.map((t) => t.name).join(", ")}`,
  );
}

/** A printable name for a type id, including ids ggml does not define. */
export function ggmlTypeName(id: number): string {
  return byId.get(id)?.name ?? `unknown type ${id}`;
}

/**
 * Byte offset of a field inside one block of `type`, from the table, so that kernels never
 * hard-code a layout.
 * @throws {RangeError} when the type has no such field.
 */
export function fieldOffset(type: GGMLTypeInfo, name: string): number {
  const field = type.fields.find((f) => f.name === name);
  if (!field) throw new RangeError(`${type.name} blocks have no field "${name}"`);
  return field.offset;
}

/** Number of elements of a tensor with this shape (ggml order: `shape[0]` is the row length). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/**
 * Bytes a tensor of this type and shape occupies. The row length `shape[0]` must be a multiple
 * of the type's block size.
 * @throws {RangeError} when it is not.
 */
export function tensorByteSize(type: GGMLTypeInfo, shape: readonly number[]): number {
  const rowLength = shape[0] ?? 1;
  if (rowLength % type.blockSize !== 0) {
    throw new RangeError(
      `Row length ${rowLength} is not a multiple of ${type.name}'s block size ${type.blockSize}`,
    );
  }
  return (elementCount(shape) / type.blockSize) * type.bytesPerBlock;
}

/** Bytes of one row (`shape[0]` elements) of this type. */
export function rowByteSize(type: GGMLTypeInfo, rowLength: number): number {
  return tensorByteSize(type, [rowLength]);
}
