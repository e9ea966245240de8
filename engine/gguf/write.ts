/**
 * The GGUF writer: metadata of every type and tensors with alignment, streamed to a temporary
 * file beside the target and renamed over it at the end, so a failed write leaves nothing
 * half-written.
 *
 * @example
 * ```ts
 * import { writeGGUF } from "./write.ts";
 * import { str, u32 } from "./types.ts";
 * const path = await Deno.makeTempFile({ suffix: ".gguf" });
 * const { bytes } = await writeGGUF(path, {
 *   metadata: new Map([["general.architecture", str("llama")], ["llama.block_count", u32(1)]]),
 *   tensors: [{ name: "w", typeName: "F32", shape: [8, 2], data: new Uint8Array(64) }],
 * });
 * console.log(bytes); // 224
 * ```
 * @module
 */
import { ggmlType, tensorByteSize } from "../quant/types.ts";
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  type Metadata,
  type MetadataValue,
  SCALAR_BYTES,
  type ScalarTypeName,
  ValueType,
} from "./types.ts";
import { atomicWrite } from "../../util/atomic_write.ts";

/**
 * A tensor to write: its bytes, or a producer of its bytes in chunks (called when written).
 * Each chunk is consumed before the next is requested, so a producer may reuse one buffer.
 */
export interface TensorToWrite {
  readonly name: string;
  /** ggml type name, e.g. `F16`, `Q4_0`. */
  readonly typeName: string;
  /** ggml order: `shape[0]` is the row length. */
  readonly shape: readonly number[];
  readonly data: Uint8Array | (() => Iterable<Uint8Array> | AsyncIterable<Uint8Array>);
}

/** What a GGUF file holds. */
export interface GGUFContents {
  readonly metadata: Metadata;
  readonly tensors: readonly TensorToWrite[];
}

/** Progress callbacks for long writes. */
export interface WriteOptions {
  /** Called after each tensor's bytes are written, with the file's bytes so far and in all. */
  onProgress?: (bytesWritten: number, totalBytes: number) => void;
}

/**
 * Writes `contents` to `path` atomically.
 * @returns the file's size in bytes.
 * @throws {RangeError} when a tensor's data does not have the size its type and shape require.
 */
export async function writeGGUF(
  path: string,
  contents: GGUFContents,
  options: WriteOptions = {},
): Promise<{ bytes: number }> {
  const alignmentValue = contents.metadata.get("general.alignment");
  const alignment = alignmentValue?.type === "u32" ? alignmentValue.value : GGUF_DEFAULT_ALIGNMENT;

  // lay the tensors out: each starts at an aligned offset relative to the data section
  let dataSize = 0;
  const layout = contents.tensors.map((tensor) => {
    const bytes = tensorByteSize(ggmlType(tensor.typeName), tensor.shape);
    const relative = dataSize;
    dataSize = alignUp(relative + bytes, alignment);
    return { tensor, bytes, relative };
  });

  const header = new ByteWriter();
  header.raw(new TextEncoder().encode(GGUF_MAGIC));
  header.scalar("u32", GGUF_VERSION);
  header.scalar("u64", BigInt(contents.tensors.length));
  header.scalar("u64", BigInt(contents.metadata.size));
  for (const [key, value] of contents.metadata) {
    header.scalar("string", key);
    header.value(value);
  }
  for (const { tensor, relative } of layout) {
    header.scalar("string", tensor.name);
    header.scalar("u32", tensor.shape.length);
    for (const dim of tensor.shape) header.scalar("u64", BigInt(dim));
    header.scalar("u32", ggmlType(tensor.typeName).id);
    header.scalar("u64", BigInt(relative));
  }
  const headerBytes = header.finish();
  const dataOffset = alignUp(headerBytes.length, alignment);

  return await atomicWrite(path, async (sink) => {
    await sink.write(headerBytes);
    await sink.write(new Uint8Array(dataOffset - headerBytes.length));
    for (const [index, { tensor, bytes, relative }] of layout.entries()) {
      let written = 0;
      const chunks = tensor.data instanceof Uint8Array ? [tensor.data] : tensor.data();
      for await (const chunk of chunks) {
        written += chunk.length;
        if (written > bytes) break;
        await sink.write(chunk);
      }
      if (written !== bytes) {
        throw new RangeError(
          `Tensor "${tensor.name}" (${tensor.typeName} ${tensor.shape.join("×")}) needs ` +
            `${bytes} bytes of data, got ${written > bytes ? "more" : written}`,
        );
      }
      const end = index + 1 < layout.length ? layout[index + 1]!.relative : dataSize;
      await sink.write(new Uint8Array(end - relative - bytes));
      options.onProgress?.(dataOffset + end, dataOffset + dataSize);
    }
    return { bytes: dataOffset + dataSize };
  });
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** Little-endian encoder into a growing buffer. */
class ByteWriter {
  #buffer = new Uint8Array(1 << 16);
  #view = new DataView(this.#buffer.buffer);
  #length = 0;
  readonly #encoder = new TextEncoder();

  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  value(value: MetadataValue): void {
    this.scalar("u32", ValueType[value.type]);
    if (value.type !== "array") {
      this.scalar(value.type, value.value);
      return;
    }
    this.scalar("u32", ValueType[value.itemType]);
    this.scalar("u64", BigInt(value.value.length));
    for (const item of value.value) this.scalar(value.itemType, item);
  }

  scalar(type: ScalarTypeName, value: number | bigint | boolean | string): void {
    if (type === "string") {
      const bytes = this.#encoder.encode(value as string);
      this.scalar("u64", BigInt(bytes.length));
      this.raw(bytes);
      return;
    }
    this.#reserve(SCALAR_BYTES[type]);
    const at = this.#length;
    const view = this.#view;
    switch (type) {
      case "u8":
        view.setUint8(at, value as number);
        break;
      case "i8":
        view.setInt8(at, value as number);
        break;
      case "u16":
        view.setUint16(at, value as number, true);
        break;
      case "i16":
        view.setInt16(at, value as number, true);
        break;
      case "u32":
        view.setUint32(at, value as number, true);
        break;
      case "i32":
        view.setInt32(at, value as number, true);
        break;
      case "f32":
        view.setFloat32(at, value as number, true);
        break;
      case "f64":
        view.setFloat64(at, value as number, true);
        break;
      case "bool":
        view.setUint8(at, value ? 1 : 0);
        break;
      case "u64":
        view.setBigUint64(at, value as bigint, true);
        break;
      case "i64":
        view.setBigInt64(at, value as bigint, true);
        break;
    }
    this.#length += SCALAR_BYTES[type];
  }

  finish(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }

  #reserve(n: number): void {
    if (this.#length + n <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + n));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
    this.#view = new DataView(grown.buffer);
  }
}
