/**
 * `moebench demo`: the whole user journey on the built-in default, with nothing to download:
 * profile this machine (quickly), run the standard benchmark on its generated models, and write
 * the HTML report — then say where the report is.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { join } from "node:path";
import { chartJsSource } from "../reports/chart_js.ts";
import { renderReport } from "../reports/html.ts";
import { toRuns } from "../reports/runs.ts";
import { STANDARD } from "../suites/spec.ts";
import { standardPlan } from "../suites/standard.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { progressEnabled, stepProgress } from "../util/progress.ts";
import { profileHere, runWithProgress } from "./bench.ts";
import { printJson } from "./common.ts";
import { renderProfile } from "./profile.ts";

/** The `demo` command. */
export function demoCommand() {
  return new Command("demo")
    .description("profile this machine, run the standard benchmark, write the report (no download)")
    .option("--dir <folder>", "where to write the results and report (default: a new folder)")
    .option("--json", "print the results as JSON")
    .action(async (options) => {
      const quiet = options.json === true;
      const dir = options.dir ?? await Deno.makeTempDir({ prefix: "moebench-demo-" });
      await Deno.mkdir(dir, { recursive: true });
      const say = (line: string) => {
        if (!quiet) console.log(line);
      };
      const started = performance.now();
      const models = stepProgress("models", progressEnabled(quiet));
      const plan = await standardPlan({ backend: "cpu" }, {
        peer: false,
        onModel: (model, done, total) => {
          models.step(`${model.id} (generated once, then cached)`);
          models.update(done, total);
        },
      }).finally(() => models.stop());
      say(`1/3 profile (moebench profile --quick)`);
      const machine = await profileHere(plan.models[0]!.path, quiet);
      if (!quiet) console.log(renderProfile(machine));
      say(`\n2/3 the standard benchmark (${STANDARD.name} v${STANDARD.version})`);
      const out = join(dir, "results.json");
      const results = await runWithProgress(plan, { out, resume: false, machine, quiet });
      const report = join(dir, "report.html");
      const html = renderReport(toRuns([results]), await chartJsSource());
      await atomicWrite(report, (sink) => sink.write(new TextEncoder().encode(html)));
      if (quiet) {
        printJson({ results: out, report, score: results.score, machine: machine.profile });
        return;
      }
      const figure = (test: string, config: string) =>
        results.tests.find((r) => r.suite === "tokens" && r.test === test && r.config === config);
      const tg = figure(`tg${STANDARD.tokens.genTokens}`, "resident");
      const pp = figure(`pp${STANDARD.tokens.promptLengths.at(-1)}`, "resident");
      say(
        `\n3/3 report. Score ${results.score?.value.toFixed(1) ?? "none"} ` +
          `(100 = the reference machine); decode ${tg?.median.toFixed(1)} tok/s, ` +
          `prefill ${pp?.median.toFixed(1)} tok/s resident; ` +
          `${((performance.now() - started) / 1000).toFixed(0)} s in all.`,
      );
      say(`results: ${out}`);
      say(`report:  ${report}  (open it in a browser)`);
      say(
        `next: moebench bench --model YOUR.gguf --suite tokens, or moebench publish ${out} ` +
          "--site site",
      );
    });
}
