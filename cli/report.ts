/**
 * `moebench report`: one self-contained HTML report of one results file, or a side-by-side
 * comparison of several.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { chartJsSource } from "../reports/chart_js.ts";
import { renderReport } from "../reports/html.ts";
import { loadRuns, ranking } from "../reports/runs.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { printJson } from "./common.ts";

/** The `report` command. */
export function reportCommand() {
  return new Command("report")
    .description("an HTML report (Chart.js inlined, works offline) of results files side by side")
    .argument("<results...>", "results files from `moebench bench --out`")
    .requiredOption("--out <file>", "HTML file to write")
    .option("--title <text>", "the report's title")
    .option("--json", "print what was written as JSON")
    .action(async (files, options) => {
      const runs = await loadRuns(files);
      const html = renderReport(runs, await chartJsSource(), options.title);
      await atomicWrite(options.out, (sink) => sink.write(new TextEncoder().encode(html)));
      const { ranked, warnings } = ranking(runs);
      if (options.json) {
        printJson({ out: options.out, runs: runs.map((r) => r.id), ranked: ranked.length });
        return;
      }
      for (const warning of warnings) console.error(`warning: ${warning}`);
      console.log(`wrote ${options.out}: ${runs.length} run${runs.length > 1 ? "s" : ""}`);
    });
}
