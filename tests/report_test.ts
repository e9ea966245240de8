/**
 * Reports and the published site as people see them: rendered in headless Chromium (Debian's
 * `chromium`, driven by playwright-core), every chart's canvas must have drawn, no console error
 * may occur, and a results file with markup in every string it can carry must show as text with
 * no script run. Screenshots go to `tests/artifacts/` (or `$MOEBENCH_ARTIFACTS`). Then the
 * results database: publishing a run twice leaves one row, in SQLite and in PostgreSQL
 * (`$MOEBENCH_TEST_POSTGRES`, which `.ci/run` starts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium } from "playwright-core";
import postgres from "postgres";
import { synthesize } from "../engine/synth/synth.ts";
import { openResultsDb } from "../reports/db.ts";
import { ResultsFile } from "../suites/results.ts";
import { conditionsSummary } from "../suites/conditions.ts";
import { runMoebench, withTempDir } from "./_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const noBrowser = (await Deno.stat(CHROMIUM).catch(() => null))
  ? null
  : `${CHROMIUM} is missing (Debian package chromium; .ci/run installs it)`;
if (noBrowser) console.warn(`browser tests skipped: ${noBrowser}`);
const POSTGRES = Deno.env.get("MOEBENCH_TEST_POSTGRES") || null;
if (!POSTGRES) console.warn("PostgreSQL test skipped: MOEBENCH_TEST_POSTGRES is not set");

const MACHINE = new URL("./fixtures/machine.json", import.meta.url).pathname;
const ARTIFACTS = Deno.env.get("MOEBENCH_ARTIFACTS") ??
  new URL("./artifacts", import.meta.url).pathname;

/** Markup that would run if a report let it through. */
const HOSTILE = `<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">`;

/**
 * `results` with HOSTILE appended to every string the schema still accepts that way: enums,
 * dates and hashes refuse it, names, descriptions, sources, tests, configs and details take it.
 */
function poisoned(results: ResultsFile): { file: ResultsFile; fields: number } {
  const file = structuredClone(results) as unknown as Record<string, unknown>;
  const paths: (string | number)[][] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (typeof value === "string") paths.push(path);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    }
  };
  walk(file, []);
  let fields = 0;
  for (const path of paths) {
    // deno-lint-ignore no-explicit-any
    const parent = path.slice(0, -1).reduce((at: any, key) => at[key], file);
    const key = path.at(-1)!;
    const before = parent[key];
    parent[key] = before + HOSTILE;
    if (ResultsFile.safeParse(file).success) fields++;
    else parent[key] = before;
  }
  return { file: file as unknown as ResultsFile, fields };
}

/** Three results files of a tiny model (tokens, cache, quality+load) and a hostile copy. */
async function resultsFiles(dir: string): Promise<string[]> {
  const model = join(dir, "tiny.gguf");
  await synthesize({ preset: "tiny-olmoe", out: model, type: "Q4_0", seed: 2 });
  const reference = join(dir, "tiny-f16.gguf");
  await synthesize({ preset: "tiny-olmoe", out: reference, type: "F16", seed: 2 });
  const runs: [string, string[]][] = [
    ["tokens", ["--pp", "8,32", "--tg", "8", "--depth", "0,16", "--pg", "8,4"]],
    ["cache", []],
    ["load", []],
    ["quality", ["--reference", reference]],
  ];
  const files: string[] = [];
  for (const [suite, more] of runs) {
    const out = join(dir, `${suite}.json`);
    const result = await runMoebench(
      ...["bench", "--suite", suite, "--model", model, "--reps", "2", "--machine", MACHINE],
      ...["--out", out, ...more],
    );
    assert.equal(result.code, 0, result.stderr);
    files.push(out);
  }
  const tokens = JSON.parse(await Deno.readTextFile(files[0]!)) as ResultsFile;
  const { file, fields } = poisoned(tokens);
  assert.ok(fields > 40, `only ${fields} string fields took the markup`);
  const hostile = join(dir, "hostile.json");
  await Deno.writeTextFile(hostile, JSON.stringify(file));
  return [...files, hostile];
}

