/**
 * The report: one self-contained HTML file (Chart.js and styles inlined; nothing fetched) for one
 * run or several side by side — warnings, the ranking, a machine table, the charts, and a table
 * of every number behind them. Every string from a results file is escaped; the charts' data
 * travels as JSON in a `<script type="application/json">` element the page parses.
 *
 * @example
 * ```ts ignore
 * import { renderReport } from "./html.ts";
 * const html = renderReport(await loadRuns(["r.json"]), await chartJsSource());
 * ```
 * @module
 */
import type { TestRecord } from "../suites/results.ts";
import { formatFigure as figure } from "../util/format.ts";
import { coefficientOfVariation } from "../suites/compare.ts";
import { recordedEnergy } from "../suites/energy.ts";
import { intervalText } from "../suites/format.ts";
import { reportCharts } from "./charts.ts";
import { reportComparisons } from "./comparisons.ts";
import { escapeHtml, jsonForScript } from "./escape.ts";
import { ranking, type ReportRun } from "./runs.ts";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222;
  padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.warning { background: #fff4d6; border: 1px solid #e0b84c; padding: .5rem .8rem; margin: .5rem 0; }
.chart { margin: 1.5rem 0; } .chart canvas { max-height: 420px; }
.note { color: #555; margin: .2rem 0 .6rem; }
.scroll { overflow-x: auto; }
`;

/** Error bars for bar datasets that carry `errors` (± one standard deviation). */
const PAGE_SCRIPT = `
const errorBars = {
  id: "errorBars",
  afterDatasetsDraw(chart) {
    const { ctx, scales } = chart;
    chart.data.datasets.forEach((dataset, d) => {
      if (!dataset.errors || !chart.isDatasetVisible(d)) return;
      chart.getDatasetMeta(d).data.forEach((bar, i) => {
        const value = dataset.data[i], error = dataset.errors[i];
        if (value == null || !error) return;
        const top = scales.y.getPixelForValue(value + error);
        const bottom = scales.y.getPixelForValue(Math.max(0, value - error));
        ctx.save();
        ctx.strokeStyle = "#222";
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(bar.x, top); ctx.lineTo(bar.x, bottom);
        ctx.moveTo(bar.x - 4, top); ctx.lineTo(bar.x + 4, top);
        ctx.moveTo(bar.x - 4, bottom); ctx.lineTo(bar.x + 4, bottom);
        ctx.stroke();
        ctx.restore();
      });
    });
  },
};
const pointLabel = (context) => {
  const raw = context.raw;
  const name = raw && typeof raw === "object" && raw.label ? raw.label + ": " : "";
  return context.dataset.label + ": " + name + context.formattedValue;
};
for (const spec of JSON.parse(document.getElementById("chart-data").textContent)) {
  const options = { ...spec.config.options, animation: false, responsive: true,
    plugins: { tooltip: { callbacks: { label: pointLabel } } } };
  new Chart(document.getElementById(spec.id), { ...spec.config, options, plugins: [errorBars] });
}
`;

const cell = (text: string | number | null, numeric = false) =>
  `<td${numeric ? ' class="num"' : ""}>${escapeHtml(text === null ? "" : String(text))}</td>`;

function table(head: readonly string[], rows: readonly string[][], id?: string): string {
  return `<div class="scroll"><table${id ? ` id="${id}"` : ""}><thead><tr>${
    head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")
  }</tr></thead><tbody>${rows.map((row) => `<tr>${row.join("")}</tr>`).join("\n")}</tbody>` +
    `</table></div>`;
}

/** The machine table: one row per run. */
function machines(runs: readonly ReportRun[]): string {
  const gb = (bytes: number | null) => bytes === null ? null : `${(bytes / 1e9).toFixed(1)} GB`;
  const gbps = (value: number | null) => value === null ? null : `${figure(value)} GB/s`;
  return table(
    [
      "run",
      "profile",
      "CPU",
      "threads",
      "RAM",
      "GPU",
      "RAM copy",
      "RAM read",
      "CPU Q4_0 mat-vec",
      "disk seq cold / warm",
      "GPU upload",
      "spec",
      "moebench",
      "score",
    ],
    runs.map(({ label, results }) => {
      const { hardware, measured } = results.machine;
      const gpu = hardware.gpu;
      return [
        cell(label),
        cell(results.machine.profile),
        cell(hardware.cpu.model.value),
        cell(hardware.cpu.logicalCores.value, true),
        cell(gb(hardware.memory.totalBytes.value), true),
        cell(
          gpu
            ? `${gpu.description.value ?? "?"}${gpu.fallback.value ? " (software)" : ""}`
            : "none",
        ),
        cell(gbps(measured.ram_copy_gbps), true),
        cell(gbps(measured.ram_read_gbps), true),
        cell(gbps(measured.cpu_matvec_gbps), true),
        cell(
          `${gbps(measured.disk_seq_read_gbps) ?? "?"} / ${
            gbps(measured.disk_seq_read_warm_gbps) ?? "?"
          }${measured.disk_cold ? "" : " (not cold)"}`,
          true,
        ),
        cell(gbps(measured.gpu_upload_gbps), true),
        cell(results.spec ? `${results.spec.name} v${results.spec.version}` : "own models"),
        cell(
          results.moebench.version +
            (results.moebench.commit ? ` (${results.moebench.commit.slice(0, 10)})` : ""),
        ),
        cell(results.score ? figure(results.score.value) : null, true),
      ];
    }),
  );
}

/** Every record of every run: the numbers behind the charts. */
function dataTable(runs: readonly ReportRun[]): string {
  const row = (run: ReportRun, engine: string, r: TestRecord) => [
    cell(run.label),
    cell(engine),
    cell(r.suite),
    cell(r.test),
    cell(r.model),
    cell(r.type),
    cell(r.config),
    cell(r.backend),
    cell(r.threads, true),
    cell(r.policy),
    cell(r.unit),
    cell(figure(r.mean), true),
    cell(figure(r.stddev), true),
    cell(figure(r.median), true),
    cell(figure(r.min), true),
    cell(figure(r.max), true),
    cell(intervalText(r.samples)),
    cell(`${(coefficientOfVariation(r.samples) * 100).toFixed(1)} %`, true),
    cell(r.samples.length, true),
  ];
  return table(
    [
      "run",
      "engine",
      "suite",
      "test",
      "model",
      "type",
      "config",
      "backend",
      "threads",
      "policy",
      "unit",
      "mean",
      "stddev",
      "median",
      "min",
      "max",
      "95 % CI of mean",
      "CV",
      "n",
    ],
    runs.flatMap((run) => [
      ...run.results.tests.map((r) => row(run, "moebench", r)),
      ...run.results.peers.map((r) => row(run, "llama.cpp", r)),
    ]),
    "data",
  );
}

/** The ranking: ranked runs by score, then the others and why. */
function rankingSection(runs: readonly ReportRun[]): string {
  const { ranked, unranked } = ranking(runs);
  const rows = [
    ...ranked.map((run, i) => [
      cell(String(i + 1), true),
      cell(run.label),
      cell(figure(run.results.score!.value), true),
      cell(
        run.results.score!.parts.map((p) => `${p.test} ${p.config}: ${figure(p.median)}`)
          .join("; "),
      ),
    ]),
    ...unranked.map(({ run, why }) => [cell("—"), cell(run.label), cell(null), cell(why)]),
  ];
  return table(["rank", "run", "score", "parts / why not ranked"], rows);
}

/** Each later run against the first, figure by figure, where their samples allow. */
function comparisonSection(runs: readonly ReportRun[]): string {
  const rows = reportComparisons(runs);
  if (rows.length === 0) return "";
  return `<h2>Compared with the first run</h2>
<p class="note">Welch's t-test on each figure's samples: a difference is named only where its
95 % confidence interval excludes none; else "inconclusive".</p>
${
    table(
      ["test", "model", "config", "backend", "comparison"],
      rows.map((
        r,
      ) => [cell(r.test), cell(r.model), cell(r.config), cell(r.backend), cell(r.sentence)]),
      "comparisons",
    )
  }`;
}

/** Each run's decode energy: joules per token and tok/s per watt, or why it was not measured. */
function energySection(runs: readonly ReportRun[]): string {
  const rows = runs.flatMap((run) =>
    run.results.tests.flatMap((record) => {
      const energy = recordedEnergy(record.details);
      if (!energy) return [];
      return [[
        cell(run.label),
        cell(record.model),
        cell(record.backend),
        cell(record.config),
        cell(record.test),
        cell(energy.joulesPerToken === null ? null : figure(energy.joulesPerToken), true),
        cell(energy.tokensPerJoule === null ? null : figure(energy.tokensPerJoule), true),
        cell(energy.source),
      ]];
    })
  );
  if (rows.length === 0) return "";
  return `<h2>Energy</h2>
<p class="note">The decode's energy from the machine's meters (RAPL, GPU sensors, nvidia-smi,
powermetrics), median over the repetitions; where there were none, why.</p>
${
    table(
      ["run", "model", "backend", "config", "test", "J/token", "tok/s per W", "meters"],
      rows,
      "energy",
    )
  }`;
}

/** The whole report page for `runs`, with `chartJs` (the UMD source) inlined. */
export function renderReport(
  runs: readonly ReportRun[],
  chartJs: string,
  title = runs.length === 1 ? "moebench report" : "moebench comparison",
): string {
  const charts = reportCharts(runs);
  const { warnings } = ranking(runs);
  const chartHtml = charts.map((chart) =>
    `<section class="chart"><h2>${escapeHtml(chart.title)}</h2>` +
    `<p class="note">${escapeHtml(chart.note)}</p><canvas id="${chart.id}"></canvas></section>`
  ).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p class="note">${runs.length} run${runs.length === 1 ? "" : "s"}; made ${
    escapeHtml(new Date().toISOString())
  } by moebench. Every figure is in the table at the end.</p>
${warnings.map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join("\n")}
<h2>Ranking</h2>
${rankingSection(runs)}
<h2>Machines</h2>
${machines(runs)}
${comparisonSection(runs)}
${energySection(runs)}
${chartHtml}
<h2>Every number</h2>
${dataTable(runs)}
<script>${chartJs.replace(/<\/script/gi, "<\\/script")}</script>
<script type="application/json" id="chart-data">${jsonForScript(charts)}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
