/**
 * llama-bench compatibility, both ways. `toLlamaBench` turns a results file's resident prefill
 * and decode records (`pp<N>`, `tg<M>`, the tests llama-bench has) into llama-bench's rows, with
 * its field names, so that scripts written for `llama-bench -o json|jsonl|sql` read moebench's
 * runs unchanged; `importLlamaBench` turns llama-bench's JSON (or JSONL) output into a moebench
 * results file that reports show beside moebench's runs. Fields llama-bench has and moebench does
 * not (batch sizes, KV types, mmap…) get llama-bench's defaults, and the import keeps what it
 * cannot map in each record's details.
 *
 * @example
 * ```ts ignore
 * import { llamaBenchText, toLlamaBench } from "./llama_bench.ts";
 * console.log(llamaBenchText(toLlamaBench(await readResults("r.json")), "json"));
 * ```
 * @module
 */
import { z } from "zod";
import type { MachineProfile } from "../profiles/machine.ts";
import { summarize } from "./stats.ts";
import { parseTokensTestName, tokensTestName } from "./test_names.ts";
import { type ModelRecord, type ResultsFile, type TestRecord, testRecord } from "./results.ts";

/** One llama-bench result row (its JSON keys, in its order). */
export const LlamaBenchRow = z.object({
  build_commit: z.string(),
  build_number: z.number(),
  cpu_info: z.string(),
  gpu_info: z.string(),
  backends: z.string(),
  model_filename: z.string(),
  model_type: z.string(),
  model_size: z.number(),
  model_n_params: z.number(),
  n_batch: z.number(),
  n_ubatch: z.number(),
  n_threads: z.number(),
  cpu_mask: z.string(),
  cpu_strict: z.boolean(),
  poll: z.number(),
  type_k: z.string(),
  type_v: z.string(),
  n_gpu_layers: z.number(),
  split_mode: z.string(),
  main_gpu: z.number(),
  no_kv_offload: z.boolean(),
  flash_attn: z.union([z.boolean(), z.number(), z.string()]),
  tensor_split: z.string(),
  use_mmap: z.boolean(),
  embeddings: z.boolean(),
  n_prompt: z.number().int().nonnegative(),
  n_gen: z.number().int().nonnegative(),
  n_depth: z.number().int().nonnegative().default(0),
  test_time: z.string(),
  avg_ns: z.number(),
  stddev_ns: z.number(),
  avg_ts: z.number(),
  stddev_ts: z.number(),
  samples_ns: z.array(z.number()),
  samples_ts: z.array(z.number().positive()).min(1),
}).passthrough();
export type LlamaBenchRow = z.infer<typeof LlamaBenchRow>;

/** The output formats llama-bench has that moebench writes too. */
export const LLAMA_BENCH_FORMATS = ["json", "jsonl", "sql"] as const;
export type LlamaBenchFormat = typeof LLAMA_BENCH_FORMATS[number];

/** llama-bench's (n − 1) standard deviation. */
const stddev = (values: readonly number[]) => summarize(values).stddev;
const mean = (values: readonly number[]) => summarize(values).mean;

/** The resident pp and tg records of `results` as llama-bench rows. */
export function toLlamaBench(results: ResultsFile): LlamaBenchRow[] {
  const { hardware } = results.machine;
  return results.tests.flatMap((record) => {
    const tokens = parseTokensTestName(record.test);
    if (!tokens || record.suite !== "tokens" || record.config !== "resident") return [];
    const model = results.models.find((m) => m.id === record.model);
    const n = tokens.prompt + tokens.gen;
    const samplesNs = record.samples.map((ts) => Math.round((n / ts) * 1e9));
    const row: LlamaBenchRow = {
      build_commit: `moebench-${results.moebench.commit ?? results.moebench.version}`,
      build_number: 0,
      cpu_info: hardware.cpu.model.value ?? "",
      gpu_info: record.backend === "webgpu" ? hardware.gpu?.description.value ?? "" : "",
      backends: record.backend === "webgpu" ? "WebGPU" : "CPU",
      model_filename: model?.path ?? record.model,
      model_type: `${record.model} ${record.type}`,
      model_size: model?.bytes ?? 0,
      model_n_params: 0,
      n_batch: 2048,
      n_ubatch: 512,
      n_threads: record.threads ?? 0,
      cpu_mask: "0x0",
      cpu_strict: false,
      poll: 50,
      type_k: "f16",
      type_v: "f16",
      n_gpu_layers: record.backend === "webgpu" ? 99 : 0,
      split_mode: "layer",
      main_gpu: 0,
      no_kv_offload: false,
      flash_attn: false,
      tensor_split: "0.00",
      use_mmap: true,
      embeddings: false,
      n_prompt: tokens.prompt,
      n_gen: tokens.gen,
      n_depth: tokens.depth,
      test_time: results.timestamp.replace(/\.\d+Z$/, "Z"),
      avg_ns: Math.round(mean(samplesNs)),
      stddev_ns: Math.round(stddev(samplesNs)),
      avg_ts: mean(record.samples),
      stddev_ts: stddev(record.samples),
      samples_ns: samplesNs,
      samples_ts: [...record.samples],
    };
    return [row];
  });
}

