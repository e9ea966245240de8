/**
 * Energy while a test runs, from every meter the machine exposes: the CPU packages' RAPL counters
 * (`energy_rapl.ts`), AMD GPUs' power sensors in hwmon (`energy_amdgpu.ts`, what `rocm-smi` shows),
 * NVIDIA GPUs' power through `nvidia-smi` (`energy_nvidia.ts`) and, on a Mac, `powermetrics`
 * (`energy_apple.ts`, which only root may run). The joules of all of them are added; where there is
 * none, the reason for each is kept, so records say why instead of carrying a made-up figure.
 *
 * @example
 * ```ts ignore
 * import { openEnergy } from "./energy.ts";
 * await using energy = await openEnergy();
 * if ("meter" in energy) {
 *   const before = await energy.meter.joules();
 *   // … the work …
 *   console.log(`${(await energy.meter.joules()) - before} J from ${energy.meter.source}`);
 * } else console.log(energy.unavailable);
 * ```
 * @module
 */
import process from "node:process";
import { openRapl } from "./energy_rapl.ts";
import { openAmdgpu } from "./energy_amdgpu.ts";
import { openNvidiaSmi } from "./energy_nvidia.ts";
import { openPowermetrics } from "./energy_apple.ts";

/** A cumulative energy reading; disposing it stops any sampling it does. */
export interface EnergyMeter extends AsyncDisposable {
  /** Where the joules come from, e.g. `RAPL package-0 + nvidia-smi GPU 0`. */
  readonly source: string;
  /** Joules since the meter was opened. */
  joules(): Promise<number>;
}

/** A meter, or why there is none here. */
export type EnergyAvailability =
  & ({ readonly meter: EnergyMeter } | { readonly unavailable: string })
  & AsyncDisposable;

/** One kind of meter: a meter, or why there is none (short, e.g. `no nvidia-smi`). */
export type MeterOrReason = { readonly meter: EnergyMeter } | { readonly reason: string };

/** Where to look (this machine's places by default; tests point them at recordings). */
export interface EnergyPlaces {
  readonly powercap?: string;
  readonly hwmon?: string;
  readonly nvidiaSmi?: string;
  readonly powermetrics?: string;
  readonly platform?: string;
  readonly isRoot?: boolean;
}

/** A meter that is the sum of `meters`. */
export function sumMeters(meters: readonly EnergyMeter[]): EnergyMeter {
  return {
    source: meters.map((meter) => meter.source).join(" + "),
    async joules() {
      let sum = 0;
      for (const meter of meters) sum += await meter.joules();
      return sum;
    },
    async [Symbol.asyncDispose]() {
      for (const meter of meters) await meter[Symbol.asyncDispose]();
    },
  };
}

/**
 * Every energy meter of this machine, added together. An integrated GPU's sensor measures the
 * whole package that RAPL already counts, so it is read only where RAPL cannot be.
 */
export async function openEnergy(places: EnergyPlaces = {}): Promise<EnergyAvailability> {
  const platform = places.platform ?? process.platform;
  const found: MeterOrReason[] = [];
  if (platform === "darwin") {
    found.push(
      await openPowermetrics(places.powermetrics, places.isRoot ?? Deno.uid() === 0),
    );
  } else {
    const rapl = await openRapl(places.powercap);
    found.push(rapl, ...await openAmdgpu(places.hwmon, { packageCounted: "meter" in rapl }));
    found.push(await openNvidiaSmi(places.nvidiaSmi));
  }
  const meters = found.flatMap((one) => "meter" in one ? [one.meter] : []);
  if (meters.length === 0) {
    const reasons = found.map((one) => "reason" in one ? one.reason : "");
    return {
      unavailable: `not available here: ${reasons.join("; ")}`,
      async [Symbol.asyncDispose]() {},
    };
  }
  const meter = sumMeters(meters);
  return { meter, [Symbol.asyncDispose]: () => meter[Symbol.asyncDispose]() };
}

/** What a decode record says of its energy. */
export interface RecordedEnergy {
  /** The meters (`RAPL package-0 + nvidia-smi GPU 0`), or why there were none. */
  readonly source: string;
  readonly joulesPerToken: number | null;
  /** Tokens per joule: tok/s per watt. */
  readonly tokensPerJoule: number | null;
}

/** The energy in a record's details (the tokens suite puts it on tg), or null where none is. */
export function recordedEnergy(
  details: Readonly<Record<string, unknown>>,
): RecordedEnergy | null {
  const source = details["energy"];
  if (typeof source !== "string") return null;
  const number = (value: unknown) => typeof value === "number" ? value : null;
  return {
    source,
    joulesPerToken: number(details["joules_per_token"]),
    tokensPerJoule: number(details["tokens_per_joule"]),
  };
}
