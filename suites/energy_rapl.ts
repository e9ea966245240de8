/**
 * Intel's and AMD's RAPL package counters in Linux's powercap tree
 * (`/sys/class/powercap/intel-rapl:N/energy_uj`, one top-level zone per CPU package; sub-zones
 * such as the cores are inside their package and not added again). A counter wraps at its
 * `max_energy_range_uj`; reads account for that. Since Linux 5.10 `energy_uj` is readable only by
 * root, and Deno opens `/sys` only with all permissions: either gives a reason instead of a meter.
 *
 * @example
 * ```ts ignore
 * import { openRapl } from "./energy_rapl.ts";
 * const rapl = await openRapl();
 * console.log("meter" in rapl ? await rapl.meter.joules() : rapl.reason);
 * ```
 * @module
 */
import { join } from "node:path";
import type { MeterOrReason } from "./energy.ts";

interface Zone {
  readonly name: string;
  readonly counter: string;
  /** The counter's wrap-around, in µJ. */
  readonly range: number;
  last: number;
  total: number;
}

const readNumber = async (path: string) => Number((await Deno.readTextFile(path)).trim());

/** Why a file under /sys could not be read, in a few words. */
export function sysfsReason(path: string, error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `${path} needs all permissions (deno run -A)`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `${path} is readable only by root: run as root or grant read access`;
  }
  return `${path}: ${(error as Error).message}`;
}

/** The RAPL package counters under `root` (Linux's powercap tree), or why they cannot be used. */
export async function openRapl(root = "/sys/class/powercap"): Promise<MeterOrReason> {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(root)].map((entry) => entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { reason: `no RAPL counters (no ${root})` };
    return { reason: sysfsReason(root, error) };
  }
  const packages = entries.filter((name) => /^intel-rapl:\d+$/.test(name)).sort();
  if (packages.length === 0) return { reason: `no RAPL package zones in ${root}` };
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
      return { reason: sysfsReason(counter, error) };
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
      async [Symbol.asyncDispose]() {},
    },
  };
}
