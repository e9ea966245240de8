/**
 * The GGUF container's own types: metadata value types, metadata values and tensor infos.
 * Layout (all little-endian):
 *
 * ```
 * "GGUF" u32:version u64:tensor_count u64:kv_count
 * kv_count × { string:key u32:value_type value }
 * tensor_count × { string:name u32:n_dims u64[n_dims]:shape u32:ggml_type u64:offset }
 * padding to `general.alignment` (default 32), then tensor data (offsets are relative to it)
 * string = u64:length + UTF-8 bytes; array = u32:item_type u64:count + items
 * ```
 * @module
 */

/** The file's first four bytes. */
export const GGUF_MAGIC = "GGUF";
/** Versions this reader accepts (1 used 32-bit counts and is obsolete). */
export const GGUF_VERSIONS: readonly number[] = [2, 3];
/** The version moebench writes. */
export const GGUF_VERSION = 3;
/** Alignment of the data section and of each tensor when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** llama.cpp's limit on tensor name length (GGML_MAX_NAME − 1). */
export const GGUF_MAX_NAME_LENGTH = 63;
/** ggml tensors have at most four dimensions. */
export const GGUF_MAX_DIMS = 4;

/** Metadata value type ids as GGUF stores them. */
export const ValueType = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

/** Names of the scalar value types. */
export type ScalarTypeName = Exclude<keyof typeof ValueType, "array">;
/** Scalar types whose values are JavaScript numbers. */
export type NumberTypeName = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64";
/** Scalar types whose values are bigints (64-bit integers). */
export type BigIntTypeName = "u64" | "i64";

/** One metadata value with its GGUF type, so that a file can be written back unchanged. */
export type MetadataValue =
  | { readonly type: NumberTypeName; readonly value: number }
  | { readonly type: BigIntTypeName; readonly value: bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string }
  | MetadataArray;

/** An array value: GGUF arrays are homogeneous and never nested. */
export type MetadataArray =
  | { readonly type: "array"; readonly itemType: NumberTypeName; readonly value: readonly number[] }
  | { readonly type: "array"; readonly itemType: BigIntTypeName; readonly value: readonly bigint[] }
  | { readonly type: "array"; readonly itemType: "bool"; readonly value: readonly boolean[] }
  | { readonly type: "array"; readonly itemType: "string"; readonly value: readonly string[] };

/** Metadata in file order. */
export type Metadata = ReadonlyMap<string, MetadataValue>;

/** Where one tensor lives in a GGUF file. */
export interface TensorInfo {
  readonly name: string;
  /** ggml type id (see `engine/quant/types.ts`). */
  readonly typeId: number;
  /** ggml type name, e.g. `Q4_K`. */
  readonly typeName: string;
  /** Dimensions in ggml order: `shape[0]` is the row length (the contiguous one). */
  readonly shape: readonly number[];
  readonly elements: number;
  /** Absolute byte offset of the tensor's data in the file. */
  readonly offset: number;
  /** Byte size of the tensor's data. */
  readonly bytes: number;
}

/** Byte size of each fixed-size scalar type (strings are variable). */
export const SCALAR_BYTES: Readonly<Record<Exclude<ScalarTypeName, "string">, number>> = {
  u8: 1,
  i8: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  bool: 1,
  u64: 8,
  i64: 8,
  f64: 8,
};

const typeNamesById = new Map<number, keyof typeof ValueType>(
  Object.entries(ValueType).map(([name, id]) => [id, name as keyof typeof ValueType]),
);

/** The value type name for a stored id, or `undefined` for ids GGUF does not define. */
export function valueTypeName(id: number): keyof typeof ValueType | undefined {
  return typeNamesById.get(id);
}

// --- constructors for metadata values, so that writers read naturally ---

/** A `u32` metadata value. */
export const u32 = (value: number): MetadataValue => ({ type: "u32", value });
/** An `i32` metadata value. */
export const i32 = (value: number): MetadataValue => ({ type: "i32", value });
/** An `f32` metadata value. */
export const f32 = (value: number): MetadataValue => ({ type: "f32", value });
/** A `bool` metadata value. */
export const bool = (value: boolean): MetadataValue => ({ type: "bool", value });
/** A `string` metadata value. */
export const str = (value: string): MetadataValue => ({ type: "string", value });
/** An array of strings. */
export const strings = (value: readonly string[]): MetadataValue => ({
  type: "array",
  itemType: "string",
  value,
});
/** An array of numbers of one numeric type. */
export const numbers = (itemType: NumberTypeName, value: readonly number[]): MetadataValue => ({
  type: "array",
  itemType,
  value,
});
