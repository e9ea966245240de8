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
 * The process's peak resident set size in bytes, or null where it cannot be read (no FFI
 * permission, another OS). On Linux it is `VmHWM` of /proc/self/status, read through libc:
 * `getrusage`'s `ru_maxrss` survives `execve`, so a process started by a big parent would report
 * the parent's peak as its own.
 */
export function peakResidentBytes(): number | null {
  const path = libcPath();
  if (!path) return null;
  try {
    const libc = Deno.dlopen(path, {
      getrusage: { parameters: ["i32", "buffer"], result: "i32" },
      open: { parameters: ["buffer", "i32"], result: "i32" },
      read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
      close: { parameters: ["i32"], result: "i32" },
    });
    try {
      if (Deno.build.os === "linux") return highWaterMark(libc.symbols);
      // struct rusage: two struct timeval (16 bytes each on 64-bit), then long ru_maxrss
      const usage = new BigInt64Array(18);
      if (libc.symbols.getrusage(0, new Uint8Array(usage.buffer)) !== 0) return null;
      return Number(usage[4]); // bytes on macOS
    } finally {
      libc.close();
    }
  } catch {
    return null;
  }
}

interface FileCalls {
  open(path: Uint8Array, flags: number): number;
  read(fd: number, buffer: Uint8Array, length: number | bigint): number | bigint;
  close(fd: number): number;
}

/** `VmHWM` of /proc/self/status in bytes (Deno's own file API refuses /proc/self without -A). */
function highWaterMark(libc: FileCalls): number | null {
  const fd = libc.open(new TextEncoder().encode("/proc/self/status\0"), 0);
  if (fd < 0) return null;
  try {
    const buffer = new Uint8Array(16384);
    let length = 0;
    for (;;) {
      const n = Number(libc.read(fd, buffer.subarray(length), buffer.length - length));
      if (n <= 0) break;
      length += n;
    }
    const status = new TextDecoder().decode(buffer.subarray(0, length));
    const kilobytes = status.match(/^VmHWM:\s+(\d+) kB/m)?.[1];
    return kilobytes === undefined ? null : Number(kilobytes) * 1024;
  } finally {
    libc.close(fd);
  }
}
