/**
 * Hardware profiles: how the engine should run on a family of machines, as data. Each says how
 * it is recognised, how its GPU reaches memory, the default backend, how much memory weights may
 * take, how far to prefetch, how many threads compute, and which quantization mix to prefer for
 * a memory budget. `chooseProfile` picks the one that matches detected hardware, or the nearest
 * one with the reason.
 *
 * @example
 * ```ts ignore
 * import { detectHardware } from "./detect.ts";
 * import { chooseProfile } from "./profile.ts";
 * const { profile, reason } = chooseProfile(await detectHardware("."));
 * console.log(profile.name, reason);
 * ```
 * @module
 */
import { defaultThreads } from "../engine/backend/cpu/backend.ts";
import { ggmlType } from "../engine/quant/types.ts";
import type { Hardware, MemoryModel } from "./hardware.ts";

/** The profiles. */
export type ProfileName = "apple-m" | "strix-halo" | "nvidia-discrete" | "cpu-only";

/** A pattern that recognises a family from one detected fact. */
export interface Recognition {
  readonly fact: "cpu.model" | "gpu.description" | "gpu.vendor";
  readonly pattern: RegExp;
  /** A fallback (software) adapter never counts as this family's GPU. */
  readonly realGpu?: boolean;
  /** The GPU's memory model must be this, where the rule applies to GPUs. */
  readonly memoryModel?: MemoryModel;
}

/** One quantization mix: a type for the routed experts and one for everything else. */
export interface QuantMix {
  readonly experts: string;
  readonly dense: string;
}

/** How a profile runs the engine. */
export interface HardwareProfile {
  readonly name: ProfileName;
  readonly summary: string;
  /** Any one of these recognises the family. */
  readonly recognisedBy: readonly Recognition[];
  /** Where weights compute from: the GPU's memory (its own or shared) or the CPU's RAM. */
  readonly memory: MemoryModel | "host";
  readonly backend: "webgpu" | "cpu";
  /**
   * The memory weights may fill: a share of the pool (the GPU's memory, or RAM), less headroom
   * for the OS, the KV cache and activations.
   */
  readonly weightMemory: {
    readonly pool: "gpu" | "ram";
    readonly fraction: number;
    readonly headroomBytes: number;
    readonly why: string;
  };
  /** MoE layers ahead the expert prefetch guesses, when experts are offloaded. */
  readonly prefetchDepth: number;
  /** Which cores compute: the fast ones of a hybrid CPU, or every physical core. */
  readonly threads: "performance-cores" | "physical-cores";
  /** Quantization mixes from richest to leanest; the richest that fits a budget is preferred. */
  readonly quantMixes: readonly QuantMix[];
  readonly quantWhy: string;
}

/** The profile chosen for a machine, and why. */
export interface ProfileChoice {
  readonly profile: HardwareProfile;
  /** Whether the hardware was recognised (false: the nearest profile stands in). */
  readonly recognised: boolean;
  readonly reason: string;
}

/** 2^30 bytes, the unit memory headroom is given in. */
export const GIB = 2 ** 30;

/** Whether `recognition` holds for `hardware`, and what it matched. */
function matches(recognition: Recognition, hardware: Hardware): string | null {
  const gpu = hardware.gpu;
  if (recognition.fact !== "cpu.model") {
    if (!gpu || (recognition.realGpu && gpu.fallback.value !== false)) return null;
    if (recognition.memoryModel && gpu.memoryModel.value !== recognition.memoryModel) return null;
  }
  const value = recognition.fact === "cpu.model"
    ? hardware.cpu.model.value
    : recognition.fact === "gpu.vendor"
    ? gpu?.vendor.value
    : gpu?.description.value;
  if (!value || !recognition.pattern.test(value)) return null;
  return `${recognition.fact} "${value}" matches ${recognition.pattern}`;
}

/**
 * The profile for `hardware`: the first of `profiles` that recognises it, else the nearest by
 * how the GPU reaches memory (a discrete GPU of another vendor runs as nvidia-discrete, another
 * unified-memory GPU as strix-halo, Intel's integrated GPUs and unknown ones on the CPU), with
 * the reason either way.
 */
