/**
 * `moebench publish`: add results files to a static site (leaderboard, a page per run, the
 * comparison report, the data) and record them in a results database; `moebench serve` previews
 * the site.
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { join, normalize, resolve } from "node:path";
import { chartJsSource } from "../reports/chart_js.ts";
import { openResultsDb } from "../reports/db.ts";
import { loadRuns } from "../reports/runs.ts";
import { publishSite } from "../reports/site.ts";
import { parseWholeNumber, printJson, UsageError } from "./common.ts";

/** The `publish` command. */
export function publishCommand() {
  return new Command("publish")
    .description("add results files to a static site and a results database (SQLite, PostgreSQL)")
    .argument("<results...>", "results files from `moebench bench --out`")
    .requiredOption("--site <dir>", "the site's folder (created, or added to)")
    .option("--db <target>", "results database: a SQLite file or a postgres:// URL")
    .option("--json", "print what was published as JSON")
    .action(async (files, options) => {
      const runs = await loadRuns(files);
      // the database first: one that cannot be opened stops the run before the site changes
      await using db = options.db ? await openResultsDb(options.db) : null;
      const site = await publishSite(runs, options.site, await chartJsSource());
      const recorded = db ? await db.record(runs) : null;
      if (options.json) {
        printJson({ site: options.site, runs: site.runs.length, added: site.added, db: recorded });
        return;
      }
      console.log(
        `${options.site}: ${site.added} new run${site.added === 1 ? "" : "s"}, ` +
          `${site.runs.length} in all; open ${join(options.site, "index.html")}` +
          (recorded
            ? `; ${options.db?.startsWith("postgres") ? "database" : options.db}: ` +
              `${recorded.added} recorded, ${recorded.present} already there`
            : ""),
      );
    });
}

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  json: "application/json",
  png: "image/png",
  css: "text/css",
};

/** The `serve` command. */
export function serveCommand() {
  return new Command("serve")
    .description("preview a published site on http://localhost")
    .requiredOption("--site <dir>", "the site's folder")
    .option("--port <n>", "port", parseWholeNumber, 8080)
    .action(async (options) => {
      const root = resolve(options.site);
      const index = await Deno.stat(join(root, "index.html")).catch(() => null);
      if (!index?.isFile) throw new UsageError(`${options.site}: no index.html (not a site?)`);
      const server = Deno.serve({
        port: options.port,
        hostname: "127.0.0.1",
        onListen: ({ port }) => console.log(`serving ${options.site} on http://127.0.0.1:${port}/`),
      }, async (request) => {
        const path = decodeURIComponent(new URL(request.url).pathname);
        const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
        if (!file.startsWith(root + "/") && file !== root) {
          return new Response("not found", { status: 404 });
        }
        try {
          const body = await Deno.readFile(file);
          const type = TYPES[file.slice(file.lastIndexOf(".") + 1)] ?? "application/octet-stream";
          return new Response(body, { headers: { "content-type": type } });
        } catch {
          return new Response("not found", { status: 404 });
        }
      });
      await server.finished;
    });
}
