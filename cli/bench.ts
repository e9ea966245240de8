/**
 * `moebench bench`: the benchmark suites. So far the `tokens` suite (pp and tg as llama-bench
 * measures them), with llama.cpp on the same file beside it (`--peer llama.cpp`). Decode reads
 * every active weight once per token, so each tg figure also says how many GB/s of weights it
 * read, beside the memory read bandwidth measured in the same run.
 * @module
 */
import { Command, Option } from "@commander-js/extra-typings";
import Table from "cli-table3";
import { measureReadBandwidth } from "../engine/backend/cpu/bandwidth.ts";
import { openGGUF } from "../engine/gguf/read.ts";
import { inspectModel } from "../engine/model/inspect.ts";
import { benchWithLlamaCpp } from "../peers/llama_cpp/bench.ts";
import {
  benchPrompt,
  benchTokens,
  type TokensOptions,
  type TokensRecord,
  tokensRecords,
} from "../suites/tokens.ts";
import { formatBytes, formatPercent } from "../util/format.ts";
import { parseWholeNumber, printJson } from "./common.ts";
import {
  backendOption,
  configOption,
  loadModel,
  threadsOption,
  withEngineConfig,
} from "./engine_options.ts";

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
    .addOption(configOption())
    .option("--json", "print the records as JSON")
    .action(async (parsed, command) => {
      const options = await withEngineConfig(
        parsed,
        (name) => command.getOptionValueSource(name) === "cli",
      );
      const threads = options.threads ?? navigator.hardwareConcurrency;
      const tests: TokensOptions = {
        promptTokens: options.pp,
        genTokens: options.tg,
        repetitions: options.reps,
      };
      using gguf = await openGGUF(options.model);
      const activeBytes = inspectModel(gguf).activeBytesPerToken;
      let ours: TokensRecord[];
      let vocabulary: number;
      let engine: string;
      let onGpu: boolean;
      {
        await using loaded = await loadModel(
          gguf,
          { ...options, ...(options.backend === "cpu" ? { threads } : {}) },
          Math.max(options.pp, options.tg),
        );
        vocabulary = loaded.model.config.vocabSize;
        onGpu = loaded.gpu !== null;
        engine = `moebench ${loaded.backend}` + (loaded.gpu ? ` (${loaded.gpu.description})` : "");
        ours = await benchTokens(loaded.model, tests);
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
      const read = await measureReadBandwidth(threads);
      /** GB/s of weights a tg record read (pp batches share their reads: none given). */
      const weightsRead = (r: TokensRecord) =>
        activeBytes !== null && r.test.startsWith("tg") ? (r.tps * activeBytes) / 1e9 : null;
      if (options.json) {
        const withReads = (engine: string) => (r: TokensRecord) => ({
          engine,
          ...r,
          weightsGBps: weightsRead(r),
        });
        printJson({
          model: options.model,
          threads,
          activeBytesPerToken: activeBytes,
          readBandwidthGBps: read.median,
          tests: ours.map(withReads(engine)),
          peers: peer.map(withReads("llama.cpp")),
        });
        return;
      }
      console.log(
        `${options.model}: a decode step reads ` +
          (activeBytes === null ? "an unknown number of bytes" : formatBytes(activeBytes)) +
          ` of weights; memory reads reach ${read.median.toFixed(1)} GB/s on ${threads} ` +
          `thread${threads > 1 ? "s" : ""}`,
      );
      const table = new Table({
        head: ["test", "engine", "threads", "tok/s", "vs llama.cpp", "weights read"],
      });
      const row = (r: TokensRecord, engine: string, ratio: string) => {
        const gbps = weightsRead(r);
        table.push([
          r.test,
          engine,
          threads,
          `${r.tps.toFixed(1)} ± ${r.tpsStddev.toFixed(1)}`,
          ratio,
          // the host's memory bandwidth bounds the CPU's reads, not the GPU's
          gbps === null
            ? ""
            : `${gbps.toFixed(1)} GB/s` + (onGpu && engine !== "llama.cpp"
              ? ""
              : ` (${formatPercent(gbps / read.median)} of memory reads)`),
        ]);
      };
      for (const [i, r] of ours.entries()) {
        const theirs = peer[i];
        row(r, engine, theirs ? `${(r.tps / theirs.tps).toFixed(2)}×` : "");
      }
      for (const r of peer) row(r, "llama.cpp", "");
      console.log(table.toString());
    });
}
