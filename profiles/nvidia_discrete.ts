/**
 * `nvidia-discrete`: a GeForce RTX 30/40/50 or data-centre (A100, H100, …) card with its own
 * fast memory (0.5–3.4 TB/s) behind PCIe (16–64 GB/s). Weights that fit compute on the card;
 * experts that do not are loaded just in time over PCIe.
 * @module
 */
import { GIB, type HardwareProfile } from "./profile.ts";

/** The nvidia-discrete profile. */
export const NVIDIA_DISCRETE: HardwareProfile = {
  name: "nvidia-discrete",
  summary: "discrete NVIDIA GPU: dense weights and hot experts in VRAM, the rest over PCIe",
  recognisedBy: [
    { fact: "gpu.vendor", pattern: /^nvidia$/, realGpu: true, memoryModel: "discrete" },
    {
      fact: "gpu.description",
      pattern: /\bNVIDIA\b.*\b(RTX|GTX|Tesla|Quadro|[ABHL]\d{2,3}[A-Z]?)\b/,
      realGpu: true,
      memoryModel: "discrete",
    },
  ],
  memory: "discrete",
  backend: "webgpu",
  weightMemory: {
    pool: "gpu",
    fraction: 0.92,
    headroomBytes: 1 * GIB,
    why: "the driver's context, the KV cache and activations need the rest of VRAM",
  },
  // PCIe is the bottleneck: one layer ahead already hides what it can carry
  prefetchDepth: 1,
  threads: "physical-cores",
  quantMixes: [
    { experts: "Q8_0", dense: "Q8_0" },
    { experts: "Q6_K", dense: "Q8_0" },
    { experts: "Q4_K", dense: "Q6_K" },
    { experts: "IQ4_XS", dense: "Q4_K" },
    { experts: "Q3_K", dense: "Q4_K" },
    { experts: "Q2_K", dense: "Q4_K" },
  ],
  quantWhy: "VRAM is the scarce tier: the richest mix that keeps every weight on the card",
};
