/**
 * Chart.js's UMD build, read from Deno's npm cache so that reports inline it and work offline.
 * deno.json's import map pins the version; the package exports no path to its UMD file, so it is
 * found beside the module `chart.js` resolves to, or, where the package is not cached yet,
 * through `deno info` (which names the package's folder and fetches it there).
 *
 * @example
 * ```ts ignore
 * import { chartJsSource } from "./chart_js.ts";
 * const source = await chartJsSource(); // "/*! Chart.js v4…"
 * ```
 * @module
 */

const UMD = "chart.umd.min.js";

let cached: string | null = null;

/** The minified UMD source of Chart.js. */
export async function chartJsSource(): Promise<string> {
  if (cached !== null) return cached;
  const resolved = import.meta.resolve("chart.js");
  cached = await Deno.readTextFile(
    resolved.startsWith("file:") ? new URL(`./${UMD}`, resolved) : await fetched(resolved),
  );
  return cached;
}

/** The UMD file of the package `specifier` (`npm:chart.js@4.5.1`), fetched into the cache. */
async function fetched(specifier: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", specifier],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const info = output.success ? JSON.parse(new TextDecoder().decode(output.stdout)) : null;
  const packages: { name: string; localPath?: string }[] = Object.values(info?.npmPackages ?? {});
  const folder = packages.find((p) => p.name === "chart.js")?.localPath;
  if (!folder) throw new Error(`${specifier} could not be found or fetched (deno info failed)`);
  return `${folder}/dist/${UMD}`;
}
