/// <reference lib="deno.worker" />
/**
 * The expert loader thread: takes load jobs from a shared ring (see loader.ts), demands before
 * prefetches, skips jobs a newer one for the same slot has superseded (or that were cancelled),
 * marks the job it begins as taken, reads each expert's slices from the GGUF file (or copies
 * them from the RAM tier) into its slot in the backend's shared memory, prepares them as the
 * kernels want them (Q4_0's rows interleaved in fours), and marks the slot done. It blocks in `Atomics.wait` while there is nothing to do.
 * @module
 */
import { instantiateKernels, kernelModule } from "../backend/cpu/kernels.ts";
import { Control, JOB_INTS, JOB_TAKEN, type LoaderStart, LoaderStat } from "./loader.ts";

/** A job, copied out of the ring when taken. */
interface Job {
  readonly slot: number;
  readonly serial: number;
  readonly key: number;
  readonly demand: boolean;
}

self.onmessage = async (event: MessageEvent<LoaderStart>) => {
  const start = event.data;
  const { control, requested, urgent, done, stats } = start;
  const kernels = await instantiateKernels(
    await kernelModule(start.variant),
    start.memory,
    start.stackTop,
  );
  const file = start.ram ? null : Deno.openSync(start.path, { read: true });
  const ring = control.length - Control.Jobs;
  const capacity = ring / JOB_INTS;
  self.postMessage("ready");

  /** Bytes `[offset, offset + into.length)` of the expert tier into `into`. */
  const readTier = (offset: number, into: Uint8Array) => {
    if (start.ram) {
      into.set(new Uint8Array(start.ram, offset, into.length));
      return;
    }
    file!.seekSync(offset, Deno.SeekMode.Start);
    for (let filled = 0; filled < into.length;) {
      const got = file!.readSync(into.subarray(filled));
      if (got === null || got === 0) {
        throw new Error(`the file ends inside an expert (byte ${offset + filled})`);
      }
      filled += got;
    }
  };

  /** Loads expert `key` into `slot`. */
  const load = (slot: number, key: number) => {
    const layer = start.layers[Math.floor(key / start.experts)]!;
    const expert = key % start.experts;
    const slotAddress = start.slotBase + slot * start.slotStride;
    const began = performance.now();
    for (const part of layer) {
      const address = slotAddress + part.slotOffset;
      // straight into the slot: a synchronous read into shared memory costs no extra copy
      readTier(
        part.tierOffset + expert * part.bytes,
        new Uint8Array(start.memory.buffer, address, part.bytes),
      );
      if (part.interleave) {
        kernels.exports[part.interleave]!(address, part.rows, part.cols, start.scratch);
      }
      stats[LoaderStat.Bytes]! += part.bytes;
    }
    stats[LoaderStat.Ms]! += performance.now() - began;
  };

  const pending: Job[] = [];
  let taken = 0;
  try {
    for (;;) {
      const head = Atomics.load(control, Control.Head);
      for (; taken < head; taken++) {
        const at = Control.Jobs + (taken % capacity) * JOB_INTS;
        const demand = Atomics.load(control, at + 3) === 1;
        pending.push({
          slot: control[at]!,
          serial: control[at + 1]!,
          key: control[at + 2]!,
          demand,
        });
      }
      Atomics.store(control, Control.Taken, taken);
      if (Atomics.load(control, Control.Stop)) break;
      // the first demand job, else the oldest prefetch; superseded and cancelled jobs are dropped
      let pick = -1;
      for (let i = 0; i < pending.length; i++) {
        const job = pending[i]!;
        if (Atomics.load(requested, job.slot) !== job.serial) {
          pending.splice(i--, 1);
          continue;
        }
        if (job.demand || Atomics.load(urgent, job.slot) === job.serial) {
          pick = i;
          break;
        }
        if (pick < 0) pick = i;
      }
      if (pick < 0) {
        Atomics.wait(control, Control.Head, head);
        continue;
      }
      const { slot, serial, key } = pending.splice(pick, 1)[0]!;
      // taken from here on, unless the computing thread cancelled it a moment ago
      if (Atomics.compareExchange(requested, slot, serial, serial | JOB_TAKEN) !== serial) continue;
      load(slot, key);
      Atomics.store(done, slot, serial);
      Atomics.notify(done, slot);
    }
  } catch (error) {
    // the computing thread is blocked in Atomics.wait: leave the message in shared memory
    const message = new TextEncoder().encode(String((error as Error).message ?? error));
    start.error.set(message.subarray(0, start.error.length));
    Atomics.store(control, Control.Failed, 1);
    for (let slot = 0; slot < done.length; slot++) Atomics.notify(done, slot);
  } finally {
    file?.close();
  }
};