/** The results files both browser tests read, made once (a bench run per suite takes a while). */
const fixtureDir = await Deno.makeTempDir({ prefix: "moebench-report-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(fixtureDir, { recursive: true }));
let fixture: Promise<string[]> | null = null;
const sharedResults = () => fixture ??= resultsFiles(fixtureDir);

/** Opens `url` in Chromium; returns what the page did. */
async function inBrowser(url: string, screenshot: string) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    page.on("pageerror", (error) => errors.push(String(error)));
    const requests: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith("file:")) requests.push(request.url());
    });
    await page.goto(url);
    // run in the page (strings: this file is type-checked without the DOM's types)
    const canvases: { id: string; drawn: number }[] = await page.evaluate(`
      [...document.querySelectorAll("canvas")].map((canvas) => {
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
        let drawn = 0;
        for (let i = 3; i < pixels.data.length; i += 4) if (pixels.data[i] !== 0) drawn++;
        return { id: canvas.id, drawn };
      })`);
    const pwned = await page.evaluate("globalThis.__pwned");
    const images: number = await page.evaluate(`document.querySelectorAll("img").length`);
    const text: string = await page.evaluate("document.body.innerText");
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, screenshot), fullPage: true });
    return { errors, requests, canvases, pwned, images, text };
  } finally {
    await browser.close();
  }
}

Deno.test({
  name:
    "a comparison report of five results files draws every chart in Chromium, hostile text inert",
  ignore: noBrowser !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const files = await sharedResults();
      const out = join(dir, "report.html");
      const result = await runMoebench("report", ...files, "--out", out);
      assert.equal(result.code, 0, result.stderr);
      const page = await inBrowser(`file://${out}`, "report.png");
      assert.deepEqual(page.errors, []);
      assert.deepEqual(page.requests, []); // self-contained: nothing fetched
      const ids = page.canvases.map((c) => c.id);
      for (const id of ["tokens", "prefill-decode", "hit-rates", "decode-budget", "load"]) {
        assert.ok(ids.includes(id), `no ${id} chart in ${ids}`);
      }
      for (const id of ["latency", "roofline", "quality", "prompt", "depth"]) {
        assert.ok(ids.includes(id), id);
      }
      for (const canvas of page.canvases) {
        assert.ok(canvas.drawn > 1000, `${canvas.id} is blank (${canvas.drawn} pixels drawn)`);
      }
      assert.equal(page.pwned, undefined, "a script from a results file ran");
      assert.equal(page.images, 0, "markup from a results file became an element");
      assert.ok(page.text.includes(HOSTILE), "the hostile strings are not shown as text");
    });
  },
});

Deno.test({
  name: "the published site's index lists and links every run and shows hostile text as text",
  ignore: noBrowser !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const files = await sharedResults();
      const site = join(dir, "site");
      const result = await runMoebench("publish", ...files, "--site", site);
      assert.equal(result.code, 0, result.stderr);
      const page = await inBrowser(`file://${join(site, "index.html")}`, "index.png");
      assert.deepEqual(page.errors, []);
      assert.equal(page.pwned, undefined);
      assert.equal(page.images, 0);
      assert.ok(page.text.includes(HOSTILE));
      for (const file of ["report.html", "runs", "data"]) {
        assert.ok(await Deno.stat(join(site, file)), file);
      }
      const runPages = [...Deno.readDirSync(join(site, "runs"))];
      assert.equal(runPages.length, files.length);
      const runPage = await inBrowser(`file://${join(site, "runs", runPages[0]!.name)}`, "run.png");
      assert.deepEqual(runPage.errors, []);
      assert.ok(runPage.canvases.every((c) => c.drawn > 1000));
    });
  },
});

/** A quick tokens-suite results file of a tiny model, in `dir`. */
async function tokensResults(dir: string): Promise<string> {
  const model = join(dir, "tiny.gguf");
  await synthesize({ preset: "tiny-olmoe", out: model, type: "Q4_0", seed: 2 });
  const out = join(dir, "r.json");
  const bench = await runMoebench(
    ...["bench", "--suite", "tokens", "--model", model, "--pp", "8", "--tg", "4", "--reps", "2"],
    ...["--machine", MACHINE, "--out", out],
  );
  assert.equal(bench.code, 0, bench.stderr);
  return out;
}

/** Publishes `files` twice into `db`; both times one row per run. */
async function publishTwice(db: string) {
  await withTempDir(async (dir) => {
    const out = await tokensResults(dir);
    const site = join(dir, "site");
    for (const expected of [/1 new run, 1 in all/, /0 new runs, 1 in all/]) {
      const result = await runMoebench("publish", out, "--site", site, "--db", db);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, expected);
    }
    await using results = await openResultsDb(db);
    const rows = await results.runs();
    const { tests } = JSON.parse(await Deno.readTextFile(out)) as ResultsFile;
    const ours = rows.filter((row) => row.model === "tiny");
    assert.equal(ours.length, 1);
    assert.equal(await results.recordCount(ours[0]!.id as string), tests.length);
  });
}

