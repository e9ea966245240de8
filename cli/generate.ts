/**
 * `moebench generate`: continue a prompt, streaming the text.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import {
  backendOption,
  cachePolicyOption,
  coldOption,
  configOption,
  expertBudgetOption,
  expertSlotsOption,
  expertTierOption,
  gpuExpertsOption,
  gpuProfileOption,
  loadModel,
  numericsOption,
  placementTraceOption,
  prefetchDepthOption,
  prefetchKOption,
  prefetchOption,
  threadsOption,
  withEngineConfig,
} from "./engine_options.ts";
import { dropPageCache } from "../engine/offload/page_cache.ts";
import { openGGUF } from "../engine/gguf/read.ts";
import { generate } from "../engine/generate.ts";
import { Sampler } from "../engine/sample.ts";
import { loadTokenizer, type Tokenizer } from "../engine/tokenizer/tokenizer.ts";
import { peakResidentBytes, residentBytes } from "../util/memory.ts";
import { parseDecimal, parseWholeNumber, printJson, UsageError } from "./common.ts";
import { parseTokenList } from "./eval.ts";
import { GpuModel } from "../engine/backend/webgpu/model.ts";
import type { KernelTime } from "../engine/backend/webgpu/timing.ts";
import Table from "cli-table3";

/**
 * The prompt as `--prompt` (tokenized, BOS first unless `--no-bos`) or `--tokens` (BOS put in
 * front unless there or `--no-bos`) give it.
 */
export function promptTokens(
  options: { prompt?: string; tokens?: number[]; bos: boolean },
  tokenizer: Tokenizer,
): number[] {
  if ((options.prompt === undefined) === (options.tokens === undefined)) {
    throw new UsageError("give exactly one of --prompt and --tokens");
  }
  const prompt = options.tokens ? [...options.tokens] : tokenizer.encode(options.prompt!, {
    addBos: options.bos && tokenizer.addBos,
  });
  if (options.tokens && options.bos && tokenizer.bosId !== null && prompt[0] !== tokenizer.bosId) {
    prompt.unshift(tokenizer.bosId);
  }
  return prompt;
}

