/**
 * Joules from power readings, for the meters that report watts rather than a counter (GPU sensors,
 * `nvidia-smi`, `powermetrics`): the readings are integrated with trapezoids between readings, and
 * the last one is held until the moment asked for. A reading every 100 ms resolves a test's energy
 * to about a tenth of a second's worth of the change in power: well enough over a decode run of a
 * second or more, roughly over a shorter one.
 *
 * @example
 * ```ts
 * import { PowerTrace } from "./energy_power.ts";
 * const trace = new PowerTrace();
 * trace.add(0, 10); // 10 W at t = 0 ms
 * trace.add(1000, 30); // 30 W a second later
 * console.log(trace.joulesAt(2000)); // 20 J over the first second, then 30 J held: 50
 * ```
 * @module
 */
import type { EnergyMeter } from "./energy.ts";

/** How often sampled meters read their power, in milliseconds. */
export const POWER_INTERVAL_MS = 100;

/** Power readings over time and their integral. */
export class PowerTrace {
  #lastMs: number | null = null;
  #lastWatts = 0;
  #joules = 0;

  /** Adds a reading of `watts` at `ms` (one at or before the last is ignored). */
  add(ms: number, watts: number): void {
    if (!Number.isFinite(watts) || (this.#lastMs !== null && ms <= this.#lastMs)) return;
    if (this.#lastMs !== null) {
      this.#joules += (ms - this.#lastMs) / 1000 * (watts + this.#lastWatts) / 2;
    }
    this.#lastMs = ms;
    this.#lastWatts = watts;
  }

  /** Whether any reading came. */
  get started(): boolean {
    return this.#lastMs !== null;
  }

  /** Joules from the first reading to `ms`, the last reading held past it. */
  joulesAt(ms: number): number {
    if (this.#lastMs === null || ms <= this.#lastMs) return this.#joules;
    return this.#joules + (ms - this.#lastMs) / 1000 * this.#lastWatts;
  }
}

/**
 * A meter that reads `watts()` every `intervalMs` (a sensor file). Its first reading is taken
 * before it returns, so a bad sensor fails here rather than mid-run.
 */
export async function pollPower(
  source: string,
  watts: () => Promise<number>,
  intervalMs = POWER_INTERVAL_MS,
): Promise<EnergyMeter> {
  const trace = new PowerTrace();
  trace.add(performance.now(), await watts());
  let reading = Promise.resolve();
  const timer = setInterval(() => {
    reading = watts().then((w) => trace.add(performance.now(), w), () => {});
  }, intervalMs);
  Deno.unrefTimer(timer);
  return {
    source,
    joules: () => Promise.resolve(trace.joulesAt(performance.now())),
    async [Symbol.asyncDispose]() {
      clearInterval(timer);
      await reading;
    },
  };
}

/** What a sampling command's output line said: watts for a named trace, or nothing. */
export type PowerLine = { readonly trace: string; readonly watts: number; readonly ms: number };

/**
 * A meter on a command that keeps printing power readings (`nvidia-smi -lms`, `powermetrics -i`):
 * `parse` turns its lines into readings, one trace per device. It waits up to `startMs` for the
 * first reading; if none comes, the reason is what the command said instead.
 */
export async function streamPower(
  name: string,
  command: string,
  args: string[],
  parse: (line: string, arrivedMs: number) => PowerLine | null,
  startMs = 5000,
): Promise<{ meter: EnergyMeter } | { reason: string }> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, { args, stdout: "piped", stderr: "piped", stdin: "null" })
      .spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { reason: `no ${name}` };
    if (error instanceof Deno.errors.NotCapable) {
      return { reason: `${name} not run: needs --allow-run` };
    }
    return { reason: `${name}: ${(error as Error).message}` };
  }
  const traces = new Map<string, PowerTrace>();
  const said: string[] = [];
  const started = Promise.withResolvers<void>();
  const reading = (async () => {
    let pending = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const power = parse(line, Date.now());
        if (!power) {
          if (line.trim() && said.length < 3) said.push(line.trim());
          continue;
        }
        if (!traces.has(power.trace)) traces.set(power.trace, new PowerTrace());
        traces.get(power.trace)!.add(power.ms, power.watts);
        started.resolve();
      }
    }
  })();
  const errors = new Response(child.stderr).text();
  const ended = child.status.then(() => "ended" as const);
  const timeout = new Promise<"timeout">((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), startMs);
    Deno.unrefTimer(timer);
  });
  const first = await Promise.race([
    started.promise.then(() => "reading" as const),
    ended,
    timeout,
  ]);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* it has ended */ }
    await child.status;
    await reading.catch(() => {});
    await errors.catch(() => "");
  };
  if (first !== "reading") {
    await stop();
    const words = [...said, ...(await errors).trim().split("\n")].find((line) => line.trim());
    const why = first === "timeout" ? `no reading in ${startMs / 1000} s` : "it ended";
    return { reason: `${name} gave no power reading (${words?.trim() ?? why})` };
  }
  // every device prints within one interval: wait for it, so each trace starts before the run
  await new Promise((resolve) => setTimeout(resolve, 2 * POWER_INTERVAL_MS));
  return {
    meter: {
      source: [...traces.keys()].map((trace) => `${name} ${trace}`).join(" + "),
      joules() {
        const now = Date.now();
        return Promise.resolve([...traces.values()].reduce((sum, t) => sum + t.joulesAt(now), 0));
      },
      [Symbol.asyncDispose]: stop,
    },
  };
}
