/**
 * Atomic file output: everything is written to a temporary file beside the target, which is
 * renamed over it only once complete. An error (or a crash) leaves no half-written target.
 *
 * @example
 * ```ts
 * import { atomicWrite } from "./atomic_write.ts";
 * const path = await Deno.makeTempFile();
 * await atomicWrite(path, async (sink) => {
 *   await sink.write(new TextEncoder().encode("hello"));
 * });
 * console.log(await Deno.readTextFile(path)); // hello
 * ```
 * @module
 */

/** Buffered sequential writes into the temporary file. */
export interface Sink {
  write(bytes: Uint8Array): Promise<void>;
}

const BUFFER_BYTES = 4 << 20;

/**
 * Runs `produce` with a sink into a temporary file, then renames it to `path`. The temporary
 * file is removed if `produce` throws.
 */
export async function atomicWrite<T>(
  path: string,
  produce: (sink: Sink) => Promise<T>,
): Promise<T> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) || "/" : ".";
  const base = path.slice(slash + 1);
  let temp: string;
  try {
    temp = await Deno.makeTempFile({ dir, prefix: `.${base}.`, suffix: ".partial" });
  } catch (error) {
    // name the file the user asked for, not the temporary one
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot write "${path}": folder "${dir}" does not exist`);
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new Deno.errors.PermissionDenied(`Cannot write "${path}": permission denied`);
    }
    throw error;
  }
  const file = await Deno.open(temp, { write: true, truncate: true });
  const buffer = new Uint8Array(BUFFER_BYTES);
  let buffered = 0;
  const flush = async () => {
    let done = 0;
    while (done < buffered) done += await file.write(buffer.subarray(done, buffered));
    buffered = 0;
  };
  const sink: Sink = {
    async write(bytes) {
      let from = 0;
      while (from < bytes.length) {
        const n = Math.min(bytes.length - from, buffer.length - buffered);
        buffer.set(bytes.subarray(from, from + n), buffered);
        buffered += n;
        from += n;
        if (buffered === buffer.length) await flush();
      }
    },
  };
  try {
    const result = await produce(sink);
    await flush();
    file.close();
    await Deno.chmod(temp, 0o644); // temporary files are private; outputs are ordinary files
    await Deno.rename(temp, path);
    return result;
  } catch (error) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
