/**
 * The static site `moebench publish` writes, servable by any static host: `index.html` (a
 * leaderboard, sortable by any column: score, profile, model, …), `runs/<id>.html` (one report
 * per run), `report.html` (every run side by side) and `data/<id>.json` (the results files as
 * published). Runs already in the site stay; a run is named by the hash of its content, so
 * publishing the same run again changes nothing but the pages' dates.
 *
 * @example
 * ```ts ignore
 * import { publishSite } from "./site.ts";
 * const site = await publishSite(await loadRuns(["r.json"]), "site", await chartJsSource());
 * console.log(site.runs.length);
 * ```
 * @module
 */
import { join } from "node:path";
import { atomicWrite } from "../util/atomic_write.ts";
import { escapeHtml } from "./escape.ts";
import { renderReport } from "./html.ts";
import { loadRuns, ranking, type ReportRun } from "./runs.ts";

/** What publishing left in the site. */
export interface PublishedSite {
  /** Every run in the site after publishing. */
  readonly runs: readonly ReportRun[];
  /** Of the runs given, how many were new to the site. */
  readonly added: number;
}

const write = (path: string, text: string) =>
  atomicWrite(path, (sink) => sink.write(new TextEncoder().encode(text)));

/** Adds `runs` to the site in `dir` (created if missing) and rewrites its pages. */
export async function publishSite(
  runs: readonly ReportRun[],
  dir: string,
  chartJs: string,
): Promise<PublishedSite> {
  for (const folder of [dir, join(dir, "runs"), join(dir, "data")]) {
    await Deno.mkdir(folder, { recursive: true });
  }
  const published = new Set<string>();
  for await (const entry of Deno.readDir(join(dir, "data"))) {
    if (entry.isFile && entry.name.endsWith(".json")) published.add(entry.name.slice(0, -5));
  }
  let added = 0;
  for (const run of runs) {
    if (published.has(run.id)) continue;
    await write(join(dir, "data", `${run.id}.json`), JSON.stringify(run.results, null, 2) + "\n");
    published.add(run.id);
    added++;
  }
  // every run the site holds, read back through the schema like any other results file
  const all = await loadRuns([...published].sort().map((id) => join(dir, "data", `${id}.json`)));
  all.sort((a, b) => a.results.timestamp.localeCompare(b.results.timestamp));
  for (const run of all) {
    await write(join(dir, "runs", `${run.id}.html`), renderReport([run], chartJs, run.label));
  }
  await write(join(dir, "report.html"), renderReport(all, chartJs, "moebench: every run"));
  await write(join(dir, "index.html"), renderIndex(all));
  return { runs: all, added };
}

/** Sorts a table by the clicked column (numbers as numbers), ascending then descending. */
const SORT_SCRIPT = `
for (const table of document.querySelectorAll("table.sortable")) {
  table.querySelectorAll("th").forEach((th, column) => {
    th.addEventListener("click", () => {
      const body = table.tBodies[0];
      const ascending = th.dataset.order !== "ascending";
      table.querySelectorAll("th").forEach((other) => delete other.dataset.order);
      th.dataset.order = ascending ? "ascending" : "descending";
      const key = (row) => {
        const text = row.cells[column].dataset.sort ?? row.cells[column].textContent;
        const number = Number(text);
        return text !== "" && Number.isFinite(number) ? number : text.toLowerCase();
      };
      const rows = [...body.rows].sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        const order = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0)
          : typeof x === "number" ? -1 : 1;
        return ascending ? order : -order;
      });
      body.append(...rows);
    });
  });
}
`;

/** The index page: the leaderboard of ranked runs, then every other run. */
export function renderIndex(runs: readonly ReportRun[]): string {
  const { ranked, unranked, warnings } = ranking(runs);
  const td = (text: string | number | null, sort?: string | number) =>
    `<td${sort !== undefined ? ` data-sort="${escapeHtml(String(sort))}"` : ""}>` +
    `${escapeHtml(text === null ? "" : String(text))}</td>`;
  const row = (run: ReportRun, rank: number | null, why: string | null) => {
    const { results } = run;
    const link = `<a href="runs/${run.id}.html">${escapeHtml(run.label)}</a>`;
    const tg = results.tests.find((r) => r.test.startsWith("tg") && r.config === "resident");
    return `<tr>${td(rank)}${td(results.score ? results.score.value.toFixed(1) : null)}` +
      `<td>${link}</td>${td(results.machine.profile)}` +
      `${td(results.machine.hardware.cpu.model.value)}` +
      `${td(results.machine.hardware.gpu?.description.value ?? "none")}` +
      `${td(results.models[0]?.id ?? null)}${td(tg ? tg.median.toFixed(1) : null)}` +
      `${td(results.spec ? `${results.spec.name} v${results.spec.version}` : "own models")}` +
      `${td(results.timestamp.slice(0, 16).replace("T", " "), results.timestamp)}` +
      `${why === null ? "" : td(why)}</tr>`;
  };
  const head = (extra: string[]) =>
    `<thead><tr>${
      [
        "rank",
        "score",
        "run",
        "profile",
        "CPU",
        "GPU",
        "model",
        "tg tok/s",
        "spec",
        "date",
        ...extra,
      ]
        .map((h) => `<th title="click to sort">${escapeHtml(h)}</th>`).join("")
    }</tr></thead>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>moebench results</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; }
th { background: #f3f3f3; cursor: pointer; } th[data-order]::after { content: " ↕"; }
.warning { background: #fff4d6; border: 1px solid #e0b84c; padding: .5rem .8rem; }
</style></head><body>
<h1>moebench results</h1>
<p>${runs.length} runs. <a href="report.html">Every run side by side</a>; the results files are in
<code>data/</code>. Click a column to sort.</p>
${warnings.map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join("\n")}
<h2>Leaderboard</h2>
<table class="sortable" id="leaderboard">${head([])}<tbody>
${ranked.map((run, i) => row(run, i + 1, null)).join("\n")}
</tbody></table>
<h2>Other runs</h2>
<table class="sortable" id="others">${head(["why not ranked"])}<tbody>
${unranked.map(({ run, why }) => row(run, null, why)).join("\n")}
</tbody></table>
<script>${SORT_SCRIPT}</script>
</body></html>
`;
}
