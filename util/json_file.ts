/**
 * JSON files validated by a zod schema on read and on write: a file that fails gets one line
 * naming the file, the first field at fault and the problem; a write goes to a temporary file
 * renamed over the target, so a reader never sees half a file.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { readJsonFile, writeJsonFile } from "./json_file.ts";
 * const Point = z.object({ x: z.number() }).strict();
 * const path = await Deno.makeTempFile();
 * await writeJsonFile(path, Point, { x: 1 });
 * console.log((await readJsonFile(path, Point, "point", (m) => new Error(m))).x); // 1
 * ```
 * @module
 */
import type { z } from "zod";
import { atomicWrite } from "./atomic_write.ts";

/** Reads `path` as JSON and validates it; `fail(message)` makes the error to throw. */
export async function readJsonFile<T>(
  path: string,
  schema: z.ZodType<T>,
  what: string,
  fail: (message: string) => Error,
): Promise<T> {
  const text = await Deno.readTextFile(path).catch((error) => {
    if (error instanceof Deno.errors.NotFound) throw fail(`${path}: no such file`);
    if (error instanceof Deno.errors.IsADirectory) throw fail(`${path}: a folder, not a file`);
    throw error;
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw fail(`${path}: not JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join(".") : "the top level";
    throw fail(`${path}: not a ${what} (${where}: ${issue.message})`);
  }
  return parsed.data;
}

/** Validates `value` (moebench never writes what it would refuse) and writes it atomically. */
export async function writeJsonFile<T>(path: string, schema: z.ZodType<T>, value: T) {
  const text = JSON.stringify(schema.parse(value), null, 2) + "\n";
  await atomicWrite(path, (sink) => sink.write(new TextEncoder().encode(text)));
}
