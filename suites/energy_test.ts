import assert from "node:assert/strict";
import { join } from "node:path";
import { openEnergy, sumMeters } from "./energy.ts";

Deno.test("openEnergy() gives every reason where no meter is found", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using energy = await openEnergy({
      powercap: join(dir, "powercap"),
      hwmon: join(dir, "hwmon"),
      nvidiaSmi: join(dir, "nvidia-smi"),
      platform: "linux",
    });
    assert.ok("unavailable" in energy);
    assert.equal(
      energy.unavailable,
      `not available here: no RAPL counters (no ${join(dir, "powercap")}); ` +
        `no AMD GPU sensor (no ${join(dir, "hwmon")}); no nvidia-smi`,
    );
    await using mac = await openEnergy({ platform: "darwin", isRoot: false });
    assert.ok("unavailable" in mac);
    assert.match(mac.unavailable, /powermetrics needs root: run moebench with sudo/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openEnergy() adds RAPL and a GPU together", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const zone = join(dir, "powercap", "intel-rapl:0");
    await Deno.mkdir(zone, { recursive: true });
    await Deno.writeTextFile(join(zone, "name"), "package-0\n");
    await Deno.writeTextFile(join(zone, "max_energy_range_uj"), "262143328850\n");
    await Deno.writeTextFile(join(zone, "energy_uj"), "1000000\n");
    const gpu = join(dir, "hwmon", "hwmon3");
    await Deno.mkdir(gpu, { recursive: true });
    await Deno.writeTextFile(join(gpu, "name"), "amdgpu\n");
    await Deno.writeTextFile(join(gpu, "power1_input"), "0\n");
    await using energy = await openEnergy({
      powercap: join(dir, "powercap"),
      hwmon: join(dir, "hwmon"),
      nvidiaSmi: join(dir, "nvidia-smi"),
      platform: "linux",
    });
    assert.ok("meter" in energy, JSON.stringify(energy));
    assert.equal(energy.meter.source, "RAPL package-0 + amdgpu hwmon3");
    await Deno.writeTextFile(join(zone, "energy_uj"), "3000000\n");
    assert.equal(await energy.meter.joules(), 2); // the GPU drew nothing
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sumMeters() adds joules and disposes every meter", async () => {
  const disposed: string[] = [];
  const meter = (source: string, joules: number) => ({
    source,
    joules: () => Promise.resolve(joules),
    [Symbol.asyncDispose]: () => Promise.resolve(void disposed.push(source)),
  });
  const sum = sumMeters([meter("a", 1.5), meter("b", 2)]);
  assert.equal(sum.source, "a + b");
  assert.equal(await sum.joules(), 3.5);
  await sum[Symbol.asyncDispose]();
  assert.deepEqual(disposed, ["a", "b"]);
});
