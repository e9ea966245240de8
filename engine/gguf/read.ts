/**
 * The GGUF reader: header, metadata and tensor index, every count, length and offset checked
 * against the file's size before anything is allocated. Tensor bytes are read on demand.
 *
 * @example
 * ```ts
 * import { openGGUF } from "./read.ts";
 * import { writeGGUF } from "./write.ts";
 * import { str } from "./types.ts";
 * const path = await Deno.makeTempFile({ suffix: ".gguf" });
 * await writeGGUF(path, {
 *   metadata: new Map([["general.architecture", str("llama")]]),
 *   tensors: [{ name: "a", typeName: "F32", shape: [4], data: new Uint8Array(16) }],
 * });
 * using gguf = await openGGUF(path);
 * console.log(gguf.architecture, gguf.tensors.map((t) => t.name)); // llama [ "a" ]
 * ```
 * @module
 */
import { GGUFError } from "./errors.ts";
import { type ByteSource, fileSource } from "./source.ts";
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GGUF_MAX_NAME_LENGTH,
  GGUF_VERSIONS,
  type Metadata,
  type MetadataValue,
  SCALAR_BYTES,
  type ScalarTypeName,
  type TensorInfo,
  valueTypeName,
} from "./types.ts";
import { ggmlTypeById } from "../quant/types.ts";

/** No legitimate metadata string comes near this; a larger one is a corrupt length. */
const MAX_STRING_BYTES = 64 * 1024 * 1024;
/** Far above any real array (vocabularies have ~10⁵–10⁶ entries); bounds memory for hostile files. */
const MAX_ARRAY_ITEMS = 1 << 24;
/** Bytes fetched per header read. */
const WINDOW_BYTES = 1 << 20;
/** Smallest encodings, used to reject counts that could not fit in the rest of the file. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1; // key length, one key byte, type, one value byte
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 4 + 8; // name length, one name byte, n_dims, type, offset

const utf8 = new TextEncoder();
const NUMBER_ITEM_TYPES = new Set(["u8", "i8", "u16", "i16", "u32", "i32", "f32", "f64"]);

/** A parsed GGUF file: its metadata and tensor index, with the file kept open for tensor reads. */
export class GGUFFile implements Disposable {
  readonly #source: ByteSource;
  readonly #tensorsByName: Map<string, TensorInfo>;

  constructor(
    source: ByteSource,
    /** GGUF version (2 or 3). */
    readonly version: number,
    /** Every metadata key and value, in file order. */
    readonly metadata: Metadata,
    /** Every tensor, in file order. */
    readonly tensors: readonly TensorInfo[],
    /** Alignment of tensor data (`general.alignment`, default 32). */
    readonly alignment: number,
    /** Absolute offset where tensor data begins. */
    readonly dataOffset: number,
  ) {
    this.#source = source;
    this.#tensorsByName = new Map(tensors.map((t) => [t.name, t]));
  }

  /** The file's path (or the source's name). */
  get path(): string {
    return this.#source.name;
  }

  /** File size in bytes. */
  get fileSize(): number {
    return this.#source.size;
  }

  /** `general.architecture`, e.g. `llama`, `qwen2moe`. */
  get architecture(): string {
    return this.getString("general.architecture");
  }

  /** The tensor with this name, or `undefined`. */
  findTensor(name: string): TensorInfo | undefined {
    return this.#tensorsByName.get(name);
  }

  /** The tensor with this name; a missing tensor is an error naming it. */
  tensor(name: string): TensorInfo {
    const info = this.#tensorsByName.get(name);
    if (!info) throw this.#error(`tensor "${name}" is missing`);
    return info;
  }

  /** Whether the metadata has this key. */
  has(key: string): boolean {
    return this.metadata.has(key);
  }

  /** A string value; missing or of another type is an error naming the key. */
  getString(key: string): string {
    const value = this.#get(key);
    if (value.type !== "string") throw this.#wrongType(key, "a string", value);
    return value.value;
  }

