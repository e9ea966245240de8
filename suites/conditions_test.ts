import assert from "node:assert/strict";
import {
  ConditionsMonitor,
  type ConditionsSource,
  conditionsSummary,
  MACHINE,
  readingWindowMs,
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
  const monitor = ConditionsMonitor.start(recorded([1000, 1300], [500, 620], [0, 200]), 100);
  assert.deepEqual(monitor.sample(), {
    others_cpu_cores: 0.9,
    cpu_mhz: 2500,
    temp_c: 61.5,
    disturbed: true,
  });
  const quiet = ConditionsMonitor.start(recorded([0, 130], [0, 120], [0, 200]), 100).sample();
  assert.equal(quiet.others_cpu_cores, 0.05);
  assert.equal(quiet.disturbed, false);
});

Deno.test("conditions that cannot be read are null, not guessed", () => {
  const seen = ConditionsMonitor.start({
    ...recorded([], [], [0, 100]),
    cpuMhz: () => null,
    hottest: () => null,
  }).sample();
  assert.deepEqual(seen, { others_cpu_cores: null, cpu_mhz: null, temp_c: null, disturbed: null });
});

Deno.test("on this machine a busy loop of its own does not count as others' CPU", () => {
  const monitor = ConditionsMonitor.start(MACHINE);
  const until = performance.now() + 300;
  while (performance.now() < until) { /* busy */ }
  const seen = monitor.sample();
  if (seen.others_cpu_cores === null) return; // no CPU counters here
  // whatever else runs, this process's own second of work is not in the figure
  assert.ok(seen.others_cpu_cores >= 0);
  assert.ok(seen.cpu_mhz === null || seen.cpu_mhz > 0);
});

Deno.test("each sample's reading reaches back over short repetitions to a whole window", () => {
  // repetitions of 100 ms at t = 100 … 500 ms; others busy only in the last (90 ms of it)
  const monitor = ConditionsMonitor.start(
    recorded(
      [0, 100, 200, 300, 400, 590],
      [0, 100, 200, 300, 400, 500],
      [0, 100, 200, 300, 400, 500],
    ),
    250,
  );
  const readings = [1, 2, 3, 4, 5].map(() => monitor.sample().others_cpu_cores);
  // the first two reach back to the start (0.1 s, 0.2 s); then the last 0.3 s (≥ 0.25 s) each:
  // the busy 90 ms show as 0.3 cores over 300 ms, not 0.9 over the last 100 ms alone
  assert.deepEqual(readings, [0, 0, 0, 0, 0.3]);
  assert.equal(readingWindowMs(2), 1000);
  assert.equal(readingWindowMs(64), 6400);
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
