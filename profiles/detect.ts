/**
 * Hardware detection for `moebench profile`: the OS, CPU, RAM and disk facts come from
 * `systeminformation` (it reads /proc, sysfs, lscpu, sysctl or WMI as each OS needs, which hand
 * parsing would have to repeat per OS), the GPU's from WebGPU's adapter (what the webgpu backend
 * would run on), its memory from `nvidia-smi` or amdgpu's sysfs where present. Every fact says
 * where it came from; what could not be read is null.
 *
 * @example
 * ```ts ignore
 * import { detectHardware } from "./detect.ts";
 * const hardware = await detectHardware(".");
 * console.log(hardware.cpu.model.value, hardware.gpu?.description.value);
 * ```
 * @module
 */
import si from "systeminformation";
import { type GpuInfo, openGpu } from "../engine/backend/webgpu/device.ts";
import {
  type CpuFacts,
  type DiskFacts,
  type Fact,
  type GpuFacts,
  type Hardware,
  known,
  type MemoryModel,
  reported,
  unknown,
} from "./hardware.ts";

/** Detects the machine; `folder` is where models live (its disk is the one described). */
export async function detectHardware(folder: string): Promise<Hardware> {
  const [cpu, memory, os, disk, gpu] = await Promise.all([
    detectCpu(),
    si.mem(),
    si.osInfo(),
    detectDisk(folder),
    openGpu(),
  ]);
  const ramSource = "systeminformation.mem";
  const ramBytes = memory.total > 0 ? memory.total : null;
  let gpuFacts: GpuFacts | null = null;
  if ("info" in gpu) {
    const info = gpu.info;
    gpu.device.destroy();
    gpuFacts = await describeGpu(info, ramBytes);
  }
  return {
    os: {
      platform: reported(os.platform, "systeminformation.osInfo"),
      release: reported(
        [os.distro, os.release].filter(Boolean).join(" "),
        "systeminformation.osInfo",
      ),
      kernel: reported(os.kernel, "systeminformation.osInfo"),
    },
    cpu,
    memory: {
      totalBytes: reported(memory.total, ramSource),
      availableBytes: reported(memory.available, ramSource),
    },
    gpu: gpuFacts,
    gpuUnavailable: "unavailable" in gpu ? gpu.unavailable : null,
    disk,
  };
}

/** The x86 and Arm SIMD extensions the kernels (ours or llama.cpp's) can use, by cpuinfo flag. */
const SIMD_FLAGS: Readonly<Record<string, string>> = {
  sse4_2: "sse4.2",
  avx: "avx",
  avx2: "avx2",
  fma: "fma",
  f16c: "f16c",
  avx_vnni: "avx-vnni",
  avx512f: "avx512f",
  avx512bw: "avx512bw",
  avx512_vnni: "avx512-vnni",
  avx512_bf16: "avx512-bf16",
  avx512_fp16: "avx512-fp16",
  amx_int8: "amx-int8",
  amx_bf16: "amx-bf16",
  asimd: "neon",
  asimddp: "neon-dotprod",
  i8mm: "i8mm",
  sve: "sve",
  sve2: "sve2",
};

/** The SIMD extensions named by a cpuinfo-style flag list. */
export function simdExtensions(flags: string, architecture: string): string[] {
  const present = new Set(flags.toLowerCase().split(/\s+/));
  const found = Object.entries(SIMD_FLAGS).filter(([flag]) => present.has(flag))
    .map(([, name]) => name);
  // macOS reports no flags, but every 64-bit Arm core has NEON (Advanced SIMD)
  if (/^(arm64|aarch64)$/.test(architecture) && !found.includes("neon")) found.unshift("neon");
  return found;
}

async function detectCpu(): Promise<CpuFacts> {
  const source = "systeminformation.cpu";
  const [cpu, flags] = await Promise.all([si.cpu(), si.cpuFlags()]);
  const architecture = Deno.build.arch === "x86_64" ? "x86_64" : "aarch64";
  const model = [cpu.manufacturer, cpu.brand].filter(Boolean).join(" ");
  const simd = simdExtensions(flags, architecture);
  return {
    model: reported(model, source),
    vendor: reported(cpu.vendor || cpu.manufacturer, source),
    architecture: known(architecture, "Deno.build.arch"),
    physicalCores: reported(cpu.physicalCores, source),
    logicalCores: known(navigator.hardwareConcurrency, "navigator.hardwareConcurrency"),
    performanceCores: reported(cpu.performanceCores, source),
    simd: flags || simd.length > 0
      ? known(simd, "systeminformation.cpuFlags")
      : unknown("systeminformation.cpuFlags reported no flags"),
    l2Bytes: reported(cpu.cache.l2, source),
    l3Bytes: reported(cpu.cache.l3, source),
  };
}

/** The filesystem holding `folder`, its device and whether that is an SSD. */
async function detectDisk(folder: string): Promise<DiskFacts> {
  const path = await Deno.realPath(folder);
  const [filesystems, devices] = await Promise.all([si.fsSize(), si.blockDevices()]);
  const within = (mount: string) =>
    path === mount || path.startsWith(mount.endsWith("/") ? mount : mount + "/");
  const filesystem = filesystems.filter((fs) => within(fs.mount))
    .sort((a, b) => b.mount.length - a.mount.length)[0];
  if (!filesystem) {
    const why = unknown<never>(`systeminformation.fsSize lists no filesystem holding ${path}`);
    return {
      folder: path,
      device: why,
      filesystem: why,
      kind: why,
      freeBytes: why,
      totalBytes: why,
    };
  }
  // the partition's disk: the longest block device name the filesystem's device starts with
  const disk = devices.filter((d) => d.type === "disk" && filesystem.fs.startsWith(d.device ?? "?"))
    .sort((a, b) => (b.device?.length ?? 0) - (a.device?.length ?? 0))[0];
  const fsSource = `systeminformation.fsSize (mount ${filesystem.mount})`;
  return {
    folder: path,
    device: known(filesystem.fs, fsSource),
    filesystem: reported(filesystem.type, fsSource),
    kind: disk
      ? reported(disk.physical, `systeminformation.blockDevices (${disk.device})`)
      : unknown(`systeminformation.blockDevices lists no disk for ${filesystem.fs}`),
    freeBytes: known(filesystem.available, fsSource),
    totalBytes: known(filesystem.size, fsSource),
  };
}

