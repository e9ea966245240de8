/**
 * `moebench demo`: the main job on a built-in default, with nothing to download: it synthesizes
 * the tiny Mixtral-layout model, inspects it, and profiles this machine quickly (with the model's
 * decode roofline).
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { join } from "node:path";
import { openGGUF } from "../engine/gguf/read.ts";
import { inspectModel } from "../engine/model/inspect.ts";
import { synthesize } from "../engine/synth/synth.ts";
import { printJson } from "./common.ts";
import { renderSummary } from "./inspect.ts";
import { renderProfile } from "./profile.ts";
import { profileMachine } from "../profiles/machine.ts";
import { decodeBytesOf } from "../profiles/probe/roofline.ts";
import { progressEnabled, stepProgress } from "../util/progress.ts";

/** The `demo` command. */
export function demoCommand() {
  return new Command("demo")
    .description("run the main job on the built-in default model (no download)")
    .option("--dir <folder>", "where to write the model (default: a new temporary folder)")
    .option("--json", "print the result as JSON")
    .action(async (options) => {
      const dir = options.dir ?? await Deno.makeTempDir({ prefix: "moebench-demo-" });
      await Deno.mkdir(dir, { recursive: true });
      const out = join(dir, "tiny-mixtral-q8_0.gguf");
      const started = performance.now();
      const result = await synthesize({ preset: "tiny-mixtral", out, type: "Q8_0", seed: 0 });
      const seconds = (performance.now() - started) / 1000;
      using gguf = await openGGUF(out);
      const summary = inspectModel(gguf);
      const progress = stepProgress("profile", progressEnabled(options.json === true));
      const machine = await profileMachine({
        folder: dir,
        quick: true,
        model: { path: out, ...decodeBytesOf(summary)! },
        onStep: (name, index, count) => {
          progress.step(name);
          progress.update(index, count);
        },
      }).finally(() => progress.stop());
      if (options.json) {
        printJson({ model: result, seconds, summary, machine });
        return;
      }
      console.log(`synthesized tiny-mixtral (Q8_0) in ${seconds.toFixed(2)} s\n`);
      console.log(renderSummary(summary, false));
      console.log(`\nthis machine (moebench profile --quick):\n${renderProfile(machine)}`);
      console.log(
        `\nThe model is at ${out}; try: deno task moebench tune --model ${out}, or ` +
          "deno task moebench profile (the full run)",
      );
    });
}
