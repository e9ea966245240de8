/**
 * A pool of worker threads over one shared WebAssembly memory. The calling thread and
 * `threads − 1` workers split each mat-vec's rows; a job is a few integers written into a shared
 * control block, not a message. Workers spin briefly on the job counter (a round trip costs
 * ~0.5 µs that way, ~55 µs through `Atomics.wait`) and sleep in `Atomics.wait` once idle.
 *
 * @example
 * ```ts
 * import { startThreads } from "./pool.ts";
 * const { pool } = await startThreads(2);
 * console.log(pool.threads); // 2
 * pool.close();
 * ```
 * @module
 */
import { instantiateKernels, KERNEL_NAMES, type KernelInstance, kernelModule } from "./kernels.ts";
import { WasmHeap } from "./heap.ts";

/** Slots of the control block (an Int32Array shared with every worker). */
export const Slot = {
  /** Incremented to publish a job. */
  Sequence: 0,
  /** Workers that finished the current job. */
  Done: 1,
  /** Set to stop the workers. */
  Stop: 2,
  Threads: 3,
  /** Index into KERNEL_NAMES. */
  Kernel: 4,
  /** The mat-vec's arguments, one slot each from here. */
  Weights: 5,
  RowBytes: 6,
  Rows: 7,
  Cols: 8,
  Input: 9,
  Output: 10,
} as const;

/** Bytes of stack each worker's kernel instance gets. */
export const WORKER_STACK_BYTES = 64 << 10;

/** Rows of thread `index`'s share: multiples of 4, as the kernels take rows four at a time. */
export function rowShare(rows: number, threads: number, index: number): [number, number] {
  const chunk = Math.ceil(rows / threads / 4) * 4;
  return [Math.min(rows, index * chunk), Math.min(rows, (index + 1) * chunk)];
}

/**
 * A fresh shared memory (its heap starting after the kernels' static data and the workers'
 * stacks) and `threads` threads over it.
 */
export async function startThreads(threads: number): Promise<{ heap: WasmHeap; pool: ThreadPool }> {
  const probe = await instantiateKernels(
    await kernelModule(),
    new WebAssembly.Memory({ initial: 17, maximum: 65536, shared: true }),
    null,
  );
  const heap = new WasmHeap(probe.heapBase);
  const stackBase = heap.alloc((threads - 1) * WORKER_STACK_BYTES, 16);
  return { heap, pool: await ThreadPool.create(heap.memory, threads, stackBase) };
}

/** The worker threads and this thread's own kernel instance. */
export class ThreadPool {
  readonly #control: Int32Array;
  readonly #workers: Worker[];
  readonly #matVecs: ((...args: number[]) => void)[];

  private constructor(
    readonly threads: number,
    readonly kernels: KernelInstance,
    control: Int32Array,
    workers: Worker[],
  ) {
    this.#control = control;
    this.#workers = workers;
    this.#matVecs = KERNEL_NAMES.map((name) => kernels.exports[name]!);
  }

  /**
   * Starts `threads − 1` workers over `memory`. Their stacks are taken from `memory` at
   * `stackBase` onwards (`(threads − 1) · WORKER_STACK_BYTES` bytes, reserved by the caller).
   */
  static async create(
    memory: WebAssembly.Memory,
    threads: number,
    stackBase: number,
  ): Promise<ThreadPool> {
    const module = await kernelModule();
    const kernels = await instantiateKernels(module, memory, null);
    const control = new Int32Array(new SharedArrayBuffer(64 * 4));
    control[Slot.Threads] = threads;
    const workers: Worker[] = [];
    const started: Promise<void>[] = [];
    for (let index = 1; index < threads; index++) {
      const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
      started.push(
        new Promise((resolve, reject) => {
          worker.onmessage = () => resolve();
          worker.onerror = (event) => {
            event.preventDefault();
            reject(new Error(`CPU worker ${index} failed to start: ${event.message}`));
          };
        }),
      );
      worker.postMessage({
        memory,
        control,
        index,
        stackTop: stackBase + index * WORKER_STACK_BYTES,
      });
      workers.push(worker);
    }
    const pool = new ThreadPool(threads, kernels, control, workers);
    try {
      await Promise.all(started);
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  /** Runs mat-vec kernel `kernel` (an index into KERNEL_NAMES) over all threads. */
  matVec(
    kernel: number,
    w: number,
    rowBytes: number,
    rows: number,
    cols: number,
    x: number,
    out: number,
  ): void {
    const run = this.#matVecs[kernel]!;
    if (this.threads === 1) return run(w, rowBytes, 0, rows, cols, x, out);
    const control = this.#control;
    control[Slot.Kernel] = kernel;
    control[Slot.Weights] = w;
    control[Slot.RowBytes] = rowBytes;
    control[Slot.Rows] = rows;
    control[Slot.Cols] = cols;
    control[Slot.Input] = x;
    control[Slot.Output] = out;
    Atomics.store(control, Slot.Done, 0);
    Atomics.add(control, Slot.Sequence, 1);
    Atomics.notify(control, Slot.Sequence);
    const [first, last] = rowShare(rows, this.threads, 0);
    if (first < last) run(w, rowBytes, first, last, cols, x, out);
    const others = this.threads - 1;
    while (Atomics.load(control, Slot.Done) < others) {
      // the workers' shares take about as long as ours: spin
    }
  }

  /** Stops the workers. */
  close(): void {
    Atomics.store(this.#control, Slot.Stop, 1);
    Atomics.add(this.#control, Slot.Sequence, 1);
    Atomics.notify(this.#control, Slot.Sequence);
    for (const worker of this.#workers) worker.terminate();
    this.#workers.length = 0;
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
