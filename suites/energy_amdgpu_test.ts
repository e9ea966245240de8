import assert from "node:assert/strict";
import { join } from "node:path";
import { openAmdgpu } from "./energy_amdgpu.ts";

/** An hwmon tree: a CPU sensor, a discrete GPU (power1_average) and an APU (power1_input, vddnb). */
async function hwmon(dir: string) {
  const sensors: Record<string, Record<string, string>> = {
    hwmon0: { name: "k10temp", temp1_input: "45000" },
    hwmon1: { name: "amdgpu", power1_average: "150000000", in0_label: "vddgfx" },
    hwmon2: { name: "amdgpu", power1_input: "60000000", in1_label: "vddnb" },
  };
  for (const [sensor, files] of Object.entries(sensors)) {
    await Deno.mkdir(join(dir, sensor));
    for (const [file, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, sensor, file), `${text}\n`);
    }
  }
}

Deno.test("openAmdgpu() reads discrete GPUs, and an APU only where RAPL does not count it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await hwmon(dir);
    const withRapl = await openAmdgpu(dir, { packageCounted: true });
    assert.deepEqual(withRapl.map((m) => "meter" in m ? m.meter.source : m.reason), [
      "amdgpu hwmon1",
    ]);
    const alone = await openAmdgpu(dir, { packageCounted: false });
    assert.deepEqual(alone.map((m) => "meter" in m ? m.meter.source : m.reason), [
      "amdgpu hwmon1",
      "amdgpu hwmon2 (integrated: the package)",
    ]);
    for (const found of [...withRapl, ...alone]) {
      assert.ok("meter" in found);
      const before = await found.meter.joules();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const watts = ((await found.meter.joules()) - before) / 0.3;
      const expected = found.meter.source.includes("hwmon1") ? 150 : 60;
      assert.ok(Math.abs(watts - expected) < expected * 0.1, `${found.meter.source}: ${watts} W`);
      await found.meter[Symbol.asyncDispose]();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openAmdgpu() says why where there is no amdgpu sensor", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.deepEqual(await openAmdgpu(join(dir, "none"), { packageCounted: false }), [
      { reason: `no AMD GPU sensor (no ${join(dir, "none")})` },
    ]);
    assert.deepEqual(await openAmdgpu(dir, { packageCounted: false }), [
      { reason: `no AMD GPU sensor in ${dir}` },
    ]);
    await Deno.mkdir(join(dir, "hwmon0"));
    await Deno.writeTextFile(join(dir, "hwmon0", "name"), "amdgpu\n");
    assert.deepEqual(await openAmdgpu(dir, { packageCounted: false }), [
      { reason: `${join(dir, "hwmon0")} (amdgpu) has no power sensor` },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
