/**
 * A results file for people and for scripts: `md` (markdown tables as llama-bench prints them,
 * with llama.cpp's figures and the ratio beside ours, and the cache hit rates as a budget ×
 * policy grid), `csv` (one row per record, samples joined by `;`), `json` (the file itself), or
 * llama-bench's own `json`, `jsonl` and `sql` (see `llama_bench.ts`).
 *
 * @example
 * ```ts ignore
 * import { formatResults } from "./format.ts";
 * console.log(formatResults(await readResults("r.json"), "md"));
 * ```
 * @module
 */
import { formatFigure as figure } from "../util/format.ts";
import { HIGHER_IS_BETTER, type ResultsFile, type TestRecord } from "./results.ts";
import { coefficientOfVariation, meanInterval } from "./compare.ts";
import { type LlamaBenchFormat, llamaBenchText, toLlamaBench } from "./llama_bench.ts";
import { recordedEnergy } from "./energy.ts";
import { disturbedSentence } from "./conditions.ts";

export const FORMATS = [
  "md",
  "csv",
  "json",
  "llama-bench-json",
  "llama-bench-jsonl",
  "llama-bench-sql",
] as const;
export type Format = typeof FORMATS[number];

/** `results` as `format` (`llama-bench-*`: the resident pp and tg tests as llama-bench's rows). */
export function formatResults(results: ResultsFile, format: Format): string {
  if (format === "json") return JSON.stringify(results, null, 2);
  if (format.startsWith("llama-bench-")) {
    const as = format.slice("llama-bench-".length) as LlamaBenchFormat;
    return llamaBenchText(toLlamaBench(results), as);
  }
  if (format === "csv") return csv(results);
  return markdown(results);
}

const CSV_COLUMNS = [
  "engine",
  "task",
  "suite",
  "test",
  "model",
  "type",
  "backend",
  "threads",
  "config",
  "budget_bytes",
  "budget_share",
  "policy",
  "unit",
  "mean",
  "stddev",
  "median",
  "min",
  "max",
  "warmup",
  "samples",
] as const;

