/**
 * Small helpers for GPU buffers: storage usage, uniform parameter blocks, bind groups, reading a
 * buffer back.
 * @module
 */

/** Storage buffers that are written from the host and copied out. */
export const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** A copy of `buffer`'s bytes, once the GPU work before it is done. */
export async function readBack(device: GPUDevice, buffer: GPUBuffer): Promise<ArrayBuffer> {
  const staging = device.createBuffer({
    size: buffer.size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const bytes = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return bytes;
}

export function align(bytes: number, to: number): number {
  return Math.ceil(bytes / to) * to;
}

/** The bits of `value` as an f32, for a uniform's f32 field. */
export function f32Bits(value: number): number {
  return new Uint32Array(Float32Array.of(value).buffer)[0]!;
}

/** A uniform buffer of u32 words (f32 fields through `f32Bits`), padded to 16 bytes. */
export function uniform(device: GPUDevice, values: number[]): GPUBuffer {
  const buffer = device.createBuffer({
    size: align(values.length * 4, 16),
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, new Uint32Array(values));
  return buffer;
}

/**
 * Parameter blocks and small per-dispatch buffers of recorded work: each dispatch gets its own
 * (a buffer written between two dispatches of one submission would hold the last value for
 * both), freed by `release()` once the GPU has run the work.
 */
export class Transients {
  readonly #live: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice) {}

  /** A uniform block of u32 words (see `uniform`). */
  uniform(values: number[]): GPUBuffer {
    return this.#keep(uniform(this.device, values));
  }

  /** A read-only storage buffer of `values`. */
  floats(values: Float32Array<ArrayBuffer>): GPUBuffer {
    const buffer = this.device.createBuffer({
      size: align(Math.max(values.byteLength, 16), 16),
      usage: STORAGE,
    });
    this.device.queue.writeBuffer(buffer, 0, values);
    return this.#keep(buffer);
  }

  release(): void {
    for (const buffer of this.#live.splice(0)) buffer.destroy();
  }

  #keep(buffer: GPUBuffer): GPUBuffer {
    this.#live.push(buffer);
    return buffer;
  }
}

/** Binds `buffers` to bindings 0, 1, … of group 0. */
export function bindings(device: GPUDevice, pipeline: GPUComputePipeline, buffers: GPUBuffer[]) {
  // the explicit layouts of kernels.ts, which every binding is in
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}
