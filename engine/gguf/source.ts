/**
 * Random-access byte sources for the GGUF reader: a file read on demand, or bytes in memory.
 * A model file is never read whole; tensors are read by (offset, length) when needed.
 * @module
 */

/** Bytes that can be read at any offset. */
export interface ByteSource extends Disposable {
  /** How the source is named in error messages (a file path). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Fills `into` with the bytes starting at `offset`; the range must lie inside the source. */
  read(offset: number, into: Uint8Array): Promise<void>;
  close(): void;
}

/** A source over bytes already in memory (tests, fuzzing, small files). */
export function memorySource(bytes: Uint8Array, name = "<memory>"): ByteSource {
  return {
    name,
    size: bytes.length,
    read(offset, into) {
      checkRange(name, bytes.length, offset, into.length);
      into.set(bytes.subarray(offset, offset + into.length));
      return Promise.resolve();
    },
    close() {},
    [Symbol.dispose]() {},
  };
}

/** A source over a file, read with positioned reads into the caller's buffers. */
export async function fileSource(path: string): Promise<ByteSource> {
  const file = await Deno.open(path, { read: true });
  let size: number;
  try {
    const stat = await file.stat();
    if (!stat.isFile) throw new Error(`"${path}" is not a regular file`);
    size = stat.size;
  } catch (error) {
    file.close();
    throw error;
  }
  let closed = false;
  // positioned reads share one file cursor; chain them so concurrent callers do not interleave
  let queue: Promise<void> = Promise.resolve();
  const readAt = async (offset: number, into: Uint8Array) => {
    await file.seek(offset, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < into.length) {
      const n = await file.read(into.subarray(filled));
      if (n === null) throw new Error(`"${path}" ended at byte ${offset + filled} while reading`);
      filled += n;
    }
  };
  const close = () => {
    if (!closed) file.close();
    closed = true;
  };
  return {
    name: path,
    size,
    read(offset, into) {
      checkRange(path, size, offset, into.length);
      const next = queue.then(() => readAt(offset, into));
      queue = next.catch(() => {});
      return next;
    },
    close,
    [Symbol.dispose]: close,
  };
}

function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(
      `Cannot read bytes [${offset}, ${offset + length}) of "${name}": it has ${size} bytes`,
    );
  }
}
