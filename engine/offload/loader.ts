/**
 * The asynchronous expert loader: a worker thread (loader_worker.ts) that moves experts from
 * their tier (the GGUF file on disk, or a RAM copy) into cache slots in the backend's shared
 * memory while the computing thread works. Jobs go through a ring of integers in shared memory
 * (no messages, so the computing thread never yields to an event loop); demand loads overtake
 * queued prefetches; a slot's newest job supersedes older ones, and a job not begun can be
 * cancelled. `wait(slot)` blocks in `Atomics.wait` until the slot's newest load is done.
 *
 * @module
 */
import type { KernelVariant } from "../backend/cpu/kernels.ts";
import { GGUFError } from "../gguf/errors.ts";
import type { GGUFFile } from "../gguf/read.ts";
import type { ExpertStore } from "./store.ts";

/** Slots of the control block. */
export const Control = {
  /** Jobs published (the computing thread increments it). */
  Head: 0,
  /** Jobs the loader has taken into its queue. */
  Taken: 1,
  Stop: 2,
  /** Set by the loader when a load failed (its message is in `error`). */
  Failed: 3,
  /** The ring of jobs from here: slot, serial, key, priority (1: demand). */
  Jobs: 4,
} as const;
export const JOB_INTS = 4;
/**
 * Set in `requested[slot]` by the loader when it begins that job: from then on it cannot be
 * cancelled. Serials stay below it.
 */
export const JOB_TAKEN = 1 << 30;
/** Jobs the ring holds (the loader copies each out as it takes it). */
const RING_JOBS = 4096;

/** Slots of the loader's statistics (a Float64Array). */
export const LoaderStat = { Bytes: 0, Ms: 1 } as const;

/** One slice of a layer's experts as the loader moves it. */
export interface LoaderPart {
  /** Where expert 0's slice starts in the tier (file offset, or offset in the RAM copy). */
  readonly tierOffset: number;
  readonly bytes: number;
  readonly slotOffset: number;
  readonly rows: number;
  readonly cols: number;
  /** The kernel export that prepares the slice in place (interleaving), if any. */
  readonly interleave: string | null;
}

/** What the loader thread is started with: the slots' memory, the experts, the shared state. */
export interface LoaderStart extends Omit<SlotMemory, "interleaveOf"> {
  readonly experts: number;
  /** Per layer (empty for dense ones). */
  readonly layers: readonly (readonly LoaderPart[])[];
  readonly path: string;
  /** The RAM tier: every expert's bytes, or null to read the file. */
  readonly ram: SharedArrayBuffer | null;
  readonly control: Int32Array;
  /**
   * Per slot: the serial of its newest job (with `JOB_TAKEN` once begun; 0 when cancelled), of
   * the job the computing thread waits for, …
   */
  readonly requested: Int32Array;
  readonly urgent: Int32Array;
  /** … and of the last job done. */
  readonly done: Int32Array;
  readonly stats: Float64Array;
  readonly error: Uint8Array;
}

/** Where the loader puts experts: slots in a shared memory, and the kernels that prepare them. */
export interface SlotMemory {
  readonly memory: WebAssembly.Memory;
  readonly variant: KernelVariant;
  /** The loader thread's own stack, and scratch for the interleaving exports (four rows). */
  readonly stackTop: number;
  readonly scratch: number;
  readonly slotBase: number;
  readonly slotStride: number;
  /** The export that interleaves a matrix of this type in place, if its kernel wants that. */
  interleaveOf(type: string): string | null;
}

/** Loads experts into slots on a worker thread. */
export class ExpertLoader {
  readonly #worker: Worker;
  readonly #control: Int32Array;
  readonly #requested: Int32Array;
  readonly #urgent: Int32Array;
  readonly #done: Int32Array;
  readonly #stats: Float64Array;
  readonly #error: Uint8Array;
  readonly #path: string;
  /** Per slot: the serial of its newest job (`requested` also carries the loader's mark). */
  readonly #newest: Int32Array;
  #head = 0;
  #serial = 0;

  private constructor(worker: Worker, start: LoaderStart) {
    this.#worker = worker;
    this.#control = start.control;
    this.#requested = start.requested;
    this.#urgent = start.urgent;
    this.#done = start.done;
    this.#stats = start.stats;
    this.#error = start.error;
    this.#path = start.path;
    this.#newest = new Int32Array(start.requested.length);
  }

