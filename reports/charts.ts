/**
 * The report's charts as data: each a Chart.js config (labels, datasets, axes) built from the
 * runs' records, plus error bars (± one standard deviation) where a figure has repetitions. Only
 * charts with something to draw are made. Strings from results files end up as chart labels,
 * which Chart.js draws on a canvas (never as HTML).
 *
 * @example
 * ```ts ignore
 * import { reportCharts } from "./charts.ts";
 * for (const chart of reportCharts(runs)) console.log(chart.title);
 * ```
 * @module
 */
import type { TestRecord } from "../suites/results.ts";
import { parseTokensTestName, type TokensTest, tokensTestName } from "../suites/test_names.ts";
import type { ReportRun } from "./runs.ts";

/** A chart of the report. */
export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  /** What it shows and how to read it. */
  readonly note: string;
  /** A Chart.js config (JSON only: no functions). */
  readonly config: {
    readonly type: "bar" | "line" | "scatter";
    readonly data: { labels?: string[]; datasets: Dataset[] };
    readonly options: Record<string, unknown>;
  };
}

interface Dataset {
  label: string;
  data: (number | null | { x: number; y: number; label?: string })[];
  /** ± error of each bar (drawn by the page's error-bar plugin). */
  errors?: (number | null)[];
  backgroundColor?: string;
  borderColor?: string;
  borderDash?: number[];
  showLine?: boolean;
  pointRadius?: number;
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#bcbd22",
  "#7f7f7f",
];
const colour = (i: number) => PALETTE[i % PALETTE.length]!;

/** A key naming a record's figure across runs: `tg64 · resident · cpu`. */
const figureKey = (r: TestRecord) =>
  [r.test, r.config, r.backend].filter((part) => part !== null && part !== "").join(" · ");

/** Bars of one figure per key, a dataset per run, with error bars. */
function barsOf(
  runs: readonly ReportRun[],
  select: (r: TestRecord) => boolean,
  key: (r: TestRecord) => string = figureKey,
) {
  const keys: string[] = [];
  for (const run of runs) {
    for (const r of run.results.tests.filter(select)) if (!keys.includes(key(r))) keys.push(key(r));
  }
  const datasets: Dataset[] = runs.map((run, i) => {
    const records = run.results.tests.filter(select);
    const find = (k: string) => records.find((r) => key(r) === k);
    return {
      label: run.label,
      data: keys.map((k) => find(k)?.mean ?? null),
      errors: keys.map((k) => find(k)?.stddev ?? null),
      backgroundColor: colour(i),
    };
  });
  return { labels: keys, datasets };
}

const axis = (title: string, extra: Record<string, unknown> = {}) => ({
  title: { display: true, text: title },
  ...extra,
});