function csv(results: ResultsFile): string {
  const quote = (value: unknown) => {
    const text = value === null || value === undefined ? "" : String(value);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const row = (engine: string, record: TestRecord) =>
    CSV_COLUMNS.map((column) =>
      quote(
        column === "engine"
          ? engine
          : column === "samples"
          ? record.samples.join(";")
          : record[column],
      )
    ).join(",");
  return [
    CSV_COLUMNS.join(","),
    ...results.tests.map((record) => row("moebench", record)),
    ...results.peers.map((record) => row("llama.cpp", record)),
  ].join("\n");
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [head, ...rows].map((row) => row.map((cell) => cell.replaceAll("|", "\\|")));
  const widths = head.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  return [
    line(cells[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...cells.slice(1).map(line),
  ].join("\n");
}

/** The 95 % confidence interval of the mean of `samples`, "lo … hi" ("" for one sample). */
export function intervalText(samples: readonly number[]): string {
  const ci = meanInterval(samples);
  return ci ? `${figure(ci[0])} … ${figure(ci[1])}` : "";
}

/** How a dynamic repetition count ended, marked beside n: the CV target, or a limit. */
const stopMark: Readonly<Record<string, string>> = {
  cv: "",
  max_count: " (max)",
  max_time: " (time)",
};

function markdown(results: ResultsFile): string {
  const { machine } = results;
  const cpu = machine.hardware.cpu;
  const lines = [
    `moebench ${results.moebench.version}` +
    (results.moebench.commit ? ` (${results.moebench.commit.slice(0, 10)})` : "") +
    `, ${results.suite}` +
    (results.spec ? `, ${results.spec.name} v${results.spec.version}` : ", own models") +
    `, ${results.timestamp}` + (results.complete ? "" : " (incomplete: resume with --resume)"),
    `machine: profile ${machine.profile}; ${cpu.model.value ?? "unknown CPU"}, ` +
    `${cpu.logicalCores.value ?? "?"} threads; RAM read ${
      figure(machine.measured.ram_read_gbps)
    } ` +
    `GB/s`,
    "",
  ];
  const peerOf = (record: TestRecord) =>
    results.peers.find((p) =>
      p.model === record.model && p.test === record.test && p.config === record.config
    );
  const weightsRead = (record: TestRecord) => {
    const bytes = record.details["active_bytes_per_token"];
    if (typeof bytes !== "number" || !record.test.startsWith("tg")) return "";
    const gbps = record.median * bytes / 1e9;
    const share = gbps / machine.measured.ram_read_gbps;
    return `${figure(gbps)} GB/s (${(share * 100).toFixed(0)} % of RAM reads)`;
  };
  const plain = results.tests.filter((r) => r.test !== "hit_rate");
  const rows = [...plain, ...results.peers].map((record) => {
    const peer = results.peers.includes(record) ? undefined : peerOf(record);
    const better = HIGHER_IS_BETTER[record.unit];
    return [
      record.model,
      record.type,
      record.backend ?? "",
      record.threads === null ? "" : String(record.threads),
      record.config,
      record.test,
      `${figure(record.mean)} ± ${figure(record.stddev)}`,
      intervalText(record.samples),
      `${(coefficientOfVariation(record.samples) * 100).toFixed(1)} %`,
      String(record.samples.length) + (stopMark[String(record.details["repetitions_stop"])] ?? ""),
      record.unit,
      peer
        ? `${(better ? record.median / peer.median : peer.median / record.median).toFixed(2)}×`
        : "",
      weightsRead(record),
    ];
  });
  if (rows.length > 0) {
    lines.push(table(
      [
        "model",
        "type",
        "backend",
        "threads",
        "config",
        "test",
        "mean ± sd",
        "95 % CI of mean",
        "CV",
        "n",
        "unit",
        "vs llama.cpp",
        "weights read",
      ],
      rows,
    ));
  }
  const hitRates = results.tests.filter((r) => r.test === "hit_rate");
  if (hitRates.length > 0) {
    const policies = [...new Set(hitRates.map((r) => r.policy ?? ""))];
    const budgets = [...new Set(hitRates.map((r) => r.config))];
    lines.push("", `simulated expert-cache hit rates (${hitRates[0]!.model}, no prefetch):`);
    lines.push(table(
      ["budget", ...policies],
      budgets.map((budget) => [
        budget,
        ...policies.map((policy) => {
          const record = hitRates.find((r) => r.config === budget && r.policy === policy);
          return record ? `${(record.median * 100).toFixed(1)}%` : "";
        }),
      ]),
    ));
  }
  const energy = results.tests.flatMap((record) => {
    const recorded = recordedEnergy(record.details);
    return recorded ? [{ record, ...recorded }] : [];
  });
  const measured = energy.filter((e) => e.joulesPerToken !== null);
  if (measured.length > 0) {
    lines.push("", "decode energy (median over the repetitions):");
    lines.push(table(
      ["model", "backend", "config", "test", "J/token", "tok/s per W", "meters"],
      measured.map((e) => [
        e.record.model,
        e.record.backend ?? "",
        e.record.config,
        e.record.test,
        figure(e.joulesPerToken!),
        e.tokensPerJoule === null ? "" : figure(e.tokensPerJoule),
        e.source,
      ]),
    ));
  }
  for (
    const reason of new Set(energy.filter((e) => e.joulesPerToken === null).map((e) => e.source))
  ) {
    lines.push("", `energy: ${reason}`);
  }
  const disturbed = disturbedSentence("this run", results.tests);
  if (disturbed) lines.push("", `warning: ${disturbed}`);
  if (results.score) {
    lines.push("", `score: ${results.score.value.toFixed(1)} (${results.score.formula})`);
  }
  return lines.join("\n");
}
