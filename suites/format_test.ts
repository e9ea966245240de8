import assert from "node:assert/strict";
import { formatResults } from "./format.ts";
import { type ResultsFile, testRecord } from "./results.ts";
import { resultsFileOf } from "./_results_fixture.ts";
import { conditionsSummary } from "./conditions.ts";

/** A tokens run of two configurations: one with RAPL energy, one where none could be read. */
function run(): ResultsFile {
  const quiet = { others_cpu_cores: 0.01, cpu_mhz: 2096, temp_c: null, disturbed: false };
  const busy = { ...quiet, others_cpu_cores: 0.97, disturbed: true };
  const record = (config: string, test: string, energy: Record<string, string | number | null>) => {
    const conditions = config === "resident" ? [quiet, busy, quiet] : [quiet, quiet, quiet];
    return testRecord(
      {
        task: `tokens/${config}`,
        suite: "tokens",
        test,
        model: "m",
        type: "Q4_0",
        config,
        unit: "tok/s",
      },
      [100, 110, 90],
      { details: { ...conditionsSummary(conditions), ...energy }, conditions },
    );
  };
  const tests = [
    record("resident", "pp16", {}),
    record("resident", "tg16", {
      energy: "RAPL package-0",
      joules_per_token: 0.25,
      tokens_per_joule: 4,
    }),
    record("offload 50% lru", "tg16", {
      energy: "not available here: no RAPL counters (no /sys/class/powercap); no nvidia-smi",
      joules_per_token: null,
      tokens_per_joule: null,
    }),
  ];
  return resultsFileOf(tests, { suite: "tokens", spec: null, score: null });
}

Deno.test("the markdown output shows the decode's energy, why it is missing, and disturbance", () => {
  const text = formatResults(run(), "md");
  assert.match(
    text,
    /decode energy \(median over the repetitions\):\n\| model \| backend \| config +\| test \| J\/token \| tok\/s per W \| meters +\|\n.*\n\| m +\| +\| resident +\| tg16 \| 0\.250 +\| 4\.00 +\| RAPL package-0 \|/,
  );
  assert.match(text, /\nenergy: not available here: no RAPL counters .*; no nvidia-smi\n/);
  assert.match(
    text,
    /\nwarning: this run was disturbed while it measured pp16 \(1 of 3 samples\), tg16 \(1 of 3 samples\): other processes took up to 0\.97 cores\./,
  );
});