  /** A numeric value of any numeric type (64-bit integers must fit in a double exactly). */
  getNumber(key: string): number {
    const value = this.#get(key);
    if (typeof value.value === "number") return value.value;
    if (typeof value.value === "bigint") {
      const asNumber = Number(value.value);
      if (Number.isSafeInteger(asNumber)) return asNumber;
    }
    throw this.#wrongType(key, "a number", value);
  }

  /** Like `getNumber`, but `fallback` when the key is absent. */
  getNumberOr(key: string, fallback: number): number {
    return this.metadata.has(key) ? this.getNumber(key) : fallback;
  }

  /** An array of strings. */
  getStrings(key: string): readonly string[] {
    const value = this.#get(key);
    if (value.type !== "array" || value.itemType !== "string") {
      throw this.#wrongType(key, "an array of strings", value);
    }
    return value.value;
  }

  /** An array of numbers (any numeric item type but 64-bit integers). */
  getNumbers(key: string): readonly number[] {
    const value = this.#get(key);
    if (value.type !== "array" || !NUMBER_ITEM_TYPES.has(value.itemType)) {
      throw this.#wrongType(key, "an array of numbers", value);
    }
    return value.value as readonly number[];
  }

  /** Reads a tensor's bytes, into `into` when given (it must have exactly `info.bytes`). */
  async readTensor(info: TensorInfo, into?: Uint8Array): Promise<Uint8Array> {
    return await this.readBytes(info.offset, info.bytes, into);
  }

  /** Reads `length` bytes at absolute `offset`. */
  async readBytes(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const target = into ?? new Uint8Array(length);
    if (target.length !== length) {
      throw new RangeError(`Buffer of ${target.length} bytes given for ${length} bytes`);
    }
    await this.#source.read(offset, target);
    return target;
  }

  close(): void {
    this.#source.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #get(key: string): MetadataValue {
    const value = this.metadata.get(key);
    if (!value) throw this.#error(`metadata key "${key}" is missing`);
    return value;
  }

  #wrongType(key: string, expected: string, value: MetadataValue): GGUFError {
    const actual = value.type === "array" ? `an array of ${value.itemType}` : value.type;
    return this.#error(`metadata key "${key}" should be ${expected}, but is ${actual}`);
  }

  #error(problem: string): GGUFError {
    return new GGUFError(this.#source.name, problem);
  }
}

/**
 * Opens and parses a GGUF file. The file stays open for `readTensor` until `close()` (or the
 * end of a `using` block).
 * @throws {GGUFError} for any malformed, truncated or unsupported file.
 */
