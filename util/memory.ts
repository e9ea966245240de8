/**
 * Process memory figures: the current resident set and its peak. Deno guards `/proc/self`
 * behind --allow-all, so the peak comes from libc's `getrusage` through FFI.
 * @module
 */

/** Resident set size now, in bytes. */
export function residentBytes(): number {
  return Deno.memoryUsage().rss;
}

/** The library that holds `getrusage` on this OS, or null where it is not known. */
function libcPath(): string | null {
  if (Deno.build.os === "linux") return "libc.so.6";
  if (Deno.build.os === "darwin") return "/usr/lib/libSystem.B.dylib";
  return null;
}

/**
 * The process's peak resident set size in bytes (`getrusage(RUSAGE_SELF).ru_maxrss`), or null
 * where it cannot be read (no FFI permission, another OS).
 */
export function peakResidentBytes(): number | null {
  const path = libcPath();
  if (!path) return null;
  try {
    const libc = Deno.dlopen(path, {
      getrusage: { parameters: ["i32", "buffer"], result: "i32" },
    });
    try {
      // struct rusage: two struct timeval (16 bytes each on 64-bit), then long ru_maxrss
      const usage = new BigInt64Array(18);
      if (libc.symbols.getrusage(0, new Uint8Array(usage.buffer)) !== 0) return null;
      const maxrss = Number(usage[4]);
      return Deno.build.os === "darwin" ? maxrss : maxrss * 1024; // Linux reports kB
    } finally {
      libc.close();
    }
  } catch {
    return null;
  }
}
