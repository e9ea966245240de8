/**
 * The conditions a measurement ran under, so that a disturbed run is flagged rather than
 * believed: how much CPU other processes took while it ran (every CPU's busy time less this
 * process's own, in cores), the CPU clock, and the hottest thermal zone where it can be read.
 * Suites take a reading after each repetition, which is each test's sample; as the kernel's CPU
 * counters tick at 100 Hz, a reading covers at least the last second (`readingWindowMs`).
 * The CPU times come from `node:os` (`cpus()`, the kernel's per-CPU counters) and `node:process`
 * (`cpuUsage()`, this process with all its worker threads), which need only `--allow-sys`; Deno
 * reads `/sys` and `/proc` (the thermal zones; the clock where `node:os` lacks it) only with all
 * permissions, so those are null otherwise, as is anything the machine does not expose.
 *
 * @example
 * ```ts ignore
 * import { ConditionsMonitor } from "./conditions.ts";
 * const monitor = ConditionsMonitor.start();
 * // … a repetition of the timed work …
 * console.log(monitor.sample()); // { others_cpu_cores: 0.02, cpu_mhz: 2096, temp_c: null, … }
 * ```
 * @module
 */
import os from "node:os";
import process from "node:process";
import { z } from "zod";
import { summarize } from "./stats.ts";

/** Cores' worth of CPU that others used beyond which a run counts as disturbed. */
export const DISTURBED_CORES = 0.25;

/** What the monitor saw over one sample (as results files keep it). */
export interface Conditions {
  /** CPU other processes used, in cores (1 = one core busy the whole time). */
  readonly others_cpu_cores: number | null;
  /** Mean CPU clock at the end, MHz. */
  readonly cpu_mhz: number | null;
  /** The hottest thermal zone at the end, °C. */
  readonly temp_c: number | null;
  /** Whether other processes took more than DISTURBED_CORES. */
  readonly disturbed: boolean | null;
}

/** The schema results files check `Conditions` with. */
export const Conditions: z.ZodType<Conditions> = z.object({
  others_cpu_cores: z.number().nonnegative().nullable(),
  cpu_mhz: z.number().nonnegative().nullable(),
  temp_c: z.number().nullable(),
  disturbed: z.boolean().nullable(),
}).strict();

/**
 * A test's conditions in brief, for its details: the most CPU others took in any sample, the
 * median clock, the hottest reading, and how many samples were disturbed.
 */
export function conditionsSummary(samples: readonly Conditions[]): {
  others_cpu_cores: number | null;
  cpu_mhz: number | null;
  temp_c: number | null;
  disturbed: boolean | null;
  disturbed_samples: number | null;
} {
  const known = <K extends keyof Conditions>(key: K) =>
    samples.map((s) => s[key]).filter((v): v is NonNullable<Conditions[K]> => v !== null);
  const [others, clocks, temps] = [known("others_cpu_cores"), known("cpu_mhz"), known("temp_c")];
  const disturbed = known("disturbed");
  return {
    others_cpu_cores: others.length ? Math.max(...others) : null,
    cpu_mhz: clocks.length ? summarize(clocks).median : null,
    temp_c: temps.length ? Math.max(...temps) : null,
    disturbed: disturbed.length ? disturbed.some((d) => d) : null,
    disturbed_samples: disturbed.length ? disturbed.filter((d) => d).length : null,
  };
}

/** Where a monitor reads from (the machine, or a test's recording). */
export interface ConditionsSource {
  /** Milliseconds every CPU together spent busy so far, or null. */
  busyMs(): number | null;
  /** Milliseconds of CPU this process spent so far (all threads), or null. */
  ownMs(): number | null;
  /** Milliseconds since some fixed time. */
  nowMs(): number;
  cpuMhz(): number | null;
  hottest(): number | null;
}

const attempt = <T>(read: () => T): T | null => {
  try {
    return read();
  } catch {
    return null;
  }
};