/** Every chart the runs have data for. */
export function reportCharts(runs: readonly ReportRun[]): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const add = (chart: ChartSpec) => {
    if (chart.config.data.datasets.some((d) => d.data.some((v) => v !== null))) charts.push(chart);
  };
  const isTokens = (r: TestRecord) => r.suite === "tokens" && r.unit === "tok/s";

  add({
    id: "tokens",
    title: "Tokens per second",
    note: "Prefill (pp) and decode (tg) tok/s per test, config and backend: mean ± one " +
      "standard deviation over the repetitions.",
    config: {
      type: "bar",
      data: barsOf(runs, isTokens),
      options: { scales: { y: axis("tok/s", { beginAtZero: true }) } },
    },
  });

  add({
    id: "prefill-decode",
    title: "Prefill vs decode",
    note: "Each run's longest prefill against its decode, per config (llama.cpp's as crosses).",
    config: {
      type: "scatter",
      data: {
        datasets: runs.flatMap((run, i) => [
          { label: run.label, data: prefillDecode(run.results.tests), backgroundColor: colour(i) },
          {
            label: `${run.label} (llama.cpp)`,
            data: prefillDecode(run.results.peers),
            backgroundColor: colour(i),
            pointRadius: 7,
          },
        ]).filter((d) => d.data.length > 0),
      },
      options: {
        scales: {
          x: axis("prefill tok/s", { beginAtZero: true }),
          y: axis("decode tok/s", { beginAtZero: true }),
        },
      },
    },
  });

  add({
    id: "hit-rates",
    title: "Expert-cache hit rate vs budget",
    note: "Simulated from the engine's own routing trace, per policy; Belady's optimum (dashed) " +
      "knows the future and bounds every online policy.",
    config: {
      type: "line",
      data: {
        datasets: runs.flatMap((run, i) => {
          const records = run.results.tests.filter((r) => r.test === "hit_rate");
          const policies = [...new Set(records.map((r) => r.policy ?? ""))];
          return policies.map((policy, p) => ({
            label: `${run.label}: ${policy}`,
            data: records.filter((r) => r.policy === policy)
              .map((r) => ({ x: (r.budget_share ?? 0) * 100, y: r.median * 100 })),
            borderColor: policy === "belady" ? colour(i) : colour(i + p + 1),
            backgroundColor: colour(i + p + 1),
            ...(policy === "belady" ? { borderDash: [6, 4] } : {}),
          }));
        }),
      },
      options: {
        scales: {
          x: axis("cache budget, % of the expert bytes", { type: "linear", min: 0, max: 100 }),
          y: axis("hit rate, %", { min: 0, max: 100 }),
        },
      },
    },
  });

  add({
    id: "decode-budget",
    title: "Decode tok/s vs expert budget",
    note: "Decode measured with the engine offloading experts behind an LRU cache of each size.",
    config: {
      type: "line",
      data: {
        datasets: runs.map((run, i) => ({
          label: run.label,
          data: run.results.tests
            .filter((r) => r.suite === "cache" && r.unit === "tok/s" && r.budget_share !== null)
            .map((r) => ({ x: r.budget_share! * 100, y: r.median })),
          borderColor: colour(i),
          backgroundColor: colour(i),
        })),
      },
      options: {
        scales: {
          x: axis("cache budget, % of the expert bytes", { type: "linear", min: 0, max: 100 }),
          y: axis("decode tok/s", { beginAtZero: true }),
        },
      },
    },
  });

  add({
    id: "load",
    title: "Load bandwidth",
    note: "Reads from the model file (cold: page cache dropped first; warm: from it) and host → " +
      "GPU uploads, GB/s, mean ± standard deviation.",
    config: {
      type: "bar",
      data: barsOf(runs, (r) => r.suite === "load" && r.unit === "GB/s"),
      options: { scales: { y: axis("GB/s", { beginAtZero: true }) } },
    },
  });

  add({
    id: "latency",
    title: "Single expert load latency",
    note: "Milliseconds to read one expert (its gate, up and down slices): p50, p95 and p99.",
    config: {
      type: "bar",
      data: {
        labels: ["cold p50", "cold p95", "cold p99", "warm p50", "warm p95", "warm p99"],
        datasets: runs.map((run, i) => {
          const of = (config: string) =>
            run.results.tests.find((r) => r.test === "expert_load" && r.config === config);
          const data = ["cold", "warm"].flatMap((config) =>
            ["p50", "p95", "p99"].map((p) => {
              const value = of(config)?.details[p];
              return typeof value === "number" ? value : null;
            })
          );
          return { label: run.label, data, backgroundColor: colour(i) };
        }),
      },
      options: { scales: { y: axis("ms", { beginAtZero: true }) } },
    },
  });

  add(rooflineChart(runs));
  add(promptChart(runs));
  add(depthChart(runs));

  add({
    id: "quality",
    title: "Quality vs size",
    note: "KL divergence of each compressed model's next-token distribution from the reference " +
      "(F16) model's, against the model's size, a series per model: lower and further left is " +
      "better.",
    config: {
      type: "scatter",
      data: {
        // a series per compressed model (the variants of a comparison side by side), a point per
        // run it was measured in
        datasets: [
          ...Map.groupBy(
            runs.flatMap((run) =>
              run.results.tests.filter((r) => r.test === "kl").map((r) => ({ run, r }))
            ),
            ({ r }) => r.model,
          ),
        ].map(([model, points], i) => ({
          label: model,
          data: points.map(({ run, r }) => ({
            x: (r.details["model_bytes"] as number) / 1e6,
            y: r.mean,
            label: run.label,
          })),
          backgroundColor: colour(i),
          pointRadius: 5,
        })),
      },
      options: {
        scales: {
          x: axis("model size, MB", { beginAtZero: true }),
          y: axis("KL divergence, nats", { beginAtZero: true }),
        },
      },
    },
  });

  add({
    id: "peer",
    title: "moebench vs llama.cpp",
    note: "The ratio of medians on the same file in the same run: above 1, moebench is faster.",
    config: {
      type: "bar",
      data: peerRatios(runs),
      options: { scales: { y: axis("moebench / llama.cpp", { beginAtZero: true }) } },
    },
  });
  return charts;
}

/** Points (longest pp, tg) per config of `records`. */
function prefillDecode(records: readonly TestRecord[]) {
  const tokens = records.filter((r) => r.suite === "tokens" && r.unit === "tok/s");
  const configs = [...new Set(tokens.map((r) => `${r.config} · ${r.backend ?? ""}`))];
  return configs.flatMap((config) => {
    const mine = tokens.filter((r) => `${r.config} · ${r.backend ?? ""}` === config);
    const pp = mine.filter((r) =>
      r.test.startsWith("pp")
    ).sort((a, b) => Number(b.test.slice(2)) - Number(a.test.slice(2)))[0];
    const tg = mine.find((r) =>
      r.test.startsWith("tg")
    );
    return pp && tg ? [{ x: pp.median, y: tg.median, label: config }] : [];
  });
}

