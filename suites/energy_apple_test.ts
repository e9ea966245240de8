import assert from "node:assert/strict";
import { openPowermetrics, parsePowermetricsLine } from "./energy_apple.ts";

/** One interval of `sudo powermetrics --samplers cpu_power,gpu_power` on Apple silicon. */
const POWERMETRICS_SAMPLE =
  `*** Sampled system activity (Sat Dec  5 06:20:51 2026 +0000) (100.41ms elapsed) ***

**** Processor usage ****

E-Cluster HW active frequency: 1020 MHz
P-Cluster HW active frequency: 3204 MHz

CPU Power: 5210 mW
GPU Power: 204 mW
ANE Power: 7 mW
Combined Power (CPU + GPU + ANE): 5421 mW

**** GPU usage ****

GPU HW active frequency: 444 MHz
GPU SW requested state: (P1 : 100% P2 :   0%)
GPU Power: 204 mW
`;

Deno.test("parsePowermetricsLine() takes the combined power of each interval", () => {
  const readings = POWERMETRICS_SAMPLE.split("\n")
    .map((line) => parsePowermetricsLine(line, 42))
    .filter((reading) => reading !== null);
  assert.deepEqual(readings, [{ trace: "CPU + GPU + ANE", watts: 5.421, ms: 42 }]);
});

Deno.test("openPowermetrics() says that powermetrics needs sudo instead of asking for it", async () => {
  assert.deepEqual(await openPowermetrics("powermetrics", false), {
    reason: "Apple's powermetrics needs root: run moebench with sudo to measure energy",
  });
});