export async function openGGUF(path: string): Promise<GGUFFile> {
  let source: ByteSource;
  try {
    source = await fileSource(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "no such file" : String(
      error instanceof Error ? error.message : error,
    );
    throw new GGUFError(path, reason, undefined, { cause: error });
  }
  try {
    return await parseGGUF(source);
  } catch (error) {
    source.close();
    throw error;
  }
}

/**
 * Parses the header, metadata and tensor index of a GGUF held by `source`.
 * @throws {GGUFError} for any malformed, truncated or unsupported content.
 */
export async function parseGGUF(source: ByteSource): Promise<GGUFFile> {
  const cursor = new Cursor(source);
  const fail = (problem: string, at = cursor.position): never => {
    throw new GGUFError(source.name, problem, at);
  };

  // header
  if (source.size < 24) fail(`file is ${source.size} bytes, too small for a GGUF header`, 0);
  cursor.context = "the header";
  await cursor.need(24);
  const magic = cursor.bytes(4);
  if (String.fromCharCode(...magic) !== GGUF_MAGIC) {
    fail(`magic is ${printable(magic)}, expected "${GGUF_MAGIC}"`, 0);
  }
  const version = cursor.u32();
  if (!GGUF_VERSIONS.includes(version)) {
    const swapped = ((version & 0xff) << 24 | (version & 0xff00) << 8 | (version >>> 8) & 0xff00 |
      version >>> 24) >>> 0;
    if (GGUF_VERSIONS.includes(swapped)) fail("big-endian GGUF files are not supported", 4);
    fail(`version ${version} is not supported (expected ${GGUF_VERSIONS.join(" or ")})`, 4);
  }
  const tensorCount = cursor.count(
    "tensor count",
    MIN_TENSOR_INFO_BYTES,
    source.size - cursor.position - 8,
  );
  const kvCount = cursor.count("metadata count", MIN_KV_BYTES, source.size - cursor.position);

  // metadata
  const metadata = new Map<string, MetadataValue>();
  for (let i = 0; i < kvCount; i++) {
    cursor.context = `metadata entry ${i}`;
    const keyAt = cursor.position;
    const key = await cursor.string("key", true);
    if (key.length === 0) fail(`metadata entry ${i} has an empty key`, keyAt);
    if (metadata.has(key)) fail(`metadata key "${key}" appears twice`, keyAt);
    cursor.context = `metadata key "${key}"`;
    metadata.set(key, await readValue(cursor, key, fail));
  }

  const alignmentValue = metadata.get("general.alignment");
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if (alignmentValue) {
    if (alignmentValue.type !== "u32") {
      fail(`general.alignment should be a u32, but is ${alignmentValue.type}`);
    }
    alignment = alignmentValue.value as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
      fail(`general.alignment ${alignment} is not a power of two`);
    }
  }

  // tensor index
  const pending: { name: string; typeId: number; shape: number[]; relative: number; at: number }[] =
    [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    cursor.context = `tensor info ${i}`;
    const at = cursor.position;
    const name = await cursor.string("tensor name", true);
    if (utf8.encode(name).length > GGUF_MAX_NAME_LENGTH) {
      fail(`tensor name "${name.slice(0, 80)}" is longer than ${GGUF_MAX_NAME_LENGTH} bytes`, at);
    }
    if (names.has(name)) fail(`tensor "${name}" appears twice`, at);
    names.add(name);
    cursor.context = `tensor "${name}"`;
    await cursor.need(4);
    const dimsAt = cursor.position;
    const dims = cursor.u32();
    if (dims > GGUF_MAX_DIMS) fail(`tensor "${name}" has ${dims} dimensions (at most 4)`, dimsAt);
    await cursor.need(dims * 8 + 4 + 8);
    const shape: number[] = [];
    let elements = 1;
    for (let d = 0; d < dims; d++) {
      const dimAt = cursor.position;
      const dim = cursor.u64();
      elements *= Number(dim);
      if (dim > BigInt(Number.MAX_SAFE_INTEGER) || !Number.isSafeInteger(elements)) {
        fail(`tensor "${name}" has too many elements (dimension ${d} is ${dim})`, dimAt);
      }
      shape.push(Number(dim));
    }
    const typeAt = cursor.position;
    const typeId = cursor.u32();
    const type = ggmlTypeById(typeId);
    if (!type) fail(`tensor "${name}" has unknown ggml type id ${typeId}`, typeAt);
    if ((shape[0] ?? 1) % type!.blockSize !== 0) {
      fail(
        `tensor "${name}" of type ${type!.name} has rows of ${shape[0]} elements, ` +
          `not a multiple of its block size ${type!.blockSize}`,
        typeAt,
      );
    }
    const offsetAt = cursor.position;
    const relative = cursor.u64();
    if (relative > BigInt(source.size)) {
      fail(`tensor "${name}" data offset ${relative} is past the end of the file`, offsetAt);
    }
    if (Number(relative) % alignment !== 0) {
      fail(`tensor "${name}" data offset ${relative} is not aligned to ${alignment}`, offsetAt);
    }
    pending.push({ name, typeId, shape, relative: Number(relative), at });
  }

  // tensor data: it starts at the next multiple of the alignment
  const dataOffset = Math.ceil(cursor.position / alignment) * alignment;
  const tensors: TensorInfo[] = pending.map(({ name, typeId, shape, relative, at }) => {
    const type = ggmlTypeById(typeId)!;
    const elements = shape.reduce((a, b) => a * b, 1);
    const bytes = elements / type.blockSize * type.bytesPerBlock;
    const offset = dataOffset + relative;
    if (offset + bytes > source.size) {
      fail(
        `tensor "${name}" data [${offset}, ${offset + bytes}) extends past the end of the ` +
          `file (${source.size} bytes)`,
        at,
      );
    }
    return { name, typeId, typeName: type.name, shape, elements, offset, bytes };
  });
  const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const before = byOffset[i - 1]!;
    const after = byOffset[i]!;
    if (before.offset + before.bytes > after.offset) {
      fail(`tensors "${before.name}" and "${after.name}" overlap`);
    }
  }
  return new GGUFFile(source, version, metadata, tensors, alignment, dataOffset);
}