Deno.test("a report of two runs compares every shared figure with its 95 % confidence interval", async () => {
  await withTempDir(async (dir) => {
    const [first, second] = [join(dir, "a"), join(dir, "b")];
    await Deno.mkdir(first);
    await Deno.mkdir(second);
    const files = [await tokensResults(first), await tokensResults(second)];
    const out = join(dir, "report.html");
    const report = await runMoebench("report", ...files, "--out", out);
    assert.equal(report.code, 0, report.stderr);
    const html = await Deno.readTextFile(out);
    const table = html.slice(html.indexOf('<table id="comparisons"'));
    const sentences = [
      ...table.slice(0, table.indexOf("</table>")).matchAll(/<td>([^<]*)<\/td><\/tr>/g),
    ]
      .map((m) => m[1]!.replaceAll("&#39;", "'"));
    // pp8, ttft8, tg4 of the same model: each compared, in words with an interval or inconclusive
    assert.equal(sentences.length, 3, table.slice(0, 2000));
    for (const sentence of sentences) {
      assert.match(
        sentence,
        /(: inconclusive \([+−][\d.]+ %, 95 % CI |is (faster|slower) than .* by [\d.]+ % \(95 % CI )/,
      );
    }
  });
});

Deno.test("a run measured while another process took a core is flagged in the report", async () => {
  await withTempDir(async (dir) => {
    const file = await tokensResults(dir);
    const results = JSON.parse(await Deno.readTextFile(file)) as ResultsFile;
    // conditions as the tokens suite records them, on every record and for every sample
    for (const record of results.tests) {
      assert.equal(typeof record.details["others_cpu_cores"], "number", record.test);
      assert.equal(typeof record.details["disturbed"], "boolean", record.test);
      assert.equal(record.conditions?.length, record.samples.length, record.test);
      assert.ok(record.conditions.every((c) => c.others_cpu_cores !== null), record.test);
    }
    // whatever this machine was doing: a quiet run, but for its decode's last sample
    for (const record of results.tests) {
      const quiet = !record.test.startsWith("tg");
      record.conditions = record.samples.map((_, i) => {
        const busy = !quiet && i === record.samples.length - 1;
        return {
          others_cpu_cores: busy ? 0.97 : 0.01,
          cpu_mhz: 2400,
          temp_c: null,
          disturbed: busy,
        };
      });
      Object.assign(record.details, conditionsSummary(record.conditions));
      // as a machine with RAPL counters records the decode's energy
      if (record.test.startsWith("tg")) {
        Object.assign(record.details, {
          energy: "RAPL package-0",
          joules_per_token: 0.125,
          tokens_per_joule: 8,
        });
      }
    }
    await Deno.writeTextFile(file, JSON.stringify(results));
    const out = join(dir, "report.html");
    const report = await runMoebench("report", file, "--out", out);
    assert.equal(report.code, 0, report.stderr);
    assert.match(
      await Deno.readTextFile(out),
      /class="warning">[^<]* was disturbed while it measured tg4 \(1 of \d+ samples\): other processes took up to 0\.97 cores\./,
    );
    assert.match(
      await Deno.readTextFile(out),
      /<h2>Energy<\/h2>[^]*<td[^>]*>tg4<\/td><td[^>]*>0\.125<\/td><td[^>]*>8\.00<\/td><td[^>]*>RAPL package-0<\/td>/,
    );
  });
});

Deno.test("publishing the same run twice leaves one row in SQLite", async () => {
  await withTempDir(async (dir) => {
    await publishTwice(join(dir, "results.sqlite"));
  });
});

Deno.test({
  name: "publishing the same run twice leaves one row in PostgreSQL",
  ignore: POSTGRES === null,
  async fn() {
    // a database of its own, so that other runs' rows do not count
    const name = `moebench_test_${Deno.pid}`;
    const sql = postgres(POSTGRES!, { max: 1, onnotice: () => {} });
    await sql.unsafe(`CREATE DATABASE ${name}`);
    try {
      await publishTwice(POSTGRES!.replace(/\/[^/]*$/, `/${name}`));
    } finally {
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await sql.end();
    }
  },
});

Deno.test("publish and serve refuse what is not theirs with one line, the site untouched", async () => {
  await withTempDir(async (dir) => {
    const site = join(dir, "site");
    const check = async (args: string[], message: RegExp) => {
      const result = await runMoebench(...args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    };
    await check(["publish", MACHINE, "--site", site], /machine\.json: not a moebench results file/);
    const out = await tokensResults(dir);
    await check(
      ["publish", out, "--site", site, "--db", "postgres://nobody:secret@127.0.0.1:1/none"],
      /postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none: cannot connect to PostgreSQL/,
    );
    await check(
      ["publish", out, "--site", site, "--db", join(dir, "no", "db.sqlite")],
      /db\.sqlite/,
    );
    assert.equal(await Deno.stat(site).catch(() => null), null);
    await check(["serve", "--site", join(dir, "none")], /none: no index\.html/);
  });
});