/** Achieved resident decode against the RAM-bandwidth bound, per run. */
function rooflineChart(runs: readonly ReportRun[]): ChartSpec {
  const points = runs.map((run) => {
    const tg = run.results.tests.find((r) =>
      r.suite === "tokens" && r.test.startsWith("tg") && r.config === "resident" &&
      typeof r.details["active_bytes_per_token"] === "number"
    );
    if (!tg) return null;
    const bytes = tg.details["active_bytes_per_token"] as number;
    const { ram_read_gbps, cpu_matvec_gbps } = run.results.machine.measured;
    return {
      achieved: tg.median,
      ram: (ram_read_gbps * 1e9) / bytes,
      kernel: (cpu_matvec_gbps * 1e9) / bytes,
    };
  });
  const series = (key: "achieved" | "ram" | "kernel") => points.map((p) => p?.[key] ?? null);
  return {
    id: "roofline",
    title: "Roofline: decode against the memory bound",
    note: "Resident decode tok/s achieved, against the bound each tier's measured bandwidth sets " +
      "(bandwidth / bytes a decode step reads): RAM reads, and the CPU Q4_0 mat-vec kernel.",
    config: {
      type: "bar",
      data: {
        labels: runs.map((run) => run.label),
        datasets: [
          { label: "achieved tg tok/s", data: series("achieved"), backgroundColor: colour(0) },
          { label: "RAM-read bound", data: series("ram"), backgroundColor: colour(9) },
          { label: "CPU-kernel bound", data: series("kernel"), backgroundColor: colour(8) },
        ],
      },
      options: { scales: { y: axis("tok/s", { beginAtZero: true }) } },
    },
  };
}

/** moebench's median over llama.cpp's, per test with a peer. */
function peerRatios(runs: readonly ReportRun[]) {
  return barsOf(
    runs.map((run) => ({
      ...run,
      results: {
        ...run.results,
        tests: run.results.tests.flatMap((r) => {
          const peer = run.results.peers.find((p) =>
            p.model === r.model && p.test === r.test && p.config === r.config
          );
          return peer ? [{ ...r, mean: r.median / peer.median, stddev: 0 }] : [];
        }),
      },
    })),
    () => true,
    (r) => `${r.test} · ${r.model}`,
  );
}

/**
 * Lines of median tok/s over the runs' tokens tests (llama.cpp's beside moebench's): `along`
 * gives a test's x and the rest of its name, which with the run, configuration and backend names
 * its line; only lines of two points or more are drawn.
 */
function tokensCurves(
  runs: readonly ReportRun[],
  along: (test: TokensTest) => { x: number; line: string } | null,
) {
  return runs.flatMap((run, r) => {
    const lines = new Map<string, { x: number; y: number }[]>();
    for (const record of [...run.results.tests, ...run.results.peers]) {
      const test = parseTokensTestName(record.test);
      const point = test && record.unit === "tok/s" ? along(test) : null;
      if (!point) continue;
      const key = `${run.label} · ${record.config} · ${record.backend ?? ""} · ${point.line}`;
      lines.set(key, [...lines.get(key) ?? [], { x: point.x, y: record.median }]);
    }
    return [...lines].filter(([, points]) => points.length > 1).map(([label, points], i) => ({
      label,
      data: points.sort((a, b) => a.x - b.x),
      showLine: true,
      borderColor: colour(r + i),
      backgroundColor: colour(r + i),
    }));
  });
}

/**
 * Prefill speed against the prompt length (pp16, pp64, pp256 …: llama-bench's `-p` list): a line
 * per run, configuration, backend and depth.
 */
function promptChart(runs: readonly ReportRun[]): ChartSpec {
  const datasets = tokensCurves(
    runs,
    (test) =>
      test.gen === 0 ? { x: test.prompt, line: test.depth ? `pp @d${test.depth}` : "pp" } : null,
  );
  return {
    id: "prompt",
    title: "Prefill speed vs prompt length",
    note: "Median prefill tok/s against the prompt's length, a line per run, configuration, " +
      "backend and context depth: where batching stops paying.",
    config: {
      type: "scatter",
      data: { datasets },
      options: {
        scales: {
          x: axis("prompt tokens", { type: "logarithmic" }),
          y: axis("tok/s", { beginAtZero: true }),
        },
      },
    },
  };
}

/**
 * Prefill and decode tok/s against the context depth they ran at (`tg64@d2048`, llama-bench's
 * `-d`): a line per run, configuration and test, where a run measured more than one depth.
 */
function depthChart(runs: readonly ReportRun[]): ChartSpec {
  const datasets = tokensCurves(runs, (test) => ({
    x: test.depth,
    line: tokensTestName({ ...test, depth: 0 }),
  }));
  return {
    id: "depth",
    title: "Speed vs context depth",
    note: "Median tok/s of each prefill and decode test against the tokens already in the " +
      "context when it ran (bench --depth), a line per run, configuration and test.",
    config: {
      type: "scatter",
      data: { datasets },
      options: {
        scales: {
          x: axis("context depth, tokens", { beginAtZero: true }),
          y: axis("tok/s", { beginAtZero: true }),
        },
      },
    },
  };
}