/** This machine, through `node:os`, `node:process` and (with all permissions) `/sys`. */
export const MACHINE: ConditionsSource = {
  busyMs: () =>
    attempt(() =>
      os.cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0)
    ),
  ownMs: () =>
    attempt(() => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    }),
  nowMs: () => performance.now(),
  cpuMhz: () => {
    // node:os where it knows the clock; else the kernel's own figure (VMs often leave the first
    // at 0 while /proc/cpuinfo has it): readable only with all permissions
    const speeds = attempt(() => os.cpus().map((cpu) => cpu.speed).filter((speed) => speed > 0));
    const proc = () =>
      attempt(() =>
        [...Deno.readTextFileSync("/proc/cpuinfo").matchAll(/^cpu MHz\s*:\s*([\d.]+)$/gm)]
          .map((match) => Number(match[1]))
      );
    const mhz = speeds?.length ? speeds : proc() ?? [];
    return mhz.length ? mhz.reduce((a, b) => a + b, 0) / mhz.length : null;
  },
  hottest: () => {
    const temps: number[] = [];
    for (let zone = 0;; zone++) {
      const text = attempt(() =>
        Deno.readTextFileSync(`/sys/class/thermal/thermal_zone${zone}/temp`)
      );
      if (text === null) break;
      temps.push(Number(text) / 1000);
    }
    return temps.length ? Math.max(...temps) : null;
  },
};

/** The CPU counters at one moment. */
interface Snapshot {
  readonly at: number;
  readonly busy: number | null;
  readonly own: number | null;
}

/**
 * The shortest window a reading covers, in ms: the kernel's CPU counters tick at 100 Hz, so each
 * busy CPU's time is known to ±10 ms; over a second, two CPUs' worth of that is ±0.02 cores, and
 * the window grows with the CPUs so the error stays that small.
 */
export function readingWindowMs(cpus = navigator.hardwareConcurrency): number {
  return Math.max(1000, 100 * cpus);
}

/**
 * Conditions sample by sample: `sample()` after each repetition reads what happened over the
 * last `windowMs` at least (that repetition and, where it was shorter, those just before it,
 * back to `start`), since a reading over a few milliseconds would be mostly counter ticks.
 */
export class ConditionsMonitor {
  #snapshots: Snapshot[] = [];

  private constructor(
    private readonly source: ConditionsSource,
    private readonly windowMs: number,
  ) {
    this.#snapshots.push(this.#snapshot());
  }

  /** Starts watching `source` (this machine by default). */
  static start(
    source: ConditionsSource = MACHINE,
    windowMs = readingWindowMs(),
  ): ConditionsMonitor {
    return new ConditionsMonitor(source, windowMs);
  }

  #snapshot(): Snapshot {
    return { at: this.source.nowMs(), busy: this.source.busyMs(), own: this.source.ownMs() };
  }

  /** What happened over the last window, ending now. */
  sample(): Conditions {
    const now = this.#snapshot();
    let from = 0;
    while (
      from + 1 < this.#snapshots.length && now.at - this.#snapshots[from + 1]!.at >= this.windowMs
    ) from++;
    const since = this.#snapshots[from]!;
    this.#snapshots = [...this.#snapshots.slice(from), now];
    const elapsed = now.at - since.at;
    let others: number | null = null;
    if (
      since.busy !== null && now.busy !== null && since.own !== null && now.own !== null &&
      elapsed > 0
    ) {
      others = Math.max(0, (now.busy - since.busy - (now.own - since.own)) / elapsed);
    }
    return {
      others_cpu_cores: others,
      cpu_mhz: this.source.cpuMhz(),
      temp_c: this.source.hottest(),
      disturbed: others === null ? null : others > DISTURBED_CORES,
    };
  }
}

/** A tokens record's test, its per-sample conditions and its summary (the fields read here). */
interface ConditionedRecord {
  readonly test: string;
  readonly conditions?: readonly Conditions[] | undefined;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * "`who` was disturbed while it measured pp8 (3 of 12 samples), tg4 (…): other processes took up
 * to 0.97 cores." for the disturbed ones among `records`, or null where none was.
 */
export function disturbedSentence(
  who: string,
  records: readonly ConditionedRecord[],
): string | null {
  const disturbed = records.filter((r) => r.details["disturbed"] === true);
  if (disturbed.length === 0) return null;
  const most = Math.max(...disturbed.map((r) => Number(r.details["others_cpu_cores"] ?? 0)));
  const tests = new Map<string, string>();
  for (const record of disturbed) {
    const samples = record.conditions;
    const during = samples
      ? ` (${samples.filter((s) => s.disturbed).length} of ${samples.length} samples)`
      : "";
    if (!tests.has(record.test)) tests.set(record.test, `${record.test}${during}`);
  }
  return `${who} was disturbed while it measured ${[...tests.values()].join(", ")}: ` +
    `other processes took up to ${most.toFixed(2)} cores.`;
}
