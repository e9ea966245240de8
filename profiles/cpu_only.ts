/**
 * `cpu-only`: no usable GPU (none, or only a software adapter such as Mesa's llvmpipe). Weights
 * compute from RAM on the WASM SIMD kernels; offloaded experts are read from the SSD.
 * @module
 */
import { GIB, type HardwareProfile } from "./profile.ts";

/** The cpu-only profile. */
export const CPU_ONLY: HardwareProfile = {
  name: "cpu-only",
  summary: "no usable GPU: WASM SIMD kernels on every physical core, experts from the SSD",
  // chosen when no real GPU is found (see chooseProfile); no pattern names a CPU-only machine
  recognisedBy: [],
  memory: "host",
  backend: "cpu",
  weightMemory: {
    pool: "ram",
    fraction: 0.85,
    headroomBytes: 2 * GIB,
    why: "the OS, the page cache of the model file and the KV cache need the rest",
  },
  // two cores: one computes, one loads; guessing further ahead loads more wrong experts than
  // the one loader thread can afford
  prefetchDepth: 1,
  threads: "physical-cores",
  quantMixes: [
    { experts: "Q8_0", dense: "Q8_0" },
    { experts: "Q4_0", dense: "Q8_0" },
    { experts: "Q4_K", dense: "Q6_K" },
    { experts: "Q3_K", dense: "Q4_K" },
    { experts: "Q2_K", dense: "Q4_K" },
  ],
  quantWhy: "Q4_0 has the fastest CPU kernel (rows interleaved at load); below it, K-quants",
};
