/**
 * `apple-m`: Apple M1–M4 SoCs. CPU and GPU share LPDDR memory (100–800 GB/s by chip); Metal
 * lets the GPU wire about three quarters of it by default, and the internal SSD reads 3–7 GB/s.
 * @module
 */
import { GIB, type HardwareProfile } from "./profile.ts";

/** The apple-m profile. */
export const APPLE_M: HardwareProfile = {
  name: "apple-m",
  summary: "Apple silicon: the GPU computes from unified memory, experts from the fast SSD",
  recognisedBy: [
    { fact: "cpu.model", pattern: /\bApple M[1-9]\b/ },
    { fact: "gpu.description", pattern: /\bApple M[1-9]\b/, realGpu: true },
    { fact: "gpu.vendor", pattern: /^apple$/, realGpu: true },
  ],
  memory: "unified",
  backend: "webgpu",
  weightMemory: {
    pool: "gpu",
    fraction: 0.75,
    headroomBytes: 2 * GIB,
    why: "macOS lets the GPU wire about 75 % of RAM (recommendedMaxWorkingSetSize)",
  },
  // a fast SSD (3–7 GB/s) keeps up with guesses two layers ahead
  prefetchDepth: 2,
  threads: "performance-cores",
  quantMixes: [
    { experts: "Q8_0", dense: "Q8_0" },
    { experts: "Q6_K", dense: "Q8_0" },
    { experts: "Q4_K", dense: "Q6_K" },
    { experts: "Q3_K", dense: "Q4_K" },
    { experts: "Q2_K", dense: "Q4_K" },
  ],
  quantWhy: "unified memory bounds the model's size: the richest mix that fits, attention kept " +
    "a step above the experts",
};
