/**
 * The machine profile `moebench profile` writes: the chosen hardware profile and why, the
 * detected hardware, the measured figures, and (given a model) its decode roofline.
 *
 * @example
 * ```ts ignore
 * import { profileMachine } from "./machine.ts";
 * const machine = await profileMachine({ folder: ".", quick: true });
 * console.log(machine.profile, machine.reason, machine.measured.ram_copy_gbps);
 * ```
 * @module
 */
import { VERSION } from "../version.ts";
import { detectHardware } from "./detect.ts";
import type { Hardware } from "./hardware.ts";
import {
  type DecodeBytes,
  type Measured,
  type MeasuredDetails,
  measureMachine,
  roofline,
  type RooflineTier,
} from "./probe/mod.ts";
import { chooseProfile, type ProfileName } from "./profile.ts";
import { PROFILES } from "./profiles.ts";

/** What `profile --json` prints and `--out` writes. */
export interface MachineProfile {
  readonly moebench: string;
  readonly timestamp: string;
  readonly profile: ProfileName;
  /** Whether the hardware was recognised (false: the nearest profile stands in). */
  readonly recognised: boolean;
  readonly reason: string;
  readonly hardware: Hardware;
  readonly measured: Measured;
  readonly details: MeasuredDetails;
  /** The decode roofline of `model`, when one was given. */
  readonly roofline: { readonly model: string; readonly tiers: readonly RooflineTier[] } | null;
}

/** How to profile. */
export interface ProfileOptions {
  readonly folder: string;
  readonly quick: boolean;
  /** A model whose decode roofline to derive, and its bytes per token. */
  readonly model?: {
    readonly path: string;
    readonly bytes: DecodeBytes;
    readonly expertBytes: number;
  };
  readonly onStep?: (name: string, index: number, count: number) => void;
}

/** Detects, chooses the profile, measures. */
export async function profileMachine(options: ProfileOptions): Promise<MachineProfile> {
  const hardware = await detectHardware(options.folder);
  const choice = chooseProfile(hardware, PROFILES);
  const { measured, details } = await measureMachine(hardware, {
    quick: options.quick,
    folder: options.folder,
    ...(options.model ? { expertBytes: options.model.expertBytes } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
  });
  const model = options.model;
  return {
    moebench: VERSION,
    timestamp: new Date().toISOString(),
    profile: choice.profile.name,
    recognised: choice.recognised,
    reason: choice.reason,
    hardware,
    measured,
    details,
    roofline: model
      ? {
        model: model.path,
        tiers: roofline({
          ramRead: measured.ram_read_gbps,
          cpuMatVec: measured.cpu_matvec_gbps,
          gpuMatVec: measured.gpu_matvec_gbps,
          diskRandomRead: measured.disk_rand_read_gbps,
        }, model.bytes),
      }
      : null,
  };
}
