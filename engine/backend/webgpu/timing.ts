/**
 * GPU time per compute pass: timestamp queries at each pass's beginning and end where the device
 * has `timestamp-query`, else the wall time from submission to `onSubmittedWorkDone` for the
 * whole submission (which then includes queueing and, on a real GPU, the driver's latency).
 *
 * @example
 * ```ts
 * import { openGpu } from "./device.ts";
 * import { GpuTimer } from "./timing.ts";
 * const gpu = await openGpu();
 * if (!("unavailable" in gpu)) {
 *   const timer = new GpuTimer(gpu);
 *   const encoder = gpu.device.createCommandEncoder();
 *   const pass = timer.beginPass(encoder, "matvec");
 *   // … dispatches …
 *   pass.end();
 *   const times = await timer.submit(encoder); // [{ label: "matvec", ms: … }]
 * }
 * ```
 * @module
 */
import type { Gpu } from "./device.ts";

/** The time of one labelled pass (or of the whole submission, without timestamps). */
export interface PassTime {
  readonly label: string;
  readonly ms: number;
  /** `timestamps`: measured on the GPU; `wall`: submission to completion, seen by the host. */
  readonly clock: "timestamps" | "wall";
}

/** Times the passes of one submission at a time. */
export class GpuTimer {
  readonly #device: GPUDevice;
  readonly #querySet: GPUQuerySet | null;
  readonly #resolved: GPUBuffer | null;
  readonly #labels: string[] = [];

  /** `timestamps: false` measures wall time even where timestamp queries exist. */
  constructor(gpu: Gpu, readonly capacity = 64, timestamps = gpu.has("timestamp-query")) {
    this.#device = gpu.device;
    this.#querySet = timestamps
      ? this.#device.createQuerySet({ type: "timestamp", count: 2 * capacity })
      : null;
    this.#resolved = timestamps
      ? this.#device.createBuffer({
        size: 16 * capacity,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      })
      : null;
  }

  /** Whether passes are timed on the GPU. */
  get timestamps(): boolean {
    return this.#querySet !== null;
  }

  /** A compute pass whose GPU time `submit` reports under `label`. */
  beginPass(encoder: GPUCommandEncoder, label: string): GPUComputePassEncoder {
    if (!this.#querySet) {
      this.#labels.push(label);
      return encoder.beginComputePass({ label });
    }
    const index = this.#labels.length;
    if (index >= this.capacity) throw new RangeError(`more than ${this.capacity} timed passes`);
    this.#labels.push(label);
    return encoder.beginComputePass({
      label,
      timestampWrites: {
        querySet: this.#querySet,
        beginningOfPassWriteIndex: 2 * index,
        endOfPassWriteIndex: 2 * index + 1,
      },
    });
  }

  /** Submits `encoder`'s work and returns each timed pass's time once it has run. */
  async submit(encoder: GPUCommandEncoder): Promise<PassTime[]> {
    const labels = this.#labels.splice(0);
    const querySet = this.#querySet;
    if (!querySet) {
      const started = performance.now();
      this.#device.queue.submit([encoder.finish()]);
      await this.#device.queue.onSubmittedWorkDone();
      const ms = performance.now() - started;
      return [{ label: labels.join(" + ") || "submission", ms, clock: "wall" }];
    }
    const bytes = 16 * labels.length;
    const staging = this.#device.createBuffer({
      size: Math.max(16, bytes),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    if (labels.length) {
      encoder.resolveQuerySet(querySet, 0, 2 * labels.length, this.#resolved!, 0);
      encoder.copyBufferToBuffer(this.#resolved!, 0, staging, 0, bytes);
    }
    this.#device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const ticks = new BigUint64Array(staging.getMappedRange().slice(0, bytes));
    staging.unmap();
    staging.destroy();
    return labels.map((label, i) => ({
      label,
      // nanoseconds; a pass whose end reads before its beginning (a clock reset) counts as 0
      ms: Math.max(0, Number(ticks[2 * i + 1]! - ticks[2 * i]!)) / 1e6,
      clock: "timestamps" as const,
    }));
  }

  destroy(): void {
    this.#querySet?.destroy();
    this.#resolved?.destroy();
  }
}
