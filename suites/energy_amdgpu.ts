/**
 * AMD GPUs' power from the amdgpu driver's hwmon sensor (`/sys/class/hwmon/hwmonN/`, `name`
 * `amdgpu`; `power1_input` or, on older kernels, `power1_average`, in µW — what `rocm-smi`
 * shows), read every 100 ms and integrated (`energy_power.ts`). An integrated GPU (an APU such as
 * Strix Halo; only APUs have the `vddnb` voltage sensor) reports the whole package's power, which
 * RAPL already counts: it is read only where RAPL is not.
 *
 * @example
 * ```ts ignore
 * import { openAmdgpu } from "./energy_amdgpu.ts";
 * for (const gpu of await openAmdgpu(undefined, { packageCounted: false })) {
 *   console.log("meter" in gpu ? gpu.meter.source : gpu.reason);
 * }
 * ```
 * @module
 */
import { join } from "node:path";
import type { MeterOrReason } from "./energy.ts";
import { pollPower } from "./energy_power.ts";
import { sysfsReason } from "./energy_rapl.ts";

const readText = async (path: string) => (await Deno.readTextFile(path)).trim();

/** A meter per amdgpu sensor under `root`, or one reason why there is none. */
export async function openAmdgpu(
  root = "/sys/class/hwmon",
  { packageCounted }: { readonly packageCounted: boolean },
): Promise<MeterOrReason[]> {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(root)].map((entry) => entry.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return [{ reason: `no AMD GPU sensor (no ${root})` }];
    }
    return [{ reason: sysfsReason(root, error) }];
  }
  const found: MeterOrReason[] = [];
  for (const entry of entries) {
    const dir = join(root, entry);
    if (await readText(join(dir, "name")).catch(() => "") !== "amdgpu") continue;
    const integrated = await readText(join(dir, "in1_label")).catch(() => "") === "vddnb";
    if (integrated && packageCounted) continue;
    let sensor: string | null = null;
    for (const file of ["power1_input", "power1_average"]) {
      if (await Deno.stat(join(dir, file)).then(() => true, () => false)) {
        sensor = join(dir, file);
        break;
      }
    }
    if (!sensor) {
      found.push({ reason: `${dir} (amdgpu) has no power sensor` });
      continue;
    }
    const path = sensor;
    const label = `amdgpu ${entry}${integrated ? " (integrated: the package)" : ""}`;
    try {
      const watts = async () => {
        const microwatts = Number(await readText(path));
        if (!Number.isFinite(microwatts)) throw new Error(`${path} is not a number`);
        return microwatts / 1e6;
      };
      found.push({ meter: await pollPower(label, watts) });
    } catch (error) {
      found.push({ reason: sysfsReason(path, error) });
    }
  }
  return found.length ? found : [{ reason: `no AMD GPU sensor in ${root}` }];
}
