/**
 * `moebench trace`: generate greedily and record the routing of every token and MoE layer (and
 * the prefetch guesses) as a trace file for the cache simulator.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import {
  backendOption,
  cachePolicyOption,
  expertBudgetOption,
  expertSlotsOption,
  expertTierOption,
  loadModel,
  prefetchDepthOption,
  prefetchKOption,
  prefetchOption,
  threadsOption,
} from "./engine_options.ts";
import { promptTokens } from "./generate.ts";
import { parseTokenList } from "./eval.ts";
import { parseWholeNumber, printJson } from "./common.ts";
import { openGGUF } from "../engine/gguf/read.ts";
import { readConfig } from "../engine/model/config.ts";
import { generate } from "../engine/generate.ts";
import { Sampler } from "../engine/sample.ts";
import { loadTokenizer } from "../engine/tokenizer/tokenizer.ts";
import { ExpertStore } from "../engine/offload/store.ts";
import { traceHeader, TraceRecorder, writeTrace } from "../engine/offload/trace.ts";

/** The `trace` command. */
export function traceCommand() {
  return new Command("trace")
    .description("record each token's routing (and prefetch guesses) for the cache simulator")
    .requiredOption("--model <file>", "GGUF model")
    .option("--prompt <text>", "prompt text")
    .option("--tokens <ids>", "prompt as token ids, e.g. 1,415,2392", parseTokenList)
    .option("-n, --n-predict <count>", "tokens to generate (greedy)", parseWholeNumber, 64)
    .requiredOption("--out <file>", "trace file to write (JSON lines)")
    .option("--no-bos", "do not start the prompt with BOS")
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(expertBudgetOption())
    .addOption(expertSlotsOption())
    .addOption(cachePolicyOption())
    .addOption(prefetchOption())
    .addOption(prefetchDepthOption())
    .addOption(prefetchKOption())
    .addOption(expertTierOption())
    .option("--json", "print a summary as JSON")
    .action(async (options) => {
      using gguf = await openGGUF(options.model);
      const config = readConfig(gguf);
      const store = ExpertStore.fromGGUF(gguf, config);
      const tokenizer = loadTokenizer(gguf);
      const prompt = promptTokens(options, tokenizer);
      const guessing = options.prefetch === "on"
        ? { depth: options.prefetchDepth, experts: options.prefetchK ?? config.expertsUsed }
        : null;
      const recorder = new TraceRecorder(traceHeader(gguf.path, config, store, guessing));
      await using loaded = await loadModel(gguf, options, prompt.length + options.nPredict, {
        onRouting: recorder.record,
        ...(guessing ? { guessAhead: guessing } : {}),
      });
      const result = await generate(loaded.model, tokenizer, prompt, {
        maxTokens: options.nPredict,
        sampler: new Sampler(),
        stopAtEos: false,
      });
      const trace = recorder.trace([...prompt, ...result.tokens]);
      await writeTrace(options.out, trace);
      const offload = loaded.model.offload?.stats();
      const summary = {
        out: options.out,
        steps: trace.steps.length,
        tokens: trace.steps.reduce((sum, step) => sum + step.tokens.length, 0),
        ...(offload ? { offload } : {}),
      };
      if (options.json) {
        printJson(summary);
        return;
      }
      console.log(`wrote ${options.out}: ${summary.steps} steps, ${summary.tokens} tokens`);
      if (offload) {
        console.log(`engine: ${offload.hits} hits, ${offload.misses} misses (${offload.policy})`);
      }
    });
}