async function readValue(
  cursor: Cursor,
  key: string,
  fail: (problem: string, at?: number) => never,
): Promise<MetadataValue> {
  await cursor.need(4);
  const typeAt = cursor.position;
  const typeName = valueTypeName(cursor.u32());
  if (!typeName) fail(`metadata key "${key}" has an unknown value type`, typeAt);
  if (typeName !== "array") return await readScalar(cursor, typeName!);

  await cursor.need(12);
  const itemAt = cursor.position;
  const itemType = valueTypeName(cursor.u32());
  if (!itemType) fail(`metadata key "${key}" is an array of an unknown value type`, itemAt);
  if (itemType === "array") fail(`metadata key "${key}" is a nested array`, itemAt);
  const scalar = itemType as ScalarTypeName;
  const minItemBytes = scalar === "string" ? 8 : SCALAR_BYTES[scalar];
  const count = cursor.count(`array length of "${key}"`, minItemBytes, cursor.remaining);
  if (count > MAX_ARRAY_ITEMS) {
    fail(`metadata key "${key}" has ${count} items, more than the limit of ${MAX_ARRAY_ITEMS}`);
  }
  const items: unknown[] = [];
  if (scalar === "string") {
    // vocabularies hold 10⁵–10⁶ strings: read them without a wrapper object each
    for (let i = 0; i < count; i++) items.push(await cursor.string("string value", false));
  } else if (scalar === "bool" || scalar === "u64" || scalar === "i64") {
    for (let i = 0; i < count; i++) items.push((await readScalar(cursor, scalar)).value);
  } else {
    // numbers: whole windows at a time
    const size = SCALAR_BYTES[scalar];
    for (let i = 0; i < count;) {
      const batch = Math.min(count - i, Math.floor(WINDOW_BYTES / size));
      await cursor.need(batch * size);
      for (let j = 0; j < batch; j++) items.push(cursor.number(scalar));
      i += batch;
    }
  }
  return { type: "array", itemType: scalar, value: items } as MetadataValue;
}

async function readScalar(cursor: Cursor, type: ScalarTypeName): Promise<MetadataValue> {
  if (type === "string") return { type, value: await cursor.string("string value", false) };
  await cursor.need(SCALAR_BYTES[type]);
  switch (type) {
    case "u8":
    case "i8":
    case "u16":
    case "i16":
    case "u32":
    case "i32":
    case "f32":
    case "f64":
      return { type, value: cursor.number(type) };
    case "bool": {
      const at = cursor.position;
      const byte = cursor.view.getUint8(cursor.advance(1));
      if (byte > 1) {
        throw new GGUFError(cursor.source.name, `bool in ${cursor.context} is ${byte}`, at);
      }
      return { type, value: byte === 1 };
    }
    case "u64":
      return { type, value: cursor.u64() };
    case "i64":
      return { type, value: cursor.view.getBigInt64(cursor.advance(8), true) };
  }
}

/**
 * Sequential reads over a window of the source: `need(n)` makes n bytes available (reading
 * more of the file when needed, failing cleanly at its end), then the sync getters consume them.
 */
