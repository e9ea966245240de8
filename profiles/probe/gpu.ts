/**
 * What the GPU reaches: host→GPU upload bandwidth (`queue.writeBuffer`, as weights and offloaded
 * experts travel) and the engine's own Q4_0 mat-vec kernel over a matrix of real blocks, timed
 * from submission to completion.
 *
 * @example
 * ```ts ignore
 * import { measureGpu } from "./gpu.ts";
 * const gpu = await measureGpu({ matrixBytes: 64 << 20, reps: 3 });
 * console.log("unavailable" in gpu ? gpu.unavailable : gpu.matVec.best);
 * ```
 * @module
 */
import {
  quantizedTile,
  type Rate,
  rateOf,
  TIMED_COLS,
} from "../../engine/backend/cpu/bandwidth.ts";
import { STORAGE, Transients } from "../../engine/backend/webgpu/buffers.ts";
import { openGpu } from "../../engine/backend/webgpu/device.ts";
import { GpuKernels } from "../../engine/backend/webgpu/kernels.ts";
import { GpuMatMul, GpuMatrix } from "../../engine/backend/webgpu/matrix.ts";
import { ggmlType, rowByteSize } from "../../engine/quant/types.ts";
import { Prng } from "../../engine/synth/prng.ts";
import { PROBED_TYPE } from "./cpu.ts";

/** How the GPU probe runs. */
export interface GpuProbe {
  /** Bytes uploaded per repetition, and the size of the timed matrix. */
  readonly matrixBytes: number;
  readonly reps: number;
}

/** GB/s of uploads and of the Q4_0 mat-vec, or why there is no GPU to measure. */
export type GpuRates =
  | { readonly upload: Rate; readonly matVec: Rate; readonly fallback: boolean }
  | { readonly unavailable: string };

/** Measures the default WebGPU adapter. */
export async function measureGpu(probe: GpuProbe): Promise<GpuRates> {
  const gpu = await openGpu();
  if ("unavailable" in gpu) return { unavailable: gpu.unavailable };
  const device = gpu.device;
  const transients = new Transients(device);
  try {
    const type = ggmlType(PROBED_TYPE);
    const rowBytes = rowByteSize(type, TIMED_COLS);
    const prng = new Prng(5);
    const tile = quantizedTile(PROBED_TYPE, prng)!;
    const rows =
      Math.floor(Math.min(probe.matrixBytes, device.limits.maxBufferSize) / tile.length) *
      (tile.length / rowBytes);
    const bytes = rows * rowBytes;
    const read = (into: Uint8Array, at: number) => {
      for (let i = 0; i < into.length; i++) into[i] = tile[(at + i) % tile.length]!;
      return Promise.resolve();
    };
    const matrix = await GpuMatrix.upload(device, PROBED_TYPE, rows, TIMED_COLS, bytes, read);

    const upload = await timeUploads(device, matrix.buffer, bytes, probe.reps);

    const matMul = await GpuMatMul.create(
      new GpuKernels(device),
      [PROBED_TYPE],
      TIMED_COLS,
      transients,
      undefined,
      false, // one token at a time: the mat-vec alone is timed
    );
    const input = transients.floats(
      Float32Array.from({ length: TIMED_COLS }, () => prng.uniform(1)),
    );
    const output = device.createBuffer({ size: rows * 4, usage: STORAGE });
    const rates: number[] = [];
    for (let rep = 0; rep <= probe.reps; rep++) {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      matMul.record(pass, matrix, input, output, 1);
      pass.end();
      const start = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      const seconds = (performance.now() - start) / 1000;
      if (rep > 0) rates.push(bytes / seconds / 1e9);
    }
    matMul.destroy();
    return { upload, matVec: rateOf(rates), fallback: gpu.info.fallback };
  } finally {
    transients.release();
    device.destroy();
  }
}

/** GB/s of `queue.writeBuffer` from host memory into `buffer`, in 64 MiB pieces. */
async function timeUploads(
  device: GPUDevice,
  buffer: GPUBuffer,
  bytes: number,
  reps: number,
): Promise<Rate> {
  const piece = new Uint8Array(Math.min(64 << 20, bytes)).fill(3);
  const rates: number[] = [];
  for (let rep = 0; rep <= reps; rep++) {
    const start = performance.now();
    for (let at = 0; at + piece.length <= bytes; at += piece.length) {
      device.queue.writeBuffer(buffer, at, piece);
    }
    await device.queue.onSubmittedWorkDone();
    const seconds = (performance.now() - start) / 1000;
    if (rep > 0) rates.push(Math.floor(bytes / piece.length) * piece.length / seconds / 1e9);
  }
  return rateOf(rates);
}
