/**
 * Every hardware profile, in the order recognition tries them.
 * @module
 */
import { APPLE_M } from "./apple_m.ts";
import { CPU_ONLY } from "./cpu_only.ts";
import { NVIDIA_DISCRETE } from "./nvidia_discrete.ts";
import type { HardwareProfile, ProfileName } from "./profile.ts";
import { STRIX_HALO } from "./strix_halo.ts";

/** The profiles. */
export const PROFILES: readonly HardwareProfile[] = [
  APPLE_M,
  STRIX_HALO,
  NVIDIA_DISCRETE,
  CPU_ONLY,
];

/** The profile called `name`. */
export function findProfile(name: string): HardwareProfile {
  const profile = PROFILES.find((p) => p.name === name);
  if (!profile) {
    throw new RangeError(
      `no profile "${name}" (profiles: ${PROFILES.map((p) => p.name).join(", ")})`,
    );
  }
  return profile;
}

export type { ProfileName };
