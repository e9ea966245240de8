/**
 * `moebench tune`: the hardware profile's starting config for a model, refined by a short
 * measured sweep of decode speed, written as a config file that `generate` and `bench` take
 * with `--config`.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import Table from "cli-table3";
import { openGGUF } from "../engine/gguf/read.ts";
import { inspectModel } from "../engine/model/inspect.ts";
import { decodeRate } from "../suites/tokens.ts";
import {
  type EngineConfigFile,
  type EngineSettings,
  writeEngineConfig,
} from "../profiles/config.ts";
import { detectHardware } from "../profiles/detect.ts";
import { chooseProfile } from "../profiles/profile.ts";
import { PROFILES } from "../profiles/profiles.ts";
import { startingSettings, tune, untunedDefaults } from "../profiles/tune.ts";
import { VERSION } from "../version.ts";
import { parseSize, parseWholeNumber, printJson } from "./common.ts";
import { loadModel, settingsOptions } from "./engine_options.ts";

/** The `tune` command. */
export function tuneCommand() {
  return new Command("tune")
    .description("find a fast engine config for a model on this machine (writes --config files)")
    .requiredOption("--model <file>", "GGUF model")
    .option(
      "--budget <size>",
      "memory the weights may fill (default: the hardware profile's share of RAM or VRAM)",
      (value) => parseSize(value),
    )
    .option("--out <file>", "config file to write", "moebench.config.json")
    .option("--tokens <n>", "decode tokens per timed run", parseWholeNumber, 32)
    .option("--reps <n>", "timed runs per candidate (after one warm-up)", parseWholeNumber, 2)
    .option("--json", "print the config file's contents as JSON")
    .action(async (options) => {
      const folder = options.model.includes("/")
        ? options.model.slice(0, options.model.lastIndexOf("/")) || "/"
        : ".";
      const hardware = await detectHardware(folder);
      const choice = chooseProfile(hardware, PROFILES);
      using gguf = await openGGUF(options.model);
      const summary = inspectModel(gguf);
      const budget = options.budget && "bytes" in options.budget ? options.budget.bytes : null;
      const start = startingSettings(choice, hardware, summary, budget);
      const defaults = untunedDefaults(start, hardware);
      const say = (line: string) => {
        if (!options.json) console.error(line);
      };
      start.why.forEach((line) => say(`start: ${line}`));
      const measure = async (engine: EngineSettings, change: string) => {
        await using loaded = await loadModel(gguf, settingsOptions(engine), 8 + options.tokens);
        const tps = (await decodeRate(loaded.model, options.tokens, options.reps)).median;
        say(`  ${change}: ${tps.toFixed(1)} tok/s`);
        return tps;
      };
      const result = await tune(start.engine, defaults, {
        hardware,
        topK: summary.experts?.used ?? null,
        experts: summary.experts?.count ?? null,
      }, measure);
      const config: EngineConfigFile = {
        moebench_config: 1,
        moebench: VERSION,
        timestamp: new Date().toISOString(),
        profile: choice.profile.name,
        profile_reason: choice.reason,
        model: { path: options.model, bytes: summary.file.bytes },
        budget: start.budget,
        engine: result.engine,
        tuning: {
          start: [...start.why],
          default_decode_tps: result.defaultTps,
          tuned_decode_tps: result.tunedTps,
          verdict: result.verdict,
          candidates: [...result.candidates],
        },
      };
      await writeEngineConfig(options.out, config);
      if (options.json) {
        printJson(config);
        return;
      }
      const table = new Table({ head: ["setting", "untuned default", "tuned"] });
      for (const key of Object.keys(result.engine) as (keyof EngineSettings)[]) {
        table.push([
          key,
          String(defaults[key] ?? "default"),
          String(result.engine[key] ?? "default"),
        ]);
      }
      console.log(table.toString());
      console.log(
        `decode: ${result.defaultTps.toFixed(1)} tok/s untuned, ${result.tunedTps.toFixed(1)} ` +
          `tok/s tuned — ${result.verdict}`,
      );
      console.log(`wrote ${options.out} (use: moebench generate --config ${options.out} …)`);
    });
}
