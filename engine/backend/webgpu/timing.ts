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

  /** Passes begun since the last submission. */
  get pending(): number {
    return this.#labels.length;
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

/** One kernel's share of a run: its dispatches and their time. */
export interface KernelTime {
  /** The pipeline's label (`matvec Q4_0`, `rms_norm`, …). */
  readonly kernel: string;
  readonly calls: number;
  readonly ms: number;
  readonly clock: PassTime["clock"];
}

/**
 * Per-kernel GPU time over a run: `wrap` gives compute passes that start a timed pass of their
 * own at every `setPipeline`, labelled with the pipeline's label, and `submit` sums the times by
 * label. Passes of one dispatch each cost the GPU a little time between kernels, so a profiled
 * run is slower than a plain one; the split between kernels is what it is for. Without
 * `timestamp-query` only each submission's wall time is known: it counts as one entry.
 */
export class KernelProfiler {
  readonly #timer: GpuTimer;
  readonly #totals = new Map<string, { calls: number; ms: number; clock: PassTime["clock"] }>();
  readonly #results: Promise<void>[] = [];

  /** `passes`: the most timed passes per submission (two queries each; WebGPU allows 4096). */
  constructor(gpu: Gpu, passes = 2048) {
    this.#timer = new GpuTimer(gpu, passes);
  }

  /**
   * A compute pass over `current()` (the pass being recorded) that begins a timed pass in
   * `encoder()` before each dispatch's pipeline; `flush()` submits when the timer is full.
   */
  wrap(
    encoder: () => GPUCommandEncoder,
    current: { pass: GPUComputePassEncoder },
    flush: () => void,
  ): GPUComputePassEncoder {
    const timer = this.#timer;
    // the kernels use these three (dynamic offsets: never)
    const profiled = {
      setPipeline(pipeline: GPUComputePipeline) {
        if (timer.pending === timer.capacity) flush();
        current.pass.end();
        current.pass = timer.beginPass(encoder(), pipeline.label);
        current.pass.setPipeline(pipeline);
      },
      setBindGroup: (index: number, group: GPUBindGroup) => current.pass.setBindGroup(index, group),
      dispatchWorkgroups: (x: number, y?: number, z?: number) =>
        current.pass.dispatchWorkgroups(x, y, z),
    };
    return profiled as unknown as GPUComputePassEncoder;
  }

  /** Submits `encoder` (its passes ended) and adds up its passes' times once they are known. */
  submit(encoder: GPUCommandEncoder): void {
    this.#results.push(
      this.#timer.submit(encoder).then((times) => {
        for (const { label, ms, clock } of times) {
          const kernel = clock === "wall" ? "all kernels (wall clock)" : label;
          const total = this.#totals.get(kernel) ?? { calls: 0, ms: 0, clock };
          this.#totals.set(kernel, { calls: total.calls + 1, ms: total.ms + ms, clock });
        }
      }),
    );
  }

  /** Every kernel's time so far, the longest first. */
  async times(): Promise<KernelTime[]> {
    await Promise.all(this.#results.splice(0));
    return [...this.#totals].map(([kernel, total]) => ({ kernel, ...total }))
      .sort((a, b) => b.ms - a.ms);
  }

  destroy(): void {
    this.#timer.destroy();
  }
}
