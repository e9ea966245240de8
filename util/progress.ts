/**
 * Progress bars with ETA on a terminal; silent when stderr is not a terminal, in CI, or when the
 * command prints JSON.
 * @module
 */
import cliProgress from "cli-progress";
import process from "node:process";

/** A progress display (or a silent stand-in). */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** Whether progress should show: a terminal on stderr, not CI, not `--json`. */
export function progressEnabled(json: boolean): boolean {
  return !json && Deno.stderr.isTerminal() && !Deno.env.get("CI");
}

/** A byte-count progress bar labelled `label`, or a silent one when `enabled` is false. */
export function byteProgress(label: string, enabled: boolean): Progress {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    format: `${label} [{bar}] {percentage}% | {doneMB}/{totalMB} MB | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  return {
    update(done, total) {
      if (!started) bar.start(total, 0, { doneMB: mb(0), totalMB: mb(total) });
      started = true;
      bar.update(Math.min(done, total), { doneMB: mb(done), totalMB: mb(total) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** A progress bar over named steps (`label`, then the step running), or a silent one. */
export function stepProgress(label: string, enabled: boolean): Progress & {
  step(name: string): void;
} {
  if (!enabled) return { update() {}, stop() {}, step() {} };
  const bar = new cliProgress.SingleBar({
    format: `${label} [{bar}] {value}/{total} | {step} | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 4,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  let step = "";
  return {
    update(done, total) {
      if (!started) bar.start(total, 0, { step });
      started = true;
      bar.update(Math.min(done, total), { step });
    },
    step(name) {
      step = name;
      if (started) bar.update({ step });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