export function chooseProfile(
  hardware: Hardware,
  profiles: readonly HardwareProfile[],
): ProfileChoice {
  for (const profile of profiles) {
    for (const recognition of profile.recognisedBy) {
      const matched = matches(recognition, hardware);
      if (matched) return { profile, recognised: true, reason: matched };
    }
  }
  const byName = (name: ProfileName) => profiles.find((p) => p.name === name)!;
  const gpu = hardware.gpu;
  const cpuModel = hardware.cpu.model.value ?? "an unknown CPU";
  if (!gpu) {
    return {
      profile: byName("cpu-only"),
      recognised: true,
      reason: `no WebGPU adapter (${
        hardware.gpuUnavailable ?? "none found"
      }): ${cpuModel} computes`,
    };
  }
  const description = gpu.description.value ?? gpu.vendor.value ?? "an unknown GPU";
  if (gpu.fallback.value) {
    return {
      profile: byName("cpu-only"),
      recognised: true,
      reason: `the only WebGPU adapter, ${description}, is a fallback (software) one: ` +
        `${cpuModel} computes`,
    };
  }
  const nearest = (name: ProfileName, why: string): ProfileChoice => ({
    profile: byName(name),
    recognised: false,
    reason: `${description} is not a known family; nearest is ${name}: ${why}`,
  });
  if (gpu.memoryModel.value === "discrete") {
    return nearest("nvidia-discrete", "a discrete GPU with its own memory over PCIe");
  }
  if (gpu.memoryModel.value === "unified" && gpu.vendor.value !== "intel") {
    return nearest("strix-halo", "a GPU that shares the machine's RAM, as Strix Halo's does");
  }
  return nearest(
    "cpu-only",
    gpu.memoryModel.value === "unified"
      ? "an Intel integrated GPU has less compute than the CPU cores that share its memory"
      : "how this GPU reaches memory is unknown",
  );
}

/** Bytes weights may fill on `hardware` under `profile` (null: the pool's size is unknown). */
export function weightMemoryBytes(profile: HardwareProfile, hardware: Hardware): number | null {
  const ram = hardware.memory.totalBytes.value;
  // unified memory is the RAM, whether or not the GPU's driver answered
  const pool = profile.weightMemory.pool === "ram"
    ? ram
    : hardware.gpu?.memoryBytes.value ?? (profile.memory === "unified" ? ram : null);
  if (pool === null) return null;
  return Math.max(0, pool * profile.weightMemory.fraction - profile.weightMemory.headroomBytes);
}

/** Threads to compute with: the profile's kind of cores, one fewer when a loader needs one. */
export function computeThreads(
  profile: HardwareProfile,
  hardware: Hardware,
  offloading: boolean,
): number {
  const cpu = hardware.cpu;
  const cores = (profile.threads === "performance-cores" ? cpu.performanceCores.value : null) ??
    cpu.physicalCores.value ?? cpu.logicalCores.value ?? 1;
  return defaultThreads(cores, offloading);
}

/** A model's parameters, split as quantization mixes split them. */
export interface ModelParameters {
  /** Weights of the routed experts. */
  readonly experts: number;
  /** Everything else: attention, shared experts, routers, embeddings. */
  readonly dense: number;
}

/** Bits per weight of a ggml type. */
function bitsPerWeight(typeName: string): number {
  const type = ggmlType(typeName);
  return (type.bytesPerBlock * 8) / type.blockSize;
}

/** Bytes of a model quantized with `mix`. */
export function mixBytes(mix: QuantMix, parameters: ModelParameters): number {
  return (parameters.experts * bitsPerWeight(mix.experts) +
    parameters.dense * bitsPerWeight(mix.dense)) / 8;
}

/**
 * The richest of the profile's quantization mixes whose model fits `budgetBytes`, or null when
 * even the leanest does not (then experts must be pruned: `moebench compress`).
 */
export function preferredQuantMix(
  profile: HardwareProfile,
  parameters: ModelParameters,
  budgetBytes: number,
): { readonly mix: QuantMix; readonly bytes: number } | null {
  for (const mix of profile.quantMixes) {
    const bytes = mixBytes(mix, parameters);
    if (bytes <= budgetBytes) return { mix, bytes };
  }
  return null;
}
