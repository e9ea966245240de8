/**
 * `strix-halo`: AMD Ryzen AI Max (+) 385–395, a 40-CU Radeon 8060S on 256-bit LPDDR5X (~256
 * GB/s) shared with 16 Zen 5 cores; up to 128 GB, of which the GPU may map most. Moxin's
 * Collaborative Compression ran DeepSeek-V3 (671B) at >5 tok/s on it: experts pruned and held at
 * ultra-low bit widths so that the whole model stays in memory.
 * @module
 */
import { GIB, type HardwareProfile } from "./profile.ts";

/** The strix-halo profile. */
export const STRIX_HALO: HardwareProfile = {
  name: "strix-halo",
  summary: "AMD Strix Halo APU: the GPU computes from 128 GB unified memory, ultra-low-bit experts",
  recognisedBy: [
    { fact: "cpu.model", pattern: /\bRyzen AI Max\+? (PRO )?3\d\d\b/i },
    { fact: "gpu.description", pattern: /\bRadeon 80[56]0S\b|\bGFX1151\b/i, realGpu: true },
  ],
  memory: "unified",
  backend: "webgpu",
  weightMemory: {
    pool: "gpu",
    fraction: 0.85,
    headroomBytes: 6 * GIB,
    why: "Linux's amdgpu lets the GPU map most of RAM (GTT); the OS and the KV cache keep the rest",
  },
  prefetchDepth: 2,
  threads: "physical-cores",
  quantMixes: [
    { experts: "Q8_0", dense: "Q8_0" },
    { experts: "Q4_K", dense: "Q8_0" },
    { experts: "Q3_K", dense: "Q6_K" },
    { experts: "Q2_K", dense: "Q4_K" },
  ],
  quantWhy: "per Moxin: experts go ultra-low-bit (Q2_K) before anything leaves memory, while " +
    "attention and shared experts keep 4+ bits",
};
