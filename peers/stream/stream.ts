/**
 * The C STREAM copy peer: compiles `stream.c` with the machine's C compiler (OpenMP) into a
 * cache folder once, and runs it beside moebench's own copy probe, so that `moebench profile
 * --peer stream` shows how close the probe comes to C on the same machine at the same time.
 *
 * @example
 * ```ts ignore
 * import { streamCopy } from "./stream.ts";
 * const c = await streamCopy({ arrayBytes: 1 << 30, reps: 5 });
 * console.log(c.best);
 * ```
 * @module
 */
import { cacheDir } from "../../util/cache_dir.ts";

/** The C peer's figures: GB/s (read + written) and the OpenMP threads that ran. */
export interface StreamCopy {
  readonly best: number;
  readonly median: number;
  readonly threads: number;
}

/** The C STREAM peer cannot run here; `message` says why. */
export class StreamUnavailable extends Error {
  override name = "StreamUnavailable";
}

const SOURCE = new URL("./stream.c", import.meta.url);

/** Where the compiled peer is kept: the user's cache folder. */
function binaryPath(): string {
  return `${cacheDir()}/stream_copy`;
}

async function run(command: string, args: string[]): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (error) {
    throw new StreamUnavailable(`${command} could not start: ${(error as Error).message}`);
  }
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  if (!output.success) {
    throw new StreamUnavailable(`${command} failed: ${decode(output.stderr).split("\n")[0]}`);
  }
  return decode(output.stdout);
}

/** Compiles the peer unless its binary is newer than its source. */
async function build(): Promise<string> {
  const binary = binaryPath();
  const source = SOURCE.pathname;
  const built = await Deno.stat(binary).catch(() => null);
  const written = await Deno.stat(source);
  if (built?.mtime && written.mtime && built.mtime > written.mtime) return binary;
  await Deno.mkdir(binary.slice(0, binary.lastIndexOf("/")), { recursive: true });
  const compiler = Deno.env.get("CC") ?? "cc";
  await run(compiler, ["-O3", "-march=native", "-fopenmp", "-o", binary, source]);
  return binary;
}

/** Runs C STREAM copy over two arrays of `arrayBytes`, `reps` timed runs. */
export async function streamCopy(
  options: { readonly arrayBytes: number; readonly reps: number },
): Promise<StreamCopy> {
  const binary = await build();
  const out = await run(binary, [String(options.arrayBytes), String(options.reps)]);
  const [best, median, threads] = out.split(/\s+/).map(Number);
  if (!(best! > 0) || !(median! > 0) || !(threads! > 0)) {
    throw new StreamUnavailable(`stream_copy printed "${out}"`);
  }
  return { best: best!, median: median!, threads: threads! };
}
