import assert from "node:assert/strict";
import { join } from "node:path";
import { ConditionsProbe } from "./conditions.ts";

/** A /proc and /sys as Linux shows them: machine ticks, this process's ticks, clocks, a sensor. */
async function tree(root: string, machine: number[], own: [number, number], mhz: number[]) {
  const write = async (path: string, text: string) => {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  };
  await write("proc/stat", `cpu  ${machine.join(" ")} 0 0\ncpu0 1 2 3\n`);
  // the command name holds a space and a parenthesis: fields count from the last ")"
  await write(
    "proc/self/stat",
    `42 (de no) x) S 1 2 3 4 5 6 7 8 9 10 ${own[0]} ${own[1]} 0 0 20\n`,
  );
  for (const [cpu, value] of mhz.entries()) {
    await write(`sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_cur_freq`, `${value * 1000}\n`);
  }
  await write("sys/class/thermal/thermal_zone0/temp", "48000\n");
  await write("sys/class/thermal/thermal_zone1/temp", "61500\n");
}

Deno.test("conditions: other processes' and the hypervisor's share in cores, clocks, heat", async () => {
  const root = await Deno.makeTempDir();
  try {
    // user nice system idle iowait irq softirq steal
    await tree(root, [1000, 0, 200, 5000, 100, 0, 0, 0], [300, 100], [3000, 3000]);
    const probe = ConditionsProbe.start(root, 2);
    // 200 ticks of 2 CPUs: 150 busy, of which this process 60; 10 stolen
    await tree(root, [1120, 0, 230, 5040, 100, 0, 0, 10], [350, 110], [2400, 2600]);
    const seen = probe.stop();
    assert.ok(Math.abs(seen.others_cpu_cores! - (150 - 60) / 200 * 2) < 1e-12);
    assert.ok(Math.abs(seen.steal_cores! - 10 / 200 * 2) < 1e-12);
    assert.equal(seen.cpu_mhz, 2500);
    assert.equal(seen.temp_c, 61.5);
    assert.equal(seen.disturbed, true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("conditions where the files are missing are null, not guessed", async () => {
  const root = await Deno.makeTempDir();
  try {
    const seen = ConditionsProbe.start(root, 2).stop();
    assert.deepEqual(seen, {
      others_cpu_cores: null,
      steal_cores: null,
      cpu_mhz: null,
      temp_c: null,
      disturbed: null,
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
