/**
 * The `quality` suite: what quantization (and, later, pruning) costs. Each model's perplexity on
 * a text (chunked as llama-perplexity does), and for each variant of a reference model (the F16
 * one of the same preset, or the user's): the KL divergence of its next-token distribution from
 * the reference's, and how often both pick the same top token — llama-perplexity's
 * `--kl-divergence` figures. Samples are per chunk.
 *
 * @example
 * ```ts ignore
 * import { qualityTasks } from "./quality.ts";
 * const tasks = qualityTasks({ reference, variants: [q8, q4] }, text, STANDARD.quality, engine);
 * ```
 * @module
 */
import { openGGUF } from "../engine/gguf/read.ts";
import { forEachScored, logSoftmax } from "../engine/perplexity.ts";
import { loadTokenizer } from "../engine/tokenizer/tokenizer.ts";
import { argmax } from "../engine/sample.ts";
import { type EngineOptions, loadModel } from "../cli/engine_options.ts";
import { type TestRecord, testRecord } from "./results.ts";
import { percentile } from "./stats.ts";
import { formatBytes } from "../util/format.ts";
import type { BenchModel, Task } from "./task.ts";

/** How the text is cut. */
export interface QualityOptions {
  readonly ctx: number;
  readonly chunks: number;
}

/** The models compared: variants against a reference (none: perplexity only). */
export interface QualityModels {
  readonly reference: BenchModel | null;
  readonly variants: readonly BenchModel[];
}

/** Log-probabilities of every scored position, per chunk, and the targets. */
interface Scored {
  readonly logProbs: Float32Array[][];
  readonly targets: number[][];
  readonly backend: string;
  readonly threads: number;
}

/** Runs `model` over `text`, keeping the log-softmax of every scored position. */
async function scoreText(
  model: BenchModel,
  text: readonly number[],
  options: QualityOptions,
  engine: EngineOptions,
): Promise<Scored> {
  using gguf = await openGGUF(model.path);
  const tokenizer = loadTokenizer(gguf);
  await using loaded = await loadModel(gguf, engine, options.ctx);
  const scored: Scored = {
    logProbs: [[]],
    targets: [[]],
    backend: loaded.backend,
    threads: loaded.threads,
  };
  await forEachScored(loaded.model, text, {
    ctx: options.ctx,
    maxChunks: options.chunks,
    bosId: tokenizer.addBos ? tokenizer.bosId : null,
  }, {
    visit(target, logits) {
      scored.logProbs.at(-1)!.push(logSoftmax(logits));
      scored.targets.at(-1)!.push(target);
    },
    endChunk(chunk, chunkCount) {
      if (chunk + 1 < chunkCount) {
        scored.logProbs.push([]);
        scored.targets.push([]);
      }
    },
  });
  return scored;
}

/** Perplexity of each chunk. */
function chunkPerplexities(scored: Scored): number[] {
  return scored.logProbs.map((chunk, c) => {
    const nll = chunk.reduce((sum, logProbs, i) => sum - logProbs[scored.targets[c]![i]!]!, 0);
    return Math.exp(nll / chunk.length);
  });
}

/** KL(reference ‖ variant) in nats at one position. */
function klDivergence(reference: Float32Array, variant: Float32Array): number {
  let kl = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = Math.exp(reference[i]!);
    if (p > 0) kl += p * (reference[i]! - variant[i]!);
  }
  return Math.max(0, kl);
}

/**
 * The suite's tasks: the reference's perplexity, then each variant's perplexity, KL divergence
 * and top-token agreement against it (the reference scored once, when first needed).
 */
export function qualityTasks(
  models: QualityModels,
  text: readonly number[],
  options: QualityOptions,
  engine: EngineOptions,
): Task[] {
  let reference: Promise<Scored> | null = null;
  const referenceScores = () => reference ??= scoreText(models.reference!, text, options, engine);
  const task = (model: BenchModel, against: BenchModel | null): Task => {
    const id = `quality/${model.id}` + (against ? `/vs-${against.id}` : "");
    return {
      id,
      label: `quality: ${model.id}` + (against ? ` against ${against.id}` : ""),
      run: async () => {
        const scored = model === models.reference
          ? await referenceScores()
          : await scoreText(model, text, options, engine);
        const labels = {
          task: id,
          suite: "quality" as const,
          model: model.id,
          type: model.type,
          backend: scored.backend,
          threads: scored.threads,
          // the size beside the comparison: quality is read against bytes (the Moxin comparison)
          config: `${formatBytes(model.bytes)} ` + (against ? `vs ${against.id}` : "alone"),
        };
        const details = { ctx: options.ctx, tokens_scored: scored.targets.flat().length };
        const tests: TestRecord[] = [
          testRecord({ ...labels, test: "ppl", unit: "ppl" }, chunkPerplexities(scored), {
            details: { ...details, model_bytes: model.bytes },
          }),
        ];
        if (against && model !== models.reference) {
          tests.push(...comparison(labels, await referenceScores(), scored, model, details));
        }
        return { tests, peers: [] };
      },
    };
  };
  const tasks: Task[] = [];
  if (models.reference) tasks.push(task(models.reference, null));
  for (const variant of models.variants) tasks.push(task(variant, models.reference));
  return tasks;
}

/** KL divergence (nats, mean per chunk) and top-1 agreement (share per chunk) of `variant`. */
function comparison(
  labels: Omit<Parameters<typeof testRecord>[0], "test" | "unit">,
  reference: Scored,
  variant: Scored,
  model: BenchModel,
  details: TestRecord["details"],
): TestRecord[] {
  const perToken: number[] = [];
  const kl: number[] = [];
  const sameTop: number[] = [];
  for (const [c, chunk] of reference.logProbs.entries()) {
    let klSum = 0;
    let same = 0;
    for (const [i, logProbs] of chunk.entries()) {
      const theirs = variant.logProbs[c]![i]!;
      const value = klDivergence(logProbs, theirs);
      perToken.push(value);
      klSum += value;
      if (argmax(logProbs) === argmax(theirs)) same++;
    }
    kl.push(klSum / chunk.length);
    sameTop.push(same / chunk.length);
  }
  const more = { ...details, model_bytes: model.bytes };
  return [
    testRecord({ ...labels, test: "kl", unit: "nats" }, kl, {
      details: { ...more, kl_p99: percentile(perToken, 0.99), kl_max: Math.max(...perToken) },
    }),
    testRecord({ ...labels, test: "top1_agreement", unit: "share" }, sameTop, { details: more }),
  ];
}
