/**
 * NVIDIA GPUs' power through `nvidia-smi`, which keeps printing every GPU's `power.draw` (watts)
 * with its timestamp every 100 ms (`-lms`); the readings are integrated (`energy_power.ts`). Where
 * the command is missing, fails (no driver) or the board does not report power (`[N/A]`), the
 * reason is what it said.
 *
 * @example
 * ```ts
 * import { parseNvidiaSmiLine } from "./energy_nvidia.ts";
 * console.log(parseNvidiaSmiLine("2026/12/05 06:20:51.123, 0, 71.32"));
 * // { trace: "GPU 0", watts: 71.32, ms: … (that local time, in ms since 1970) }
 * ```
 * @module
 */
import type { MeterOrReason } from "./energy.ts";
import { POWER_INTERVAL_MS, type PowerLine, streamPower } from "./energy_power.ts";

/** The query `nvidia-smi` runs: one CSV line per GPU and interval. */
export const NVIDIA_SMI_ARGS = [
  "--query-gpu=timestamp,index,power.draw",
  "--format=csv,noheader,nounits",
  `-lms`,
  String(POWER_INTERVAL_MS),
];

/** One line of `nvidia-smi`'s output as a reading, or null where it is not one (`[N/A]`). */
export function parseNvidiaSmiLine(line: string): PowerLine | null {
  const match = line.match(
    /^\s*(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?,\s*(\d+),\s*([\d.]+)\s*$/,
  );
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const ms = Number(`0.${match[7] ?? "0"}`) * 1000;
  const time = new Date(year!, month! - 1, day!, hour!, minute!, second!, ms).getTime();
  return { trace: `GPU ${match[8]}`, watts: Number(match[9]), ms: time };
}

/** A meter over every NVIDIA GPU, or why there is none. */
export function openNvidiaSmi(command = "nvidia-smi", startMs?: number): Promise<MeterOrReason> {
  return streamPower("nvidia-smi", command, NVIDIA_SMI_ARGS, parseNvidiaSmiLine, startMs);
}
