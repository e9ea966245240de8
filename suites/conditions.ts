/**
 * The conditions a measurement ran under, so that a disturbed run is flagged rather than
 * believed: how much CPU other processes took while it ran (the machine's busy time from
 * `/proc/stat` less this process's own from `/proc/self/stat`, in cores), how much the hypervisor
 * stole (a VM's `steal` time, in cores), the CPU clock (cpufreq where the kernel exposes it,
 * else `/proc/cpuinfo`) and the hottest thermal zone. Linux only; elsewhere, and wherever a file is
 * missing, the figure is null.
 *
 * @example
 * ```ts ignore
 * import { ConditionsProbe } from "./conditions.ts";
 * const probe = ConditionsProbe.start();
 * // … the timed work …
 * console.log(probe.stop()); // { others_cpu_cores: 0.02, steal_cores: 0, cpu_mhz: 2096, … }
 * ```
 * @module
 */

/** Cores' worth of CPU that others used beyond which a run counts as disturbed. */
export const DISTURBED_CORES = 0.25;

/** What a probe saw over the measurement. */
export interface Conditions {
  /** CPU other processes used, in cores (1 = one core busy the whole time). */
  readonly others_cpu_cores: number | null;
  /** CPU the hypervisor took from this VM, in cores. */
  readonly steal_cores: number | null;
  /** Mean CPU clock at the end, MHz. */
  readonly cpu_mhz: number | null;
  /** The hottest thermal zone at the end, °C. */
  readonly temp_c: number | null;
  /** Whether other processes or the hypervisor took more than DISTURBED_CORES. */
  readonly disturbed: boolean | null;
}

const readText = (path: string) => {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
};

/** Ticks of the whole machine: total, and busy (all but idle and iowait), and stolen. */
function machineTicks(root: string): { total: number; busy: number; steal: number } | null {
  const line = readText(`${root}/proc/stat`)?.split("\n")[0];
  if (!line?.startsWith("cpu ")) return null;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1)
    .map(Number);
  const total = [user, nice, system, idle, iowait, irq, softirq, steal].reduce(
    (a, b) => a! + b!,
    0,
  )!;
  return { total, busy: total - idle! - iowait! - steal!, steal: steal! };
}

/** This process's CPU ticks (user + system, every thread). */
function ownTicks(root: string): number | null {
  const stat = readText(`${root}/proc/self/stat`);
  if (!stat) return null;
  // the command name may hold spaces: fields start after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** Mean current clock over the CPUs, MHz. */
function cpuMhz(root: string): number | null {
  const khz: number[] = [];
  for (let cpu = 0;; cpu++) {
    const text = readText(`${root}/sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_cur_freq`);
    if (text === null) break;
    khz.push(Number(text));
  }
  if (khz.length) return khz.reduce((a, b) => a + b, 0) / khz.length / 1000;
  const mhz = [...(readText(`${root}/proc/cpuinfo`) ?? "").matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)]
    .map((m) => Number(m[1]));
  return mhz.length ? mhz.reduce((a, b) => a + b, 0) / mhz.length : null;
}

/** The hottest thermal zone, °C. */
function hottest(root: string): number | null {
  const temps: number[] = [];
  for (let zone = 0;; zone++) {
    const text = readText(`${root}/sys/class/thermal/thermal_zone${zone}/temp`);
    if (text === null) break;
    temps.push(Number(text) / 1000);
  }
  return temps.length ? Math.max(...temps) : null;
}

/** Conditions over an interval: started before the work, stopped after it. */
export class ConditionsProbe {
  private constructor(
    private readonly root: string,
    private readonly machine: ReturnType<typeof machineTicks>,
    private readonly own: number | null,
    private readonly cpus: number,
  ) {}

  /** Starts a probe; `root` stands for `/` (tests give a recorded tree). */
  static start(root = "", cpus = navigator.hardwareConcurrency): ConditionsProbe {
    return new ConditionsProbe(root, machineTicks(root), ownTicks(root), cpus);
  }

  /** What happened since `start`. */
  stop(): Conditions {
    const [machine, own] = [machineTicks(this.root), ownTicks(this.root)];
    let others: number | null = null;
    let steal: number | null = null;
    if (this.machine && machine && machine.total > this.machine.total) {
      const elapsed = machine.total - this.machine.total; // ticks of all CPUs together
      steal = ((machine.steal - this.machine.steal) / elapsed) * this.cpus;
      if (this.own !== null && own !== null) {
        const busy = machine.busy - this.machine.busy - (own - this.own);
        others = Math.max(0, (busy / elapsed) * this.cpus);
      }
    }
    return {
      others_cpu_cores: others,
      steal_cores: steal,
      cpu_mhz: cpuMhz(this.root),
      temp_c: hottest(this.root),
      disturbed: others === null ? null : others + (steal ?? 0) > DISTURBED_CORES,
    };
  }
}
