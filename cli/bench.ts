/**
 * `moebench bench`: the benchmark suites. So far the `tokens` suite (pp and tg as llama-bench
 * measures them), with llama.cpp on the same file beside it (`--peer llama.cpp`).
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import Table from "cli-table3";
import { openGGUF } from "../engine/gguf/read.ts";
import { benchWithLlamaCpp } from "../peers/llama_cpp/bench.ts";
import {
  benchPrompt,
  benchTokens,
  type TokensOptions,
  type TokensRecord,
  tokensRecords,
} from "../suites/tokens.ts";
import { parseWholeNumber, printJson } from "./common.ts";
import { backendOption, loadModel, threadsOption } from "./engine_options.ts";

/** The `bench` command. */
export function benchCommand() {
  return new Command("bench")
    .description("run a benchmark suite (tokens: prefill and decode speed, llama-bench style)")
    .addOption(
      new Option("--suite <name>", "suite to run").choices(["tokens"] as const)
        .default("tokens" as const),
    )
    .requiredOption("--model <file>", "GGUF model")
    .option("--pp <n>", "prompt tokens of the prefill test", parseWholeNumber, 128)
    .option("--tg <n>", "tokens of the decode test", parseWholeNumber, 64)
    .option("--reps <n>", "timed repetitions (after one warm-up)", parseWholeNumber, 3)
    .addOption(new Option("--peer <engine>", "also time this engine on the same file")
      .choices(["llama.cpp"] as const))
    .addOption(backendOption())
    .addOption(threadsOption())
    .option("--json", "print the records as JSON")
    .action(async (options) => {
      const threads = options.threads ?? navigator.hardwareConcurrency;
      const tests: TokensOptions = {
        promptTokens: options.pp,
        genTokens: options.tg,
        repetitions: options.reps,
      };
      using gguf = await openGGUF(options.model);
      let ours: TokensRecord[];
      let vocabulary: number;
      {
        await using loaded = await loadModel(
          gguf,
          { backend: options.backend, ...(options.backend === "cpu" ? { threads } : {}) },
          Math.max(options.pp, options.tg),
        );
        vocabulary = loaded.model.config.vocabSize;
        ours = benchTokens(loaded.model, tests);
      }
      let peer: TokensRecord[] = [];
      if (options.peer === "llama.cpp") {
        const seconds = await benchWithLlamaCpp(options.model, {
          ...tests,
          threads,
          prompt: benchPrompt(options.pp, vocabulary),
        });
        peer = tokensRecords(tests, seconds);
      }
      const engine = `moebench ${options.backend}`;
      if (options.json) {
        printJson({
          model: options.model,
          threads,
          tests: ours.map((r) => ({ engine, ...r })),
          peers: peer.map((r) => ({ engine: "llama.cpp", ...r })),
        });
        return;
      }
      const table = new Table({ head: ["test", "engine", "threads", "tok/s", "vs llama.cpp"] });
      for (const [i, r] of ours.entries()) {
        const theirs = peer[i];
        table.push([
          r.test,
          engine,
          threads,
          `${r.tps.toFixed(1)} ± ${r.tpsStddev.toFixed(1)}`,
          theirs ? `${(r.tps / theirs.tps).toFixed(2)}×` : "",
        ]);
      }
      for (const r of peer) {
        table.push([
          r.test,
          "llama.cpp",
          threads,
          `${r.tps.toFixed(1)} ± ${r.tpsStddev.toFixed(1)}`,
          "",
        ]);
      }
      console.log(table.toString());
    });
}