/** PCI vendor ids, as Deno's WebGPU reports the vendor (browsers report the name). */
const PCI_VENDORS: Readonly<Record<number, string>> = {
  0x10de: "nvidia",
  0x1002: "amd",
  0x8086: "intel",
  0x106b: "apple",
  0x5143: "qualcomm",
  0x13b5: "arm",
  0x10005: "mesa",
};

/** The adapter's vendor as a name, whether WebGPU gave a PCI id or a name. */
export function vendorName(vendor: string): string {
  const id = Number(vendor);
  if (vendor !== "" && Number.isInteger(id)) return PCI_VENDORS[id] ?? `pci:0x${id.toString(16)}`;
  return vendor.toLowerCase();
}

/**
 * Whether a GPU shares the machine's RAM (an SoC or APU) or has its own, from what it is. The
 * adapter info has no such field, so the answer is a rule over known product names; a GPU the
 * rules do not know gets null.
 */
export function memoryModel(
  vendor: string,
  description: string,
  fallback: boolean,
): Fact<MemoryModel> {
  const rule = (model: MemoryModel, why: string) => known(model, `rule: ${why}`);
  if (fallback) return rule("unified", "a fallback adapter computes on the CPU, in its RAM");
  switch (vendor) {
    case "apple":
      return rule("unified", "Apple GPUs share the SoC's memory");
    case "nvidia":
      return /\b(GB10|Tegra|Orin|Thor)\b/i.test(description)
        ? rule("unified", "NVIDIA's SoCs (GB10, Jetson) share the CPU's memory")
        : rule("discrete", "NVIDIA GPUs other than SoCs have their own memory");
    case "amd":
      return /\b(RX|Pro W\d+|Instinct|MI\d{3})\b/i.test(description)
        ? rule("discrete", "Radeon RX / Pro / Instinct cards have their own memory")
        : rule("unified", "other Radeon GPUs are APUs' integrated graphics");
    case "intel":
      return /\bArc.*\b[AB]\d{3}\b/i.test(description)
        ? rule("discrete", "Arc A/B-series cards have their own memory")
        : rule("unified", "other Intel GPUs are integrated");
    case "qualcomm":
    case "arm":
      return rule("unified", `${vendor} GPUs are integrated in the SoC`);
    default:
      return unknown(`no rule for GPU vendor "${vendor}"`);
  }
}

async function describeGpu(
  info: GpuInfo,
  ramBytes: number | null,
): Promise<GpuFacts> {
  const source = "WebGPU adapter info";
  const vendor = vendorName(info.vendor);
  const model = memoryModel(vendor, info.description, info.fallback);
  let memory: Fact<number>;
  if (model.value === "unified") {
    memory = ramBytes === null
      ? unknown("unified memory, but the RAM size is unknown")
      : known(ramBytes, "unified: the machine's RAM (systeminformation.mem)");
  } else if (vendor === "nvidia") {
    memory = await nvidiaSmiMemory();
  } else if (vendor === "amd") {
    memory = await amdgpuMemory();
  } else {
    memory = unknown(`no way to read the memory of a ${vendor} GPU here`);
  }
  return {
    vendor: known(vendor, `${source} (vendor "${info.vendor}")`),
    architecture: reported(info.architecture, source),
    description: reported(info.description, source),
    fallback: known(info.fallback, source),
    features: known(info.features, `${source} (of those the kernels can use)`),
    maxBufferBytes: known(info.maxBufferBytes, `${source} (limits)`),
    maxBindingBytes: known(info.maxBindingBytes, `${source} (limits)`),
    memoryModel: model,
    memoryBytes: memory,
  };
}

/** The first NVIDIA GPU's memory from `nvidia-smi`. */
async function nvidiaSmiMemory(): Promise<Fact<number>> {
  try {
    const { success, stdout } = await new Deno.Command("nvidia-smi", {
      args: ["--query-gpu=memory.total", "--format=csv,noheader,nounits"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const mib = Number(new TextDecoder().decode(stdout).split("\n")[0]);
    if (success && mib > 0) return known(mib * 2 ** 20, "nvidia-smi --query-gpu=memory.total");
    return unknown("nvidia-smi failed");
  } catch {
    return unknown("nvidia-smi is not installed");
  }
}

/** A discrete AMD GPU's memory from the amdgpu driver's sysfs file. */
async function amdgpuMemory(): Promise<Fact<number>> {
  try {
    for await (const card of Deno.readDir("/sys/class/drm")) {
      if (!/^card\d+$/.test(card.name)) continue;
      const file = `/sys/class/drm/${card.name}/device/mem_info_vram_total`;
      const bytes = Number((await Deno.readTextFile(file).catch(() => "")).trim());
      if (bytes > 0) return known(bytes, file);
    }
  } catch {
    // no sysfs (not Linux): fall through
  }
  return unknown("no amdgpu mem_info_vram_total in /sys/class/drm");
}
