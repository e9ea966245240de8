/**
 * `moebench demo`: the main job on a built-in default, with nothing to download. For now it
 * synthesizes the tiny Mixtral-layout model and inspects it.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { join } from "node:path";
import { openGGUF } from "../engine/gguf/read.ts";
import { inspectModel } from "../engine/model/inspect.ts";
import { synthesize } from "../engine/synth/synth.ts";
import { printJson } from "./common.ts";
import { renderSummary } from "./inspect.ts";

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
      if (options.json) {
        printJson({ model: result, seconds, summary });
        return;
      }
      console.log(`synthesized tiny-mixtral (Q8_0) in ${seconds.toFixed(2)} s\n`);
      console.log(renderSummary(summary, false));
      console.log(`\nThe model is at ${out}; try: deno task moebench inspect ${out} --tensors`);
    });
}
