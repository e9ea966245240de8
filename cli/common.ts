/**
 * What every command shares: option parsing helpers, JSON output, and turning errors into one
 * line on stderr with the right exit code.
 * @module
 */
import { ResultsError } from "../suites/results.ts";
import { ResultsDbError } from "../reports/db.ts";
import { InvalidArgumentError } from "@commander-js/extra-typings";
import { GGUFError } from "../engine/gguf/errors.ts";
import { LlamaCppUnavailable } from "../peers/llama_cpp/errors.ts";
import { StreamUnavailable } from "../peers/stream/stream.ts";
import { ConfigError } from "../profiles/config.ts";

/** Exit code for a user mistake (bad flag, bad file, bad value), as cliffy and POSIX tools do. */
export const EXIT_USAGE = 2;
/** Exit code for a failure that is moebench's fault. */
export const EXIT_INTERNAL = 1;

/** A mistake in what the user asked for; its message is shown as is. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parses a whole number option (for commander's `argParser`). */
export function parseWholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`"${value}" is not a whole number.`);
  }
  return n;
}

/** Parses a decimal number option. */
export function parseDecimal(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new InvalidArgumentError(`"${value}" is not a number.`);
  }
  return n;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** A size as `512MiB`, `2GB`, `1.5GiB` or bytes, or a share of something as `25%`. */
export type SizeOption = { readonly bytes: number } | { readonly share: number };

/** Parses a size option (`512MiB`, `2GB`, bytes; with `percent`, also `25%`). */
export function parseSize(value: string, percent = false): SizeOption {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*|%)\s*$/i.exec(value);
  const unit = match?.[2]?.toLowerCase() ?? "";
  if (match && unit === "%" && percent) {
    const share = Number(match[1]) / 100;
    if (share > 0 && share <= 1) return { share };
  } else if (match && unit in SIZE_UNITS) {
    return { bytes: Math.floor(Number(match[1]) * SIZE_UNITS[unit]!) };
  }
  const forms = percent ? "512MiB, 2GB, bytes or 25%" : "512MiB, 2GB or bytes";
  throw new InvalidArgumentError(`"${value}" is not a size (${forms}).`);
}

/** Prints `value` as JSON on stdout (the only thing a `--json` command prints there). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Whether an error is the user's to fix (exit 2) rather than a moebench bug (exit 1). */
function isUserError(error: unknown): boolean {
  return error instanceof UsageError || error instanceof GGUFError ||
    error instanceof RangeError || error instanceof LlamaCppUnavailable ||
    error instanceof StreamUnavailable || error instanceof ConfigError ||
    error instanceof ResultsError || error instanceof ResultsDbError ||
    error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.AlreadyExists || error instanceof Deno.errors.IsADirectory;
}

/**
 * Reports an error as one line on stderr and returns the exit code. The stack is shown only
 * with MOEBENCH_DEBUG=1.
 */
export function reportError(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split("\n")[0];
  if (Deno.env.get("MOEBENCH_DEBUG") === "1" && error instanceof Error) console.error(error.stack);
  if (isUserError(error)) {
    console.error(`moebench: ${firstLine}`);
    return EXIT_USAGE;
  }
  console.error(`moebench: internal error: ${firstLine}`);
  return EXIT_INTERNAL;
}