/** The `generate` command. */
export function generateCommand() {
  return new Command("generate")
    .description("continue a prompt (text or token ids), streaming the new text")
    .requiredOption("--model <file>", "GGUF model")
    .option("--prompt <text>", "prompt text (tokenized with the model's tokenizer)")
    .option("--tokens <ids>", "prompt as token ids, e.g. 1,415,2392", parseTokenList)
    .option("-n, --n-predict <count>", "tokens to generate", parseWholeNumber, 64)
    .option("--temp <t>", "temperature (0: greedy)", parseDecimal, 0)
    .option("--top-k <k>", "sample among the k most likely tokens (0: all)", parseWholeNumber, 40)
    .option("--top-p <p>", "sample among tokens with cumulative probability p", parseDecimal, 0.95)
    .option("--min-p <p>", "drop tokens below p × the best token's probability", parseDecimal, 0.05)
    .option("--repeat-penalty <f>", "penalise the last 64 tokens (1: off)", parseDecimal, 1)
    .option("--seed <s>", "random seed for sampling", parseWholeNumber, 0)
    .option("--no-bos", "do not start the prompt with BOS")
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(numericsOption())
    .addOption(expertBudgetOption())
    .addOption(expertSlotsOption())
    .addOption(cachePolicyOption())
    .addOption(prefetchOption())
    .addOption(prefetchDepthOption())
    .addOption(prefetchKOption())
    .addOption(expertTierOption())
    .addOption(gpuExpertsOption())
    .addOption(placementTraceOption())
    .addOption(gpuProfileOption())
    .addOption(coldOption())
    .addOption(configOption())
    .option("--json", 'print {"tokens":[…],"text":…,"stats":{…}} instead of streaming')
    .action(async (parsed, command) => {
      const options = await withEngineConfig(
        parsed,
        (name) => command.getOptionValueSource(name) === "cli",
      );
      const baselineBytes = residentBytes();
      using gguf = await openGGUF(options.model);
      const tokenizer = loadTokenizer(gguf);
      const prompt = promptTokens(options, tokenizer);
      const sampler = new Sampler({
        temperature: options.temp,
        topK: options.topK,
        topP: options.topP,
        minP: options.minP,
        repeatPenalty: options.repeatPenalty,
        seed: options.seed,
      });
      await using loaded = await loadModel(gguf, options, prompt.length + options.nPredict);
      const { model } = loaded;
      const cold = options.cold ? dropPageCache(gguf.path) : null;
      const stream = options.json ? undefined : (_token: number, text: string) => {
        Deno.stdout.writeSync(new TextEncoder().encode(text));
      };
      const result = await generate(model, tokenizer, prompt, {
        maxTokens: options.nPredict,
        sampler,
        ...(stream ? { onToken: stream } : {}),
      });
      const peak = peakResidentBytes();
      const offload = model.offload?.stats();
      const hybrid = model.hybrid?.stats();
      const kernels = model instanceof GpuModel ? await model.kernelTimes() : null;
      const modelBytes = gguf.tensors.reduce((sum, t) => sum + t.bytes, 0);
      const memory = {
        model_bytes: modelBytes,
        // what stays in memory: every tensor but the offloaded experts
        resident_bytes: modelBytes - (offload?.expert_bytes ?? 0),
        kv_cache_bytes: model.kvCacheBytes,
        baseline_rss_bytes: baselineBytes,
        // after the file's metadata, the tokenizer and the threads, before the weights
        engine_rss_bytes: loaded.engineRssBytes,
        peak_rss_bytes: peak,
      };
      const coldStats = cold &&
        (cold.dropped
          ? { dropped: true, cached_before: cold.cachedBefore, cached_after: cold.cachedAfter }
          : { dropped: false, reason: cold.reason });
      if (options.json) {
        const extra = {
          ...(offload ? { offload: { ...offload, cold: coldStats } } : {}),
          ...(hybrid ? { hybrid } : {}),
          ...(kernels ? { gpu_kernels: kernels } : {}),
        };
        const engine = {
          backend: loaded.backend,
          threads: loaded.threads,
          ...(loaded.gpu ? { gpu: loaded.gpu.description } : {}),
        };
        printJson({ ...result, stats: { ...result.stats, ...engine, memory, ...extra } });
        return;
      }
      const { stats } = result;
      if (cold && !cold.dropped) console.error(`moebench: not a cold run: ${cold.reason}`);
      console.log();
      console.error(
        `\n${stats.n_prompt} prompt tokens at ${stats.prefill_tps.toFixed(1)} tok/s, ` +
          `${stats.n_gen} generated at ${stats.decode_tps.toFixed(1)} tok/s, ` +
          `first token after ${stats.ttft_ms.toFixed(0)} ms`,
      );
      if (offload) {
        console.error(
          `experts: ${(offload.hit_rate * 100).toFixed(1)} % hits in ${offload.slots} slots ` +
            `(${(offload.budget_bytes / 2 ** 20).toFixed(0)} MiB, ${offload.policy}), ` +
            `${(offload.bytes_loaded / 2 ** 20).toFixed(0)} MiB loaded at ` +
            `${offload.load_gbps.toFixed(2)} GB/s, ${offload.stall_ms.toFixed(0)} ms stalled, ` +
            `prefetch recall ${(offload.prefetch_recall * 100).toFixed(0)} %`,
        );
      }
      if (kernels) console.error(kernelTable(kernels));
      if (hybrid) {
        console.error(
          `experts: ${hybrid.gpu_experts} on the GPU (${(hybrid.gpu_bytes / 2 ** 20).toFixed(0)} ` +
            `MiB), ${hybrid.cpu_experts} on the CPU; the GPU ran ` +
            `${(hybrid.gpu_share * 100).toFixed(1)} % of expert computations (the trace said ` +
            `${(hybrid.expected_gpu_share * 100).toFixed(1)} %), the CPU took ` +
            `${hybrid.cpu_ms.toFixed(0)} ms`,
        );
      }
    });
}

/** `--gpu-profile`'s table: each kernel's calls, time and share of the GPU's time. */
function kernelTable(kernels: readonly KernelTime[]): string {
  const total = kernels.reduce((sum, k) => sum + k.ms, 0);
  const table = new Table({
    head: ["kernel", "calls", "ms", "share"],
    colAligns: ["left", "right", "right", "right"],
    style: { head: [], border: [] },
  });
  for (const { kernel, calls, ms } of kernels) {
    table.push([kernel, calls, ms.toFixed(2), `${(100 * ms / total).toFixed(1)} %`]);
  }
  const clock = kernels[0]?.clock === "wall" ? "submission wall time" : "GPU timestamps";
  return `\nGPU time per kernel (${clock}):\n${table.toString()}`;
}
