import assert from "node:assert/strict";
import { join } from "node:path";
import { openRapl } from "./energy_rapl.ts";

/** A powercap tree as Linux shows one: two packages, a core sub-zone that is not added again. */
async function powercap(dir: string, counters: Record<string, number>) {
  for (const [zone, energy] of Object.entries(counters)) {
    await Deno.mkdir(join(dir, zone), { recursive: true });
    await Deno.writeTextFile(
      join(dir, zone, "name"),
      zone.includes(":0:") ? "core\n" : `package-${zone.at(-1)}\n`,
    );
    await Deno.writeTextFile(join(dir, zone, "max_energy_range_uj"), "262143328850\n");
    await Deno.writeTextFile(join(dir, zone, "energy_uj"), `${energy}\n`);
  }
}

Deno.test("RAPL package counters give joules, across a counter's wrap, without the sub-zones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await powercap(dir, {
      "intel-rapl:0": 1_000_000,
      "intel-rapl:1": 262143000000,
      "intel-rapl:0:0": 5,
    });
    const energy = await openRapl(dir);
    assert.ok("meter" in energy, JSON.stringify(energy));
    assert.equal(energy.meter.source, "RAPL package-0 + package-1");
    assert.equal(await energy.meter.joules(), 0);
    // package 0 uses 3.5 J; package 1 wraps: 328850 µJ to the top, then 1171150 µJ
    await powercap(dir, {
      "intel-rapl:0": 4_500_000,
      "intel-rapl:1": 1_171_150,
      "intel-rapl:0:0": 999_999_999,
    });
    assert.equal(await energy.meter.joules(), 3.5 + 1.5);
    await powercap(dir, { "intel-rapl:0": 5_500_000, "intel-rapl:1": 1_171_150 });
    assert.equal(await energy.meter.joules(), 6);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without RAPL counters there is no meter, and the reason says why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await openRapl(join(dir, "none"));
    assert.ok("reason" in missing);
    assert.match(missing.reason, /^no RAPL counters \(no .*none\)$/);
    await Deno.mkdir(join(dir, "dtpm"));
    const empty = await openRapl(dir);
    assert.ok("reason" in empty);
    assert.match(empty.reason, /^no RAPL package zones in /);
    await Deno.mkdir(join(dir, "intel-rapl:0"));
    const broken = await openRapl(dir);
    assert.ok("reason" in broken);
    assert.match(broken.reason, /intel-rapl:0\/energy_uj: /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
