import assert from "node:assert/strict";
import {
  ConditionsProbe,
  type ConditionsSource,
  conditionsSummary,
  MACHINE,
} from "./conditions.ts";

/** A source that replays recorded readings, one per call. */
function recorded(busy: number[], own: number[], now: number[]): ConditionsSource {
  return {
    busyMs: () => busy.shift() ?? null,
    ownMs: () => own.shift() ?? null,
    nowMs: () => now.shift()!,
    cpuMhz: () => 2500,
    hottest: () => 61.5,
  };
}

Deno.test("conditions: the CPU other processes took, in cores, from busy and own CPU time", () => {
  // 200 ms: the CPUs were busy 300 ms together, this process 120 ms of it → others 0.9 cores
  const probe = ConditionsProbe.start(recorded([1000, 1300], [500, 620], [0, 200]));
  assert.deepEqual(probe.stop(), {
    others_cpu_cores: 0.9,
    cpu_mhz: 2500,
    temp_c: 61.5,
    disturbed: true,
  });
  const quiet = ConditionsProbe.start(recorded([0, 130], [0, 120], [0, 200])).stop();
  assert.equal(quiet.others_cpu_cores, 0.05);
  assert.equal(quiet.disturbed, false);
});

Deno.test("conditions that cannot be read are null, not guessed", () => {
  const seen = ConditionsProbe.start({
    ...recorded([], [], [0, 100]),
    cpuMhz: () => null,
    hottest: () => null,
  }).stop();
  assert.deepEqual(seen, { others_cpu_cores: null, cpu_mhz: null, temp_c: null, disturbed: null });
});

Deno.test("on this machine a busy loop of its own does not count as others' CPU", () => {
  const probe = ConditionsProbe.start(MACHINE);
  const until = performance.now() + 300;
  while (performance.now() < until) { /* busy */ }
  const seen = probe.stop();
  if (seen.others_cpu_cores === null) return; // no CPU counters here
  // whatever else runs, this process's own second of work is not in the figure
  assert.ok(seen.others_cpu_cores >= 0);
  assert.ok(seen.cpu_mhz === null || seen.cpu_mhz > 0);
});

Deno.test("conditionsSummary() keeps the worst sample and counts the disturbed ones", () => {
  const quiet = { others_cpu_cores: 0.02, cpu_mhz: 2400, temp_c: 55, disturbed: false };
  const busy = { others_cpu_cores: 0.9, cpu_mhz: 2000, temp_c: 71, disturbed: true };
  assert.deepEqual(conditionsSummary([quiet, busy, quiet]), {
    others_cpu_cores: 0.9,
    cpu_mhz: 2400,
    temp_c: 71,
    disturbed: true,
    disturbed_samples: 1,
  });
  const unread = { others_cpu_cores: null, cpu_mhz: null, temp_c: null, disturbed: null };
  assert.deepEqual(conditionsSummary([unread]), {
    others_cpu_cores: null,
    cpu_mhz: null,
    temp_c: null,
    disturbed: null,
    disturbed_samples: null,
  });
});
