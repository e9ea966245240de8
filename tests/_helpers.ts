/**
 * Helpers shared by the tests: running the CLI as a user would, and temporary folders.
 * @module
 */

const root = new URL("..", import.meta.url);

/** What a CLI run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `moebench ARGS…` (as `deno run -A main.ts`) in the repository, as CI would (CI=1).
 * `--quiet` keeps Deno's own messages (npm downloads on a fresh machine) out of stderr, which
 * the tests read as moebench's.
 */
export async function runMoebench(...args: string[]): Promise<CliResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", "main.ts", ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { CI: "1" },
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

/** Runs `fn` with a new temporary folder, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "moebench-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
