/**
 * The CPU backend's KV cache: f32 keys and values in the shared WebAssembly memory, and
 * attention by attention.c's kernel with a batch's (token, head) pairs split between the
 * threads. `ReferenceKvCache` (engine/model/kv_cache.ts) is what it is tested against.
 * @module
 */
import type { AttentionShape, KvCache } from "../../model/kv_cache.ts";
import { copyValues, HeapScratch, type WasmHeap } from "./heap.ts";
import { ATTENTION_KERNEL, KERNEL_NAMES } from "./kernels.ts";
import type { ThreadPool } from "./pool.ts";

const KERNEL = KERNEL_NAMES.indexOf(ATTENTION_KERNEL);

/** Keys and values in WebAssembly memory, attended to by the SIMD kernel on every thread. */
export class CpuKvCache implements KvCache {
  readonly bytes: number;
  readonly #pool: ThreadPool;
  readonly #keyWidth: number;
  readonly #valueWidth: number;
  readonly #keys: Float32Array<ArrayBufferLike>[];
  readonly #values: Float32Array<ArrayBufferLike>[];
  /** Each thread's scores: `#scoreStride` floats (the context, in whole vectors). */
  readonly #scores: number;
  readonly #scoreStride: number;
  readonly #queries: HeapScratch;
  readonly #out: HeapScratch;
  readonly #scaleBits: number;

  constructor(
    heap: WasmHeap,
    pool: ThreadPool,
    readonly shape: AttentionShape,
    layers: number,
    readonly maxContext: number,
    readonly roundProbabilities: boolean,
  ) {
    this.#pool = pool;
    this.#keyWidth = shape.kvHeads * shape.keyHeadDim;
    this.#valueWidth = shape.kvHeads * shape.valueHeadDim;
    const place = (width: number) =>
      Array.from(
        { length: layers },
        () => heap.f32(heap.alloc(4 * maxContext * width), maxContext * width),
      );
    this.#keys = place(this.#keyWidth);
    this.#values = place(this.#valueWidth);
    this.bytes = 4 * layers * maxContext * (this.#keyWidth + this.#valueWidth);
    this.#scoreStride = Math.ceil(maxContext / 4) * 4;
    this.#scores = heap.alloc(4 * this.#scoreStride * pool.threads);
    this.#queries = new HeapScratch(heap);
    this.#out = new HeapScratch(heap);
    this.#scaleBits = new Int32Array(Float32Array.of(shape.scale).buffer)[0]!;
  }

  store(layer: number, pos: number, count: number, keys: Float32Array, values: Float32Array): void {
    copyValues(keys, 0, this.#keys[layer]!, pos * this.#keyWidth, count * this.#keyWidth);
    copyValues(values, 0, this.#values[layer]!, pos * this.#valueWidth, count * this.#valueWidth);
  }

  attend(
    layer: number,
    pos: number,
    count: number,
    queries: Float32Array,
    out: Float32Array,
  ): void {
    const { heads, kvHeads, keyHeadDim, valueHeadDim } = this.shape;
    const queryValues = count * heads * keyHeadDim;
    const outValues = count * heads * valueHeadDim;
    this.#queries.reserve(4 * queryValues);
    this.#out.reserve(4 * outValues);
    copyValues(queries, 0, this.#queries.view, 0, queryValues);
    const args = this.#pool.args;
    args[0] = this.#queries.address;
    args[1] = this.#keys[layer]!.byteOffset;
    args[2] = this.#values[layer]!.byteOffset;
    args[3] = this.#out.address;
    args[4] = pos;
    args[5] = heads;
    args[6] = kvHeads;
    args[7] = keyHeadDim;
    args[8] = valueHeadDim;
    args[9] = this.#scaleBits;
    args[10] = this.roundProbabilities ? 1 : 0;
    args[11] = this.#scores;
    args[12] = this.#scoreStride;
    this.#pool.run(KERNEL, count * heads, 1);
    copyValues(this.#out.view, 0, out, 0, outValues);
  }
}
