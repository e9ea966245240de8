/**
 * Energy while a test runs, where the machine exposes it: Intel's and AMD's RAPL package counters
 * in Linux's powercap tree (`/sys/class/powercap/intel-rapl:N/energy_uj`, one top-level zone per
 * CPU package; sub-zones such as the cores are inside their package and not added again). A
 * counter wraps at its `max_energy_range_uj`; reads account for that. Where there are none, or
 * they cannot be read (since Linux 5.10 `energy_uj` is readable only by root; Deno opens `/sys`
 * only with all permissions), the meter is unavailable with the reason, and records say so
 * instead of carrying a made-up figure.
 * (GPU power through `nvidia-smi`/`rocm-smi` and Apple's `powermetrics`, which needs sudo, are
 * not read yet.)
 *
 * @example
 * ```ts ignore
 * import { openEnergyMeter } from "./energy.ts";
 * const energy = await openEnergyMeter();
 * if ("meter" in energy) {
 *   const before = await energy.meter.joules();
 *   // … the work …
 *   console.log(`${(await energy.meter.joules()) - before} J`);
 * } else console.log(energy.unavailable);
 * ```
 * @module
 */
import { join } from "node:path";

/** A cumulative energy counter. */
export interface EnergyMeter {
  /** Where the joules come from, e.g. `RAPL package-0 + package-1`. */
  readonly source: string;
  /** Joules since the meter was opened (wraps of the hardware counters accounted for). */
  joules(): Promise<number>;
}

/** A meter, or why there is none here. */
export type EnergyAvailability = { readonly meter: EnergyMeter } | { readonly unavailable: string };

interface Zone {
  readonly name: string;
  readonly counter: string;
  /** The counter's wrap-around, in µJ. */
  readonly range: number;
  last: number;
  total: number;
}

const readNumber = async (path: string) => Number((await Deno.readTextFile(path)).trim());

/** The RAPL package counters under `root` (Linux's powercap tree), or why they cannot be used. */
export async function openEnergyMeter(root = "/sys/class/powercap"): Promise<EnergyAvailability> {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(root)].map((entry) => entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      // Deno opens /sys only with every permission
      return { unavailable: `not read: ${root} needs all permissions (deno run -A)` };
    }
    return { unavailable: `not available here: no ${root} (no RAPL energy counters)` };
  }
  const packages = entries.filter((name) => /^intel-rapl:\d+$/.test(name)).sort();
  if (packages.length === 0) {
    return { unavailable: `not available here: ${root} has no RAPL package zones` };
  }
  const zones: Zone[] = [];
  for (const dir of packages) {
    const counter = join(root, dir, "energy_uj");
    try {
      const name = (await Deno.readTextFile(join(root, dir, "name")).catch(() => dir)).trim();
      const range = await readNumber(join(root, dir, "max_energy_range_uj"));
      const last = await readNumber(counter);
      if (!Number.isFinite(range) || !Number.isFinite(last)) throw new Error("not a number");
      zones.push({ name, counter, range, last, total: 0 });
    } catch (error) {
      const why = error instanceof Deno.errors.PermissionDenied
        ? "readable only by root (Linux ≥ 5.10): run as root or grant read access"
        : (error as Error).message;
      return { unavailable: `not available here: ${counter}: ${why}` };
    }
  }
  return {
    meter: {
      source: `RAPL ${zones.map((zone) => zone.name).join(" + ")}`,
      async joules() {
        for (const zone of zones) {
          const now = await readNumber(zone.counter);
          zone.total += now >= zone.last ? now - zone.last : now + zone.range - zone.last;
          zone.last = now;
        }
        return zones.reduce((sum, zone) => sum + zone.total, 0) / 1e6;
      },
    },
  };
}
