/**
 * A bump allocator over a shared WebAssembly memory: the model's weights, the workers' stacks and
 * the activation buffers are placed once, at load, and never freed (nothing is allocated per
 * token). The memory grows as needed up to wasm32's 4 GiB; a shared memory's buffer is never
 * detached by growth, so a view stays valid for the bytes it was made over.
 *
 * @example
 * ```ts
 * import { WasmHeap } from "./heap.ts";
 * const heap = new WasmHeap(1024);
 * const at = heap.alloc(4096);
 * heap.f32(at, 1024).fill(1);
 * ```
 * @module
 */

const PAGE = 65536;
const MAX_PAGES = 65536;

/** Bytes a wasm32 memory can address. */
export const WASM32_LIMIT = PAGE * MAX_PAGES;

/** The shared memory and the next free byte in it. */
export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  #next: number;

  /** A heap whose first free byte is `base` (the kernels' `__heap_base`). */
  constructor(base: number) {
    this.memory = new WebAssembly.Memory({
      initial: Math.ceil((base + PAGE) / PAGE),
      maximum: MAX_PAGES,
      shared: true,
    });
    this.#next = base;
  }

  /** Bytes used so far. */
  get used(): number {
    return this.#next;
  }

  /**
   * Reserves `bytes` (aligned to `align`) and returns their address.
   * @throws {RangeError} past wasm32's 4 GiB.
   */
  alloc(bytes: number, align = 64): number {
    const at = Math.ceil(this.#next / align) * align;
    const end = at + bytes;
    if (end > WASM32_LIMIT) {
      throw new RangeError(
        `the CPU backend holds at most 4 GiB (wasm32); this model needs more than ${end} bytes`,
      );
    }
    const pages = Math.ceil(end / PAGE);
    const current = this.memory.buffer.byteLength / PAGE;
    if (pages > current) this.memory.grow(pages - current);
    this.#next = end;
    return at;
  }

  /** A byte view of `[at, at + length)`. */
  bytes(at: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, at, length);
  }

  /** An f32 view of `length` values at `at`. */
  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }
}

/**
 * A scratch buffer in the heap that grows (rarely: at the first batch of a new size) to what a
 * job needs. The heap never frees, so a replaced buffer stays behind; growth is geometric to
 * keep that small.
 */
export class HeapScratch {
  address = 0;
  capacity = 0;
  view: Float32Array<ArrayBufferLike> = new Float32Array(0);

  constructor(readonly heap: WasmHeap) {}

  /** Makes the buffer hold `bytes`. */
  reserve(bytes: number): void {
    if (bytes <= this.capacity) return;
    this.capacity = Math.max(bytes, Math.ceil(this.capacity * 1.5 / 4) * 4);
    this.address = this.heap.alloc(this.capacity);
    this.view = this.heap.f32(this.address, this.capacity / 4);
  }
}

/**
 * Copies `length` values between f32 arrays (JS or heap views). A loop, because a `subarray` to
 * `set` from would be garbage on every call of a hot path.
 */
export function copyValues(
  from: Float32Array<ArrayBufferLike>,
  fromAt: number,
  to: Float32Array<ArrayBufferLike>,
  toAt: number,
  length: number,
): void {
  for (let i = 0; i < length; i++) to[toAt + i] = from[fromAt + i]!;
}
