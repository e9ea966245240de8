/**
 * A pool of worker threads over one shared WebAssembly memory. The calling thread and
 * `threads − 1` workers split each job's units of work (a mat-mul's rows, attention's heads); a
 * job is a few integers written into a shared control block, not a message. Workers spin briefly on the job counter (a round trip costs
 * ~0.5 µs that way, ~55 µs through `Atomics.wait`) and sleep in `Atomics.wait` once idle.
 *
 * @example
 * ```ts
 * import { startThreads } from "./pool.ts";
 * const { pool } = await startThreads(2, "simd128");
 * console.log(pool.threads); // 2
 * pool.close();
 * ```
 * @module
 */
import {
  instantiateKernels,
  KERNEL_NAMES,
  type KernelInstance,
  kernelModule,
  type KernelVariant,
} from "./kernels.ts";
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
  /** The job's units of work (rows, or attention's token-head pairs), split between threads … */
  Units: 5,
  /** … in multiples of this. */
  Granularity: 6,
  /** The kernel's own arguments, one slot each from here (see `ThreadPool.args`). */
  Args: 7,
} as const;

/** Arguments a kernel takes after (first, last, thread). */
export const MAX_KERNEL_ARGS = 13;

/** Bytes of stack each worker's kernel instance gets. */
export const WORKER_STACK_BYTES = 64 << 10;

/**
 * The first unit of thread `index`'s share (thread `index + 1`'s first unit ends it): shares
 * are multiples of `granularity` (4 rows for the mat-muls, which take rows four at a time).
 */
export function shareStart(
  units: number,
  threads: number,
  granularity: number,
  index: number,
): number {
  const chunk = Math.ceil(units / threads / granularity) * granularity;
  return Math.min(units, index * chunk);
}

/**
 * Calls `kernel(first, last, thread, …args)`: every kernel the pool runs takes its share of the
 * units, its thread index, then its own arguments (the rest are ignored).
 */
export function runKernel(
  kernel: (...args: number[]) => void,
  first: number,
  last: number,
  thread: number,
  a: Int32Array,
  at: number,
): void {
  kernel(
    first,
    last,
    thread,
    a[at]!,
    a[at + 1]!,
    a[at + 2]!,
    a[at + 3]!,
    a[at + 4]!,
    a[at + 5]!,
    a[at + 6]!,
    a[at + 7]!,
    a[at + 8]!,
    a[at + 9]!,
    a[at + 10]!,
    a[at + 11]!,
    a[at + 12]!,
  );
}

/**
 * A fresh shared memory (its heap starting after the kernels' static data and the workers'
 * stacks) and `threads` threads over it.
 */
export async function startThreads(
  threads: number,
  variant: KernelVariant,
): Promise<{ heap: WasmHeap; pool: ThreadPool }> {
  const probe = await instantiateKernels(
    await kernelModule(variant),
    new WebAssembly.Memory({ initial: 17, maximum: 65536, shared: true }),
    null,
  );
  const heap = new WasmHeap(probe.heapBase);
  const stackBase = heap.alloc((threads - 1) * WORKER_STACK_BYTES, 16);
  return { heap, pool: await ThreadPool.create(heap.memory, threads, stackBase, variant) };
}

/** The worker threads and this thread's own kernel instance. */
export class ThreadPool {
  readonly #control: Int32Array;
  readonly #args: Int32Array;
  readonly #workers: Worker[];
  readonly #kernels: ((...args: number[]) => void)[];

  private constructor(
    readonly threads: number,
    readonly variant: KernelVariant,
    readonly kernels: KernelInstance,
    control: Int32Array,
    workers: Worker[],
  ) {
    this.#control = control;
    this.#args = control.subarray(Slot.Args, Slot.Args + MAX_KERNEL_ARGS);
    this.#workers = workers;
    this.#kernels = KERNEL_NAMES.map((name) => kernels.exports[name]!);
  }

  /**
   * Starts `threads − 1` workers over `memory`, all running the kernels' `variant`. Their stacks
   * are taken from `memory` at `stackBase` onwards (`(threads − 1) · WORKER_STACK_BYTES` bytes,
   * reserved by the caller).
   */
  static async create(
    memory: WebAssembly.Memory,
    threads: number,
    stackBase: number,
    variant: KernelVariant,
  ): Promise<ThreadPool> {
    const module = await kernelModule(variant);
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
        variant,
      });
      workers.push(worker);
    }
    const pool = new ThreadPool(threads, variant, kernels, control, workers);
    try {
      await Promise.all(started);
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  /** The next job's arguments (after first, last, thread): fill them, then `run`. */
  get args(): Int32Array {
    return this.#args;
  }

  /**
   * Runs kernel `kernel` (an index into KERNEL_NAMES) with `args` over all threads, each taking
   * a share of `units` in multiples of `granularity`; returns when all shares are done.
   */
  run(kernel: number, units: number, granularity: number): void {
    const control = this.#control;
    const run = this.#kernels[kernel]!;
    if (this.threads === 1) return runKernel(run, 0, units, 0, control, Slot.Args);
    control[Slot.Kernel] = kernel;
    control[Slot.Units] = units;
    control[Slot.Granularity] = granularity;
    Atomics.store(control, Slot.Done, 0);
    Atomics.add(control, Slot.Sequence, 1);
    Atomics.notify(control, Slot.Sequence);
    const last = shareStart(units, this.threads, granularity, 1);
    if (last > 0) runKernel(run, 0, last, 0, control, Slot.Args);
    const others = this.threads - 1;
    while (Atomics.load(control, Slot.Done) < others) {
      // the workers' shares take about as long as ours: spin
    }
  }

  /**
   * A mat-mul kernel over all threads, each taking a share of the rows: `tokens` rows of
   * activations from `x` (`xStride` bytes apart) times the weights at `w`, results to `out`
   * (`outStride` values apart).
   */
  matMul(
    kernel: number,
    w: number,
    rowBytes: number,
    rows: number,
    cols: number,
    x: number,
    xStride: number,
    tokens: number,
    out: number,
    outStride: number,
  ): void {
    const args = this.#args;
    args[0] = w;
    args[1] = rowBytes;
    args[2] = cols;
    args[3] = x;
    args[4] = xStride;
    args[5] = tokens;
    args[6] = out;
    args[7] = outStride;
    this.run(kernel, rows, 4);
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
