/**
 * Results files: one JSON file per `moebench bench` run, validated by a zod schema when written
 * and when read. Besides the types, the schema checks what a type cannot: each record's mean,
 * stddev, median, min and max are those of its samples, the tasks named done have records, and
 * the headline score follows from the records — so a hand-edited figure is refused, not ranked.
 *
 * A run writes its file after every task (atomically: a temporary file renamed over it), with
 * `complete: false` until the last one; an interrupted run leaves the last good file, which
 * `bench --resume` continues.
 *
 * @example
 * ```ts ignore
 * import { readResults } from "./results.ts";
 * const results = await readResults("r.json");
 * for (const t of results.tests) console.log(t.test, t.median, t.unit);
 * ```
 * @module
 */
import { z } from "zod";
import { EngineSettings } from "../profiles/config.ts";
import { MachineSchema } from "../profiles/machine_schema.ts";
import { readJsonFile, writeJsonFile } from "../util/json_file.ts";
import { summarize } from "./stats.ts";
import { Conditions } from "./conditions.ts";

export const SUITE_NAMES = ["load", "cache", "tokens", "quality", "standard"] as const;
export type SuiteName = typeof SUITE_NAMES[number];

/** The units of records; `HIGHER_IS_BETTER` says which way is better. */
export const UNITS = ["tok/s", "GB/s", "ms", "hit rate", "share", "ppl", "nats"] as const;
export type Unit = typeof UNITS[number];
export const HIGHER_IS_BETTER: Readonly<Record<Unit, boolean>> = {
  "tok/s": true,
  "GB/s": true,
  "ms": false,
  "hit rate": true,
  "share": true,
  "ppl": false,
  "nats": false,
};

/** A detail beside a record's figures (percentiles, prefetch counters, the offload stats). */
const Detail = z.union([z.number(), z.string(), z.boolean(), z.null()]);

/** One test's figures, flat as llama-bench's records. */
export const TestRecord = z.object({
  /** The task that made it (what `--resume` skips). */
  task: z.string(),
  suite: z.enum(["load", "cache", "tokens", "quality"]),
  /** `pp256`, `tg64`, `ttft256`, `expert_load_cold`, `hit_rate`, `kl`, … */
  test: z.string().min(1),
  /** The model's spec id, or its file name. */
  model: z.string(),
  /** Its weights' type (`Q4_0`), as llama-bench's `model_type`. */
  type: z.string(),
  backend: z.string().nullable(),
  threads: z.number().int().nonnegative().nullable(),
  /** `resident`, `offload 50% lru`, `cold`, `warm`, … */
  config: z.string(),
  /** The expert cache's size, as bytes and as a share of the expert bytes (null: none). */
  budget_bytes: z.number().nonnegative().nullable(),
  budget_share: z.number().min(0).max(1).nullable(),
  policy: z.string().nullable(),
  unit: z.enum(UNITS),
  /** Every timed repetition (warm-ups dropped, counted in `warmup`). */
  samples: z.array(z.number().finite()).min(1),
  warmup: z.number().int().nonnegative(),
  mean: z.number(),
  stddev: z.number().nonnegative(),
  median: z.number(),
  min: z.number(),
  max: z.number(),
  details: z.record(z.string(), Detail),
  /** What else the machine did during each sample, in `samples`' order (absent: not measured). */
  conditions: z.array(Conditions).optional(),
}).strict().superRefine((record, context) => {
  if (record.samples.length === 0) return; // refused above; nothing to summarize
  if (record.conditions && record.conditions.length !== record.samples.length) {
    context.addIssue({
      code: "custom",
      path: ["conditions"],
      message: `${record.test} has ${record.samples.length} samples but conditions for ` +
        `${record.conditions.length}`,
    });
  }
  const expected = summarize(record.samples);
  for (const key of ["mean", "stddev", "median", "min", "max"] as const) {
    const [given, actual] = [record[key], expected[key]];
    if (Math.abs(given - actual) > 1e-9 * Math.max(1, Math.abs(actual))) {
      context.addIssue({
        code: "custom",
        path: [key],
        message: `${record.test}'s ${key} is ${given}, its samples give ${actual}`,
      });
    }
  }
});
export type TestRecord = z.infer<typeof TestRecord>;

