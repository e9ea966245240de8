/**
 * The WebGPU device: an adapter asked for its largest buffers and the optional features the
 * kernels can use (`shader-f16`, `subgroups`, `timestamp-query`) where it has them, and what it
 * is, recorded for profiles and reports.
 *
 * @example
 * ```ts
 * import { openGpu } from "./device.ts";
 * const gpu = await openGpu();
 * if ("unavailable" in gpu) console.log(gpu.unavailable);
 * else console.log(gpu.info.description, gpu.info.features);
 * ```
 * @module
 */

/** The optional features asked for, where the adapter has them. */
const WANTED_FEATURES = ["shader-f16", "subgroups", "timestamp-query"] as const;
export type GpuFeature = typeof WANTED_FEATURES[number];
/** The limits beyond buffer sizes asked for at the adapter's maximum. */
const RAISED_LIMITS = [
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
] as const;

/** What the adapter is: for profiles and reports. */
export interface GpuInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A software or otherwise reduced adapter (Mesa's llvmpipe is one). */
  readonly fallback: boolean;
  /** The optional features the device was opened with. */
  readonly features: readonly GpuFeature[];
  readonly maxBufferBytes: number;
  readonly maxBindingBytes: number;
  /** Further limits the device was opened with, by their WebGPU names. */
  readonly limits: Readonly<Record<(typeof RAISED_LIMITS)[number], number>>;
}

/** An open device and what it offers. */
export interface Gpu {
  readonly device: GPUDevice;
  readonly info: GpuInfo;
  has(feature: GpuFeature): boolean;
}

/** Opens the default adapter's device, or says why there is none. */
export async function openGpu(
  options: { powerPreference?: GPUPowerPreference } = {},
): Promise<Gpu | { readonly unavailable: string }> {
  if (!("gpu" in navigator) || !navigator.gpu) return { unavailable: "this Deno has no WebGPU" };
  const adapter = await navigator.gpu.requestAdapter({
    powerPreference: options.powerPreference ?? "high-performance",
  });
  if (!adapter) return { unavailable: "no WebGPU adapter (no GPU driver or Vulkan loader)" };
  const features = WANTED_FEATURES.filter((feature) => adapter.features.has(feature));
  const limits = adapter.limits;
  const raised = Object.fromEntries(RAISED_LIMITS.map((name) => [name, limits[name]])) as Record<
    (typeof RAISED_LIMITS)[number],
    number
  >;
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      ...raised,
    },
  });
  const adapterInfo = adapter.info;
  const info: GpuInfo = {
    vendor: adapterInfo.vendor,
    architecture: adapterInfo.architecture,
    device: adapterInfo.device,
    description: adapterInfo.description,
    fallback: adapterInfo.isFallbackAdapter ?? false,
    features,
    maxBufferBytes: limits.maxBufferSize,
    maxBindingBytes: limits.maxStorageBufferBindingSize,
    limits: raised,
  };
  return { device, info, has: (feature) => features.includes(feature) };
}
