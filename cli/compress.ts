/**
 * `moebench compress`: make a MoE model fit a byte budget, after Collaborative Compression: experts
 * ranked by importance (I = α·Freq + (1−α)·Score) from a routing trace on calibration tokens, the
 * least important removed from every layer and the router's top-k scaled with the experts kept;
 * each matrix's type chosen by sensitivity under the budget (HQQ for the affine types), pruning
 * more only where mixed precision alone cannot fit; a plan first, then the GGUF file (atomically).
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import Table from "cli-table3";
import { expertImportance, type LayerImportance } from "../engine/compress/importance.ts";
import {
  allocateTypes,
  type Allocation,
  candidatesFor,
  type LadderType,
  roleOf,
  type Sensitivity,
  tensorSensitivity,
  TYPE_LADDER,
} from "../engine/compress/mixed.ts";
import {
  prunedBytes,
  type PrunePlan,
  prunePlan,
  writeCompressed,
} from "../engine/compress/prune.ts";
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
    .description("fit a MoE model to a byte budget: prune experts, mixed precision, HQQ (GGUF out)")
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
      if (budget === null && options.pruneRatio === undefined) {
        throw new UsageError("give --budget or --prune-ratio");
      }
      const { plan, allocation, measured } = budget === null
        ? { plan: prunePlan(gguf, layers, options.pruneRatio!), allocation: null, measured: [] }
        : await fitBudget(gguf, layers, budget, options.pruneRatio);
      const tensors = allocation ? tensorChoices(measured, allocation) : [];
      const types = allocation?.types ?? new Map<string, string>();
      const summary = {
        model,
        out: options.out ?? null,
        budget,
        experts: plan.experts,
        kept: plan.kept,
        expert_used_count: plan.expertsUsed,
        kept_used_count: plan.keptUsed,
        bytes_before: plan.bytesBefore,
        bytes_after: allocation ? allocation.total : plan.bytesAfter,
        calibration_tokens: layers[0]?.tokens ?? 0,
        types: Object.fromEntries(types),
        tensors,
        layers: layers.map((l) => ({
          layer: l.layer,
          kept: plan.keep.get(l.layer) ?? [],
          importance: [...l.importance].map((x) => +x.toFixed(4)),
        })),
        written: null as number | null,
      };
      if (!options.json) {
        console.log(renderPlan(plan, layers.map((l) => l.importance)));
        if (allocation) console.log(renderTypes(gguf, allocation, tensors, summary.bytes_after));
      }
      if (!options.dryRun) {
        const progress = byteProgress("compress", progressEnabled(options.json === true));
        summary.written = await writeCompressed(
          gguf,
          plan,
          types,
          options.out!,
          (done, total) => progress.update(done, total),
        ).finally(() => progress.stop());
        if (budget !== null && summary.written > budget) {
          await Deno.remove(options.out!);
          throw new Error(`wrote ${summary.written} bytes, over the ${budget} planned: removed`);
        }
        if (!options.json) console.log(`wrote ${options.out}: ${formatBytes(summary.written)}`);
      }
      if (options.json) printJson(summary);
    });
}

/** A plan and types within the budget: mixed precision, then pruning more where that is short. */
async function fitBudget(
  gguf: GGUFFile,
  layers: LayerImportance[],
  budget: number,
  pruneRatio: number | undefined,
): Promise<{
  plan: PrunePlan;
  allocation: Allocation & { total: number };
  measured: Sensitivity[];
}> {
  const experts = readConfig(gguf).experts;
  const measured = await tensorSensitivity(gguf); // once: pruning changes sizes, not errors
  for (let removed = 0;; removed++) {
    const plan = prunePlan(gguf, layers, pruneRatio ?? removed / experts);
    const candidates = candidatesFor(measured, plan.keptUsed / plan.kept, plan.kept / plan.experts);
    // what the allocator does not choose: the rest of the tensors, and the header and padding
    const chosen = new Set(candidates.map((c) => c.name));
    const fixed = gguf.tensors.filter((t) => !chosen.has(t.name))
      .reduce((sum, t) => sum + prunedBytes(t, plan.experts, plan.kept), 0);
    const overhead = gguf.dataOffset + gguf.tensors.length * gguf.alignment;
    const allocation = allocateTypes(candidates, budget - fixed - overhead);
    if (allocation) {
      const total = allocation.bytes + fixed + overhead;
      return { plan, allocation: { ...allocation, total }, measured };
    }
    if (pruneRatio !== undefined || plan.kept <= Math.max(2, plan.keptUsed)) {
      const lowest = candidates.reduce((sum, c) => sum + c.bytes[0]!, 0) + fixed + overhead;
      throw new UsageError(
        `${gguf.path}: ${formatBytes(lowest)} at ${plan.kept} experts per layer with every ` +
          `matrix at its leanest type (${TYPE_LADDER[0]} where rows allow), still over the ` +
          `${formatBytes(budget)} budget`,
      );
    }
  }
}

/** One matrix's chosen type and the sampled error it leaves (and ggml's, where HQQ wrote it). */
interface TensorChoice {
  name: string;
  role: string;
  type: string;
  relative_error: number;
  /** ggml's round-to-nearest error at the same type, where HQQ encodes it; else null. */
  round_to_nearest_error: number | null;
}

function tensorChoices(measured: readonly Sensitivity[], allocation: Allocation): TensorChoice[] {
  return measured.map((m) => {
    const type = allocation.types.get(m.name)!;
    const rung = m.types.indexOf(type as LadderType);
    return {
      name: m.name,
      role: roleOf(m.name, 0).role,
      type,
      relative_error: m.relativeError[rung]!,
      round_to_nearest_error: m.roundToNearestError[rung]!,
    };
  });
}

/** The chosen type of every matrix, with the error it leaves; HQQ's against round-to-nearest. */
function renderTypes(
  gguf: GGUFFile,
  allocation: Allocation,
  tensors: readonly TensorChoice[],
  total: number,
): string {
  const table = new Table({
    head: ["tensor", "role", "type", "rel. error", "HQQ vs round-to-nearest"],
  });
  for (const t of tensors) {
    const rtn = t.round_to_nearest_error;
    table.push([
      t.name,
      t.role,
      t.type,
      t.relative_error.toExponential(2),
      rtn === null ? "" : `${rtn.toExponential(2)} → ${percentChange(rtn, t.relative_error)}`,
    ]);
  }
  const before = gguf.tensors.filter((t) => allocation.types.has(t.name))
    .map((t) => t.typeName);
  return `${table.toString()}
mixed precision: was ${[...new Set(before)].join("/")}; ` +
    `file ≈ ${formatBytes(total)}`;
}

/** `to` against `from` as a signed percentage ("−7.4 %"). */
function percentChange(from: number, to: number): string {
  if (from === 0) return "0 %";
  const change = (to / from - 1) * 100;
  return `${change < 0 ? "−" : "+"}${Math.abs(change).toFixed(1)} %`;
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
