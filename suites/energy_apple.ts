/**
 * Apple silicon's power through `powermetrics`, which prints the CPU, GPU and Neural Engine power
 * averaged over each interval; the combined figure is integrated (`energy_power.ts`). Only root
 * may run it, so without `sudo` the reason says so rather than asking for a password mid-run.
 *
 * @example
 * ```ts
 * import { parsePowermetricsLine } from "./energy_apple.ts";
 * console.log(parsePowermetricsLine("Combined Power (CPU + GPU + ANE): 5421 mW", 1000));
 * // { trace: "CPU + GPU + ANE", watts: 5.421, ms: 1000 }
 * ```
 * @module
 */
import type { MeterOrReason } from "./energy.ts";
import { POWER_INTERVAL_MS, type PowerLine, streamPower } from "./energy_power.ts";

/** The samplers and interval `powermetrics` runs with. */
export const POWERMETRICS_ARGS = [
  "--samplers",
  "cpu_power,gpu_power",
  "-i",
  String(POWER_INTERVAL_MS),
];

/**
 * The combined power line of `powermetrics`' output as a reading at `arrivedMs` (it prints no
 * time of its own fine enough), or null for every other line.
 */
export function parsePowermetricsLine(line: string, arrivedMs: number): PowerLine | null {
  const match = line.match(/^Combined Power \(([^)]+)\):\s*([\d.]+)\s*mW\s*$/);
  return match ? { trace: match[1]!, watts: Number(match[2]) / 1000, ms: arrivedMs } : null;
}

/** A meter through `powermetrics` (root only), or why there is none. */
export function openPowermetrics(
  command = "powermetrics",
  isRoot: boolean,
): Promise<MeterOrReason> {
  if (!isRoot) {
    return Promise.resolve({
      reason: "Apple's powermetrics needs root: run moebench with sudo to measure energy",
    });
  }
  return streamPower("powermetrics", command, POWERMETRICS_ARGS, parsePowermetricsLine);
}