  /**
   * Starts the loader for `slots` slots of `store`'s experts (those of `gguf`) in `memory`,
   * reading the file, or from a RAM copy of every expert made now (`tier: "ram"`).
   */
  static async start(
    gguf: GGUFFile,
    store: ExpertStore,
    slots: number,
    memory: SlotMemory,
    tier: "disk" | "ram",
  ): Promise<ExpertLoader> {
    const ram = tier === "ram" ? await copyToRam(gguf, store) : null;
    let ramOffset = 0;
    const layers = store.layers.map((layer) =>
      (layer?.parts ?? []).map((part): LoaderPart => {
        const tierOffset = ram ? ramOffset : part.fileOffset;
        ramOffset += part.bytes * store.experts;
        return {
          tierOffset,
          bytes: part.bytes,
          slotOffset: part.slotOffset,
          rows: part.rows,
          cols: part.cols,
          interleave: memory.interleaveOf(part.format.type.name),
        };
      })
    );
    const shared = (bytes: number) => new SharedArrayBuffer(bytes);
    const start: LoaderStart = {
      memory: memory.memory,
      variant: memory.variant,
      stackTop: memory.stackTop,
      scratch: memory.scratch,
      slotBase: memory.slotBase,
      slotStride: memory.slotStride,
      experts: store.experts,
      layers,
      path: store.path,
      ram,
      control: new Int32Array(shared(4 * (Control.Jobs + RING_JOBS * JOB_INTS))),
      requested: new Int32Array(shared(4 * slots)),
      urgent: new Int32Array(shared(4 * slots)),
      done: new Int32Array(shared(4 * slots)),
      stats: new Float64Array(shared(16)),
      error: new Uint8Array(shared(1024)),
    };
    const worker = new Worker(new URL("./loader_worker.ts", import.meta.url).href, {
      type: "module",
    });
    await new Promise<void>((resolve, reject) => {
      worker.onmessage = () => resolve();
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`the expert loader failed to start: ${event.message}`));
      };
      worker.postMessage(start);
    });
    return new ExpertLoader(worker, start);
  }

  /** Queues expert `key` into `slot` (`demand`: ahead of every prefetch). */
  load(slot: number, key: number, demand: boolean): void {
    const control = this.#control;
    const capacity = (control.length - Control.Jobs) / JOB_INTS;
    // the ring is far larger than the slots; wait for the loader if it ever fills
    while (this.#head - Atomics.load(control, Control.Taken) >= capacity) this.#check();
    this.#serial = this.#serial % (JOB_TAKEN - 1) + 1;
    const serial = this.#serial;
    this.#newest[slot] = serial;
    const at = Control.Jobs + (this.#head % capacity) * JOB_INTS;
    control[at] = slot;
    control[at + 1] = serial;
    control[at + 2] = key;
    Atomics.store(control, at + 3, demand ? 1 : 0);
    Atomics.store(this.#requested, slot, serial);
    Atomics.store(control, Control.Head, ++this.#head);
    Atomics.notify(control, Control.Head);
  }

  /**
   * Drops `slot`'s newest load if the loader has not begun it. True when it was dropped (no
   * byte moved; the slot holds nothing usable until its next load), false when it has begun or
   * is done.
   */
  cancel(slot: number): boolean {
    const serial = this.#newest[slot]!;
    return Atomics.compareExchange(this.#requested, slot, serial, 0) === serial;
  }

  /** Returns once `slot`'s newest load is done (a queued prefetch becomes a demand). */
  wait(slot: number): void {
    const serial = this.#newest[slot]!;
    if (Atomics.load(this.#done, slot) === serial) return;
    Atomics.store(this.#urgent, slot, serial);
    for (;;) {
      const done = Atomics.load(this.#done, slot);
      if (done === serial) return;
      this.#check();
      Atomics.wait(this.#done, slot, done, 100);
    }
  }

  /** Bytes the loader has moved, and the milliseconds it spent moving them. */
  get bytesLoaded(): number {
    return this.#stats[LoaderStat.Bytes]!;
  }

  get loadMs(): number {
    return this.#stats[LoaderStat.Ms]!;
  }

  /** @throws {Error} with the loader's message once a load has failed. */
  #check(): void {
    if (!Atomics.load(this.#control, Control.Failed)) return;
    const end = this.#error.indexOf(0);
    const message = new TextDecoder().decode(this.#error.slice(0, end < 0 ? undefined : end));
    throw new GGUFError(this.#path, `loading an expert failed: ${message}`);
  }

  close(): void {
    Atomics.store(this.#control, Control.Stop, 1);
    Atomics.notify(this.#control, Control.Head);
    this.#worker.terminate();
  }
}

/** The RAM tier: every expert's slices, layer by layer, part by part, read once. */
async function copyToRam(gguf: GGUFFile, store: ExpertStore): Promise<SharedArrayBuffer> {
  const ram = new SharedArrayBuffer(store.totalBytes);
  // reads into shared memory would go through a copy of the whole target: bounce in 4 MiB
  const bounce = new Uint8Array(4 << 20);
  let at = 0;
  for (const layer of store.layers) {
    for (const part of layer?.parts ?? []) {
      const length = part.bytes * store.experts;
      for (let done = 0; done < length; done += bounce.length) {
        const chunk = bounce.subarray(0, Math.min(bounce.length, length - done));
        await gguf.readBytes(part.fileOffset + done, chunk.length, chunk);
        new Uint8Array(ram, at + done, chunk.length).set(chunk);
      }
      at += length;
    }
  }
  return ram;
}
