import assert from "node:assert/strict";
import { machine, type Recorded } from "./_recorded.ts";
import {
  chooseProfile,
  computeThreads,
  GIB,
  preferredQuantMix,
  weightMemoryBytes,
} from "./profile.ts";
import { findProfile, PROFILES } from "./profiles.ts";

const chosen = (recorded: Recorded) => chooseProfile(machine(recorded), PROFILES);

Deno.test("Apple M1–M4 are apple-m, by CPU model or adapter", () => {
  const macs: Recorded[] = [
    { cpu: "Apple M1", gpu: { vendor: "apple", description: "" } },
    { cpu: "Apple M2 Pro", gpu: { vendor: "0", description: "Apple M2 Pro" } },
    { cpu: "Apple M3 Max", gpu: { vendor: "apple", description: "Apple M3 Max" } },
    { cpu: "Apple M4", gpu: { vendor: "4203", description: "Apple M4" } },
    // a VM or a CPU-only build still reports the SoC
    { cpu: "Apple M4 Pro" },
  ];
  for (const mac of macs) {
    const choice = chosen(mac);
    assert.equal(choice.profile.name, "apple-m", mac.cpu);
    assert.ok(choice.recognised);
    assert.match(choice.reason, /Apple M\d/);
  }
});

Deno.test("Ryzen AI Max 385/395 are strix-halo; their Radeon 8060S alone is too", () => {
  const halos: Recorded[] = [
    {
      cpu: "AMD Ryzen AI Max+ 395 w/ Radeon 8060S",
      gpu: { vendor: "4098", description: "AMD Radeon Graphics (RADV GFX1151)" },
    },
    { cpu: "AMD Ryzen AI Max 385 w/ Radeon 8050S" },
    { cpu: "AMD Ryzen AI Max PRO 390", gpu: { vendor: "amd", description: "" } },
    { cpu: "unknown", gpu: { vendor: "4098", description: "AMD Radeon 8060S Graphics" } },
  ];
  for (const halo of halos) assert.equal(chosen(halo).profile.name, "strix-halo", halo.cpu);
  const gpu = machine(halos[0]!).gpu!;
  assert.equal(gpu.memoryModel.value, "unified");
});

Deno.test("RTX 30/40/50 and H100 are nvidia-discrete, with discrete memory", () => {
  const cards = [
    "NVIDIA GeForce RTX 3090",
    "NVIDIA GeForce RTX 4060 Laptop GPU",
    "NVIDIA GeForce RTX 4090",
    "NVIDIA GeForce RTX 5090",
    "NVIDIA H100 80GB HBM3",
    "NVIDIA H100 PCIe",
  ];
  for (const description of cards) {
    for (const vendor of ["4318", "nvidia"]) {
      const hardware = machine({
        cpu: "AMD Ryzen 9 7950X 16-Core Processor",
        gpu: { vendor, description },
      });
      assert.equal(hardware.gpu!.memoryModel.value, "discrete", description);
      const choice = chooseProfile(hardware, PROFILES);
      assert.equal(choice.profile.name, "nvidia-discrete", description);
      assert.ok(choice.recognised);
    }
  }
});

Deno.test("plain x86 CPUs are cpu-only, saying why", () => {
  const plain: [Recorded, RegExp][] = [
    [
      {
        cpu: "Intel Xeon® Processor",
        gpu: { vendor: "65541", description: "llvmpipe (LLVM 15.0.6, 256 bits)", fallback: true },
      },
      /llvmpipe .* fallback/,
    ],
    [{ cpu: "AMD EPYC 7763 64-Core Processor" }, /no WebGPU adapter/],
    [
      {
        cpu: "Intel Core™ i9-13900K",
        gpu: { vendor: "32902", description: "Intel(R) UHD Graphics 770 (RPL-S)" },
      },
      /nearest is cpu-only: an Intel integrated GPU/,
    ],
  ];
  for (const [recorded, reason] of plain) {
    const choice = chosen(recorded);
    assert.equal(choice.profile.name, "cpu-only", recorded.cpu);
    assert.match(choice.reason, reason);
  }
});

Deno.test("unknown hardware falls back to the nearest profile and says so", () => {
  const radeon = chosen({
    cpu: "AMD Ryzen 7 7700X 8-Core Processor",
    gpu: { vendor: "4098", description: "AMD Radeon RX 7900 XTX (RADV NAVI31)" },
  });
  assert.equal(radeon.profile.name, "nvidia-discrete");
  assert.equal(radeon.recognised, false);
  assert.match(radeon.reason, /not a known family; nearest is nvidia-discrete: a discrete GPU/);
  const arc = chosen({
    cpu: "x",
    gpu: { vendor: "32902", description: "Intel(R) Arc(tm) B580 Graphics" },
  });
  assert.equal(arc.profile.name, "nvidia-discrete");
  const apu = chosen({
    cpu: "AMD Ryzen 7 8845HS w/ Radeon 780M Graphics",
    gpu: { vendor: "4098", description: "AMD Radeon 780M (RADV PHOENIX)" },
  });
  assert.equal(apu.profile.name, "strix-halo");
  assert.match(apu.reason, /shares the machine's RAM/);
  const spark = chosen({
    cpu: "Cortex-X925",
    gpu: { vendor: "nvidia", description: "NVIDIA GB10" },
  });
  assert.equal(spark.profile.name, "strix-halo", "GB10 shares its memory: not a discrete card");
});

Deno.test("weight memory, threads and quantization mixes derive from the profile's data", () => {
  const rtx = machine({
    cpu: "x",
    cores: 16,
    gpu: { vendor: "nvidia", description: "NVIDIA GeForce RTX 4090", vramGiB: 24 },
  });
  const nvidia = findProfile("nvidia-discrete");
  assert.equal(weightMemoryBytes(nvidia, rtx), 24 * GIB * 0.92 - 1 * GIB);
  const halo = findProfile("strix-halo");
  const laptop = machine({ cpu: "AMD Ryzen AI Max+ 395 w/ Radeon 8060S", ramGiB: 128 });
  assert.equal(weightMemoryBytes(halo, laptop), 128 * GIB * 0.85 - 6 * GIB);
  assert.equal(weightMemoryBytes(nvidia, machine({ cpu: "x" })), null, "no GPU: no pool");
  const cpu = findProfile("cpu-only");
  assert.equal(computeThreads(cpu, laptop, false), 8);
  assert.equal(computeThreads(cpu, laptop, true), 7, "a core for the expert loader");

  // DeepSeek-V3: 671B parameters, ~654B of them in routed experts; Moxin fit it in 103 GB
  const deepseek = { experts: 654e9, dense: 17e9 };
  const mix = preferredQuantMix(halo, deepseek, weightMemoryBytes(halo, laptop)!);
  assert.equal(mix, null, "even Q2_K experts (≈215 GB) need pruning to fit 103 GiB");
  const pruned = { experts: 654e9 * 0.4, dense: 17e9 };
  assert.deepEqual(preferredQuantMix(halo, pruned, 103e9)?.mix, { experts: "Q2_K", dense: "Q4_K" });
  const small = { experts: 40e9, dense: 7e9 };
  assert.deepEqual(preferredQuantMix(halo, small, 103e9)?.mix, { experts: "Q8_0", dense: "Q8_0" });
});

Deno.test("findProfile names the profiles when it does not know one", () => {
  assert.throws(() => findProfile("tpu"), /no profile "tpu" \(profiles: apple-m, strix-halo/);
});
