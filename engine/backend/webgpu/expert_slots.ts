/**
 * The GPU expert cache's slots: one GPU buffer per slot of the offload subsystem's cache. The
 * loader thread reads experts from the disk or RAM tier into host slots (the staging backend's
 * memory, kept in GGUF block layout); an expert's GPU slot is filled from its host slot with
 * `queue.writeBuffer` the first time the forward pass computes it there.
 * @module
 */
import type { SlotMemory } from "../../offload/loader.ts";
import type { SlotBackend } from "../../offload/offloaded.ts";
import type { QuantFormat } from "../../quant/format.ts";
import { align, STORAGE } from "./buffers.ts";
import { GpuMatrix } from "./matrix.ts";

/** Where recorded GPU work stands: `serial` counts submissions, `submit()` sends the rest. */
export interface SubmissionClock {
  readonly serial: number;
  submit(): void;
}

/** Expert slots in GPU buffers, mirroring host slots of the same size. */
export class GpuExpertSlots implements SlotBackend<GpuMatrix> {
  #memory: SlotMemory | null = null;
  #buffers: GPUBuffer[] = [];
  readonly #slotOf = new Map<GPUBuffer, number>();
  /** The expert key each GPU slot holds (−1: none yet). */
  #keys = new Int32Array(0);
  /** The submission that last used each slot: its bytes may change only after it is sent. */
  #usedIn = new Float64Array(0);
  #stage = new Uint8Array(0);

  constructor(readonly device: GPUDevice, readonly staging: SlotBackend<unknown>) {}

  expertSlots(count: number, slotBytes: number, scratchBytes: number): SlotMemory {
    const memory = this.staging.expertSlots(count, slotBytes, scratchBytes);
    const size = align(slotBytes, 4);
    if (size > this.device.limits.maxStorageBufferBindingSize) {
      throw new RangeError(
        `an expert of ${slotBytes} bytes is larger than this GPU binds at once ` +
          `(${this.device.limits.maxStorageBufferBindingSize} bytes)`,
      );
    }
    this.#buffers = Array.from({ length: count }, () => {
      const buffer = this.device.createBuffer({ size, usage: STORAGE });
      this.#slotOf.set(buffer, this.#slotOf.size);
      return buffer;
    });
    this.#keys = new Int32Array(count).fill(-1);
    this.#usedIn = new Float64Array(count).fill(-1);
    this.#stage = new Uint8Array(size);
    // GGUF block layout: the GPU kernels read blocks as the file has them
    this.#memory = { ...memory, interleaveOf: () => null };
    return this.#memory;
  }

  matrixAt(format: QuantFormat, rows: number, cols: number, address: number): GpuMatrix {
    const memory = this.#memory!;
    const slot = Math.floor((address - memory.slotBase) / memory.slotStride);
    const offset = address - memory.slotBase - slot * memory.slotStride;
    return new GpuMatrix(format.type.name, rows, cols, this.#buffers[slot]!, offset);
  }

  /**
   * Before recording work on the slot buffer `buffer`: fills it with expert `key`'s bytes from
   * its host slot unless it holds them, first sending recorded work that still reads it.
   * Buffers that are not slots (resident experts) are left alone.
   */
  ensure(buffer: GPUBuffer, key: number, clock: SubmissionClock): void {
    const slot = this.#slotOf.get(buffer);
    if (slot === undefined) return;
    if (this.#keys[slot] !== key) {
      if (this.#usedIn[slot] === clock.serial) clock.submit();
      const memory = this.#memory!;
      const start = memory.slotBase + slot * memory.slotStride;
      // writeBuffer takes no shared memory: through a private copy
      this.#stage.set(new Uint8Array(memory.memory.buffer, start, this.#stage.length));
      this.device.queue.writeBuffer(buffer, 0, this.#stage);
      this.#keys[slot] = key;
    }
    this.#usedIn[slot] = clock.serial;
  }

  destroy(): void {
    for (const buffer of this.#buffers) buffer.destroy();
  }
}