/** The columns of llama-bench's SQL table (all but the sample lists), and their SQL types. */
const SQL_COLUMNS = Object.keys(LlamaBenchRow.shape).filter((key) => !key.startsWith("samples_"));
const sqlType = (key: string) =>
  ["avg_ts", "stddev_ts"].includes(key)
    ? "REAL"
    // flash_attn: a boolean in llama-bench's table, a string ("auto") in newer JSON
    : key !== "flash_attn" &&
        (LlamaBenchRow.shape as Record<string, z.ZodType>)[key]!.safeParse("").success
    ? "TEXT"
    : "INTEGER";

/** Rows as llama-bench prints them with `-o json`, `-o jsonl` or `-o sql`. */
export function llamaBenchText(rows: readonly LlamaBenchRow[], format: LlamaBenchFormat): string {
  if (format === "json") return JSON.stringify(rows, null, 2);
  if (format === "jsonl") return rows.map((row) => JSON.stringify(row)).join("\n");
  const quote = (value: unknown) =>
    `'${String(typeof value === "boolean" ? Number(value) : value).replaceAll("'", "''")}'`;
  return [
    `CREATE TABLE IF NOT EXISTS test (\n${
      SQL_COLUMNS.map((key) => `  ${key} ${sqlType(key)}`).join(",\n")
    }\n);`,
    "",
    ...rows.map((row) =>
      `INSERT INTO test (${SQL_COLUMNS.join(", ")}) VALUES (${
        SQL_COLUMNS.map((key) => quote(row[key as keyof LlamaBenchRow])).join(", ")
      });`
    ),
  ].join("\n");
}

/** llama-bench's `-o json` (an array) or `-o jsonl` (a row per line) output, checked. */
export function parseLlamaBench(text: string, file: string): LlamaBenchRow[] {
  let raw: unknown;
  try {
    raw = text.trimStart().startsWith("[")
      ? JSON.parse(text)
      : text.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line));
  } catch (error) {
    throw new RangeError(`${file}: not llama-bench JSON or JSONL (${(error as Error).message})`);
  }
  const parsed = z.array(
    LlamaBenchRow.refine((row) => row.n_prompt + row.n_gen > 0, {
      message: "a test with neither prompt nor generated tokens",
      path: ["n_prompt"],
    }),
  ).min(1).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RangeError(
      `${file}: not llama-bench output: ${issue.path.join(".")}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/** What an import needs beside the rows: the machine, and each model file as moebench records it. */
export interface ImportContext {
  readonly machine: MachineProfile;
  /** The model of a row's `model_filename`, and the type of most of its bytes. */
  readonly models: ReadonlyMap<string, ModelRecord & { readonly type: string }>;
  readonly version: string;
}

/**
 * llama-bench rows as a moebench results file of the tokens suite: each row a record named as
 * moebench names the test (`pp512`, `tg128`, `tg128@d4096`), backend `llama.cpp <backends>`,
 * every sample kept.
 */
export function importLlamaBench(
  rows: readonly LlamaBenchRow[],
  context: ImportContext,
): ResultsFile {
  const tests: TestRecord[] = rows.map((row, i) => {
    const model = context.models.get(row.model_filename)!;
    const test = tokensTestName({ prompt: row.n_prompt, gen: row.n_gen, depth: row.n_depth });
    return testRecord(
      {
        task: `llama-bench/${i}`,
        suite: "tokens",
        test,
        model: model.id,
        type: model.type,
        backend: `llama.cpp ${row.backends.toLowerCase()}`,
        threads: row.n_threads,
        config: "resident",
        budget_bytes: null,
        budget_share: null,
        policy: null,
        unit: "tok/s",
      },
      row.samples_ts,
      {
        warmup: 1,
        details: {
          build_commit: row.build_commit,
          n_gpu_layers: row.n_gpu_layers,
          n_batch: row.n_batch,
          n_ubatch: row.n_ubatch,
          type_k: row.type_k,
          type_v: row.type_v,
          flash_attn: String(row.flash_attn),
          test_time: row.test_time,
        },
      },
    );
  });
  return {
    format: "moebench-results",
    format_version: 1,
    spec: null,
    moebench: { version: context.version, commit: null },
    timestamp: new Date(rows[0]!.test_time).toISOString(),
    suite: "tokens",
    complete: true,
    done: tests.map((t) => t.task),
    options: { imported_from: "llama-bench" },
    machine: context.machine,
    config: {
      backend: "auto",
      threads: rows[0]!.n_threads,
      expert_budget_bytes: null,
      cache_policy: "lru",
      prefetch_depth: 0,
      prefetch_k: null,
      expert_tier: "disk",
    },
    models: [...new Set(rows.map((r) => r.model_filename))].map((file) => {
      const { type: _type, ...record } = context.models.get(file)!;
      return record;
    }),
    tests,
    peers: [],
    score: null,
  };
}
