/**
 * Cold runs: drop a file's pages from the OS page cache (`posix_fadvise(POSIX_FADV_DONTNEED)`),
 * and measure how much of it is cached (`mincore` over a read-only mapping), through libc by
 * Deno's FFI (Deno's files expose no descriptor). Linux only; elsewhere, or without
 * `--allow-ffi`, the drop reports why it could not be done instead of pretending.
 *
 * @example
 * ```ts
 * import { dropPageCache } from "./page_cache.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array(1 << 20));
 * const drop = dropPageCache(path);
 * console.log(drop.dropped ? drop.cachedAfter : drop.reason);
 * ```
 * @module
 */

/** What a drop did. */
export type PageCacheDrop =
  | {
    readonly dropped: true;
    /** Fraction of the file's pages in the page cache before and after. */
    readonly cachedBefore: number;
    readonly cachedAfter: number;
  }
  | { readonly dropped: false; readonly reason: string };

const O_RDONLY = 0;
const POSIX_FADV_DONTNEED = 4;
const PROT_READ = 1;
const MAP_SHARED = 1;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  fdatasync: { parameters: ["i32"], result: "i32" },
  posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  mincore: { parameters: ["pointer", "usize", "buffer"], result: "i32" },
  sysconf: { parameters: ["i32"], result: "i64" },
} as const;
type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | string | null = null;

/** libc's functions, or why they cannot be had. */
function openLibc(): Libc | string {
  if (libc !== null) return libc;
  if (Deno.build.os !== "linux") return libc = `posix_fadvise is used on Linux only`;
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch (error) {
    libc = `libc could not be loaded (${(error as Error).message.split("\n")[0]})`;
  }
  return libc;
}

/** Drops `path`'s pages from the page cache and checks that they are gone. */
export function dropPageCache(path: string): PageCacheDrop {
  const c = openLibc();
  if (typeof c === "string") return { dropped: false, reason: c };
  const fd = c.open(new TextEncoder().encode(path + "\0"), O_RDONLY);
  if (fd < 0) return { dropped: false, reason: `${path} could not be opened` };
  try {
    const cachedBefore = cachedFraction(c, fd, path);
    // dirty pages (a model just written) cannot be dropped: write them back first
    c.fdatasync(fd);
    const status = c.posix_fadvise(fd, 0n, 0n, POSIX_FADV_DONTNEED);
    if (status !== 0) return { dropped: false, reason: `posix_fadvise failed (error ${status})` };
    const cachedAfter = cachedFraction(c, fd, path);
    // dirty or locked pages stay; a drop that left most of the file cached did not work
    if (cachedAfter > 0.05) {
      return {
        dropped: false,
        reason: `${(cachedAfter * 100).toFixed(0)} % of the file stayed in the page cache`,
      };
    }
    return { dropped: true, cachedBefore, cachedAfter };
  } finally {
    c.close(fd);
  }
}

/** Fraction of `path`'s pages in the page cache. */
export function cachedShare(path: string): number | null {
  const c = openLibc();
  if (typeof c === "string") return null;
  const fd = c.open(new TextEncoder().encode(path + "\0"), O_RDONLY);
  if (fd < 0) return null;
  try {
    return cachedFraction(c, fd, path);
  } finally {
    c.close(fd);
  }
}

function cachedFraction(c: Libc, fd: number, path: string): number {
  const length = Deno.statSync(path).size;
  if (length === 0) return 0;
  const page = Number(c.sysconf(30 /* _SC_PAGESIZE */));
  const mapping = c.mmap(null, BigInt(length), PROT_READ, MAP_SHARED, fd, 0n);
  if (mapping === null || Deno.UnsafePointer.value(mapping) === 2n ** 64n - 1n) return 1;
  try {
    const pages = new Uint8Array(Math.ceil(length / page));
    if (c.mincore(mapping, BigInt(length), pages) !== 0) return 1;
    let cached = 0;
    for (const flag of pages) cached += flag & 1;
    return cached / pages.length;
  } finally {
    c.munmap(mapping, BigInt(length));
  }
}
