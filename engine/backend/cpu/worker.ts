/// <reference lib="deno.worker" />
/**
 * A CPU worker thread: instantiates the kernels over the shared memory with its own stack, then
 * waits for jobs in the control block and runs its share of each job (see pool.ts).
 * @module
 */
import { instantiateKernels, KERNEL_NAMES, kernelModule, type KernelVariant } from "./kernels.ts";
import { runKernel, shareStart, Slot } from "./pool.ts";

interface Start {
  readonly memory: WebAssembly.Memory;
  readonly control: Int32Array;
  readonly index: number;
  readonly stackTop: number;
  readonly variant: KernelVariant;
}

/** Spins before sleeping: long enough to bridge the gaps between a token's mat-vecs. */
const SPINS_BEFORE_SLEEP = 1 << 16;

self.onmessage = async (event: MessageEvent<Start>) => {
  const { memory, control, index, stackTop, variant } = event.data;
  const kernels = await instantiateKernels(await kernelModule(variant), memory, stackTop);
  const run = KERNEL_NAMES.map((name) => kernels.exports[name]!);
  // the first job may be published as soon as "ready" arrives: note the sequence before
  let seen = Atomics.load(control, Slot.Sequence);
  self.postMessage("ready");
  for (;;) {
    let spins = 0;
    while (Atomics.load(control, Slot.Sequence) === seen) {
      if (++spins > SPINS_BEFORE_SLEEP) {
        Atomics.wait(control, Slot.Sequence, seen);
        spins = 0;
      }
    }
    seen = Atomics.load(control, Slot.Sequence);
    if (Atomics.load(control, Slot.Stop)) return;
    const units = control[Slot.Units]!;
    const threads = control[Slot.Threads]!;
    const granularity = control[Slot.Granularity]!;
    const first = shareStart(units, threads, granularity, index);
    const last = shareStart(units, threads, granularity, index + 1);
    if (first < last) {
      runKernel(run[control[Slot.Kernel]!]!, first, last, index, control, Slot.Args);
    }
    Atomics.add(control, Slot.Done, 1);
  }
};
