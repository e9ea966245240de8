/**
 * Test helper: hardware facts as detection would build them from what a machine reported (its
 * CPU model string and WebGPU adapter info), for profile recognition and tuning tests.
 * @module
 */
import { memoryModel, vendorName } from "./detect.ts";
import { type Hardware, known, unknown } from "./hardware.ts";
import { GIB } from "./profile.ts";

/** What a machine reported: the CPU's model string and the WebGPU adapter's info. */
export interface Recorded {
  readonly cpu: string;
  readonly cores?: number;
  readonly ramGiB?: number;
  /** vendor as Deno's WebGPU gives it (a PCI id) or as a browser does (a name) */
  readonly gpu?: { vendor: string; description: string; fallback?: boolean; vramGiB?: number };
}

/** Hardware facts as detection would build them from a recorded description. */
export function machine(recorded: Recorded): Hardware {
  const source = "recorded";
  const ram = (recorded.ramGiB ?? 32) * GIB;
  const gpu = recorded.gpu;
  const vendor = gpu ? vendorName(gpu.vendor) : "";
  const model = gpu ? memoryModel(vendor, gpu.description, gpu.fallback ?? false) : null;
  const none = unknown<never>("not recorded");
  return {
    os: { platform: known("linux", source), release: none, kernel: none },
    cpu: {
      model: known(recorded.cpu, source),
      vendor: none,
      architecture: none,
      physicalCores: known(recorded.cores ?? 8, source),
      logicalCores: known(recorded.cores ?? 8, source),
      performanceCores: none,
      simd: none,
      l2Bytes: none,
      l3Bytes: none,
    },
    memory: { totalBytes: known(ram, source), availableBytes: none },
    gpu: gpu && model
      ? {
        vendor: known(vendor, source),
        architecture: none,
        description: known(gpu.description, source),
        fallback: known(gpu.fallback ?? false, source),
        features: known([], source),
        maxBufferBytes: none,
        maxBindingBytes: none,
        memoryModel: model,
        memoryBytes: model.value === "unified"
          ? known(ram, source)
          : gpu.vramGiB
          ? known(gpu.vramGiB * GIB, source)
          : none,
      }
      : null,
    gpuUnavailable: gpu ? null : "no WebGPU adapter (no GPU driver or Vulkan loader)",
    disk: {
      folder: "/models",
      device: none,
      filesystem: none,
      kind: none,
      freeBytes: none,
      totalBytes: none,
    },
  };
}