class Cursor {
  /** What is being read, for error messages. */
  context = "the header";
  view = new DataView(new ArrayBuffer(0));
  #windowStart = 0;
  #offset = 0; // position inside the window
  readonly #utf8 = new TextDecoder("utf-8", { fatal: true });
  readonly #lenientUtf8 = new TextDecoder("utf-8");

  constructor(readonly source: ByteSource) {}

  get position(): number {
    return this.#windowStart + this.#offset;
  }

  get remaining(): number {
    return this.source.size - this.position;
  }

  async need(n: number): Promise<void> {
    if (this.#offset + n <= this.view.byteLength) return;
    if (n > this.remaining) {
      throw new GGUFError(
        this.source.name,
        `file ends inside ${this.context} (needs ${n} more bytes, has ${this.remaining})`,
        this.position,
      );
    }
    const start = this.position;
    const length = Math.min(Math.max(n, WINDOW_BYTES), this.source.size - start);
    const window = new Uint8Array(length);
    await this.source.read(start, window);
    this.view = new DataView(window.buffer);
    this.#windowStart = start;
    this.#offset = 0;
  }

  /** Returns the current window offset and moves past `n` bytes (already made available). */
  advance(n: number): number {
    const at = this.#offset;
    this.#offset += n;
    return at;
  }

  bytes(n: number): Uint8Array {
    const at = this.advance(n);
    return new Uint8Array(this.view.buffer, at, n);
  }

  u32(): number {
    return this.view.getUint32(this.advance(4), true);
  }

  /** One value of a numeric type that is a JavaScript number (made available already). */
  number(type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64"): number {
    const view = this.view;
    switch (type) {
      case "u8":
        return view.getUint8(this.advance(1));
      case "i8":
        return view.getInt8(this.advance(1));
      case "u16":
        return view.getUint16(this.advance(2), true);
      case "i16":
        return view.getInt16(this.advance(2), true);
      case "u32":
        return view.getUint32(this.advance(4), true);
      case "i32":
        return view.getInt32(this.advance(4), true);
      case "f32":
        return view.getFloat32(this.advance(4), true);
      case "f64":
        return view.getFloat64(this.advance(8), true);
    }
  }

  u64(): bigint {
    return this.view.getBigUint64(this.advance(8), true);
  }

  /** Reads a u64 count and rejects it unless `count × minItemBytes` fits in `room` bytes. */
  count(what: string, minItemBytes: number, room: number): number {
    const at = this.position;
    const count = this.u64();
    if (count * BigInt(minItemBytes) > BigInt(Math.max(0, room))) {
      throw new GGUFError(
        this.source.name,
        `${what} ${count} is impossible: ${room} bytes remain in the file`,
        at,
      );
    }
    return Number(count);
  }

  async string(what: string, strict: boolean): Promise<string> {
    await this.need(8);
    const at = this.position;
    const length = this.u64();
    if (length > BigInt(this.remaining) || length > BigInt(MAX_STRING_BYTES)) {
      const limit = length > BigInt(this.remaining)
        ? `${this.remaining} bytes remain in the file`
        : `the limit is ${MAX_STRING_BYTES} bytes`;
      throw new GGUFError(
        this.source.name,
        `${what} in ${this.context} has length ${length}: ${limit}`,
        at,
      );
    }
    await this.need(Number(length));
    const bytes = this.bytes(Number(length));
    if (!strict) return this.#lenientUtf8.decode(bytes);
    try {
      return this.#utf8.decode(bytes);
    } catch {
      throw new GGUFError(this.source.name, `${what} in ${this.context} is not valid UTF-8`, at);
    }
  }
}

/** The magic bytes shown as a quoted string, with non-printable bytes escaped. */
function printable(bytes: Uint8Array): string {
  const text = [...bytes].map((b) =>
    b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c
      ? String.fromCharCode(b)
      : `\\x${b.toString(16).padStart(2, "0")}`
  ).join("");
  return `"${text}"`;
}
