/**
 * Chart.js's UMD build, read from Deno's npm cache so that reports inline it and work offline.
 * The package exports no path to its UMD file, so the file is found through `deno info`, which
 * names the package's folder in the cache (and fetches it there if it is missing).
 *
 * @example
 * ```ts ignore
 * import { chartJsSource } from "./chart_js.ts";
 * const source = await chartJsSource(); // "/*! Chart.js v4…"
 * ```
 * @module
 */

/** The version inlined (deno.json pins the same for `deno check` and the lock file). */
export const CHART_JS = "chart.js@4.5.1";

let cached: string | null = null;

/** The minified UMD source of Chart.js. */
export async function chartJsSource(): Promise<string> {
  if (cached !== null) return cached;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `npm:${CHART_JS}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const info = output.success ? JSON.parse(new TextDecoder().decode(output.stdout)) : null;
  const folder: string | undefined = info?.npmPackages?.[CHART_JS]?.localPath;
  if (!folder) {
    throw new Error(`${CHART_JS} could not be found or fetched (deno info failed)`);
  }
  cached = await Deno.readTextFile(`${folder}/dist/chart.umd.min.js`);
  return cached;
}