/** A model a run measured. */
export const ModelRecord = z.object({
  id: z.string(),
  path: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** How it was generated (spec models), or null (the user's file). */
  synth: z.object({ preset: z.string(), type: z.string(), seed: z.number().int() }).strict()
    .nullable(),
}).strict();
export type ModelRecord = z.infer<typeof ModelRecord>;

/** The headline score, its parts and its formula. */
export const Score = z.object({
  value: z.number().nonnegative(),
  formula: z.string(),
  /** Each part: the record's median, the reference figure, and their ratio. */
  parts: z.array(
    z.object({
      test: z.string(),
      config: z.string(),
      backend: z.string(),
      median: z.number().nonnegative(),
      reference: z.number().positive(),
      ratio: z.number().nonnegative(),
    }).strict(),
  ),
}).strict();
export type Score = z.infer<typeof Score>;

/** The engine settings a run asked for (`auto` and `reference` backends included). */
export const RunConfig = EngineSettings.extend({
  backend: z.enum(["cpu", "webgpu", "auto", "reference"]),
});
export type RunConfig = z.infer<typeof RunConfig>;

/** A results file. */
export const ResultsFile = z.object({
  format: z.literal("moebench-results"),
  format_version: z.literal(1),
  /** The standard it follows (null: a run on the user's own model or options, never ranked). */
  spec: z.object({ name: z.string(), version: z.number().int().positive() }).strict().nullable(),
  moebench: z.object({ version: z.string(), commit: z.string().nullable() }).strict(),
  /** The runtime that ran it, and a hash of the engine config (absent in older files). */
  runtime: z.object({
    deno: z.string(),
    v8: z.string(),
    typescript: z.string(),
    config_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }).strict().optional(),
  timestamp: z.string().datetime(),
  suite: z.enum(SUITE_NAMES),
  /** Every task done; `complete` once all are (false: interrupted, `--resume` continues). */
  complete: z.boolean(),
  done: z.array(z.string()),
  /** The run's options, which a `--resume` must repeat. */
  options: z.record(z.string(), Detail),
  machine: MachineSchema,
  config: RunConfig,
  models: z.array(ModelRecord),
  tests: z.array(TestRecord),
  /** The same tests measured with llama.cpp (`--peer llama.cpp`). */
  peers: z.array(TestRecord),
  score: Score.nullable(),
}).strict().superRefine((results, context) => {
  const tasks = new Set([...results.tests, ...results.peers].map((record) => record.task));
  for (const task of tasks) {
    if (!results.done.includes(task)) {
      context.addIssue({
        code: "custom",
        path: ["done"],
        message: `records of task "${task}" but the task is not listed as done`,
      });
    }
  }
  for (const part of results.score?.parts ?? []) {
    const record = results.tests.find((t) =>
      t.test === part.test && t.config === part.config && (t.backend ?? "") === part.backend
    );
    if (!record || record.median !== part.median) {
      context.addIssue({
        code: "custom",
        path: ["score"],
        message: `the score's ${part.test} (${part.config}) is not the records' median`,
      });
    }
  }
});
export type ResultsFile = z.infer<typeof ResultsFile>;

/** A results file that is not one; the message names the file and the problem. */
export class ResultsError extends Error {
  override name = "ResultsError";
}

/** Reads and validates a results file. */
export function readResults(path: string): Promise<ResultsFile> {
  return readJsonFile(path, ResultsFile, "moebench results file", (m) => new ResultsError(m));
}

/** Validates and writes a results file atomically. */
export function writeResults(path: string, results: ResultsFile): Promise<void> {
  return writeJsonFile(path, ResultsFile, results);
}

/** The fields of a record that are not its figures. */
export type RecordLabels = Omit<
  TestRecord,
  "samples" | "warmup" | "mean" | "stddev" | "median" | "min" | "max" | "details" | "conditions"
>;

/** The labels a record must name; the rest default to null (none, or not applicable). */
export type RequiredLabels =
  & Pick<RecordLabels, "task" | "suite" | "test" | "model" | "type" | "config" | "unit">
  & Partial<RecordLabels>;

/** A record: `labels` (unnamed ones null), then `samples` and their summary. */
export function testRecord(
  given: RequiredLabels,
  samples: readonly number[],
  { warmup = 0, details = {}, conditions }: {
    warmup?: number;
    details?: TestRecord["details"];
    /** Each sample's conditions, in order. */
    conditions?: readonly Conditions[] | undefined;
  } = {},
): TestRecord {
  const labels: RecordLabels = {
    backend: null,
    threads: null,
    budget_bytes: null,
    budget_share: null,
    policy: null,
    ...given,
  };
  const record = { ...labels, samples: [...samples], warmup, ...summarize(samples), details };
  return conditions ? { ...record, conditions: [...conditions] } : record;
}
