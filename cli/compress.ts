/**
 * `moebench compress`: make a MoE model fit a byte budget. So far the pruning stage of
 * Collaborative Compression: experts ranked by importance (I = α·Freq + (1−α)·Score) from a
 * routing trace on calibration tokens, the least important removed from every layer, the router's
 * top-k scaled with the experts kept; a plan first, then the GGUF file (atomically).
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import Table from "cli-table3";
import { expertImportance } from "../engine/compress/importance.ts";
import { type PrunePlan, prunePlan, writePruned } from "../engine/compress/prune.ts";
import { openGGUF } from "../engine/gguf/read.ts";
import { readConfig } from "../engine/model/config.ts";
import { ExpertStore } from "../engine/offload/store.ts";
import { readTrace, type Trace, traceHeader, TraceRecorder } from "../engine/offload/trace.ts";
import { loadTokenizer } from "../engine/tokenizer/tokenizer.ts";
import type { GGUFFile } from "../engine/gguf/read.ts";
import { specText } from "../suites/spec.ts";
import { formatBytes } from "../util/format.ts";
import { byteProgress, progressEnabled } from "../util/progress.ts";
import { parseDecimal, parseSize, printJson, UsageError } from "./common.ts";
import { loadModel } from "./engine_options.ts";

/** Calibration tokens when none are given: the standard's fixed sequence. */
const DEFAULT_CALIBRATION_TOKENS = 512;
/** Tokens per prefill while calibrating. */
const CALIBRATION_CHUNK = 128;

/** The `compress` command. */
export function compressCommand() {
  return new Command("compress")
    .description("prune a MoE model's least important experts to fit a budget (GGUF out)")
    .argument("<model>", "GGUF model to compress")
    .option("--out <file>", "GGUF file to write")
    .option("--budget <size>", "the largest file wanted (2GiB, 900MB)", (v) => parseSize(v))
    .option("--prune-ratio <r>", "share of each layer's experts to remove", parseDecimal)
    .option("--calib <trace>", "routing trace of this model from `moebench trace`")
    .option("--calib-text <file>", "UTF-8 text whose routing ranks the experts")
    .option(
      "--alpha <a>",
      "weight of frequency against routing score in importance",
      parseDecimal,
      0.5,
    )
    .option("--dry-run", "print the plan only")
    .option("--json", "print the plan as JSON")
    .action(async (model, options) => {
      if (!options.dryRun && !options.out) throw new UsageError("give --out (or --dry-run)");
      if (options.calib && options.calibText) {
        throw new UsageError("give --calib or --calib-text, not both");
      }
      using gguf = await openGGUF(model);
      const trace = await calibration(gguf, options);
      const layers = expertImportance(trace, options.alpha);
      const budget = options.budget && "bytes" in options.budget ? options.budget.bytes : null;
      const plan = options.pruneRatio !== undefined
        ? prunePlan(gguf, layers, options.pruneRatio)
        : budget !== null
        ? planForBudget(gguf, layers, budget)
        : (() => {
          throw new UsageError("give --budget or --prune-ratio");
        })();
      if (budget !== null && plan.bytesAfter > budget) {
        throw new UsageError(
          `${model}: pruned to ${formatBytes(plan.bytesAfter)}, still over the ` +
            `${formatBytes(budget)} budget (mixed precision is not built yet)`,
        );
      }
      const summary = {
        model,
        out: options.out ?? null,
        experts: plan.experts,
        kept: plan.kept,
        expert_used_count: plan.expertsUsed,
        kept_used_count: plan.keptUsed,
        bytes_before: plan.bytesBefore,
        bytes_after: plan.bytesAfter,
        calibration_tokens: layers[0]?.tokens ?? 0,
        layers: layers.map((l) => ({
          layer: l.layer,
          kept: plan.keep.get(l.layer) ?? [],
          importance: [...l.importance].map((x) => +x.toFixed(4)),
        })),
        written: null as number | null,
      };
      if (!options.json) console.log(renderPlan(plan, layers.map((l) => l.importance)));
      if (!options.dryRun) {
        const progress = byteProgress("compress", progressEnabled(options.json === true));
        summary.written = await writePruned(
          gguf,
          plan,
          options.out!,
          (done, total) => progress.update(done, total),
        ).finally(() => progress.stop());
        if (!options.json) console.log(`wrote ${options.out}: ${formatBytes(summary.written)}`);
      }
      if (options.json) printJson(summary);
    });
}

/** The routing that ranks the experts: a given trace, or one recorded on text or tokens. */
async function calibration(
  gguf: GGUFFile,
  options: { calib?: string; calibText?: string },
): Promise<Trace> {
  const config = readConfig(gguf);
  if (options.calib) {
    const trace = await readTrace(options.calib);
    const { experts, layers } = trace.header;
    if (experts !== config.experts || layers !== config.layers) {
      throw new UsageError(
        `${options.calib}: a trace of ${layers} layers × ${experts} experts, but ${gguf.path} ` +
          `has ${config.layers} × ${config.experts}`,
      );
    }
    return trace;
  }
  let tokens: number[];
  if (options.calibText) {
    const text = await Deno.readTextFile(options.calibText).catch((error) => {
      throw new UsageError(`Cannot read "${options.calibText}": ${error.message}`);
    });
    tokens = loadTokenizer(gguf).encode(text);
  } else {
    tokens = specText(DEFAULT_CALIBRATION_TOKENS, config.vocabSize, 11);
  }
  if (tokens.length < 16) throw new UsageError(`calibration needs at least 16 tokens`);
  const recorder = new TraceRecorder(
    traceHeader(gguf.path, config, ExpertStore.fromGGUF(gguf, config), null),
  );
  await using loaded = await loadModel(gguf, { backend: "cpu" }, CALIBRATION_CHUNK, {
    onRouting: recorder.record,
  });
  // chunks from position 0, as perplexity runs: the routing of every token in some context
  for (let at = 0; at < tokens.length; at += CALIBRATION_CHUNK) {
    await loaded.model.prefill(tokens.slice(at, at + CALIBRATION_CHUNK), 0, false);
  }
  return recorder.trace(tokens);
}

/** The least pruning whose file fits `budget`. */
function planForBudget(
  gguf: GGUFFile,
  layers: ReturnType<typeof expertImportance>,
  budget: number,
): PrunePlan {
  const experts = readConfig(gguf).experts;
  let plan = prunePlan(gguf, layers, 0);
  for (let removed = 1; plan.bytesAfter > budget && removed < experts - 1; removed++) {
    plan = prunePlan(gguf, layers, removed / experts);
  }
  return plan;
}

/** The plan as people read it. */
function renderPlan(plan: PrunePlan, importance: Float64Array[]): string {
  const table = new Table({ head: ["layer", "experts kept", "experts pruned (importance)"] });
  for (const [i, [layer, kept]] of [...plan.keep.entries()].entries()) {
    const pruned = [...Array(plan.experts).keys()].filter((e) => !kept.includes(e));
    table.push([
      layer,
      kept.length,
      pruned.map((e) => `${e} (${importance[i]![e]!.toFixed(3)})`).join(", ") || "none",
    ]);
  }
  return `${table.toString()}\n` +
    `experts per layer ${plan.experts} → ${plan.kept}; top-k ${plan.expertsUsed} → ` +
    `${plan.keptUsed}; ${formatBytes(plan.bytesBefore)} → ${formatBytes(plan.bytesAfter)}`;
}
