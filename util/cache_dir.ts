/**
 * moebench's cache folder: `$MOEBENCH_CACHE`, else `$XDG_CACHE_HOME/moebench`, else
 * `~/.cache/moebench`. It holds what is expensive to make and safe to remake: compiled peers and
 * the standard benchmark's generated models.
 * @module
 */

/** The cache folder (not created here). */
export function cacheDir(): string {
  const own = Deno.env.get("MOEBENCH_CACHE");
  if (own) return own;
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${cache}/moebench`;
}
